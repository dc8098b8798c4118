"""The wall time of every notebook of the book, executed top to bottom with nbclient.

Runs each notebook of chapters/ and solutions/ in a fresh kernel, one at a time, with one
BLAS thread (as `make test` runs them), without writing anything back, and prints the
times sorted, slowest first, with their sum. The budget is 60 s per notebook (the aim:
20 s for a chapter, 10 s for a solutions notebook).

    python benchmarks/notebook_times.py [NOTEBOOK_OR_FOLDER ...] [--json out.json]
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT_S = 60.0


def notebooks(paths):
    found = []
    for p in paths:
        p = Path(p)
        found += sorted(p.glob("*.ipynb")) if p.is_dir() else [p]
    return [p for p in found if ".ipynb_checkpoints" not in p.parts]


def execute(path):
    """Seconds to run the notebook in a fresh kernel (nothing is written back)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    client.execute()
    return time.perf_counter() - t0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("paths", nargs="*", default=[ROOT / "chapters", ROOT / "solutions"])
    p.add_argument("--json", metavar="PATH", help="also write {notebook: seconds} to PATH")
    args = p.parse_args(argv)
    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    times, failed = {}, {}
    for nb in notebooks(args.paths):
        name = str(nb.resolve().relative_to(ROOT)) if nb.resolve().is_relative_to(ROOT) else str(nb)
        try:
            times[name] = execute(nb)
        except Exception as exc:  # noqa: BLE001 (report it and time the others)
            failed[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    print(f"\nnotebooks executed with nbclient, one at a time, 1 BLAS thread "
          f"({len(times)} timed, {len(failed)} failed)")
    for name, s in sorted(times.items(), key=lambda kv: -kv[1]):
        flag = "  OVER 60 s" if s > LIMIT_S else ""
        print(f"{s:7.1f} s  {name}{flag}")
    print(f"{sum(times.values()):7.1f} s  in all")
    for name, why in failed.items():
        print(f"  failed  {name}: {why}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seconds": times, "failed": failed}, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
