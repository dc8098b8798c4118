"""Precomputed frames of the book's widgets: the sliders of the HTML book move without a kernel.

A live widget (`loss_widget`, `bn_widget`, ...) needs a Python kernel. For the static HTML
book each widget is *registered* here with

- its controls, each a small grid of values (a few to a dozen per control), and
- a renderer factory: called once with the widget call's other arguments, it returns a
  function `render(**control_values)` that draws one frame with the book's own plotting
  code and returns a matplotlib Figure (or PNG bytes, for the blitting panels).

At build time the Sphinx extension `_ext/kernel_free_widgets.py` finds each notebook cell
that calls a registered widget, asks `compute_frames` for the frames of that call (the
cartesian product of the grids, written as palette PNGs into a cache folder keyed by a hash
of the code that draws them, the grid and the call), and puts after the cell a
dependency-free block of range inputs and selects that swaps the precomputed images.

Registering a new widget (see docs/book.md)::

    @register_frames("conv_widget", alt="...",
                     controls=[Control("kernel", (1, 3, 5), "kernel size"),
                               Control("mode", ("same", "valid"), kind="select")])
    def _conv_frames(**fixed):          # the widget call's non-control keyword arguments
        def render(kernel, mode):
            return plot_conv(kernel, mode, **fixed)   # a Figure
        return render

Nothing in the core library imports this module; it needs matplotlib and Pillow.
"""
from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import io
import itertools
import json
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "MAX_BYTES_PER_PAGE",
    "Control",
    "FrameSet",
    "FrameSpec",
    "compute_frames",
    "find_widget_calls",
    "plan_frames",
    "register_frames",
    "registry",
]

# What one page may carry in frames (all its widgets together), in bytes.
MAX_BYTES_PER_PAGE = 3_000_000
# Bump when the way frames are drawn or encoded changes: it invalidates every cache entry.
FORMAT_VERSION = 3
DPI = 90
PALETTE_COLOURS = 96

_PACKAGE_DIR = Path(__file__).resolve().parents[1]   # dlcore/


@dataclass(frozen=True)
class Control:
    """One control of a kernel-free widget.

    name: the keyword argument of the widget function it sets. values: the grid (numbers in
    increasing order for a slider). label: the text beside the control (default: name).
    kind: "range" (a slider stepping through `values`) or "select" (a drop-down menu).
    fmt: how a value is printed beside its slider, a str.format pattern.
    default: the first value shown when the widget call does not set this control (for a
    control that is not an argument of the widget function); None: the first value.
    """

    name: str
    values: tuple
    label: str = ""
    kind: str = "range"
    fmt: str = "{:g}"
    default: object = None

    def __post_init__(self):
        if self.kind not in ("range", "select"):
            raise ValueError(f"Control {self.name!r}: kind must be 'range' or 'select', "
                             f"got {self.kind!r}")
        if not self.values:
            raise ValueError(f"Control {self.name!r}: give at least one value")
        object.__setattr__(self, "values", tuple(self.values))

    def text(self, value) -> str:
        return value if isinstance(value, str) else self.fmt.format(value)


@dataclass(frozen=True)
class FrameSpec:
    """A registered widget: its controls and the factory of its renderer."""

    widget: str
    controls: tuple
    factory: Callable
    alt: str = ""
    module: str = ""

    def widget_function(self):
        """The live widget function with this name: in dlcore.viz or one of its modules."""
        import dlcore.viz

        if hasattr(dlcore.viz, self.widget):
            return getattr(dlcore.viz, self.widget)
        for module in _viz_modules():
            if hasattr(module, self.widget):
                return getattr(module, self.widget)
        raise ValueError(f"register_frames: no widget function {self.widget!r} in dlcore.viz")


_REGISTRY: dict[str, FrameSpec] = {}


def register_frames(widget: str, controls, alt: str = ""):
    """Decorator: register `factory(**fixed) -> render(**controls)` as the frames of `widget`.

    widget: the name of the live widget function in dlcore.viz (what notebook cells call).
    controls: a list of `Control`. alt: a sentence saying what a frame shows (alt text).
    """
    controls = tuple(controls)
    names = [c.name for c in controls]
    if len(set(names)) != len(names):
        raise ValueError(f"register_frames({widget!r}): two controls share a name: {names}")

    def decorate(factory):
        if widget in _REGISTRY and _REGISTRY[widget].factory is not factory:
            raise ValueError(f"register_frames: {widget!r} is registered twice")
        _REGISTRY[widget] = FrameSpec(widget, controls, factory, alt, factory.__module__)
        return factory

    return decorate


