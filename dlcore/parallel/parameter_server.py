"""A parameter server (Dean et al., 2012; Li et al., 2014), simulated exactly in one process.

Workers pull the weights from a server, compute a gradient on their own data, and push
it back; the server applies it. Two disciplines:

- synchronous: the server waits for all K workers, averages their K gradients (each on
  the SAME weights) and takes one step: the large-batch step, K times the data per step.
- asynchronous: the server applies each gradient as soon as it arrives. Meanwhile other
  workers' gradients have moved the weights, so the gradient was computed on weights
  tau steps old ("stale"):  theta_{t+1} = theta_t - lr * g(theta_{t - tau}).

With K workers taking turns, each gradient is exactly K - 1 steps stale
(`simulate_async_workers`), which is `async_sgd(..., staleness=K-1)` step for step.

`grad_fn(theta, t)` is the gradient of the t-th minibatch at `theta` (t = 0, 1, ...);
in the synchronous server, `grad_fn(theta, t)` is called for t = step*K + k by worker k,
so both disciplines see the same stream of minibatches.
"""
import numbers

import numpy as np

from .. import _checks

__all__ = ["ParameterServer", "async_sgd", "simulate_async_workers", "sync_sgd"]


def _nonnegative_int(value, name, where):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{where}: {name} must be an integer >= 0, got {value!r}")
    return int(value)


def _start(theta0, where):
    _checks.float_array(np.asarray(theta0), "theta0", where)
    return np.array(theta0, copy=True)


def sync_sgd(grad_fn, theta0, lr, steps, workers=1):
    """Synchronous parameter server: each step averages `workers` gradients taken at the
    current weights. Returns the weights after each step, (steps + 1, *theta0.shape)."""
    where = "sync_sgd"
    steps = _checks.positive_int(steps, "steps", where)
    workers = _checks.positive_int(workers, "workers", where)
    theta = _start(theta0, where)
    path = [theta.copy()]
    for step in range(steps):
        g = sum(grad_fn(theta, step * workers + k) for k in range(workers)) / workers
        theta = theta - lr * g
        path.append(theta.copy())
    return np.array(path)


def async_sgd(grad_fn, theta0, lr, steps, staleness=0):
    """Asynchronous SGD with an exact delay: theta_{t+1} = theta_t - lr * g(theta_{t-tau}, t),
    with theta_s = theta_0 for s < 0. staleness tau = 0 is plain SGD.
    Returns the weights after each step, (steps + 1, *theta0.shape)."""
    where = "async_sgd"
    steps = _checks.positive_int(steps, "steps", where)
    tau = _nonnegative_int(staleness, "staleness", where)
    path = [_start(theta0, where)]
    for t in range(steps):
        stale = path[max(t - tau, 0)]
        path.append(path[t] - lr * grad_fn(stale, t))
    return np.array(path)


class ParameterServer:
    """The server's side: weights with a version number (the count of updates applied).

    pull() -> (weights copy, version); push(grad, version) applies one SGD step and
    records its staleness, version_now - version_pulled.
    """

    def __init__(self, theta0, lr):
        self.theta = _start(theta0, "ParameterServer")
        self.lr = lr
        self.version = 0
        self.staleness = []

    def pull(self):
        return self.theta.copy(), self.version

    def push(self, grad, version):
        self.staleness.append(self.version - version)
        self.theta = self.theta - self.lr * grad
        self.version += 1


def simulate_async_workers(grad_fn, theta0, lr, steps, workers):
    """K workers take turns: at tick t worker t mod K pushes the gradient of minibatch t,
    computed on the weights it pulled after its previous push, then pulls again.

    Returns (path (steps + 1, ...), staleness list): every gradient after the first K is
    exactly K - 1 steps stale.
    """
    where = "simulate_async_workers"
    steps = _checks.positive_int(steps, "steps", where)
    workers = _checks.positive_int(workers, "workers", where)
    server = ParameterServer(theta0, lr)
    pulled = [server.pull() for _ in range(workers)]
    path = [server.theta.copy()]
    for t in range(steps):
        k = t % workers
        theta_k, version_k = pulled[k]
        server.push(grad_fn(theta_k, t), version_k)
        pulled[k] = server.pull()
        path.append(server.theta.copy())
    return np.array(path), server.staleness
