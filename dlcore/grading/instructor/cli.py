"""`python -m dlcore.grading SUBMISSION.ipynb|DIR ... --out scores.csv [--timeout S] [--jobs N]
[--sandbox bwrap|weak]`

Grades learners' exercise notebooks, each in its own sandbox (see instructors.md and
dlcore/grading/instructor/). Exit status 0 whatever the scores; 2 with a message when the
grader itself cannot run (e.g. bubblewrap missing and --sandbox weak not given).
"""
from __future__ import annotations

import argparse
import secrets
import sys
import time

from .grader import GradeOptions, grade, resolve_sandbox
from .report import summary, write_csv
from .sandbox import GraderError


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m dlcore.grading",
        description="Grade exercise notebooks: run each in its own sandbox, call its functions "
                    "on secret cases and compare with the reference in this process.")
    parser.add_argument("paths", nargs="+", help="notebooks, or folders searched recursively")
    parser.add_argument("--out", required=True, help="CSV file to write the scores to")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds each cell of a notebook may run (default 60)")
    parser.add_argument("--notebook-timeout", type=float, default=300.0,
                        help="seconds all cells of one notebook may run together (default 300)")
    parser.add_argument("--case-timeout", type=float, default=None,
                        help="seconds per call of a graded function (default: the exercise's, 5)")
    parser.add_argument("--memory", type=int, default=4096,
                        help="address-space limit of each sandbox in MiB (default 4096; 0: none)")
    parser.add_argument("--grace", type=float, default=10.0,
                        help="seconds beyond the case limits before a hung sandbox is killed "
                             "(default 10)")
    parser.add_argument("--grading-timeout", type=float, default=600.0,
                        help="seconds for all graded calls of one notebook together "
                             "(default 600)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded at once")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the grader's cases (default: a fresh secret one, printed)")
    parser.add_argument("--sandbox", choices=("bwrap", "weak"), default="bwrap",
                        help="bwrap (default): each notebook in a bubblewrap sandbox, refused "
                             "when bwrap is missing; weak: own session and limits only, for "
                             "machines without bubblewrap (see instructors.md)")
    args = parser.parse_args(argv)
    if (args.jobs < 1 or args.timeout <= 0 or args.notebook_timeout <= 0
            or args.grading_timeout <= 0 or args.memory < 0):
        parser.error("--jobs, --timeout, --notebook-timeout and --grading-timeout must be "
                     "positive, --memory >= 0")

    for stream in (sys.stdout, sys.stderr):  # a name like café.ipynb on an ASCII terminal
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass
    seed = secrets.randbits(32) if args.seed is None else args.seed
    opts = GradeOptions(seed=seed, cell_timeout=args.timeout,
                        notebook_timeout=args.notebook_timeout, case_timeout=args.case_timeout,
                        memory_mb=args.memory, grace=args.grace,
                        grading_timeout=args.grading_timeout, sandbox=args.sandbox)
    start = time.perf_counter()
    try:
        _, note = resolve_sandbox(args.sandbox)
        if note:
            print(note, file=sys.stderr)
        rows, runs = grade(args.paths, opts, jobs=args.jobs)
        write_csv(rows, args.out)
    except (GraderError, OSError) as exc:
        print(f"error: the grader could not run: {exc}", file=sys.stderr)
        return 2
    for line in summary(rows, runs):
        print(line)
    print(f"{len({r.notebook for r in rows})} notebooks graded in "
          f"{time.perf_counter() - start:.1f} s with seed {seed} (--seed {seed} repeats "
          f"these cases); scores in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
