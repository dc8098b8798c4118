"""The exercise registry: what each exercise asks for and how it is checked.

An `Exercise` names the function the learner writes, a seeded generator of test
cases, a reference implementation with the same signature, the names of the values
it returns and the tolerance on each. Chapter modules in `dlcore.grading.exercises`
build their exercises and `register` them in `EXERCISES` when imported.

Case arguments are plain arrays and numbers; where a callable is needed it is a
module-level function, so a grader in another process can import the same one.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "EXERCISES",
    "Case",
    "Exercise",
    "UnknownExerciseError",
    "get_exercise",
    "list_exercises",
    "register",
]

DEFAULT_TOLERANCE = 1e-7  # max relative error for analytic quantities in float64
DEFAULT_TIME_LIMIT = 5.0  # seconds per case


@dataclass(frozen=True)
class Case:
    """One call of the learner's function: `function(*args, **kwargs)`.

    group: a short label shared by cases that test the same thing
    ("random batches", "single row", "x exactly 0"); results are reported per group.
    """

    group: str
    args: tuple
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Exercise:
    """One exercise: a function to write, its cases, its reference and tolerances.

    id:         "chapter.function", e.g. "backprop.relu_backward"
    function:   the name the learner defines, e.g. "relu_backward"
    make_cases: rng -> list[Case]; must draw all randomness from rng
    reference:  callable with the learner's signature giving the right answer
    outputs:    names of the returned values, in order. A single name means the function
                returns one value; several mean a tuple. An entry (name, keys) means that
                value is a dict compared key by key, reported as name["key"].
    tolerance:  max relative error allowed: one number for all outputs, or a dict keyed
                by flattened output name (missing names get DEFAULT_TOLERANCE)
    time_limit: seconds each case may run
    seed:       the seed in-notebook checks use, so their output is the same every run
    allow_mutation: False means changing an input array in place fails the case
    compare:    None (elementwise relative error), or compare(expected, got) -> (error, note)
                for outputs that must not be compared entry by entry: random samples graded
                by their statistics, values defined up to a constant. It runs after the
                shape, dtype and NaN/inf checks, on each output; `error` (a float) is held
                against the tolerance and printed as the "max rel err", and `note` (a
                sentence or None) is shown under a failure instead of the values.
    hints:      (sentence, predicate) pairs for slips particular to this exercise:
                predicate(case, name, expected, got) -> bool, called on a failing output
                (expected, got: float64 arrays of the same shape); the first that holds is
                shown under the failure as "hint: sentence", before the generic hints
                (a constant factor, a transpose) that `check` reads from any result.
                Predicates must be module-level functions (the grader imports them).
    """

    id: str
    function: str
    make_cases: Callable[[np.random.Generator], list]
    reference: Callable
    outputs: tuple
    tolerance: float | Mapping[str, float] = DEFAULT_TOLERANCE
    time_limit: float = DEFAULT_TIME_LIMIT
    seed: int = 0
    allow_mutation: bool = False
    compare: Callable | None = None
    hints: tuple = ()

    def output_names(self):
        """Flattened output names, e.g. ("loss", 'grads["W1"]', ...)."""
        names = []
        for spec in self.outputs:
            if isinstance(spec, str):
                names.append(spec)
            else:
                name, keys = spec
                names.extend(f'{name}["{k}"]' for k in keys)
        return tuple(names)

    def tol(self, name):
        if isinstance(self.tolerance, Mapping):
            return float(self.tolerance.get(name, DEFAULT_TOLERANCE))
        return float(self.tolerance)

    def cases(self, seed=None):
        rng = np.random.default_rng(self.seed if seed is None else seed)
        return list(self.make_cases(rng))


EXERCISES: dict[str, Exercise] = {}


class UnknownExerciseError(KeyError):
    """An exercise id that no chapter registered."""

    def __str__(self):  # KeyError would print the message with quotes around it
        return str(self.args[0]) if self.args else ""


def register(exercise):
    """Add an exercise to EXERCISES; ids must be unique."""
    if exercise.id in EXERCISES:
        raise ValueError(f"exercise {exercise.id!r} is registered twice")
    if "." not in exercise.id:
        raise ValueError(f"exercise id {exercise.id!r} must look like 'chapter.function'")
    EXERCISES[exercise.id] = exercise
    return exercise


def list_exercises(prefix=""):
    """Sorted ids of the registered exercises, optionally only those starting with prefix."""
    return sorted(i for i in EXERCISES if i.startswith(prefix))


def get_exercise(exercise_id):
    """The Exercise with this id; UnknownExerciseError listing the known ids otherwise."""
    try:
        return EXERCISES[exercise_id]
    except (KeyError, TypeError):
        known = ", ".join(list_exercises()) or "(none registered)"
        raise UnknownExerciseError(
            f"unknown exercise id {exercise_id!r}; known ids: {known}"
        ) from None
