"""A ready-made objective for searches: a multilayer perceptron on the 8x8 digits.

`digits_trial(config, seed)` builds the network a config describes, trains it with `fit`
and returns its losses and accuracies. It lives in a module (not in a notebook) so that
`run_trials(..., n_jobs=2)` can start it in worker processes. Config keys and defaults:

    hidden=64, depth=1 (hidden layers), activation="relu" | "elu" | "leaky_relu" | "tanh",
    init="he" | "xavier" | "lecun" | "pytorch", batchnorm=False, dropout=0.0 (after each
    hidden layer), optimizer="sgd" | "momentum" (0.9) | "adam", lr=0.1, weight_decay=0.0,
    batch_size=64, epochs=5, n_train=None (all of the training split, or the first n).
"""
import functools
import math

import numpy as np

from .. import nn
from ..data import Split, load_digits
from ..losses import CrossEntropyLoss
from ..optim import SGD, Adam
from ..train import TrainingDiverged, evaluate, fit

__all__ = ["DIGITS_DEFAULTS", "digits_trial", "mlp_from_config"]

DIGITS_DEFAULTS = {"hidden": 64, "depth": 1, "activation": "relu", "init": "he",
                   "batchnorm": False, "dropout": 0.0, "optimizer": "sgd", "lr": 0.1,
                   "weight_decay": 0.0, "batch_size": 64, "epochs": 5, "n_train": None}

_ACTIVATIONS = {"relu": nn.ReLU, "elu": nn.ELU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh}


def mlp_from_config(config, in_features=64, out_features=10, rng=None):
    """The Sequential a config describes: depth x [Linear, (BatchNorm1d), activation,
    (Dropout)] then a Linear to `out_features`. rng: seed or Generator for the weights
    and the dropout masks."""
    c = _with_defaults(config)
    if c["activation"] not in _ACTIVATIONS:
        raise ValueError(f"mlp_from_config: activation must be one of {list(_ACTIVATIONS)}, "
                         f"got {c['activation']!r}")
    from .._random import get_rng
    rng = get_rng(rng)
    layers, width = [], in_features
    for _ in range(int(c["depth"])):
        layers.append(nn.Linear(width, int(c["hidden"]), init=c["init"], rng=rng))
        if c["batchnorm"]:
            layers.append(nn.BatchNorm1d(int(c["hidden"])))
        layers.append(_ACTIVATIONS[c["activation"]]())
        if c["dropout"]:
            layers.append(nn.Dropout(float(c["dropout"]), rng=int(rng.integers(2**31))))
        width = int(c["hidden"])
    layers.append(nn.Linear(width, out_features, init=c["init"], rng=rng))
    return nn.Sequential(*layers)


def digits_trial(config, seed=0):
    """Train `mlp_from_config(config)` on the digits' training split; the metrics.

    Returns {"train_loss", "val_loss", "val_acc", "test_loss", "test_acc"} at the end of
    training. A run that diverges returns infinite losses and NaN accuracies instead of
    raising, so a search can go on (and never picks it).
    """
    c = _with_defaults(config)
    train, val, test = _digits()
    if c["n_train"] is not None:
        train = Split(train.X[:int(c["n_train"])], train.y[:int(c["n_train"])])
    model = mlp_from_config(c, rng=seed)
    optimizer = _optimizer(c, model.parameters())
    loss = CrossEntropyLoss()
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is expected here
            history = fit(model, loss, optimizer, train, epochs=int(c["epochs"]),
                          batch_size=int(c["batch_size"]), progress=False, rng=seed + 1,
                          drop_last=bool(c["batchnorm"]))
    except TrainingDiverged:
        return {"train_loss": math.inf, "val_loss": math.inf, "val_acc": math.nan,
                "test_loss": math.inf, "test_acc": math.nan}
    with np.errstate(over="ignore", invalid="ignore"):
        val_loss, val_acc = evaluate(model, loss, val.X, val.y)
        test_loss, test_acc = evaluate(model, loss, test.X, test.y)
    if not math.isfinite(val_loss):
        val_loss, val_acc, test_loss, test_acc = math.inf, math.nan, math.inf, math.nan
    return {"train_loss": history.train_loss[-1], "val_loss": val_loss, "val_acc": val_acc,
            "test_loss": test_loss, "test_acc": test_acc}


@functools.lru_cache(maxsize=1)
def _digits():
    """The standard split, loaded once per process (each worker loads its own)."""
    return load_digits()


def _with_defaults(config):
    unknown = sorted(set(config) - set(DIGITS_DEFAULTS))
    if unknown:
        raise ValueError(f"digits_trial: unknown config keys {unknown}; known keys are "
                         f"{sorted(DIGITS_DEFAULTS)}")
    return {**DIGITS_DEFAULTS, **config}


def _optimizer(c, params):
    name, lr, wd = c["optimizer"], float(c["lr"]), float(c["weight_decay"])
    if name == "sgd":
        return SGD(params, lr=lr, weight_decay=wd)
    if name == "momentum":
        return SGD(params, lr=lr, momentum=0.9, weight_decay=wd)
    if name == "adam":
        return Adam(params, lr=lr, weight_decay=wd)
    raise ValueError(f"digits_trial: optimizer must be 'sgd', 'momentum' or 'adam', got {name!r}")
