"""Every figure a chapter draws has a caption and alt text (issue: figures a reader can use).

myst-nb takes both from the code cell's metadata: mystnb.figure.caption and mystnb.image.alt.
"""
import json
from pathlib import Path

import pytest

CHAPTERS = sorted((Path(__file__).resolve().parent.parent / "chapters").glob("*.ipynb"))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_figure_cell_has_a_caption_and_alt_text(path):
    missing = []
    for number, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        outputs = cell.get("outputs", [])
        if cell["cell_type"] != "code" or not any("image/png" in o.get("data", {}) for o in outputs):
            continue
        meta = cell.get("metadata", {}).get("mystnb", {})
        for what, value in (("caption", meta.get("figure", {}).get("caption")),
                            ("alt text", meta.get("image", {}).get("alt"))):
            if not (isinstance(value, str) and len(value.split()) >= 4):
                missing.append(f"cell {number}: no {what} (or fewer than four words)")
    assert not missing, f"{path.name}:\n" + "\n".join(missing)
