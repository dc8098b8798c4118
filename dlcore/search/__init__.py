"""Hyperparameter search: spaces, samplers, trials in parallel processes, successive halving.

- `LogUniform`, `Uniform`, `Choice`, `grid_configs`, `random_configs` (spaces.py): what
  each hyperparameter may be, and the configurations of grid and random search.
- `run_trials`, `Trials` (trials.py): run a training function on every config and seed,
  in `n_jobs` worker processes, into a table.
- `halving_schedule`, `successive_halving` (halving.py): the rungs and the search.
- `digits_trial`, `mlp_from_config`, `DIGITS_DEFAULTS` (digits.py): a ready-made
  objective, an MLP on the 8x8 digits configured by a dict.
"""
from .digits import DIGITS_DEFAULTS, digits_trial, mlp_from_config
from .halving import halving_schedule, successive_halving
from .spaces import Choice, LogUniform, Uniform, grid_configs, random_configs
from .trials import Trials, run_trials

__all__ = [
    "DIGITS_DEFAULTS",
    "Choice",
    "LogUniform",
    "Trials",
    "Uniform",
    "digits_trial",
    "grid_configs",
    "halving_schedule",
    "mlp_from_config",
    "random_configs",
    "run_trials",
    "successive_halving",
]
