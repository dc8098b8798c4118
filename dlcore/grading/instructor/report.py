"""The score table: a CSV file and a printed summary per notebook.

Every text that a submission can influence (file names, exception messages, notes) is
passed through `clean` before it is written or printed: no terminal escape sequences, no
control or bidirectional-override characters, one line, bounded length.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict

__all__ = ["COLUMNS", "clean", "summary", "write_csv"]

COLUMNS = ("notebook", "exercise", "passed", "total", "status", "seconds", "detail")
ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
MAX_TEXT = 300


def clean(text, limit=MAX_TEXT):
    """`text` as one printable line: escape sequences removed, other control, format and
    separator characters (C0, C1, bidi overrides, line breaks) shown as '?' or a space."""
    text = ESCAPES.sub("", str(text))
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in "\t\n\r" or category in ("Zl", "Zp"):
            out.append(" ")
        elif category in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append("?")
        else:
            out.append(ch)
    text = "".join(out)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _no_formula(text):
    """A spreadsheet opening the CSV runs a cell that starts with = + - @ as a formula
    (a file named '=HYPERLINK(...).ipynb', graded as `python -m dlcore.grading .`): such a
    cell starts with an apostrophe instead, which spreadsheets show as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def write_csv(rows, path):
    """One row per notebook and exercise; `detail` says why an exercise did not pass."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow([_no_formula(clean(r.notebook, 500)), clean(r.exercise), r.passed,
                             r.total, clean(r.status), f"{r.seconds:.2f}",
                             _no_formula(clean(r.detail))])


def summary(rows, runs=None):
    """Lines: per notebook its score (case groups and whole exercises) and, for each
    exercise that did not pass, its status and a one-line reason."""
    by_notebook = defaultdict(list)
    for r in rows:
        by_notebook[clean(r.notebook, 500)].append(r)
    lines = []
    for notebook, mine in by_notebook.items():
        graded = [r for r in mine if r.exercise]
        passed, total = sum(r.passed for r in mine), sum(r.total for r in mine)
        full = sum(r.status == "ok" and r.passed == r.total for r in graded)
        score = f"{100 * passed / total:.0f}%" if total else "-"
        seconds = getattr((runs or {}).get(notebook), "seconds", None)
        took = f", {seconds:.1f} s" if seconds is not None else ""
        lines.append(f"{notebook}: {score} ({passed}/{total} case groups, "
                     f"{full}/{len(graded)} exercises{took})")
        for r in mine:
            if r.status == "ok" and r.passed == r.total and r.exercise:
                continue
            name = r.exercise or "(notebook)"
            reason = f": {clean(r.detail)}" if r.detail else ""
            lines.append(f"  {r.status:<16} {name}{reason}")
        for note in getattr((runs or {}).get(notebook), "notes", []):
            lines.append(f"  note: {clean(note)}")
    return lines
