"""Blank exercise notebooks run and fail politely; solutions notebooks' stored checks all pass.

exercises/ notebooks are executed here (nobody else runs them). solutions/ notebooks are
executed once, by `pytest --nbval`, which compares fresh outputs with the stored ones;
so here their stored outputs are read, not run again.
"""
import itertools
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = sorted((ROOT / "exercises").glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
CHECK_CALL = re.compile(r"^check\(\s*[\"']([\w.]+)[\"']", re.MULTILINE)
SUMMARY = re.compile(r"^(\w+): (\d+)/(\d+) case groups passed$", re.MULTILINE)


def _stdout(cell):
    return "".join(o.get("text", "") for o in cell.outputs
                   if o.output_type == "stream" and o.name == "stdout")


def _check_cells(nb):
    return [(CHECK_CALL.search(c.source).group(1), c) for c in nb.cells
            if c.cell_type == "code" and CHECK_CALL.search(c.source)]


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_blank_exercise_notebook_runs_and_every_check_fails(path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert all(o.ename == "NotImplementedError" for o in errors), \
        [f"{o.ename}: {o.evalue}" for o in errors if o.ename != "NotImplementedError"]
    checks = _check_cells(nb)
    assert len(checks) >= (6 if path.name == "01_backprop.ipynb" else 1)
    for exercise_id, cell in checks:
        out = _stdout(cell)
        function = exercise_id.split(".", 1)[1]
        assert f"✘ {function}  not implemented yet" in out, out
        assert "✔" not in out
        (name, passed, total), = SUMMARY.findall(out)
        assert name == function and passed == "0" and int(total) >= 2


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_stored_solution_checks_all_pass(path):
    nb = nbformat.read(path, as_version=4)
    checks = _check_cells(nb)
    assert len(checks) >= (6 if path.name == "01_backprop.ipynb" else 1)
    for exercise_id, cell in checks:
        out = _stdout(cell)
        function = exercise_id.split(".", 1)[1]
        assert "✘" not in out, out
        (name, passed, total), = SUMMARY.findall(out)
        assert name == function and passed == total and int(total) >= 2
        assert out.count("✔") >= int(total)
    assert not any(o.output_type == "error" for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)


def test_chapter1_training_cell_shows_the_loss_going_down():
    nb = nbformat.read(ROOT / "solutions" / "01_backprop.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.get("id") == "train-code")
    losses = [float(v) for v in re.findall(r"loss (\d+\.\d{4})$", _stdout(cell), re.MULTILINE)]
    assert len(losses) >= 5
    assert all(b < a for a, b in itertools.pairwise(losses))
    assert losses[-1] < 0.2 * losses[0]
