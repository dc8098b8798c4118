"""Dropout as a layer, with a mask that can be held fixed for gradient checks."""
from contextlib import contextmanager

from .. import _checks
from .. import functional as F
from .._random import get_rng
from ..errors import ShapeError
from .module import Module


class Dropout(Module):
    """Drop each input entry with probability p in training; any input shape.

    Inverted (default, PyTorch's): kept entries are scaled by 1/(1-p) in training and
    eval() is the identity. classic=True: the mask alone in training, and eval()
    multiplies by the keep probability 1 - p. p in [0, 1).
    rng: a Generator or an int seed (the layer keeps one stream and draws a new mask
    from it at every training forward), or None for dlcore's default generator (so
    dlcore.seed(n) makes runs repeat).

    `mask` holds the last keep mask (boolean, True = kept; None before the first
    training forward). Set `freeze_mask = True`, or use `with layer.frozen_mask():`,
    to reuse that mask instead of drawing a new one: the network is then a fixed
    function of its input, which a numerical gradient check needs, e.g.

        with drop.frozen_mask():
            errors = check_module(drop, x)   # the deep copy inherits the frozen flag
    """

    def __init__(self, p=0.5, rng=None, classic=False):
        super().__init__()
        self.p = _checks.number(p, "p", "Dropout", low=0.0, high=1.0, high_inclusive=False)
        # An int seed becomes one Generator now, so that later masks differ; None stays
        # None and is resolved at each call, so that dlcore.seed() reaches this layer.
        self.rng = None if rng is None else get_rng(rng)
        self.classic = bool(classic)
        self.freeze_mask = False
        self.mask = None
        self._cache = None

    def forward(self, x):
        mask = None
        if self.training and self.freeze_mask and self.mask is not None:
            if tuple(self.mask.shape) != tuple(getattr(x, "shape", ())):
                raise ShapeError(
                    f"{self!r}: the frozen mask has shape {tuple(self.mask.shape)} but the "
                    f"input has shape {tuple(getattr(x, 'shape', ()))}; set layer.mask = None "
                    f"to draw a new one"
                )
            mask = self.mask
        out, self._cache = F.dropout_forward(x, self.p, rng=get_rng(self.rng),
                                             train=self.training, classic=self.classic,
                                             mask=mask)
        if self.training:
            self.mask = self._cache[0]
        return out

    def backward(self, dout):
        return F.dropout_backward(dout, self._require_cache(self._cache))

    @contextmanager
    def frozen_mask(self):
        """Within the block, training forwards draw one mask and then reuse it.

        The mask is cleared on entry and on exit, so the block starts from a fresh draw
        and later training forwards draw new masks again.
        """
        previous = self.freeze_mask
        self.freeze_mask, self.mask = True, None
        try:
            yield self
        finally:
            self.freeze_mask, self.mask = previous, None

    def extra_repr(self):
        return f"p={self.p:g}" + (", classic=True" if self.classic else "")