def _viz_modules():
    """Every module of dlcore.viz, imported (a module may register its own widgets)."""
    import pkgutil

    import dlcore.viz

    return [importlib.import_module(f"dlcore.viz.{info.name}")
            for info in pkgutil.iter_modules(dlcore.viz.__path__)]


def registry() -> dict[str, FrameSpec]:
    """Every registered widget, by the name of its widget function: the registrations of
    `frame_specs` and of any dlcore.viz module that registers its own."""
    _viz_modules()
    return dict(_REGISTRY)


# -- finding widget calls in notebook code ---------------------------------------------------
@dataclass
class WidgetCall:
    """A call of a registered widget found in a code cell: the function name, its bound
    arguments as literals, and where it starts (line numbers are 1-based)."""

    widget: str
    arguments: dict
    lineno: int


def find_widget_calls(source: str, widgets) -> list[WidgetCall]:
    """Calls `name(...)` or `anything.name(...)` of the given widget names in `source`.

    Arguments must be literals (numbers, strings, tuples, ...): the frames are computed at
    build time without running the notebook. A non-literal argument raises ValueError that
    names it. Cells that do not parse as Python (magics) give no calls.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name not in widgets:
            continue
        try:
            args = [ast.literal_eval(a) for a in node.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
        except ValueError as exc:
            raise ValueError(f"{name}(...) at line {node.lineno}: kernel-free frames need "
                             f"literal arguments ({exc})") from None
        calls.append(WidgetCall(name, {"args": args, "kwargs": kwargs}, node.lineno))
    return sorted(calls, key=lambda c: c.lineno)


# -- computing frames ------------------------------------------------------------------------
@dataclass
class FrameSet:
    """The frames of one widget call: controls with their grid and initial index, the frame
    file names in row-major order over the controls, and where they are."""

    widget: str
    key: str
    directory: Path
    controls: list          # [{"name", "label", "kind", "values" (texts), "initial"}]
    files: list
    alt: str
    seconds: float = 0.0     # time spent computing (0 when the cache had them)
    bytes: int = 0
    cached: bool = False
    extra: dict = field(default_factory=dict)


def _bind(spec: FrameSpec, arguments: dict):
    """Split a call's arguments into initial control values and fixed renderer arguments."""
    sig = inspect.signature(spec.widget_function())
    bound = sig.bind(*arguments.get("args", ()), **arguments.get("kwargs", {}))
    bound.apply_defaults()
    values = dict(bound.arguments)
    control_names = {c.name for c in spec.controls}
    initial = {name: values.pop(name) for name in list(values) if name in control_names}
    factory_params = inspect.signature(spec.factory).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in factory_params.values())
    defaults = {name: p.default for name, p in sig.parameters.items()}
    fixed = {}
    for name, value in values.items():
        if takes_any or name in factory_params:
            fixed[name] = value
        elif value != defaults.get(name):
            raise ValueError(f"{spec.widget}: the call sets {name}={value!r}, which its "
                             f"kernel-free frames cannot show (register it as a control or "
                             f"accept it in the renderer factory)")
    return initial, fixed


def _grid(spec: FrameSpec, initial: dict):
    """Each control's values with the call's initial value inserted (so the first frame a
    reader sees is the live widget's first view), and its index."""
    grid = []
    for c in spec.controls:
        values = list(c.values)
        start = initial.get(c.name, values[0] if c.default is None else c.default)
        if start not in values:
            if c.kind == "select" or isinstance(start, str):
                raise ValueError(f"{spec.widget}: {c.name}={start!r} is not one of {values}")
            values = sorted(values + [start])
        grid.append((c, values, values.index(start)))
    return grid


def _module_file(name: str) -> Path | None:
    rel = name.split(".")[1:]
    base = _PACKAGE_DIR.joinpath(*rel)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports_within_dlcore(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if not target.startswith("dlcore"):
                continue
            found.add(target)
            for alias in node.names:   # `from .. import optim` names modules
                found.add(f"{target}.{alias.name}")
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("dlcore"))
    return found


def code_files(module: str) -> list[Path]:
    """The source files of `module` and of every dlcore module it imports, transitively (the
    top-level dlcore/__init__.py excluded: it imports everything and draws nothing)."""
    seen, todo, files = set(), [module], []
    while todo:
        name = todo.pop()
        if name in seen or name == "dlcore":
            continue
        seen.add(name)
        path = _module_file(name)
        if path is None:
            continue
        files.append(path)
        todo.extend(_imports_within_dlcore(name, path))
    return sorted(set(files))


