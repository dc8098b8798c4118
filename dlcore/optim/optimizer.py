"""`Optimizer`: the base class that holds parameter groups and per-parameter state.

A subclass only writes the update rule for one parameter, `_update(p, group, state)`,
and the checks of its hyperparameters, `_check_group(group, where)`; the base class
does the rest as `torch.optim.Optimizer` does:

- `params` is a list of Parameters, or a list of dicts ("param groups"), each
  `{"params": [...], "lr": ..., ...}`; a key a group leaves out takes the default.
- `state` maps `id(parameter)` to a dict of that parameter's buffers (e.g. SGD's
  momentum buffer), created on the parameter's first step.
- `state_dict()` / `load_state_dict()` save and restore the hyperparameters and the
  buffers, with parameters numbered 0, 1, ... across the groups in order (PyTorch's
  format), so a run continues exactly where it stopped.

Updates are made in place (`p.data -= ...`), so the arrays a Module holds stay the
same objects, and with `xp` they run unchanged on numpy or CuPy.
"""
import copy
import math

import numpy as np

from .. import _checks
from ..backend import device_of, to_device
from ..errors import ShapeError
from ..nn.module import Module, Parameter

__all__ = ["Optimizer"]


class Optimizer:
    """Base class of every optimizer.

    params: an iterable of `Parameter`s, or of dicts (param groups) each with a
    "params" entry and optional hyperparameters; defaults: dict of every
    hyperparameter's default value.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = {}
        if isinstance(params, (Parameter, Module)) or not hasattr(params, "__iter__"):
            hint = "model.parameters()" if isinstance(params, Module) else "[param]"
            raise TypeError(
                f"{self._name}: params must be a list of Parameters or of param-group dicts, "
                f"got {type(params).__name__}; pass {hint}"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list; nothing to optimize")
        # A plain list of Parameters is one group; errors then name the optimizer alone.
        self._one_group = not isinstance(groups[0], dict)
        if self._one_group:
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self):
        return type(self).__name__

    def _where(self, i):
        if getattr(self, "_one_group", False) and i == 0:
            return self._name
        return f"{self._name} param group {i}"

    # -- groups ------------------------------------------------------------------------
    def add_param_group(self, group):
        """Add a dict {"params": [...], hyper...}; missing hyperparameters take the defaults."""
        where = self._where(len(self.param_groups))
        if not isinstance(group, dict):
            raise TypeError(f"{where}: must be a dict with a 'params' entry, "
                            f"got {type(group).__name__}")
        if "params" not in group:
            raise ValueError(f"{where}: has no 'params' entry")
        params = group["params"]
        params = [params] if isinstance(params, Parameter) else list(params)
        if not params:
            raise ValueError(f"{where}: 'params' is empty")
        for i, p in enumerate(params):
            if not isinstance(p, Parameter):
                raise TypeError(f"{where}: params[{i}] must be a dlcore.nn.Parameter, "
                                f"got {type(p).__name__}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids) or seen.intersection(ids):
            raise ValueError(f"{where}: a parameter appears twice (in this group or an "
                             f"earlier one); each parameter may belong to one group only")
        full = {**self.defaults, **group, "params": params}
        self._check_group(full, where)
        self.param_groups.append(full)

    def _check_group(self, group, where):
        """Check the group's hyperparameters; subclasses extend this. Raises ValueError."""
        _nonnegative(group, where, "lr")

    # -- the step ------------------------------------------------------------------------
    def zero_grad(self):
        """Set every parameter's gradient to zero (backward adds into it)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad.fill(0)

    def step(self, closure=None):
        """Update every parameter once from its current `.grad`.

        Every trainable parameter is updated, even one whose gradient is all zeros (weight
        decay and momentum still move it), as PyTorch does for every parameter with a grad;
        a frozen one (requires_grad False) is skipped, its state untouched.
        closure: optional callable that recomputes the loss; its value is returned.
        """
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.requires_grad:
                    self._update(p, group, self.state.setdefault(id(p), {}))
        return loss

    def _update(self, p, group, state):
        """Update `p.data` in place from `p.grad`, the group's hyperparameters and
        `state` (this parameter's buffers, empty on its first step)."""
        raise NotImplementedError(f"{self._name} does not define _update()")

    # -- saving and restoring ---------------------------------------------------------------
    def _all_params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self):
        """{"state": {index: {name: array or number}}, "param_groups": [{hyper..., "params":
        [indices]}]}, as PyTorch: parameters are numbered across the groups in order.
        Arrays are copies, so later steps do not change a saved state dict."""
        index = {id(p): i for i, p in enumerate(self._all_params())}
        state = {index[pid]: copy.deepcopy(s) for pid, s in self.state.items()
                 if pid in index and s}
        groups, start = [], 0
        for group in self.param_groups:
            n = len(group["params"])
            groups.append({**{k: v for k, v in group.items() if k != "params"},
                           "params": list(range(start, start + n))})
            start += n
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and buffers saved by `state_dict()`.

        The optimizer must have as many groups, each with as many parameters, as the
        one that was saved; buffers must have their parameter's shape. Buffers are
        copied onto each parameter's device and dtype.
        """
        where = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(f"{where}: expected a dict with keys 'state' and 'param_groups' "
                             f"(what state_dict() returns)")
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(f"{where}: the state dict has {len(saved)} param groups but this "
                             f"optimizer has {len(self.param_groups)}")
        for i, (s, g) in enumerate(zip(saved, self.param_groups)):
            if len(s["params"]) != len(g["params"]):
                raise ValueError(f"{where}: param group {i} has {len(s['params'])} parameters "
                                 f"in the state dict but {len(g['params'])} in this optimizer")
        params = self._all_params()
        new_state = {}
        for idx, buffers in state_dict["state"].items():
            if not 0 <= int(idx) < len(params):
                raise ValueError(f"{where}: state for parameter {idx}, but this optimizer has "
                                 f"parameters 0 to {len(params) - 1}")
            p = params[int(idx)]
            new_state[id(p)] = {k: _buffer_like(v, p, f"{where}: parameter {idx} {k!r}")
                                for k, v in buffers.items()}
        for i, (s, g) in enumerate(zip(saved, self.param_groups)):
            hyper = {**g, **{k: v for k, v in s.items() if k != "params"}}
            self._check_group(hyper, f"{where}: param group {i}")
            g.update(hyper)
        self.state = new_state

    def __repr__(self):
        lines = [f"{self._name}("]
        for i, group in enumerate(self.param_groups):
            hyper = ", ".join(f"{k}={v!r}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i} ({len(group['params'])} params): {hyper}")
        return "\n".join(lines) + "\n)"


def _buffer_like(value, p, where):
    """A copy of a saved buffer on p's device and, for float arrays, in p's dtype."""
    if not hasattr(value, "shape") or np.ndim(value) == 0:
        return copy.deepcopy(value)  # a step count or another scalar
    if tuple(value.shape) != tuple(p.data.shape):
        raise ShapeError(f"{where} has shape {tuple(value.shape)} but the parameter has "
                         f"shape {tuple(p.data.shape)}")
    value = to_device(value, device_of(p.data))
    dtype = p.data.dtype if value.dtype.kind == "f" else value.dtype
    return value.astype(dtype, copy=True)


# -- checks shared by the optimisers' _check_group -------------------------------------------

def _nonnegative(group, where, *names):
    """Each named hyperparameter must be a finite number >= 0 (stored back as float)."""
    for name in names:
        group[name] = _checks.number(group[name], name, where, low=0.0, high=math.inf,
                                     high_inclusive=False)


def _fraction(group, where, *names):
    """Each named hyperparameter must lie in [0, 1) (averaging and momentum factors)."""
    for name in names:
        group[name] = _checks.number(group[name], name, where, low=0.0, high=1.0,
                                     high_inclusive=False)


def _flag(group, where, *names):
    """Each named option must be True or False."""
    for name in names:
        if not isinstance(group[name], bool):
            raise TypeError(f"{where}: {name} must be True or False, got {group[name]!r}")


def _hyper(group, defaults):
    """A group's values of the optimiser's hyperparameters (the keys of its defaults),
    as keyword arguments for its update rule; other keys a user put in the group stay out."""
    return {k: group[k] for k in defaults}
