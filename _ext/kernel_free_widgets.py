"""Sphinx extension: sliders that move in the HTML book without a kernel.

For every notebook page, each code cell that calls a widget registered in
`dlcore.viz.frames` (e.g. `viz.loss_widget(delta=1.0)`) gets, right after it, a block of
plain HTML controls (range inputs and selects, the same controls as the live widget) and an
image; a small dependency-free script (`kfw_static/kernel-free-widgets.js`) swaps the image to
the frame precomputed for the chosen values. The chapter notebooks are not edited: the calls
are found in their code, the frames are drawn at build time by `dlcore.viz.frames` with the
book's own plotting code.

Frames are cached in `kfw_cache_dir` (default `_build/.widget_frames` under the book's
folder), one folder per call keyed by a hash of the code that draws them, the grid and the
call's arguments, so a rebuild without changes computes nothing. Missing frames of all pages
are computed before Sphinx reads the pages, in `kfw_jobs` processes (default: every CPU).
The frames a page uses are copied to `_static/widget-frames/` of the HTML output.
"""
from __future__ import annotations

import html
import json
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

OUT_FOLDER = "widget-frames"   # under _static/ of the HTML output
STALE_AFTER_S = 24 * 3600      # unused cache entries older than this are deleted


def _frames():
    from dlcore.viz import frames

    return frames


def _cache_dir(app: Sphinx) -> Path:
    configured = app.config.kfw_cache_dir
    return Path(configured) if configured else Path(app.srcdir) / "_build" / ".widget_frames"


def _calls_in_notebook(path: Path, widgets) -> dict[int, list]:
    """{cell index: [WidgetCall, ...]} for the code cells of a notebook file."""
    frames = _frames()
    nb = json.loads(path.read_text(encoding="utf-8"))
    found = {}
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        try:
            calls = frames.find_widget_calls(source, widgets)
        except ValueError as exc:
            raise ValueError(f"{path.name}, cell {index}: {exc}") from None
        if calls:
            found[index] = calls
    return found


def _compute(job):
    widget, arguments, cache_dir = job
    import matplotlib

    matplotlib.use("Agg")
    return _frames().compute_frames(widget, arguments, cache_dir)


def compute_all(app: Sphinx, env, docnames) -> None:
    """Find widget calls in the notebooks about to be read and make sure their frames exist."""
    frames = _frames()
    widgets = frames.registry()
    cache_dir = _cache_dir(app)
    cache_dir.mkdir(parents=True, exist_ok=True)
    env.kfw_pending = {}
    jobs, where = [], []
    for docname in sorted(docnames):
        path = Path(env.doc2path(docname))
        if path.suffix != ".ipynb" or not path.is_file():
            continue
        try:
            calls = _calls_in_notebook(path, widgets)
        except ValueError as exc:
            logger.warning(f"kernel-free widgets: {exc}", location=docname)
            continue
        for index, cell_calls in calls.items():
            for call in cell_calls:
                jobs.append((call.widget, call.arguments, str(cache_dir)))
                where.append((docname, index))
    if not jobs:
        return
    start = time.perf_counter()
    n_jobs = app.config.kfw_jobs or os.cpu_count() or 1
    # Cached sets are read in this process; only missing ones go to worker processes.
    results = [None] * len(jobs)
    missing = []
    for i, job in enumerate(jobs):
        try:
            results[i] = frames.compute_frames(*job) if _is_cached(job) else None
        except ValueError as exc:
            logger.warning(f"kernel-free widgets: {exc}", location=where[i][0])
            results[i] = False
        if results[i] is None:
            missing.append(i)
    if missing:
        workers = max(1, min(n_jobs, len(missing)))
        if workers == 1:
            done = [_safe(_compute, jobs[i]) for i in missing]
        else:
            with ProcessPoolExecutor(workers) as pool:
                done = list(pool.map(_safe_compute, [jobs[i] for i in missing]))
        for i, result in zip(missing, done):
            if isinstance(result, Exception):
                logger.warning(f"kernel-free widgets: {jobs[i][0]}: {result}",
                               location=where[i][0])
                result = False
            results[i] = result
    for (docname, index), result in zip(where, results):
        if result:
            env.kfw_pending.setdefault(docname, {}).setdefault(index, []).append(result)
    computed = [results[i] for i in missing if results[i]]
    logger.info(f"kernel-free widgets: {len(jobs)} widget call(s), {len(computed)} computed "
                f"({sum(r.seconds for r in computed):.1f} s of drawing, "
                f"{time.perf_counter() - start:.1f} s wall, {n_jobs} job(s))")
    for docname in {d for d, _ in where}:
        sets = [s for ss in env.kfw_pending.get(docname, {}).values() for s in ss]
        total = sum(s.bytes for s in sets)
        if total > frames.MAX_BYTES_PER_PAGE:
            logger.warning(f"kernel-free widgets: the frames of this page take "
                           f"{total / 1e6:.1f} MB, over {frames.MAX_BYTES_PER_PAGE / 1e6:.0f} "
                           f"MB; use smaller grids", location=docname)


