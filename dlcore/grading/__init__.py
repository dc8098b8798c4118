"""Self-grading exercises: `check(exercise_id, candidate)` for in-notebook feedback,
the exercise registry, and the generator that writes exercises/ from solutions/.

Nothing in the core library imports this package.
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
