"""The math of every layer as pure functions.

For each op: `<op>_forward(x, *params, **hyper) -> (out, cache)` and
`<op>_backward(dout, cache) -> dx`, or `(dx, dW, db)` when the op has parameters.
Losses: `<loss>_forward(pred, target, **hyper) -> (value, cache)` and
`<loss>_backward(cache) -> dpred`. Optimisers: `<name>_step(theta, grad, state, **hyper)`
in place (`functional.optim`). These are the functions the exercises ask learners to
write; they check nothing (`nn`, `losses`, `optim` and `fit` check their inputs).
"""
from . import optim
from .activations import (
    elu_backward,
    elu_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from .conv import (
    col2im,
    conv2d_backward,
    conv2d_backward_params,
    conv2d_forward,
    depthwise_conv2d_backward,
    depthwise_conv2d_backward_params,
    depthwise_conv2d_forward,
    im2col,
)
from .dropout import (
    dropout_backward,
    dropout_forward,
    gaussian_dropout_backward,
    gaussian_dropout_forward,
)
from .linear import linear_backward, linear_forward
from .losses import (
    bce_with_logits_backward,
    bce_with_logits_forward,
    cosine_proximity_backward,
    cosine_proximity_forward,
    cross_entropy_backward,
    cross_entropy_forward,
    huber_backward,
    huber_forward,
    kl_div_backward,
    kl_div_forward,
    l1_backward,
    l1_forward,
    log_cosh_backward,
    log_cosh_forward,
    mse_backward,
    mse_forward,
    multi_margin_backward,
    multi_margin_forward,
    poisson_nll_backward,
    poisson_nll_forward,
)
from .maxout import maxout_backward, maxout_forward
from .normalization import (
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from .pooling import (
    avg_pool2d_backward,
    avg_pool2d_forward,
    global_avg_pool2d_backward,
    global_avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
from .softmax import log_softmax, softmax

__all__ = [
    "avg_pool2d_backward",
    "avg_pool2d_forward",
    "batchnorm_backward",
    "batchnorm_forward",
    "bce_with_logits_backward",
    "bce_with_logits_forward",
    "col2im",
    "conv2d_backward",
    "conv2d_backward_params",
    "conv2d_forward",
    "cosine_proximity_backward",
    "cosine_proximity_forward",
    "cross_entropy_backward",
    "cross_entropy_forward",
    "depthwise_conv2d_backward",
    "depthwise_conv2d_backward_params",
    "depthwise_conv2d_forward",
    "dropout_backward",
    "dropout_forward",
    "elu_backward",
    "elu_forward",
    "gaussian_dropout_backward",
    "gaussian_dropout_forward",
    "global_avg_pool2d_backward",
    "global_avg_pool2d_forward",
    "huber_backward",
    "huber_forward",
    "im2col",
    "kl_div_backward",
    "kl_div_forward",
    "l1_backward",
    "l1_forward",
    "layernorm_backward",
    "layernorm_forward",
    "leaky_relu_backward",
    "leaky_relu_forward",
    "linear_backward",
    "linear_forward",
    "log_cosh_backward",
    "log_cosh_forward",
    "log_softmax",
    "max_pool2d_backward",
    "max_pool2d_forward",
    "maxout_backward",
    "maxout_forward",
    "mse_backward",
    "mse_forward",
    "multi_margin_backward",
    "multi_margin_forward",
    "optim",
    "poisson_nll_backward",
    "poisson_nll_forward",
    "relu_backward",
    "relu_forward",
    "sigmoid",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax",
    "tanh_backward",
    "tanh_forward",
]
