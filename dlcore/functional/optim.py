"""Optimiser update rules as functions: `<name>_step(theta, grad, state, **hyper)`.

Each updates the parameter array `theta` and its `state` dict IN PLACE (the buffers keep
PyTorch's names; an empty dict means the first step) and returns None. The classes in
`dlcore.optim` hold the parameter groups and call these; the update of each is PyTorch's,
operation for operation, so the numbers agree.
"""
import math

from ..backend import get_array_module


def _buffer(state, name, theta):
    """state[name], created as zeros like theta the first time it is asked for."""
    if name not in state:
        state[name] = get_array_module(theta).zeros_like(theta)
    return state[name]


def _decayed(theta, grad, weight_decay):
    """The gradient with an L2 penalty added (PyTorch's coupled weight decay)."""
    return grad + weight_decay * theta if weight_decay else grad


def sgd_step(theta, grad, state, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
             nesterov=False):
    """g = grad + wd theta; buf = g (first step) or momentum buf + (1 - dampening) g;
    g = g + momentum buf (nesterov) or buf; theta -= lr g."""
    g = _decayed(theta, grad, weight_decay)
    if momentum:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = g.copy()
        else:
            buf *= momentum
            buf += (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    theta -= lr * g


def adagrad_step(theta, grad, state, lr=0.01, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10):
    """sum += g^2; theta -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum) + eps)."""
    xp = get_array_module(theta)
    if not state:
        state["step"] = 0
        state["sum"] = xp.full_like(theta, initial_accumulator_value)
    state["step"] += 1
    g = _decayed(theta, grad, weight_decay)
    clr = lr / (1 + (state["step"] - 1) * lr_decay)
    state["sum"] += g * g
    theta -= clr * g / (xp.sqrt(state["sum"]) + eps)


def rmsprop_step(theta, grad, state, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0,
                 momentum=0.0, centered=False):
    """v = alpha v + (1 - alpha) g^2; avg = sqrt(v) + eps (centered: sqrt(v - m^2) + eps,
    m the running mean of g); theta -= lr g / avg, or through a momentum buffer."""
    xp = get_array_module(theta)
    if not state:
        state["step"] = 0
        state["square_avg"] = xp.zeros_like(theta)
    state["step"] += 1
    g = _decayed(theta, grad, weight_decay)
    v = state["square_avg"]
    v *= alpha
    v += (1 - alpha) * g * g
    if centered:
        m = _buffer(state, "grad_avg", theta)
        m *= alpha
        m += (1 - alpha) * g
        avg = xp.sqrt(v - m * m)
    else:
        avg = xp.sqrt(v)
    avg += eps
    if momentum > 0:
        buf = _buffer(state, "momentum_buffer", theta)
        buf *= momentum
        buf += g / avg
        theta -= lr * buf
    else:
        theta -= lr * g / avg


def adadelta_step(theta, grad, state, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    """v = rho v + (1 - rho) g^2; delta = sqrt(u + eps) / sqrt(v + eps) g;
    u = rho u + (1 - rho) delta^2; theta -= lr delta."""
    xp = get_array_module(theta)
    if not state:
        state["step"] = 0
        state["square_avg"] = xp.zeros_like(theta)
        state["acc_delta"] = xp.zeros_like(theta)
    state["step"] += 1
    g = _decayed(theta, grad, weight_decay)
    v, u = state["square_avg"], state["acc_delta"]
    v *= rho
    v += (1 - rho) * g * g
    delta = xp.sqrt(u + eps) / xp.sqrt(v + eps) * g
    u *= rho
    u += (1 - rho) * delta * delta
    theta -= lr * delta


def adam_step(theta, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
              amsgrad=False, decoupled=False):
    """t += 1; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    theta -= lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps).
    weight_decay enters g (Adam) or, decoupled=True (AdamW), shrinks theta by
    (1 - lr wd) first; amsgrad divides by the running max of v instead of v."""
    xp = get_array_module(theta)
    if not state:
        state["step"] = 0
        state["exp_avg"] = xp.zeros_like(theta)
        state["exp_avg_sq"] = xp.zeros_like(theta)
    state["step"] += 1
    t, (beta1, beta2) = state["step"], betas
    g = grad
    if weight_decay:
        if decoupled:
            theta *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * theta
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * g * g
    if amsgrad:
        v_max = _buffer(state, "max_exp_avg_sq", theta)
        xp.maximum(v_max, v, out=v_max)
        v = v_max
    denom = xp.sqrt(v) / math.sqrt(1 - beta2**t)
    denom += eps
    theta -= lr / (1 - beta1**t) * m / denom
