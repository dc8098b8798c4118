"""`python -m dlcore.grading.execute`: kept as an entry point; the tool lives in
`dlcore.grading.build.execute` (a maintainer's build tool, not part of what learners import)."""
import sys

from .build.execute import CELL_TIMEOUT, execute_notebook, find_notebooks, main  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
