"""Residual(block): y = x + block(x), the skip connection of ResNets (He et al., 2016)."""
from ..errors import ShapeError
from .module import Module


class Residual(Module):
    """y = x + block(x); block must keep the input's shape.

    Backward: dx = dout + block.backward(dout): the skip passes the upstream gradient
    through unchanged, whatever the block does to its share.
    """

    def __init__(self, block):
        super().__init__()
        if not isinstance(block, Module):
            raise TypeError(f"Residual: block must be a Module, got {type(block).__name__}")
        if hasattr(block, "input_grad"):
            block.input_grad = True  # the skip needs the block's input gradient
        self.block = block

    def forward(self, x):
        fx = self.block(x)
        if getattr(fx, "shape", None) != getattr(x, "shape", None):
            raise ShapeError(f"Residual: the block maps shape {tuple(x.shape)} to "
                             f"{tuple(getattr(fx, 'shape', ()))}; x + block(x) needs the "
                             f"same shape (keep channels and use padding = kernel_size // 2, "
                             f"stride 1)")
        return self._save_for_backward(x + fx, x.shape)

    def backward(self, dout):
        self._cache_for(dout)
        return dout + self.block.backward(dout)

    def backward_params(self, dout):
        """The input is data: only the block's parameters need gradients."""
        self._cache_for(dout)
        self.block.backward_params(dout)