def _is_cached(job) -> bool:
    return _frames().plan_frames(*job).cached


def _safe(fn, job):
    try:
        return fn(job)
    except Exception as exc:  # noqa: BLE001  (reported as a warning naming the widget: an error with -W)
        return exc


def _safe_compute(job):
    return _safe(_compute, job)


def _block(frame_set, docname: str) -> str:
    """The HTML of one kernel-free widget: controls, the initial frame, a note."""
    from PIL import Image

    depth = docname.count("/")
    base = "../" * depth + f"_static/{OUT_FOLDER}/{frame_set.key}/"
    controls = frame_set.controls
    strides, stride = [], 1
    for c in reversed(controls):
        strides.insert(0, stride)
        stride *= len(c["values"])
    index = sum(c["initial"] * s for c, s in zip(controls, strides))
    with Image.open(frame_set.directory / frame_set.files[index]) as im:
        width, height = im.size
    data = {"base": base, "files": frame_set.files, "strides": strides, "alt": frame_set.alt,
            "controls": [{"label": c["label"], "values": c["values"]} for c in controls]}
    parts = [f'<div class="kfw" data-kfw="{html.escape(json.dumps(data), quote=True)}">',
             '<div class="kfw-controls">']
    for i, c in enumerate(controls):
        label = html.escape(c["label"])
        if c["kind"] == "select":
            options = "".join(
                f'<option value="{j}"{" selected" if j == c["initial"] else ""}>'
                f'{html.escape(v)}</option>' for j, v in enumerate(c["values"]))
            widget = f'<select data-kfw-control="{i}">{options}</select>'
        else:
            widget = (f'<input type="range" min="0" max="{len(c["values"]) - 1}" step="1" '
                      f'value="{c["initial"]}" data-kfw-control="{i}">'
                      f'<output>{html.escape(c["values"][c["initial"]])}</output>')
        parts.append(f'<label class="kfw-control"><span class="kfw-label">{label}</span>'
                     f'{widget}</label>')
    settings = ", ".join(f'{c["label"]} {c["values"][c["initial"]]}' for c in controls)
    parts.append("</div>")
    parts.append(f'<img class="kfw-frame" src="{base}{frame_set.files[index]}" '
                 f'width="{width}" height="{height}" '
                 f'alt="{html.escape(f"{frame_set.alt} Settings: {settings}.", quote=True)}">')
    n = len(frame_set.files)
    parts.append(f'<p class="kfw-note">Runs without Python: the controls step through {n} '
                 f'frames drawn with dlcore when the book was built. In JupyterLab the live '
                 f'widget above takes any value.</p></div>')
    return "\n".join(parts)


def _cell_source(cell) -> str | None:
    """The code of a rendered notebook cell (None when its input is removed)."""
    for child in cell.findall(nodes.container):
        if child.get("nb_element") == "cell_code_source":
            return child.astext()
    return None


