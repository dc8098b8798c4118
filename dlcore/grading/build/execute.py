"""Execute notebooks in place and store their outputs (`make notebooks`).

    python -m dlcore.grading.build.execute chapters solutions [path/to/one.ipynb ...]

Each notebook runs top to bottom in a fresh python3 kernel whose working folder is
the notebook's own, with at most 120 s per cell. Outputs are stored; widget state and
nbclient's per-cell timestamps are not, so re-running a seeded notebook changes
nothing in git. Without widget state, JupyterLab shows a stored widget output as its
text form (normally the repr "VBox(children=(...") until the cell runs: that text is
replaced by WIDGET_TEXT, which says what to do. Prints each notebook's wall time; exits 1 if any notebook failed
(a failing notebook is left as it was).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from traitlets.config import Config

__all__ = ["WIDGET_TEXT", "execute_notebook", "find_notebooks", "kernel_environment",
           "label_widget_outputs", "main"]

CELL_TIMEOUT = 120
# One BLAS thread per kernel unless the caller chose otherwise (as `make` does): kernels
# run side by side with other work, and oversubscribed BLAS pools slow them down 10-50x.
BLAS_THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_TEXT = ("Live widget: run this cell (Shift+Enter) to get its controls; they re-run "
               "the experiment in your kernel.")


def find_notebooks(paths):
    """The .ipynb files named or found (sorted) under the given folders."""
    found = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(sorted(q for q in p.glob("*.ipynb")))
        elif p.suffix == ".ipynb" and p.exists():
            found.append(p)
        else:
            raise FileNotFoundError(f"no notebook or folder at {p}")
    return found


def execute_notebook(path, timeout=CELL_TIMEOUT, kernel_name="python3"):
    """Run the notebook at `path` and return it with outputs (the file is not written)."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    # A client that waits for messages in one-second slices (see _kernel.py: a missed
    # wake-up otherwise stalls a cell for its whole timeout).
    config = Config({"KernelManager": {
        "client_class": "dlcore.grading.build._kernel.SlicedKernelClient"}})
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name,
                            resources={"metadata": {"path": str(path.parent.resolve())}},
                            record_timing=False, config=config)
    client.execute(env=kernel_environment())
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    return label_widget_outputs(nb)


def label_widget_outputs(nb):
    """Give every stored widget output the text WIDGET_TEXT (in place; returns nb)."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW in data:
                data["text/plain"] = WIDGET_TEXT
    return nb


def kernel_environment(environ=None):
    """The environment a kernel starts with: this process's, plus one BLAS thread for each
    of OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS that is not set."""
    environ = os.environ if environ is None else environ
    return {**BLAS_THREADS, **environ}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m dlcore.grading.build.execute",
                                     description="Execute notebooks in place, storing outputs.")
    parser.add_argument("paths", nargs="+", help="notebooks or folders of notebooks")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    args = parser.parse_args(argv)
    failed = []
    for path in find_notebooks(args.paths):
        start = time.perf_counter()
        try:
            nb = execute_notebook(path, timeout=args.timeout)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            failed.append(path)
            first = str(exc).strip().splitlines()
            print(f"FAILED {path}: {first[-1] if first else exc}", file=sys.stderr)
            continue
        nbformat.write(nb, path)
        print(f"{path}: {time.perf_counter() - start:.1f} s")
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(map(str, failed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
