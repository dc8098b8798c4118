"""Per-layer statistics of a `Sequential` model on one batch: is the signal dying or blowing up?

For every top-level module of the Sequential (identified by its index in it):
the mean and standard deviation of its output, the fraction of dead units (ReLU family),
the fraction of saturated outputs (sigmoid, tanh) and, after a backward pass, the norm of
its weight gradient and of the gradient flowing into its output. A nested Sequential
counts as one layer (its own layers are not looked into). Across one optimiser step:
the ratio of the size of each layer's weight update to the size of its weights
(`weight_snapshot` before the step, `update_ratios` after it).

Definitions (also in each function's docstring):

- dead unit (ReLU, LeakyReLU, ELU): a unit whose input is <= 0 for EVERY example in the
  batch, so it never enters its linear branch x > 0. For ReLU this is exactly "the output is
  0 for every input"; a unit is one position of the output without the batch axis, i.e. one
  column of an (N, D) output, one (c, h, w) position of an (N, C, H, W) one.
- saturated output: sigmoid outputs below 1e-2 or above 1 - 1e-2; tanh outputs with
  |out| > 1 - 1e-2 (`SATURATION_TOL`), where the derivative is below about 0.02.
- update ratio of a layer: ||W_after - W_before|| / ||W_before|| (L2 norms over every entry
  of the weight W), for one step. CS231n's notes give ~1e-3 as a rule of thumb for a
  healthy rate; it is a heuristic, not a law.

Statistics are computed in float64 and returned as Python floats; masks as numpy arrays.
Numpy only: the plots of these numbers live in `dlcore.viz`.
"""
from dataclasses import asdict, dataclass

import numpy as np

from . import _checks
from .backend import get_array_module, to_numpy
from .errors import DTypeError, ShapeError
from .nn import ELU, LeakyReLU, Parameter, ReLU, Sequential, Sigmoid, Tanh

__all__ = [
    "RELU_FAMILY",
    "SATURATING",
    "SATURATION_TOL",
    "LayerStats",
    "activations",
    "dead_units",
    "gradient_norms",
    "layer_report",
    "output_gradients",
    "report_table",
    "update_ratios",
    "weight_snapshot",
]

RELU_FAMILY = (ReLU, LeakyReLU, ELU)
SATURATING = (Sigmoid, Tanh)
SATURATION_TOL = 1e-2


@dataclass(frozen=True)
class LayerStats:
    """Statistics of one top-level layer of a Sequential on one batch.

    index: position in the Sequential; name: e.g. "1 ReLU"; kind: the class name.
    out_mean, out_std: mean and (population) std over every element of the output.
    dead_fraction: ReLU family only, else None. saturated_fraction: Sigmoid/Tanh only.
    grad_norm: L2 norm of W.grad for layers with a parameter W, after a backward pass.
    dout_norm: L2 norm of d(loss)/d(output of this layer), after a backward pass.
    """

    index: int
    name: str
    kind: str
    out_mean: float
    out_std: float
    dead_fraction: float | None = None
    saturated_fraction: float | None = None
    grad_norm: float | None = None
    dout_norm: float | None = None

    def as_dict(self):
        return asdict(self)


# -- helpers ---------------------------------------------------------------------------------
def _check_model(model, where):
    if not isinstance(model, Sequential):
        raise TypeError(
            f"{where}: model must be a dlcore.nn.Sequential (its layers are identified by their "
            f"index in it), got {type(model).__name__}; wrap a single layer as Sequential(layer)"
        )
    if len(model) == 0:
        raise ValueError(f"{where}: the Sequential has no layers, so there is nothing to report")


def _forward(model, x, where):
    """Outputs of every top-level module, in order; errors name the layer that refused."""
    _check_model(model, where)
    _checks.float_array(x, "x", where, min_ndim=1)
    if x.shape[0] == 0:
        raise ShapeError(f"{where}: x holds no examples (shape {tuple(x.shape)}); "
                         f"statistics of an empty batch are undefined")
    outs = []
    h = x
    for i, m in enumerate(model):
        try:
            h = m(h)
        except (ShapeError, DTypeError) as exc:
            raise type(exc)(f"{where}: layer {i} ({type(m).__name__}) refused its input "
                            f"of shape {tuple(h.shape)}: {exc}") from None
        outs.append(h)
    return outs


