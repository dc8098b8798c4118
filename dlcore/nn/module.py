"""`Parameter`, `Module` and `Sequential`: the PyTorch-shaped skeleton every layer hangs on.

A Module's `forward` stores what its `backward` needs; `backward(dout)` returns the
gradient with respect to the input and ADDS parameter gradients into `p.grad`, so they
accumulate until `zero_grad()` (PyTorch's convention).
"""
import os
from collections import OrderedDict

import numpy as np

from .. import _checks
from ..backend import device_of, get_array_module, to_device, to_numpy
from ..errors import DTypeError, ShapeError


class Parameter:
    """A trainable array and its gradient.

    data: float array of any shape; grad: zeros of the same shape, dtype and device.
    requires_grad: False freezes it: backward adds nothing to its grad and optimisers
    leave it alone (`Module.freeze()` sets it for every parameter of a module).
    """

    def __init__(self, data, name=None, requires_grad=True):
        _checks.float_array(data, "data", "Parameter")
        self.data = data
        self.grad = get_array_module(data).zeros_like(data)
        self.name = name
        self.requires_grad = bool(requires_grad)

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    def __repr__(self):
        label = f"{self.name}, " if self.name else ""
        frozen = "" if self.requires_grad else ", requires_grad=False"
        return (f"Parameter({label}shape={tuple(self.data.shape)}, dtype={self.data.dtype}"
                f"{frozen})")


