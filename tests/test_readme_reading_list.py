"""README's "Reading dlcore" table gives each file's length in lines: it must stay true."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DLCORE = ROOT / "dlcore"


def _rows():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Reading dlcore", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"[\d, ]+", cells[2]):
            yield cells[0], re.findall(r"`([\w/]+\.py)`", cells[1]), \
                [int(n) for n in cells[2].replace(" ", "").split(",")]


def _resolve(name, folder):
    """`activations.py` after `functional/linear.py` means functional/activations.py when
    that file exists; otherwise a bare name is a top-level dlcore file."""
    if "/" in name:
        return DLCORE / name
    inherited = DLCORE / folder / name
    return inherited if folder and inherited.is_file() else DLCORE / name


def test_every_listed_length_is_the_files_length():
    rows = list(_rows())
    assert len(rows) >= 10, "the Reading dlcore table was not found in README.md"
    wrong = []
    for step, names, lengths in rows:
        assert len(names) == len(lengths), f"{step}: {len(names)} files but {len(lengths)} lengths"
        folder = ""
        for name, listed in zip(names, lengths):
            path = _resolve(name, folder)
            folder = name.rsplit("/", 1)[0] if "/" in name else folder
            assert path.is_file(), f"{step}: {name} is not a file of dlcore"
            actual = len(path.read_text(encoding="utf-8").splitlines())
            if actual != listed:
                wrong.append(f"{path.relative_to(ROOT)}: README says {listed}, file has {actual}")
    assert not wrong, "README.md's Reading dlcore table is out of date:\n" + "\n".join(wrong)