def _backward(model, outs, y, loss, where):
    """Run loss and backward after model.zero_grad(); return the gradient into each output."""
    if not (callable(loss) and hasattr(loss, "backward")):
        raise TypeError(f"{where}: loss must be a dlcore.losses object such as "
                        f"CrossEntropyLoss() (called as loss(pred, y), then loss.backward()), "
                        f"got {type(loss).__name__}")
    try:
        loss(outs[-1], y)
    except (ShapeError, DTypeError) as exc:
        raise type(exc)(f"{where}: the loss refused the model's output of shape "
                        f"{tuple(outs[-1].shape)} and y: {exc}") from None
    model.zero_grad()
    dout = loss.backward()
    douts = [None] * len(outs)
    for i in reversed(range(len(outs))):
        douts[i] = dout
        dout = model[i].backward(dout)
    return douts


def _norm(a):
    """L2 norm over every element, in float64, without overflow for huge entries."""
    xp = get_array_module(a)
    a = a.astype(xp.float64, copy=False)
    if a.size == 0:
        return 0.0
    m = float(xp.max(xp.abs(a)))
    if m == 0 or not np.isfinite(m):
        return m  # 0, inf or nan
    return m * float(xp.sqrt(xp.sum((a / m) ** 2)))


def _dead_mask(inp):
    """True where a unit's input is <= 0 for every example (reduced over the batch axis)."""
    return to_numpy(~(inp > 0).any(axis=0))


def _saturated(module, out):
    xp = get_array_module(out)
    if isinstance(module, Sigmoid):
        sat = (out < SATURATION_TOL) | (out > 1 - SATURATION_TOL)
    else:  # Tanh
        sat = xp.abs(out) > 1 - SATURATION_TOL
    return float(xp.mean(sat))


def _weight(module):
    W = getattr(module, "W", None)
    return W if isinstance(W, Parameter) else None


# -- public API ------------------------------------------------------------------------------
def activations(model, x):
    """The output of every top-level module of `model` for the batch x, in order.

    model: a Sequential; x: a float array whose first axis is the batch.
    Returns a list of len(model) arrays (on x's device), the last being model(x).
    """
    return _forward(model, x, "activations")


def dead_units(model, x):
    """Masks of dead units of every ReLU-family layer (ReLU, LeakyReLU, ELU) on the batch x.

    A unit is dead when its input is <= 0 for every example in x (for ReLU: its output is 0
    for every example). Returns {layer index: boolean numpy mask of shape output.shape[1:]};
    an empty dict when the model has no such layer.
    """
    outs = _forward(model, x, "dead_units")
    ins = [x] + outs[:-1]
    return {i: _dead_mask(ins[i]) for i, m in enumerate(model) if isinstance(m, RELU_FAMILY)}


def gradient_norms(model, x, y, loss):
    """L2 norm of W.grad for every top-level layer with a weight W, from one backward pass.

    Calls model.zero_grad() first, then loss(model(x), y) and model.backward(loss.backward()),
    so the norms are this batch's gradient only, and that gradient is left in every p.grad.
    Returns a list of (layer index, norm) pairs, input side first.
    """
    if y is None or loss is None:
        raise ValueError("gradient_norms: needs the targets y and a loss (e.g. "
                         "CrossEntropyLoss()) for the backward pass; got None")
    stats = layer_report(model, x, y, loss)
    return [(s.index, s.grad_norm) for s in stats if s.grad_norm is not None]


def output_gradients(model, x, y, loss):
    """d(loss)/d(output) of every top-level module for the batch x, in order.

    Calls model.zero_grad() first, then loss(model(x), y) and one backward pass, so the
    parameter gradients of this batch are left in every p.grad. Returns a list of
    len(model) arrays, element i of the shape of layer i's output (the last is
    loss.backward(), the gradient with respect to the model's output).
    """
    if y is None or loss is None:
        raise ValueError("output_gradients: needs the targets y and a loss (e.g. "
                         "CrossEntropyLoss()) for the backward pass; got None")
    outs = _forward(model, x, "output_gradients")
    return _backward(model, outs, y, loss, "output_gradients")


def weight_snapshot(model):
    """Copies of the weight W of every top-level layer that has one: {layer index: array}.

    Take it just before optimizer.step() and pass it to `update_ratios` after the step.
    Biases are left out: they start at zero, so their own ratio is undefined at first.
    """
    _check_model(model, "weight_snapshot")
    snap = {i: _weight(m).data.copy() for i, m in enumerate(model) if _weight(m) is not None}
    if not snap:
        raise ValueError("weight_snapshot: no top-level layer of the Sequential has a weight W "
                         "(a nested Sequential counts as one layer without one)")
    return snap


