"""Every chapter is reachable: in the table of contents, in the front page's chapter table,
and paired with an exercises notebook generated from a solutions notebook."""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [entry["file"] for part in toc["parts"] for entry in part["chapters"]]


def test_every_chapter_is_in_the_toc_and_the_front_page():
    chapters = sorted(p.stem for p in (ROOT / "chapters").glob("*.ipynb"))
    assert chapters, "no chapters found"
    toc = _toc_files()
    intro = (ROOT / "intro.md").read_text()
    for stem in chapters:
        assert f"chapters/{stem}" in toc, f"chapters/{stem} is missing from _toc.yml"
        assert f"exercises/{stem}" in toc, f"exercises/{stem} is missing from _toc.yml"
        assert f"{{doc}}`chapters/{stem}`" in intro, f"intro.md's table lacks chapters/{stem}"
    numbered = [f for f in toc if f.startswith("chapters/")]
    assert numbered == sorted(numbered), "chapters in _toc.yml are not in number order"


def test_every_chapter_has_solutions_and_exercises():
    chapters = {p.stem for p in (ROOT / "chapters").glob("*.ipynb")}
    assert chapters == {p.stem for p in (ROOT / "solutions").glob("*.ipynb")}
    assert chapters == {p.stem for p in (ROOT / "exercises").glob("*.ipynb")}
