"""Dropout as a layer, with a mask that can be held fixed for gradient checks."""
from contextlib import contextmanager

from .. import _checks
from .. import functional as F
from .._random import get_rng
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
    training forward). To hold the mask fixed, which a numerical gradient check needs,
    use `with layer.frozen_mask():` (the deep copy check_module makes inherits it):

        with drop.frozen_mask():
            errors = check_module(drop, x)
    """

    def __init__(self, p=0.5, rng=None, classic=False):
        super().__init__()
        self.p = _checks.number(p, "p", type(self).__name__, low=0.0, high=1.0,
                                high_inclusive=False)
        # An int seed becomes one Generator now, so that later masks differ; None stays
        # None and is resolved at each call, so that dlcore.seed() reaches this layer.
        self.rng = None if rng is None else get_rng(rng)
        self.classic = bool(classic)
        self.mask = None
        self._frozen_seed = None  # set by frozen_mask(): every mask is drawn from it

    def forward(self, x):
        if getattr(getattr(x, "dtype", None), "kind", None) != "f":
            _checks.float_array(x, "input", type(self).__name__)
        rng = self._frozen_seed if self._frozen_seed is not None else get_rng(self.rng)
        out = self._save_for_backward(*F.dropout_forward(
            x, self.p, rng=rng, train=self.training, classic=self.classic))
        if self.training:
            self.mask = self._cache[0]
        return out

    def backward(self, dout):
        return F.dropout_backward(dout, self._cache_for(dout))

    @contextmanager
    def frozen_mask(self):
        """Within the block, every training forward draws the same mask (for a given
        input shape): the masks come from one seed, drawn from the layer's stream on
        entry. After the block, each forward draws a new mask again."""
        previous = self._frozen_seed
        self._frozen_seed = int(get_rng(self.rng).integers(2**63))
        try:
            yield self
        finally:
            self._frozen_seed = previous

    def extra_repr(self):
        return f"p={self.p:g}" + (", classic=True" if self.classic else "")


class GaussianDropout(Dropout):
    """Multiply each input entry by its own noise from N(1, p / (1 - p)) in training; any
    input shape. eval() is the identity.

    Gaussian dropout (Srivastava et al., 2014, section 10): the noise has the mean and
    variance of inverted dropout's factor keep / (1 - p), so p reads as the drop
    probability of the Bernoulli dropout it stands in for; p in [0, 1). Keras's
    `GaussianDropout(rate)` uses the same standard deviation, sqrt(rate / (1 - rate)).
    rng: a Generator or an int seed (one stream, a new noise draw at every training
    forward), or None for dlcore's default generator, as for `Dropout`.

    `mask` holds the last noise (a float array of the input's shape and dtype; None
    before the first training forward and when p = 0). `with layer.frozen_mask():` holds
    it fixed, as for `Dropout`, so that a numerical gradient check can run.
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__(p, rng)

    def forward(self, x):
        if getattr(getattr(x, "dtype", None), "kind", None) != "f":
            _checks.float_array(x, "input", type(self).__name__)
        rng = self._frozen_seed if self._frozen_seed is not None else get_rng(self.rng)
        out = self._save_for_backward(*F.gaussian_dropout_forward(
            x, self.p, rng=rng, train=self.training))
        if self.training:
            self.mask = self._cache[0]
        return out

    def backward(self, dout):
        return F.gaussian_dropout_backward(dout, self._cache_for(dout))

    def extra_repr(self):
        return f"p={self.p:g}"