class Module:
    """Base class of every layer and model.

    Subclasses call `super().__init__()` first, assign Parameters and sub-Modules as
    attributes (they are registered in assignment order), and implement `forward` and
    `backward`.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_cache", None)  # what backward needs, set by forward

    # -- registration -------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}.__init__ must call super().__init__() before "
                f"assigning attributes such as {name!r}"
            )
        for registry in (self._parameters, self._modules):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        elif name in self._buffers:
            self._buffers[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name, array):
        """A non-trainable array that belongs to the state (e.g. BatchNorm's running mean)."""
        self._buffers[name] = array
        object.__setattr__(self, name, array)

    # -- computation -------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def backward(self, dout):
        raise NotImplementedError(f"{type(self).__name__} does not define backward()")

    def backward_params(self, dout):
        """Accumulate parameter gradients only, when the input's gradient is not wanted
        (the input is data). Returns None. Layers override it when skipping dx saves work."""
        self.backward(dout)

    def _save_for_backward(self, out, cache):
        """Keep what backward needs and the output's shape (to check dout); return out."""
        # Plain attributes, set past Module.__setattr__ (no registry to update): this runs
        # at every forward of every layer.
        object.__setattr__(self, "_cache", cache)
        object.__setattr__(self, "_out_shape", out.shape)
        return out

    def _cache_for(self, dout):
        """The cache of the last forward, once dout is known to have its output's shape."""
        cache = self._require_cache(getattr(self, "_cache", None))
        if getattr(dout, "shape", None) != self._out_shape:
            raise ShapeError(f"{self!r}.backward: dout must have the shape of the forward "
                             f"output {tuple(self._out_shape)}, got "
                             f"{tuple(getattr(dout, 'shape', ()))}")
        return cache

    @staticmethod
    def _add_grad(param, grad):
        """Accumulate one parameter's gradient, unless the parameter is frozen (or absent)."""
        if param is not None and param.requires_grad:
            param.grad += grad

    def _require_cache(self, cache):
        if cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() was called before forward(): "
                f"run a forward pass first, it stores what backward needs"
            )
        return cache

    # -- traversal ---------------------------------------------------------------------
    def children(self):
        return list(self._modules.values())

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return [m for _, m in self.named_modules()]

    def named_parameters(self, prefix=""):
        """(dotted name, Parameter) pairs, each parameter once, in registration order."""
        seen = set()
        for mod_name, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_buffers(self):
        for mod_name, module in self.named_modules():
            for name, buf in module._buffers.items():
                yield (f"{mod_name}.{name}" if mod_name else name), buf

    # -- modes and state ---------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (dropout active, batch statistics used); returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode: equivalent to train(False); returns self."""
        return self.train(False)

    def zero_grad(self):
        """Set every parameter's gradient to zero (gradients accumulate otherwise)."""
        for p in self.parameters():
            p.grad.fill(0)

    def freeze(self):
        """Freeze every parameter (requires_grad = False); returns self.

        Backward still returns input gradients (layers below may be training) but adds
        nothing to a frozen parameter's grad, and optimisers and `fit` skip it.
        """
        return self._set_requires_grad(False)

    def unfreeze(self):
        """Make every parameter trainable again (requires_grad = True); returns self."""
        return self._set_requires_grad(True)

    def _set_requires_grad(self, flag):
        for p in self.parameters():
            p.requires_grad = flag
        return self

    def to(self, device=None, dtype=None):
        """Move parameters and buffers to `device` ('cpu'/'gpu') and/or cast to a float `dtype`.

        Returns self. Raises DeviceError when 'gpu' is asked for and none is usable.
        """
        if dtype is not None:
            dtype = np.dtype(dtype)
            if dtype.kind != "f":
                raise DTypeError(f"Module.to: dtype must be a float type, got {dtype}")

        def convert(a):
            if device is not None:
                a = to_device(a, device)
            if dtype is not None:
                a = a.astype(dtype, copy=False)
            return a

        for p in self.parameters():
            p.data = convert(p.data)
            p.grad = convert(p.grad)
        for m in self.modules():
            for name, buf in list(m._buffers.items()):
                setattr(m, name, convert(buf))
        return self

    def double(self):
        """Cast to float64, as gradient checks need; returns self."""
        return self.to(dtype=np.float64)

    def state_dict(self):
        """Copies of every parameter and buffer, keyed by dotted name (e.g. "0.W")."""
        state = OrderedDict()
        for name, p in self.named_parameters():
            state[name] = p.data.copy()
        for name, buf in self.named_buffers():
            state[name] = buf.copy()
        return state

    def load_state_dict(self, state, strict=True):
        """Copy arrays from `state` into this module, keeping its device and dtype.

        Everything is checked before anything is written, so a bad state dict leaves the
        module as it was. strict=True: a missing or unexpected key raises KeyError naming
        it; strict=False loads the keys both share (and raises KeyError if they share none). A shape that does not match always
        raises ShapeError naming the key and both shapes.
        """
        own = OrderedDict(self.named_parameters())
        buffers = OrderedDict(self.named_buffers())
        expected = list(own) + list(buffers)
        missing = [k for k in expected if k not in state]
        unexpected = [k for k in state if k not in own and k not in buffers]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys "
                           f"{unexpected} (the state dict and {type(self).__name__} differ)")
        shared = [k for k in expected if k in state]
        if not shared and expected:
            # strict=False that would load nothing is a mistake (e.g. PyTorch's '0.weight'
            # where dlcore says '0.W'), never a silent no-op
            raise KeyError(f"load_state_dict: no key of the state dict matches "
                           f"{type(self).__name__}'s (expected e.g. {expected[:3]}, got "
                           f"{list(state)[:3]})")
        for name in shared:
            target = own[name].data if name in own else buffers[name]
            if tuple(np.shape(state[name])) != tuple(target.shape):
                raise ShapeError(
                    f"load_state_dict: {name} has shape {tuple(target.shape)} in the model "
                    f"but {tuple(np.shape(state[name]))} in the state dict"
                )
        modules = dict(self.named_modules())
        for name in shared:  # all checked: now write
            target = own[name].data if name in own else buffers[name]
            value = to_device(state[name], device_of(target)).astype(target.dtype, copy=True)
            if name in own:
                own[name].data = value
            else:
                module_name, _, attr = name.rpartition(".")
                setattr(modules[module_name], attr, value)

    def save(self, path):
        """Write `state_dict()` to an .npz file (see `dlcore.save`)."""
        save(self, path)

    def load(self, path, strict=True):
        """Load parameters and buffers from an .npz file written by `save`; returns self."""
        self.load_state_dict(load(path), strict=strict)
        return self

    # -- display -------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        if not self._modules:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        lines.append(")")
        return "\n".join(lines)


