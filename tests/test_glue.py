"""Numbers in the prose come from the computation: every `{glue:text}` name in a chapter's
markdown is glued by a code cell of the same notebook, and every glued value reads as a plain
number or string, so the book prints it formatted (myst-nb formats `{glue:text}`name:.2f``
with float(text), which fails on numpy 2's repr `np.float64(0.5)` and would print that repr)."""
import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
ROLE = re.compile(r"\{glue:(?:text|)\}`([^`:]+)(?::[^`]*)?`")
RECORD = "application/papermill.record/text/plain"


def glued_values(nb):
    """{name: the stored text/plain of the value} over the notebook's glue outputs."""
    values = {}
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is not None:
                values[name] = out.get("data", {}).get(RECORD, out.get("data", {}).get("text/plain"))
    return values


def referenced_names(nb):
    names = set()
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            names.update(ROLE.findall("".join(cell["source"])))
    return names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_glued_name_in_the_prose_is_glued_as_a_plain_value(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    values = glued_values(nb)
    missing = sorted(referenced_names(nb) - set(values))
    assert not missing, f"{path.name}: the prose uses glue names no cell glues: {missing}"
    not_plain = {}
    for name, text in values.items():
        try:
            ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError):
            not_plain[name] = text
    assert not not_plain, (
        f"{path.name}: glued values that are not plain numbers or strings (glue float(x), "
        f"int(x) or a formatted str instead): {not_plain}"
    )


def test_the_check_sees_a_numpy_scalar_and_a_missing_name():
    nb = {"cells": [
        {"cell_type": "markdown", "source": ["{glue:text}`a:.2f` and {glue:text}`b`"]},
        {"cell_type": "code", "source": [], "outputs": [
            {"output_type": "display_data", "metadata": {"scrapbook": {"name": "a"}},
             "data": {RECORD: "np.float64(0.5)"}}]},
    ]}
    assert referenced_names(nb) == {"a", "b"}
    text = glued_values(nb)["a"]
    with pytest.raises(ValueError):
        ast.literal_eval(text)
