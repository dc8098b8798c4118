"""What a model costs: `count_params(model)` and `count_flops(model, input_shape)`.

Multiply-adds (MACs) are counted as MobileNet (Howard et al., 2017) counts them: one per
product of a weight and an input value, biases not counted. A Conv2d with M input and
N output channels, a D_K x D_K kernel and a D_F x D_F output costs D_K*D_K*M*N*D_F*D_F;
a depthwise one D_K*D_K*M*D_F*D_F, and its pointwise partner M*N*D_F*D_F.
Everything else (normalisation, activations, pooling, the residual add) is reported
apart, as "other" element-wise operations, so the two kinds of work are never mixed.
"""
import math
from collections import namedtuple

import numpy as np

from ..backend import get_array_module
from ..errors import DTypeError, ShapeError
from .activations import _Elementwise
from .conv import Conv2d, DepthwiseConv2d
from .layers import Linear, Maxout
from .module import Module
from .normalization import LayerNorm, _BatchNorm
from .pooling import AvgPool2d, GlobalAvgPool2d, MaxPool2d
from .residual import Residual

LayerCost = namedtuple("LayerCost", "name kind output_shape params macs other")
LayerCost.__doc__ = """One row of a CostTable: a layer's dotted name, its type, the shape
of its output for one sample, its own parameter count, its multiply-adds and its other
element-wise operations (both per sample)."""


def count_params(model, trainable_only=False):
    """Number of scalars in the model's parameters (each shared parameter once).

    trainable_only=True leaves out frozen parameters (requires_grad False).
    """
    if not isinstance(model, Module):
        raise TypeError(f"count_params: model must be a dlcore Module, got {type(model).__name__}")
    return sum(int(p.data.size) for p in model.parameters()
               if not trainable_only or getattr(p, "requires_grad", True))


def _costs(module, x_shape, out_shape):
    """(multiply-adds, other operations) of one call, per sample; shapes include the batch."""
    out_size = math.prod(out_shape[1:])  # output values per sample
    if isinstance(module, Conv2d):
        C_in, (kH, kW) = module.in_channels, module.kernel_size
        return out_size * C_in * kH * kW, 0
    if isinstance(module, DepthwiseConv2d):
        kH, kW = module.kernel_size
        return out_size * kH * kW, 0
    if isinstance(module, Linear):
        return out_size * module.in_features, 0
    if isinstance(module, Maxout):
        return out_size * module.in_features * module.pieces, out_size * (module.pieces - 1)
    if isinstance(module, (_BatchNorm, LayerNorm)):
        return 0, 2 * out_size  # a scale and a shift per value, once the statistics are known
    if isinstance(module, MaxPool2d):
        kH, kW = module.kernel_size
        return 0, out_size * (kH * kW - 1)   # comparisons
    if isinstance(module, AvgPool2d):
        kH, kW = module.kernel_size
        return 0, out_size * kH * kW         # kH*kW - 1 additions and one division
    if isinstance(module, GlobalAvgPool2d):
        return 0, math.prod(x_shape[1:])     # every input value added once
    if isinstance(module, Residual):
        return 0, out_size                   # x + block(x)
    if isinstance(module, _Elementwise):
        return 0, out_size
    return 0, 0  # Flatten; Dropout, which is the identity at inference


class CostTable:
    """Per-layer parameters, multiply-adds and other operations for one input sample.

    rows: LayerCost tuples in the order the layers ran. Totals: total_params (the whole
    model's, as count_params), total_macs, total_other. table["name"] is a row by its
    dotted name; print(table) shows it all.
    """

    def __init__(self, rows, input_shape, total_params):
        self.rows = list(rows)
        self.input_shape = tuple(input_shape)
        self.total_params = total_params
        self.total_macs = sum(r.macs for r in self.rows)
        self.total_other = sum(r.other for r in self.rows)

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, name):
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"CostTable: no layer named {name!r}; names: {[r.name for r in self.rows]}")

    def __str__(self):
        head = ("layer", "type", "output", "params", "mult-adds", "other ops")
        body = [(r.name, r.kind, "x".join(map(str, r.output_shape)), f"{r.params:,}",
                 f"{r.macs:,}", f"{r.other:,}") for r in self.rows]
        foot = ("total", "", "", f"{self.total_params:,}", f"{self.total_macs:,}",
                f"{self.total_other:,}")
        widths = [max(len(row[i]) for row in [head, *body, foot]) for i in range(6)]

        def line(cells):
            left = [c.ljust(w) for c, w in zip(cells[:3], widths[:3])]
            right = [c.rjust(w) for c, w in zip(cells[3:], widths[3:])]
            return "  ".join(left + right).rstrip()

        rule = "-" * len(line(head))
        shape = "x".join(map(str, self.input_shape))
        return "\n".join([f"per sample of shape {shape}", line(head), rule,
                          *map(line, body), rule, line(foot)])

    __repr__ = __str__


def count_flops(model, input_shape):
    """Multiply-adds and other operations of each layer for ONE sample, as a CostTable.

    input_shape: one sample's shape, without the batch axis, e.g. (3, 32, 32) for
    images or (784,) for vectors. The model runs one forward pass on zeros of shape
    (1, *input_shape), in eval mode, to learn every layer's output shape; its modes and
    whatever its layers stored for backward are restored afterwards.
    """
    if not isinstance(model, Module):
        raise TypeError(f"count_flops: model must be a dlcore Module, got {type(model).__name__}")
    try:
        input_shape = tuple(int(s) for s in input_shape)
    except TypeError:
        raise TypeError(f"count_flops: input_shape must be a tuple of ints such as (3, 32, 32), "
                        f"got {input_shape!r}") from None
    names = {id(m): name for name, m in model.named_modules()}
    modules = model.modules()
    saved = [(m, m.training, m.__dict__.get("_cache"), m.__dict__.get("_out_shape"))
             for m in modules]
    rows = []

    def instrument(m):
        forward = m.forward

        def counted(x, *args, **kwargs):
            out = forward(x, *args, **kwargs)
            if not m._modules or isinstance(m, Residual):
                macs, other = _costs(m, x.shape, out.shape)
                own = sum(int(p.data.size) for p in m._parameters.values())
                rows.append(LayerCost(names.get(id(m), "?") or type(m).__name__,
                                      type(m).__name__, tuple(out.shape[1:]), own, macs, other))
            return out
        object.__setattr__(m, "forward", counted)

    params = model.parameters()
    xp = get_array_module(params[0].data) if params else np
    dtype = params[0].data.dtype if params else np.float32
    try:
        model.eval()
        for m in modules:
            instrument(m)
        try:
            model(xp.zeros((1, *input_shape), dtype=dtype))
        except (ShapeError, DTypeError) as exc:
            raise type(exc)(f"count_flops: input_shape is one sample's shape without the batch "
                            f"axis (e.g. (3, 32, 32)); the model refused a batch of shape "
                            f"{(1, *input_shape)}: {exc}") from None
    finally:
        for m, training, cache, out_shape in saved:
            m.__dict__.pop("forward", None)
            object.__setattr__(m, "training", training)
            object.__setattr__(m, "_cache", cache)
            if out_shape is None:
                m.__dict__.pop("_out_shape", None)
            else:
                object.__setattr__(m, "_out_shape", out_shape)
    return CostTable(rows, input_shape, count_params(model))
