"""The score table: a CSV file and a printed summary per notebook."""
from __future__ import annotations

import csv
from collections import defaultdict

__all__ = ["COLUMNS", "summary", "write_csv"]

COLUMNS = ("notebook", "exercise", "passed", "total", "status", "seconds", "detail")


def write_csv(rows, path):
    """One row per notebook and exercise; `detail` says why an exercise did not pass."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow([r.notebook, r.exercise, r.passed, r.total, r.status,
                             f"{r.seconds:.2f}", r.detail])


def summary(rows, runs=None):
    """Lines: per notebook its score (case groups and whole exercises) and, for each
    exercise that did not pass, its status and a one-line reason."""
    by_notebook = defaultdict(list)
    for r in rows:
        by_notebook[r.notebook].append(r)
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
            reason = f": {r.detail}" if r.detail else ""
            lines.append(f"  {r.status:<16} {name}{reason}")
        for note in getattr((runs or {}).get(notebook), "notes", []):
            lines.append(f"  note: {note}")
    return lines
