"""The one channel between the grader and a sandboxed notebook: frames of plain data.

A frame is `MAGIC`, an 8-byte little-endian length, then that many bytes: a 4-byte length,
a JSON text and a blob of raw array bytes. A value travels as a JSON tree in which arrays
are `{"array": [dtype, shape, offset, nbytes]}` slices of the blob, integers are decimal
strings, floats are `repr` strings (nan and inf included), a `numpy.random.Generator` is
its bit generator's state, and a case argument that is a function travels as its source
text with what it needs (other module-level functions, modules by name, plain constants),
rebuilt only inside the sandbox. Anything else a notebook returns (an object, an
object array, a huge array) is written as an `Opaque` placeholder naming its type, which
the comparison reports as the wrong type.

Reading is where a hostile notebook meets the grader, so `read_frame` and `parse_frame`
hold hard limits, checked before anything is built: the frame's size (`Limits.frame_bytes`;
it bounds memory, since nothing is ever decompressed), the JSON's size, its nesting depth,
the digits of any integer, the dtype, shape and bytes of every array. Whatever breaks one
raises `ChannelError` with a sentence; it never raises anything else.

This file runs on both sides: the grader imports it, and the sandbox gets a read-only copy
(it needs only the standard library and numpy).
"""
import json
import math
import os
import select
import struct
import time
import types
from dataclasses import dataclass

import numpy as np

__all__ = ["ChannelError", "Limits", "Opaque", "decode", "encode", "pack", "parse_frame",
           "read_frame", "write_bytes", "write_frame"]

MAGIC = b"DLG1"
HEADER = struct.Struct("<4sQ")
JSON_LENGTH = struct.Struct("<I")
ARRAY_KINDS = "biufc"          # dtypes that carry no Python objects
MAX_ARRAY_BYTES = 32 * 2**20    # a larger output is sent as Opaque: nobody asks for these


class ChannelError(ValueError):
    """A frame broke a limit or is not what the protocol writes."""


@dataclass(frozen=True)
class Limits:
    """Hard limits on what the grader reads from a sandbox."""

    frame_bytes: int = 48 * 2**20   # the whole frame: JSON plus raw arrays
    json_bytes: int = 2 * 2**20     # the JSON part
    depth: int = 24                 # nesting of lists, tuples and dicts in a value
    int_digits: int = 40            # digits of any integer
    ndim: int = 8                   # dimensions of an array
    nodes: int = 200_000            # JSON values in one frame


class Opaque:
    """Stands for a value that cannot travel as plain data; type_name names what it was."""

    def __init__(self, type_name, why=""):
        self.type_name, self.why = str(type_name)[:80], str(why)[:200]

    def __repr__(self):
        return f"<{self.type_name}{': ' + self.why if self.why else ''}>"


def _opaque_class(type_name):
    # check's messages say "got a <type>": name the placeholder's class after the original
    safe = "".join(ch for ch in type_name if ch.isalnum() or ch == "_")[:80] or "object"
    return type(safe, (Opaque,), {})


# ---------------------------------------------------------------- writing (both sides)