def update_ratios(model, before):
    """Size of each layer's last update relative to its weights: ||W - W_before|| / ||W_before||.

    model: the Sequential after the step; before: `weight_snapshot(model)` taken before it.
    Returns a list of (layer index, ratio) pairs, input side first. For plain SGD the update
    is -lr * grad, so the ratio is lr * ||dW|| / ||W||: proportional to the learning rate.
    """
    where = "update_ratios"
    _check_model(model, where)
    if not isinstance(before, dict):
        raise TypeError(f"{where}: before must be the dict that weight_snapshot(model) returns "
                        f"({{layer index: weight array}}), got {type(before).__name__}")
    have = {i for i, m in enumerate(model) if _weight(m) is not None}
    if set(before) != have:
        raise ValueError(f"{where}: before holds layers {sorted(before)} but the model's layers "
                         f"with a weight are {sorted(have)}; take the snapshot from this model")
    ratios = []
    for i in sorted(before):
        W = _weight(model[i]).data
        if tuple(before[i].shape) != tuple(W.shape):
            raise ShapeError(f"{where}: the snapshot of layer {i} has shape "
                             f"{tuple(before[i].shape)}, its weight now {tuple(W.shape)}")
        size = _norm(before[i])
        if not size > 0:
            raise ValueError(f"{where}: layer {i}'s weight was {size} before the step (norm), "
                             f"so the ratio is undefined")
        ratios.append((i, _norm(W - before[i]) / size))
    return ratios


def layer_report(model, x, y=None, loss=None):
    """Per-layer statistics of `model` (a Sequential) on the batch x.

    With y and loss (a dlcore.losses object) also a backward pass: model.zero_grad() first,
    so grad_norm is this batch's weight gradient, which stays in p.grad afterwards.
    The model stays in whatever mode (train/eval) it is in.
    Returns a list of `LayerStats`, one per top-level module.
    """
    return _report(model, x, y, loss, "layer_report")[0]


def _report(model, x, y, loss, where):
    """layer_report's work: (list of LayerStats, list of every module's output)."""
    if (y is None) != (loss is None):
        raise ValueError(f"{where}: give both y and loss for gradient statistics, or neither "
                         f"(got {'y' if loss is None else 'loss'} only)")
    outs = _forward(model, x, where)
    douts = _backward(model, outs, y, loss, where) if loss is not None else [None] * len(outs)
    ins = [x] + outs[:-1]
    stats = []
    for i, m in enumerate(model):
        xp = get_array_module(outs[i])
        out = outs[i].astype(xp.float64, copy=False)
        kind = type(m).__name__
        W = _weight(m)
        stats.append(LayerStats(
            index=i,
            name=f"{i} {kind}",
            kind=kind,
            out_mean=float(xp.mean(out)),
            out_std=float(xp.std(out)),
            dead_fraction=(float(np.mean(_dead_mask(ins[i])))
                           if isinstance(m, RELU_FAMILY) else None),
            saturated_fraction=_saturated(m, outs[i]) if isinstance(m, SATURATING) else None,
            grad_norm=_norm(W.grad) if (W is not None and douts[i] is not None) else None,
            dout_norm=_norm(douts[i]) if douts[i] is not None else None,
        ))
    return stats, outs


def _fmt(v):
    return "-" if v is None else f"{v:.3g}"


def report_table(stats):
    """A fixed-width text table of `layer_report`'s stats, numbers to 3 significant digits.

    Columns: layer, mean, std, dead, saturated, |dW| (grad_norm), |dout| (dout_norm);
    '-' where a statistic does not apply or was not computed.
    """
    stats = list(stats)
    if not stats:
        raise ValueError("report_table: no layer statistics to show (got an empty list)")
    for s in stats:
        if not isinstance(s, LayerStats):
            raise TypeError(f"report_table: expected LayerStats from layer_report, "
                            f"got {type(s).__name__}")
    header = ["layer", "mean", "std", "dead", "saturated", "|dW|", "|dout|"]
    rows = [[s.name, _fmt(s.out_mean), _fmt(s.out_std), _fmt(s.dead_fraction),
             _fmt(s.saturated_fraction), _fmt(s.grad_norm), _fmt(s.dout_norm)] for s in stats]
    widths = [max(len(r[c]) for r in [header] + rows) for c in range(len(header))]

    def line(r):
        first = r[0].ljust(widths[0])
        return "  ".join([first] + [v.rjust(w) for v, w in zip(r[1:], widths[1:])])

    return "\n".join([line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])
