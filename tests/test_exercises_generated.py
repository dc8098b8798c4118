"""exercises/ is exactly what the generator makes from solutions/, with every solution blanked."""
import json
import re
from pathlib import Path

import pytest

from dlcore.grading.generate import (
    NOTICE_ID,
    MarkerError,
    blank_solutions,
    exercise_path,
    main,
    render_exercise,
)

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
BEGIN = re.compile(r"^\s*### BEGIN SOLUTION\s*$", re.MULTILINE)


def test_there_are_solution_notebooks():
    assert [p.name for p in SOLUTIONS][:1] == ["01_backprop.ipynb"]


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_committed_exercise_is_up_to_date(solution):
    target = exercise_path(solution)
    assert target.exists(), f"{target} is missing: run `make exercises`"
    assert target.read_text(encoding="utf-8") == render_exercise(solution), (
        f"{target.relative_to(ROOT)} differs from what solutions/{solution.name} gives: "
        "run `make exercises`")


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_every_solution_is_blanked(solution):
    sol = json.loads(solution.read_text(encoding="utf-8"))
    ex = json.loads(exercise_path(solution).read_text(encoding="utf-8"))
    sol_code = ["".join(c["source"]) for c in sol["cells"] if c["cell_type"] == "code"]
    ex_code = ["".join(c["source"]) for c in ex["cells"] if c["cell_type"] == "code"]
    regions = sum(len(BEGIN.findall(s)) for s in sol_code)
    blanks = sum(s.count("raise NotImplementedError") for s in ex_code)
    already = sum(s.count("raise NotImplementedError") for s in sol_code)
    assert regions >= 6 if solution.name == "01_backprop.ipynb" else regions >= 1
    assert blanks - already == regions
    assert not any("### BEGIN SOLUTION" in s or "### END SOLUTION" in s for s in ex_code)
    assert all(c.get("outputs", []) == [] and c.get("execution_count") is None
               for c in ex["cells"] if c["cell_type"] == "code")
    assert "widgets" not in ex["metadata"]
    assert (ex["nbformat"], ex["nbformat_minor"]) == (4, 5)
    # the learners' note comes right after the title; the maintainers' note is in metadata
    assert ex["cells"][1]["id"] == NOTICE_ID and ex["cells"][0]["source"][0].startswith("# ")
    assert ex["metadata"]["dlcore"]["generated_from"] == f"solutions/{solution.name}"
    assert [c["id"] for c in ex["cells"] if c["id"] != NOTICE_ID] == [c["id"] for c in sol["cells"]]


def test_blanking_keeps_indentation_and_surrounding_lines():
    src = ("def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n"
           "    ### END SOLUTION\n\nprint(f)\n")
    out, n = blank_solutions(src)
    assert n == 1
    assert out == "def f(x):\n    y = 1\n    raise NotImplementedError\n\nprint(f)\n"
    out2, n2 = blank_solutions("### BEGIN SOLUTION\na = 1\n### END SOLUTION")
    assert (out2, n2) == ("raise NotImplementedError", 1)


@pytest.mark.parametrize("src, message", [
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "line 2 is inside the region opened on line 1"),
    ("x = 1\n### END SOLUTION\n", "`### END SOLUTION` on line 2 has no `### BEGIN SOLUTION`"),
    ("### BEGIN SOLUTION\nx = 1\n", "line 1 is never closed"),
])
def test_bad_markers_raise(src, message):
    with pytest.raises(MarkerError, match=re.escape(message)):
        blank_solutions(src, where="nb.ipynb, cell 3")


def _write_solution(root, source):
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# T", id="t"),
        nbformat.v4.new_code_cell(source, id="c1", execution_count=3,
                                  outputs=[nbformat.v4.new_output("stream", text="hi\n")]),
    ])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    (root / "solutions").mkdir(exist_ok=True)
    nbformat.write(nb, root / "solutions" / "01_t.ipynb")


def test_error_names_notebook_and_cell(tmp_path):
    _write_solution(tmp_path, "### BEGIN SOLUTION\nx = 1\n")
    with pytest.raises(MarkerError, match=r"01_t.ipynb, cell 1 \(id c1\): `### BEGIN SOLUTION` "):
        render_exercise(tmp_path / "solutions" / "01_t.ipynb")


def test_generate_and_check_commands(tmp_path, capsys):
    _write_solution(tmp_path, "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n")
    assert main(["--check", "--root", str(tmp_path)]) == 1   # exercises/ missing: stale
    assert "stale:" in capsys.readouterr().out
    assert main(["--root", str(tmp_path)]) == 0
    written = (tmp_path / "exercises" / "01_t.ipynb").read_bytes()
    assert main(["--root", str(tmp_path)]) == 0
    assert (tmp_path / "exercises" / "01_t.ipynb").read_bytes() == written  # deterministic
    assert main(["--check", "--root", str(tmp_path)]) == 0
    nb = json.loads(written)
    assert "".join(nb["cells"][2]["source"]) == "def f():\n    raise NotImplementedError\n"
    assert nb["cells"][2]["outputs"] == [] and "widgets" not in nb["metadata"]
    (tmp_path / "exercises" / "01_t.ipynb").write_text("{}")
    assert main(["--check", "--root", str(tmp_path)]) == 1
