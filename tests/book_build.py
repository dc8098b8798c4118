"""One build of the HTML book per test run, shared by test_book_offline and test_browser.

`built_book()` builds with notebook execution OFF (the stored outputs are rendered; `pytest
--nbval` already re-executes the notebooks and compares them with those outputs) and warnings
as errors, into `_build/test-book/run-<pid>/`, and returns the html folder. The first caller in a
process builds; later callers get the same folder (under pytest-xdist each worker process
that runs a book test would build its own copy).

BOOK_TEST_HTML=/path/to/html reuses a book built before instead (to iterate on the browser
test without rebuilding); the tests then check that folder as it is.

The kernel-free widget frames are cached in `_build/.widget_frames/` (see
`_ext/kernel_free_widgets.py`), so only the first build on a machine draws them.
"""
from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# One folder per test process: two test runs at once (several people in one checkout) must
# not delete each other's build. Removed when the process ends (BOOK_TEST_KEEP=1 keeps it).
OUT = ROOT / "_build" / "test-book" / f"run-{os.getpid()}"
BUILD_TIMEOUT_S = 900
SECONDS = {}   # "build": wall seconds of the build, for the reports of the tests


def toc_files() -> list[str]:
    """Every `file:` entry (and the root) of the jb-book _toc.yml, in order."""
    def walk(node):
        found = []
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    found.append(str(node[key]))
            for value in node.values():
                if isinstance(value, (list, dict)):
                    found += walk(value)
        elif isinstance(node, list):
            for item in node:
                found += walk(item)
        return found

    return walk(yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8")))


def _jupyter_book_command() -> list[str]:
    script = Path(sys.executable).with_name("jupyter-book")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c",
            "import sys; from jupyter_book.cli.main import main; sys.exit(main())"]


def _test_config() -> dict:
    """_config.yml with execution off; local extension paths made absolute (jupyter-book
    resolves them against the folder of the config file, here a copy elsewhere)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    local = config.get("sphinx", {}).get("local_extensions") or {}
    for name, path in local.items():
        local[name] = str((ROOT / path).resolve())
    return config


_FAILED: list[str] = []   # the failure message of this process's build, if it failed


def built_book() -> Path:
    """Build the book once (execution off, warnings as errors) and return its html folder.

    Raises AssertionError with the end of the build's output when the build fails; later
    calls raise the same message at once instead of building again.
    """
    if _FAILED:
        raise AssertionError(_FAILED[0])
    try:
        return _build_once()
    except AssertionError as exc:
        _FAILED.append(str(exc))
        raise


@functools.cache
def _build_once() -> Path:
    if os.environ.get("BOOK_TEST_HTML"):
        html = Path(os.environ["BOOK_TEST_HTML"]).resolve()
        assert (html / "index.html").is_file(), f"BOOK_TEST_HTML={html} holds no built book"
        return html
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    if not os.environ.get("BOOK_TEST_KEEP"):
        atexit.register(shutil.rmtree, OUT, ignore_errors=True)
    config_path = OUT / "_config.yml"
    config_path.write_text(yaml.safe_dump(_test_config(), sort_keys=False), encoding="utf-8")
    cmd = _jupyter_book_command() + [
        "build", str(ROOT), "--path-output", str(OUT), "--config", str(config_path),
        "--warningiserror", "--nitpick", "--keep-going",
    ]
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    start = time.perf_counter()
    proc = subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT_S, env=env)
    SECONDS["build"] = time.perf_counter() - start
    output = proc.stdout + "\n" + proc.stderr
    (OUT / "build.log").write_text(output, encoding="utf-8")
    warnings = [line for line in output.splitlines() if "WARNING" in line or "ERROR" in line]
    assert proc.returncode == 0, (
        f"jupyter-book build failed (exit {proc.returncode}, {SECONDS['build']:.0f} s): "
        f"{' '.join(cmd)}\n--- warnings and errors ---\n" + "\n".join(warnings[:40])
        + f"\n--- last lines of its output (all of it in {OUT / 'build.log'}) ---\n"
        + output[-3000:])
    html = OUT / "_build" / "html"
    assert html.is_dir(), f"the build exited 0 but wrote no {html}"
    return html


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def widget_calls(doc: str) -> list:
    """The registered widget calls of a notebook page (what should get kernel-free frames).

    Raises AssertionError naming the cell when a code cell shows a live widget (a stored
    widget-view output) without calling any registered widget: that widget would be dead in
    the web book (register its frames: docs/book.md).
    """
    import json

    from dlcore.viz import frames

    nb = json.loads((ROOT / f"{doc}.ipynb").read_text(encoding="utf-8"))
    names = frames.registry()
    calls = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = cell["source"]
        source = "".join(source) if isinstance(source, list) else source
        found = frames.find_widget_calls(source, names)
        shows_widget = any(WIDGET_VIEW in out.get("data", {}) for out in cell.get("outputs", []))
        assert found or not shows_widget, (
            f"{doc}, cell {index}: shows a live widget but calls no widget registered in "
            f"dlcore.viz.frames, so the web book has no kernel-free control for it:\n{source[:200]}")
        calls += found
    return calls

