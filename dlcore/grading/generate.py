"""`python -m dlcore.grading.generate`: kept as an entry point; the generator lives in
`dlcore.grading.build.generate` (a maintainer's build tool, not part of what learners import)."""
import sys

from .build.generate import (  # noqa: F401  (re-exported for old imports)
    BEGIN,
    END,
    NAME,
    NOTICE_ID,
    MarkerError,
    blank_solutions,
    exercise_path,
    main,
    render_exercise,
)

if __name__ == "__main__":
    sys.exit(main())
