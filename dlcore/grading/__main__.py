"""`python -m dlcore.grading ...`: the instructor's grader (dlcore/grading/instructor/cli.py)."""
import sys

from .instructor.cli import main

if __name__ == "__main__":
    sys.exit(main())
