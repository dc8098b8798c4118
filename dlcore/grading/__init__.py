"""Self-grading exercises, learner side: `check(exercise_id, candidate)` for in-notebook
feedback and the exercise registry (each chapter's cases and references, in `exercises/`).

Apart from it, and never visible inside the grader's sandbox: `instructor/` (the grader,
`python -m dlcore.grading`) and `build/` (the maintainers' generator of exercises/ and
notebook executor). Nothing in the core library imports this package.
"""
from . import exercises as _exercises  # noqa: F401  (registers every chapter's exercises)
from .check import CheckResult, check
from .registry import (
    EXERCISES,
    Case,
    Exercise,
    UnknownExerciseError,
    get_exercise,
    list_exercises,
    register,
)

__all__ = [
    "EXERCISES",
    "Case",
    "CheckResult",
    "Exercise",
    "UnknownExerciseError",
    "check",
    "get_exercise",
    "list_exercises",
    "register",
]
