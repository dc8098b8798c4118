"""The math of every layer as pure functions.

For each op: `<op>_forward(x, *params, **hyper) -> (out, cache)` and
`<op>_backward(dout, cache) -> dx`, or `(dx, dW, db)` when the op has parameters.
These are the functions the exercises ask learners to write.
"""
from .activations import (
    elu_backward,
    elu_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from .dropout import dropout_backward, dropout_forward
from .linear import linear_backward, linear_forward
from .maxout import maxout_backward, maxout_forward
from .normalization import (
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from .softmax import log_softmax, softmax

__all__ = [
    "batchnorm_backward",
    "batchnorm_forward",
    "dropout_backward",
    "dropout_forward",
    "elu_backward",
    "elu_forward",
    "layernorm_backward",
    "layernorm_forward",
    "leaky_relu_backward",
    "leaky_relu_forward",
    "linear_backward",
    "linear_forward",
    "log_softmax",
    "maxout_backward",
    "maxout_forward",
    "relu_backward",
    "relu_forward",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax",
    "tanh_backward",
    "tanh_forward",
]