class Sequential(Module):
    """Modules applied in order; backward runs them in reverse.

    input_grad: whether `backward` computes the gradient with respect to the input.
    False (default): the input is data, as a tensor without requires_grad in PyTorch;
    the first layer then skips its input product (for an MLP's first Linear layer,
    about a quarter of a training step) and backward returns None. A Sequential placed
    after another module inside a Sequential gets input_grad=True, since its input is
    an activation; set it yourself when you chain models by hand (`head.input_grad = True`)
    or want the gradient of the input (saliency, adversarial examples).
    """

    def __init__(self, *modules, input_grad=False):
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(
                    f"Sequential: argument {i} must be a Module, got {type(m).__name__}"
                )
            if i > 0 and isinstance(m, Sequential):
                m.input_grad = True  # its input is the previous module's output
            setattr(self, str(i), m)
        self.input_grad = bool(input_grad)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, i):
        """The i-th module; a slice gives a Sequential of the same module objects (as in
        PyTorch), e.g. `model[:2].freeze()` freezes the first two layers of `model`."""
        modules = list(self._modules.values())
        if isinstance(i, slice):
            return Sequential(*modules[i])
        return modules[i]

    def forward(self, x):
        for i, m in enumerate(self):
            try:
                x = m(x)
            except (ShapeError, DTypeError) as exc:
                # Say which layer refused the input: "Sequential layer 2: Linear(...) expects ...".
                raise type(exc)(f"Sequential layer {i}: {exc}") from None
        return x

    def backward(self, dout):
        """Backward through every module in reverse; returns the input's gradient, or None
        when input_grad is False (then the first module only accumulates its parameters'
        gradients)."""
        if dout is None:
            raise TypeError(
                "Sequential.backward: dout is None. Was it returned by a Sequential whose "
                "input_grad is False? Set input_grad = True on the model that follows this one"
            )
        if not self.input_grad:
            self.backward_params(dout)
            return None
        return self._backward_through(dout)

    def _backward_through(self, dout):
        """Backward through every module down to the input's gradient. A nested Sequential
        is run through too, whatever its own input_grad (it may sit first, where it was
        built with input_grad=False, inside a model whose input gradient is wanted)."""
        for m in reversed(list(self)):
            dout = m._backward_through(dout) if isinstance(m, Sequential) else m.backward(dout)
        return dout

    def backward_params(self, dout):
        """Parameter gradients only. Backward stops at the lowest module that has a
        trainable parameter, which skips its input product: below it nothing needs a
        gradient (the input is data; frozen features, as in transfer learning, cost no
        backward at all)."""
        modules = list(self)
        lowest = next((i for i, m in enumerate(modules)
                       if any(p.requires_grad for p in m.parameters())), None)
        if lowest is None:
            return  # nothing trains
        for m in reversed(modules[lowest + 1:]):
            dout = m.backward(dout)
        modules[lowest].backward_params(dout)


def save(model_or_state, path):
    """Write a module's `state_dict()` (or a state dict itself) to an .npz file.

    Keys are the dotted names ("0.W", "1.running_mean", ...); arrays are stored on the
    host in their own dtype. Returns the path.
    """
    state = model_or_state.state_dict() if isinstance(model_or_state, Module) else model_or_state
    if not isinstance(state, dict):
        raise TypeError(f"save: expected a Module or a state dict, "
                        f"got {type(model_or_state).__name__}")
    path = _npz_path(path)
    np.savez(path, **{name: to_numpy(a) for name, a in state.items()})
    return path


def load(path):
    """Read an .npz file written by `save`: an ordered {name: array} state dict, ready for
    `module.load_state_dict(...)`."""
    with np.load(_npz_path(path), allow_pickle=False) as f:
        return OrderedDict((name, f[name]) for name in f.files)


def _npz_path(path):
    """numpy's savez appends ".npz" to a name without it; load must look for the same."""
    path = os.fspath(path)
    return path if path.endswith(".npz") else path + ".npz"


def as_parameter_list(params, where, allow_empty=True):
    """A list of Parameters from a Module, a single Parameter, or an iterable of them.

    Used by functions that act on gradients or weights (clipping, penalties, EMA); the
    errors name the caller (`where`) and the offending entry.
    """
    if isinstance(params, Module):
        params = params.parameters()
    elif isinstance(params, Parameter):
        params = [params]
    elif not hasattr(params, "__iter__"):
        raise TypeError(f"{where}: params must be a Module or a list of Parameters, "
                        f"got {type(params).__name__}")
    params = list(params)
    for i, p in enumerate(params):
        if not isinstance(p, Parameter):
            raise TypeError(f"{where}: params[{i}] must be a dlcore.nn.Parameter, "
                            f"got {type(p).__name__}")
    if not params and not allow_empty:
        raise ValueError(f"{where}: got an empty parameter list; nothing to regularise")
    return params