def _key(spec: FrameSpec, grid, fixed) -> str:
    import matplotlib

    h = hashlib.sha256()
    payload = {
        "format": FORMAT_VERSION,
        "dpi": DPI,
        "colours": PALETTE_COLOURS,
        "matplotlib": matplotlib.__version__,
        "widget": spec.widget,
        "grid": [[c.name, [repr(v) for v in values]] for c, values, _ in grid],
        "fixed": {k: repr(v) for k, v in sorted(fixed.items())},
    }
    h.update(json.dumps(payload, sort_keys=True).encode())
    for path in code_files(spec.module) + code_files(__name__):
        h.update(str(path.relative_to(_PACKAGE_DIR)).encode())
        h.update(path.read_bytes())
    return f"{spec.widget}-{h.hexdigest()[:16]}"


def _encode(frame) -> bytes:
    """A Figure (closed afterwards) or PNG bytes -> a palette PNG, a third of the RGB size.

    A Figure is rendered by Agg straight into a pixel buffer (no intermediate PNG)."""
    from PIL import Image

    if isinstance(frame, (bytes, bytearray)):
        image = Image.open(io.BytesIO(frame)).convert("RGB")
    else:
        import matplotlib.pyplot as plt
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        figure = frame if hasattr(frame, "savefig") else frame[0].figure
        figure.set_dpi(DPI)
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(),
                                 "raw", "RGBA", 0, 1).convert("RGB")
        plt.close(figure)
    image = image.quantize(PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE,
                           dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="png", optimize=True)
    return out.getvalue()


def plan_frames(widget: str, arguments: dict, cache_dir) -> FrameSet:
    """What `compute_frames` would give, without drawing: the key, the grid, the file names,
    and `cached` (True when `cache_dir/<key>/` holds the frames of a previous build).

    arguments: the widget call's {"args": [...], "kwargs": {...}} (see find_widget_calls).
    """
    spec = registry()[widget]
    initial, fixed = _bind(spec, arguments)
    grid = _grid(spec, initial)
    key = _key(spec, grid, fixed)
    directory = Path(cache_dir) / key
    n = math.prod(len(values) for _, values, _ in grid)
    files = [f"{i:03d}.png" for i in range(n)]
    controls = [{"name": c.name, "label": c.label or c.name, "kind": c.kind,
                 "values": [c.text(v) for v in values], "initial": start}
                for c, values, start in grid]
    frame_set = FrameSet(widget, key, directory, controls, files, spec.alt)
    frame_set.extra = {"grid": grid, "fixed": fixed, "spec": spec}
    frame_set.cached = (directory / "frames.json").is_file()
    return frame_set


def compute_frames(widget: str, arguments: dict, cache_dir) -> FrameSet:
    """The frames of one call of `widget` (arguments: {"args": [...], "kwargs": {...}}).

    Reads them from `cache_dir/<key>/` when a previous build made them; otherwise draws
    every combination of the control grids with the registered renderer (row-major: the
    last control varies fastest) and writes them there (into a temporary folder renamed at
    the end, so an interrupted build leaves no half set). Raises ValueError when the frames
    exceed MAX_BYTES_PER_PAGE.
    """
    frame_set = plan_frames(widget, arguments, cache_dir)
    grid, fixed, spec = (frame_set.extra.pop(k) for k in ("grid", "fixed", "spec"))
    directory, files, key = frame_set.directory, frame_set.files, frame_set.key
    if not frame_set.cached:
        import matplotlib

        matplotlib.use("Agg")
        start_time, start_cpu = time.perf_counter(), time.process_time()
        tmp = directory.with_name(f".{key}.{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        render = spec.factory(**fixed)
        for i, combo in enumerate(itertools.product(*(values for _, values, _ in grid))):
            settings = {c.name: v for (c, _, _), v in zip(grid, combo)}
            (tmp / files[i]).write_bytes(_encode(render(**settings)))
        frame_set.seconds = time.perf_counter() - start_time
        (tmp / "frames.json").write_text(json.dumps(
            {"widget": widget, "controls": frame_set.controls, "files": files,
             "seconds": round(frame_set.seconds, 2),
             "cpu_seconds": round(time.process_time() - start_cpu, 2)}, indent=1),
            encoding="utf-8")
        shutil.rmtree(directory, ignore_errors=True)
        tmp.rename(directory)
    frame_set.bytes = sum((directory / f).stat().st_size for f in files)
    if frame_set.bytes > MAX_BYTES_PER_PAGE:
        raise ValueError(f"{widget}: {len(files)} frames take {frame_set.bytes / 1e6:.2f} MB, "
                         f"over the {MAX_BYTES_PER_PAGE / 1e6:g} MB a page may carry; use a "
                         f"smaller grid")
    return frame_set
