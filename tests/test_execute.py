"""dlcore.grading.build.execute: the kernels it starts get one BLAS thread each."""
import nbformat
import pytest

from dlcore.grading.build.execute import (
    BLAS_THREADS,
    WIDGET_TEXT,
    WIDGET_VIEW,
    execute_notebook,
    kernel_environment,
)


def test_kernel_environment_adds_one_blas_thread_but_keeps_a_choice():
    env = kernel_environment({"PATH": "/bin", "OMP_NUM_THREADS": "4"})
    assert env == {"PATH": "/bin", "OMP_NUM_THREADS": "4", "OPENBLAS_NUM_THREADS": "1",
                   "MKL_NUM_THREADS": "1"}


def test_an_executed_notebook_sees_one_blas_thread(tmp_path, monkeypatch):
    for name in BLAS_THREADS:
        monkeypatch.delenv(name, raising=False)
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(
        "import os\nprint([os.environ.get(k) for k in "
        "('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS')])"))
    path = tmp_path / "env.ipynb"
    nbformat.write(nb, path)
    out = execute_notebook(path, timeout=60)
    assert out.cells[0].outputs[0]["text"].strip() == "['1', '1', '1']"



def test_a_stored_widget_says_how_to_get_it_instead_of_its_repr(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(
        "import ipywidgets as w\nw.VBox([w.IntSlider(3)])"))
    nb.cells.append(nbformat.v4.new_code_cell("print('VBox(children=()) in a print stays')"))
    path = tmp_path / "widget.ipynb"
    nbformat.write(nb, path)
    out = execute_notebook(path, timeout=60)
    (shown,) = out.cells[0].outputs
    assert WIDGET_VIEW in shown["data"] and shown["data"]["text/plain"] == WIDGET_TEXT
    assert out.cells[1].outputs[0]["text"].startswith("VBox(children=()) in a print")
    assert "widgets" not in out.metadata


def test_waits_are_cut_into_slices_that_each_end_with_a_check():
    import asyncio
    from queue import Empty

    from dlcore.grading.build._kernel import get_in_slices

    asked = []

    async def get(timeout):            # the message is found by the third slice's check
        asked.append(timeout)
        if len(asked) < 3:
            raise Empty
        return {"msg": "reply"}

    assert asyncio.run(get_in_slices(get, 120.0, slice_seconds=0.01)) == {"msg": "reply"}
    assert len(asked) == 3 and all(t <= 0.01 for t in asked)
    asked.clear()

    async def never(timeout):
        asked.append(timeout)
        raise Empty

    with pytest.raises(Empty):
        asyncio.run(get_in_slices(never, 0.05, slice_seconds=0.01))
    assert len(asked) >= 5 and max(asked) <= 0.01


def test_execute_uses_the_sliced_client():
    from jupyter_client.manager import AsyncKernelManager
    from traitlets.config import Config

    from dlcore.grading.build._kernel import SlicedKernelClient

    km = AsyncKernelManager(config=Config({"KernelManager": {
        "client_class": "dlcore.grading.build._kernel.SlicedKernelClient"}}))
    assert isinstance(km.client(), SlicedKernelClient)