def encode(value, blob, allow_functions=False):
    """JSON-able tree for `value`; array bytes are appended to the bytearray `blob`."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (np.generic, np.ndarray)):  # first: np.float64 is a float too
        arr = np.asarray(value)
        if type(value) is not np.ndarray and not isinstance(value, np.generic):
            arr = np.array(arr)  # a subclass: keep only the numbers
        if arr.dtype.kind not in ARRAY_KINDS:
            return {"opaque": "ndarray", "why": f"dtype {arr.dtype} holds Python objects"}
        if arr.nbytes > MAX_ARRAY_BYTES:
            return {"opaque": "ndarray", "why": f"{arr.nbytes} bytes is too large to grade"}
        if not arr.flags.c_contiguous:
            arr = arr.copy(order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
        offset = len(blob)
        blob += arr.tobytes()
        return {"array": [arr.dtype.str, list(arr.shape), offset, arr.nbytes],
                "scalar": isinstance(value, np.generic)}
    if isinstance(value, int):
        return {"int": int.__repr__(value)}
    if isinstance(value, float):
        return {"float": float.__repr__(value)}
    if isinstance(value, (tuple, list)):
        items = [encode(v, blob, allow_functions) for v in value]
        return {"tuple" if isinstance(value, tuple) else "list": items}
    if isinstance(value, dict):
        pairs = []
        for k, v in value.items():
            key = k if isinstance(k, (str, int, float, bool)) or k is None else repr(k)
            pairs.append([encode(key, blob), encode(v, blob, allow_functions)])
        return {"dict": pairs}
    if isinstance(value, np.random.Generator):
        bitgen = value.bit_generator
        return {"generator": type(bitgen).__name__, "state": encode(bitgen.state, blob)}
    if allow_functions and isinstance(value, types.FunctionType):
        return _encode_function(value, blob)
    return {"opaque": type(value).__name__}


def _encode_function(fn, blob):
    """A module-level case function as its source and what that source needs: the
    module-level functions it calls (their source too, recursively), the modules it uses
    (by name) and plain constants. Only the grader sends functions."""
    import inspect

    sources, modules, constants, todo, seen = [], {}, {}, [fn], set()
    while todo:
        f = todo.pop()
        if f.__name__ in seen:
            continue
        seen.add(f.__name__)
        if f.__closure__ or f.__name__ == "<lambda>":
            raise ValueError(f"case function {f.__qualname__} must be a module-level def")
        sources.append(inspect.getsource(f))
        codes, names = [f.__code__], set()
        while codes:
            code = codes.pop()
            names.update(code.co_names)
            codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
        for name in sorted(names):
            obj = f.__globals__.get(name)
            if isinstance(obj, types.ModuleType):
                if obj.__name__.startswith("dlcore.grading"):
                    raise ValueError(f"case function {f.__qualname__} uses {obj.__name__}, "
                                     "which the sandbox does not have")
                modules[name] = obj.__name__
            elif isinstance(obj, types.FunctionType) and obj.__module__ == fn.__module__:
                todo.append(obj)
            elif isinstance(obj, (bool, int, float, str)):
                constants[name] = obj
    return {"function": fn.__name__, "sources": sources, "modules": modules,
            "constants": encode(constants, blob)}


def pack(message, blob=b""):
    """The bytes of one frame holding the JSON-able `message` and the raw `blob`."""
    text = json.dumps(message, separators=(",", ":")).encode("utf-8")
    body = JSON_LENGTH.pack(len(text)) + text + bytes(blob)
    return HEADER.pack(MAGIC, len(body)) + body


def write_frame(fd, message, blob=b""):
    """Write one whole frame to the file descriptor `fd`."""
    write_bytes(fd, pack(message, blob))


def write_bytes(fd, data):
    """Write all of `data` (a packed frame) to the file descriptor `fd`."""
    data = memoryview(data)
    while data:
        data = data[os.write(fd, data):]


# ---------------------------------------------------------------- reading (the grader's side)

def _read_exact(fd, n, deadline):
    chunks, left = [], n
    while left:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        ready, _, _ = select.select([fd], [], [], min(remaining, 0.5))
        if not ready:
            continue
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(fd, deadline, limits=Limits()):
    """The next frame's body from `fd`, waiting until `deadline` (time.monotonic()).

    Raises TimeoutError, EOFError (the other side closed), or ChannelError when the header
    is not ours or announces more than limits.frame_bytes (nothing of it is read then).
    """
    magic, size = HEADER.unpack(_read_exact(fd, HEADER.size, deadline))
    if magic != MAGIC:
        raise ChannelError("the sandbox wrote something that is not a grader frame")
    if size > limits.frame_bytes:
        raise ChannelError(f"a frame of {size} bytes is over the {limits.frame_bytes} byte limit")
    return _read_exact(fd, size, deadline)


def _bounded_int(text, limits):
    digits = text[1:] if text[:1] in ("+", "-") else text
    if len(digits) > limits.int_digits:
        raise ChannelError(f"an integer of {len(digits)} digits is over the limit of "
                           f"{limits.int_digits}")
    if not (digits.isascii() and digits.isdigit()):  # not '--5', not '²' (int() refuses both)
        raise ChannelError("a malformed integer")
    return int(text)


def parse_frame(body, limits=Limits()):
    """(message, blob) of a frame body, the JSON checked against `limits`."""
    if len(body) < JSON_LENGTH.size:
        raise ChannelError("a frame too short to hold its JSON")
    (n,) = JSON_LENGTH.unpack_from(body)
    if n > limits.json_bytes or JSON_LENGTH.size + n > len(body):
        raise ChannelError(f"a frame announces {n} bytes of JSON (limit {limits.json_bytes})")
    text = body[JSON_LENGTH.size:JSON_LENGTH.size + n]
    try:
        message = json.loads(text.decode("utf-8"),
                             parse_int=lambda s: _bounded_int(s, limits),
                             parse_constant=lambda s: float(s))
    except ChannelError:
        raise
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise ChannelError(f"a frame's JSON cannot be read ({type(exc).__name__})") from None
    _check_shape(message, limits)
    return message, memoryview(body)[JSON_LENGTH.size + n:]


def _check_shape(tree, limits):
    """Depth and node count of a parsed JSON tree, without recursion."""
    stack, nodes = [(tree, 0)], 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > limits.nodes:
            raise ChannelError(f"a frame holds more than {limits.nodes} values")
        if isinstance(node, (list, dict)):
            if depth >= 2 * limits.depth + 8:  # a value's level costs two JSON levels
                raise ChannelError(f"a value nested deeper than {limits.depth} levels")
            children = node.values() if isinstance(node, dict) else node
            stack.extend((c, depth + 1) for c in children)


def _array(spec, blob, limits):
    if not (isinstance(spec, list) and len(spec) == 4):
        raise ChannelError("a malformed array entry")
    dtype_str, shape, offset, nbytes = spec
    try:
        dtype = np.dtype(dtype_str) if isinstance(dtype_str, str) and len(dtype_str) < 8 else None
    except Exception:  # noqa: BLE001  (numpy raises TypeError, and SyntaxError for '(2,')
        dtype = None
    if dtype is None or dtype.kind not in ARRAY_KINDS or dtype.fields is not None:
        raise ChannelError(f"an array of a dtype the grader does not take ({str(dtype_str)[:20]})")
    if (not isinstance(shape, list) or len(shape) > limits.ndim
            or not all(isinstance(d, int) and 0 <= d < 2**40 for d in shape)):
        raise ChannelError("an array with a malformed shape")
    if not all(isinstance(v, int) and v >= 0 for v in (offset, nbytes)):
        raise ChannelError("an array with a malformed offset or size")
    if math.prod(shape) * dtype.itemsize != nbytes or offset + nbytes > len(blob):
        raise ChannelError("an array whose shape does not match its bytes")
    flat = np.frombuffer(blob, dtype=dtype, count=math.prod(shape), offset=offset)
    return flat.reshape(shape).copy()  # writable, and no longer tied to the frame


def decode(tree, blob, limits=Limits(), allow_functions=False, depth=0):
    """The value `encode` wrote. Functions are rebuilt from their source only when
    allow_functions (inside the sandbox); the grader never runs what a sandbox names.
    Raises ChannelError for anything `encode` does not write."""
    if depth > limits.depth:
        raise ChannelError(f"a value nested deeper than {limits.depth} levels")
    if tree is None or isinstance(tree, (bool, str)):
        return tree
    if not isinstance(tree, dict) or not tree:
        raise ChannelError("a value the protocol does not write")
    kind = next(iter(tree))
    body = tree[kind]
    sub = depth + 1
    if kind == "int" and isinstance(body, str):
        return _bounded_int(body, limits)
    if kind == "float" and isinstance(body, str) and len(body) < 40:
        try:
            return float(body)
        except ValueError:
            raise ChannelError("a malformed float") from None
    if kind == "array":
        arr = _array(body, blob, limits)
        return arr[()] if tree.get("scalar") is True else arr
    if kind in ("tuple", "list") and isinstance(body, list):
        items = [decode(v, blob, limits, allow_functions, sub) for v in body]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict" and isinstance(body, list):
        out = {}
        for pair in body:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ChannelError("a malformed dict entry")
            key = decode(pair[0], blob, limits, False, sub)
            if not isinstance(key, (str, int, float, bool, type(None))):
                raise ChannelError("a dict key that is not a plain value")
            out[key] = decode(pair[1], blob, limits, allow_functions, sub)
        return out
    if kind == "generator" and isinstance(body, str):
        if not allow_functions:
            return _opaque_class("Generator")("Generator")
        bitgen = getattr(np.random, body)()
        bitgen.state = decode(tree["state"], blob, limits, False, sub)
        return np.random.Generator(bitgen)
    if kind == "function" and isinstance(body, str):
        if not allow_functions:
            return _opaque_class("function")("function")
        import importlib  # only the sandbox rebuilds what the grader sent

        namespace = {name: importlib.import_module(module)
                     for name, module in tree["modules"].items()}
        namespace.update(decode(tree["constants"], blob, limits, False, sub))
        for source in tree["sources"]:
            exec(compile(source, f"<case argument {body}>", "exec"), namespace)  # noqa: S102
        return namespace[body]
    if kind == "opaque" and isinstance(body, str):
        return _opaque_class(body)(body, str(tree.get("why", ""))[:200])
    raise ChannelError("a value the protocol does not write")
