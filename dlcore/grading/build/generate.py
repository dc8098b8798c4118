"""Write exercises/NN_topic.ipynb from solutions/NN_topic.ipynb (`make exercises`).

In every code cell, each region from a line `### BEGIN SOLUTION` to a line
`### END SOLUTION` (both included) becomes `raise NotImplementedError` at the
indentation of the BEGIN line. Outputs, execution counts and widget state are
dropped, and a first markdown cell says where the notebook comes from. The output
depends only on the solution file, so running this twice gives the same bytes.

    python -m dlcore.grading.build.generate            write exercises/
    python -m dlcore.grading.build.generate --check    exit 1 listing exercises/ files that are stale
"""
from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

__all__ = ["MarkerError", "blank_solutions", "exercise_path", "main", "render_exercise"]

BEGIN = re.compile(r"^(\s*)### BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
NOTICE_ID = "generated-from-solutions"
NAME = re.compile(r"^\d\d_.+\.ipynb$")


class MarkerError(ValueError):
    """Unbalanced or nested solution markers."""


def blank_solutions(source, where="cell"):
    """Replace each BEGIN/END SOLUTION region of `source` by `raise NotImplementedError`.

    Returns (new_source, number_of_regions). `where` names the cell in error messages.
    """
    out, begin_line, indent, count = [], None, "", 0
    lines = source.splitlines(keepends=True)
    for number, line in enumerate(lines, start=1):
        begin = BEGIN.match(line)
        if begin:
            if begin_line is not None:
                raise MarkerError(f"{where}: `### BEGIN SOLUTION` on line {number} is inside "
                                  f"the region opened on line {begin_line} (nested markers)")
            begin_line, indent = number, begin.group(1)
            continue
        if END.match(line):
            if begin_line is None:
                raise MarkerError(f"{where}: `### END SOLUTION` on line {number} has no "
                                  "`### BEGIN SOLUTION` before it")
            newline = "\n" if line.endswith("\n") else ""
            out.append(f"{indent}raise NotImplementedError{newline}")
            begin_line, count = None, count + 1
            continue
        if begin_line is None:
            out.append(line)
    if begin_line is not None:
        raise MarkerError(f"{where}: `### BEGIN SOLUTION` on line {begin_line} is never closed "
                          "by `### END SOLUTION`")
    return "".join(out), count


def exercise_path(solution_path):
    """solutions/NN_topic.ipynb -> exercises/NN_topic.ipynb (a sibling folder)."""
    solution_path = Path(solution_path)
    return solution_path.parent.parent / "exercises" / solution_path.name


def _notice(solution_name):
    return nbformat.v4.new_markdown_cell(
        f"*This notebook is generated from `solutions/{solution_name}` by `make exercises`; "
        "do not edit it here.* Maintainers edit the solutions notebook. Learners: fill in "
        "each `raise NotImplementedError` below, then run the `check(...)` cell after it.",
        id=NOTICE_ID,
    )


def render_exercise(solution_path):
    """The exercise notebook made from `solution_path`, as the text the generator writes."""
    solution_path = Path(solution_path)
    nb = nbformat.read(solution_path, as_version=4)
    nb = copy.deepcopy(nb)
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata.pop("widgets", None)
    for index, cell in enumerate(nb.cells):
        if cell.get("id") == NOTICE_ID:
            raise MarkerError(f"{solution_path}, cell {index}: the id {NOTICE_ID!r} is reserved")
        cell.metadata.pop("execution", None)  # nbclient's timestamps
        if cell.cell_type != "code":
            continue
        where = f"{solution_path}, cell {index} (id {cell.get('id')})"
        cell.source, _ = blank_solutions(cell.source, where)
        cell.outputs = []
        cell.execution_count = None
    nb.cells.insert(0, _notice(solution_path.name))
    nbformat.validate(nb)
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def _solutions(root):
    return sorted(p for p in (Path(root) / "solutions").glob("*.ipynb") if NAME.match(p.name))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m dlcore.grading.build.generate",
                                     description="Write exercises/ from solutions/.")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if any exercises/ file is out of date")
    parser.add_argument("--root", default=".", help="folder holding solutions/ and exercises/")
    args = parser.parse_args(argv)

    sources = _solutions(args.root)
    if not sources:
        print(f"no solutions/NN_*.ipynb under {Path(args.root).resolve()}", file=sys.stderr)
        return 1
    stale = []
    for source in sources:
        target = exercise_path(source)
        try:
            text = render_exercise(source)
        except MarkerError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
            print(f"wrote {target}")
    solved = {s.name for s in sources}
    orphans = [p for p in sorted((Path(args.root) / "exercises").glob("*.ipynb"))
               if NAME.match(p.name) and p.name not in solved]
    for orphan in orphans:
        print(f"warning: {orphan} has no solutions/{orphan.name} to come from", file=sys.stderr)
    if args.check:
        if stale or orphans:
            for path in stale:
                print(f"stale: {path}")
            print("run `make exercises` to regenerate exercises/ from solutions/")
            return 1
        print(f"exercises/ is up to date ({len(sources)} notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
