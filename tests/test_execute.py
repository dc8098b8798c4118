"""dlcore.grading.build.execute: the kernels it starts get one BLAS thread each."""
import nbformat

from dlcore.grading.build.execute import BLAS_THREADS, execute_notebook, kernel_environment


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