def insert_blocks(app: Sphinx, doctree) -> None:
    """After each rendered cell that calls a registered widget, insert its kernel-free block.

    The calls are read again from the cell as rendered (not by cell number from the file read
    before), so a notebook saved while the book builds still gets its blocks in the right
    place; frames missing from the cache then are drawn here.
    """
    env = app.env
    # Sphinx purges a page's data just before reading it: take what compute_all found now.
    expected = getattr(env, "kfw_pending", {}).pop(env.docname, None) or {}
    if not hasattr(env, "kfw_pages"):
        env.kfw_pages = {}
    env.kfw_pages[env.docname] = placed = {}
    frames = _frames()
    widgets = frames.registry()
    for node in list(doctree.findall(nodes.container)):
        if node.get("nb_element") != "cell_code":
            continue
        source = _cell_source(node)
        if not source:
            continue
        try:
            calls = frames.find_widget_calls(source, widgets)
            sets = [frames.compute_frames(c.widget, c.arguments, _cache_dir(app)) for c in calls]
        except ValueError as exc:
            logger.warning(f"kernel-free widgets: {exc}", location=env.docname)
            continue
        if not sets:
            continue
        raw = nodes.raw("", "\n".join(_block(s, env.docname) for s in sets), format="html")
        node.parent.insert(node.parent.index(node) + 1, raw)
        placed[node.get("cell_index")] = sets
    n_expected = sum(len(v) for v in expected.values())
    n_placed = sum(len(v) for v in placed.values())
    if n_placed < n_expected:
        logger.warning(f"kernel-free widgets: the notebook calls {n_expected} registered "
                       f"widget(s) but only {n_placed} are in rendered cells (remove-input?); "
                       f"the others have no kernel-free controls", location=env.docname)


def purge(app, env, docname):
    getattr(env, "kfw_pages", {}).pop(docname, None)


def merge(app, env, docnames, other):
    if not hasattr(env, "kfw_pages"):
        env.kfw_pages = {}
    env.kfw_pages.update({d: other.kfw_pages[d] for d in docnames
                          if d in getattr(other, "kfw_pages", {})})


def copy_frames(app: Sphinx, exception) -> None:
    """Copy the frames the pages use into the HTML output (only those, and only once)."""
    if exception or app.builder.format != "html":
        return
    out = Path(app.outdir) / "_static" / OUT_FOLDER
    used = {s.key: s.directory for page in getattr(app.env, "kfw_pages", {}).values()
            for sets in page.values() for s in sets}
    for key, directory in used.items():
        target = out / key
        if target.is_dir():
            continue
        if not directory.is_dir():
            logger.warning(f"kernel-free widgets: frames {key} vanished from the cache; "
                           f"rebuild with -E")
            continue
        shutil.copytree(directory, target, ignore=shutil.ignore_patterns("*.json"))
    # Frames no page uses any more (drawn by code that has changed since) go from the cache,
    # once they are a day old: another build running at the same time may still use them.
    cache = _cache_dir(app)
    if used and cache.is_dir():
        for stale in cache.iterdir():
            if (stale.is_dir() and stale.name not in used
                    and time.time() - stale.stat().st_mtime > STALE_AFTER_S):
                shutil.rmtree(stale, ignore_errors=True)


def add_static(app: Sphinx, config) -> None:
    static = str(Path(__file__).with_name("kfw_static"))
    if static not in config.html_static_path:
        config.html_static_path.append(static)


def setup(app: Sphinx):
    app.add_config_value("kfw_cache_dir", "", "env")
    app.add_config_value("kfw_jobs", 0, "")
    app.connect("config-inited", add_static)
    app.connect("env-before-read-docs", compute_all)
    app.connect("doctree-read", insert_blocks)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("build-finished", copy_frames)
    app.add_js_file("kernel-free-widgets.js", loading_method="defer")
    app.add_css_file("kernel-free-widgets.css")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True,
            "env_version": 1}
