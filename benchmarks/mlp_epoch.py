"""One training epoch of an MLP 784-256-128-10 in dlcore and, when it imports, PyTorch CPU.

Three workloads, each with Adam (lr 1e-3), softmax cross-entropy, batch 128, float32, on
60,000 seeded synthetic samples (469 steps, the last of 96):

  a  the README's loop: loss(model(x), y); opt.zero_grad(); model.backward(loss.backward());
     opt.step()   (torch: opt.zero_grad(); loss = ce(model(x), y); loss.item();
     loss.backward(); opt.step())
  b  dlcore.train.fit for one epoch: shuffled minibatches, the same steps, then the
     evaluation of the whole training set that fit records (torch: the same loop written
     out: randperm, steps, then an eval pass under no_grad in batches of 512)
  c  as (a) with BatchNorm1d and Dropout(0.5) after each hidden Linear
     (Linear, BatchNorm1d, ReLU, Dropout, Linear, BatchNorm1d, ReLU, Dropout, Linear)

Both frameworks start from the same weights (dlcore's Linear(init="pytorch"), copied into
torch). Each measurement is one epoch, after a 20-step warm-up, in a fresh process, and the
processes alternate (dlcore a, torch a, dlcore b, ...) repeat after repeat, so that a change
in the machine's load hits both alike; the table gives medians. Peak memory of (a): the
highest resident set size of the process during the epoch, above its size right after the
imports (so the libraries' own code is not counted; the data set is, for both).

PyTorch is not a dependency: the torch runs use the first interpreter that can import it:
this one, $BENCH_TORCH_PYTHON, or /tmp/torchvenv/bin/python (see benchmarks/README.md).

    python benchmarks/mlp_epoch.py --repeats 5 [--threads 1] [--profile] [--json out.json]
"""
import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone

from _machine import busy_seconds, openblas_description, use_native_openblas

SIZES = (784, 256, 128, 10)
N_SAMPLES = 60_000
BATCH = 128
LR = 1e-3
SEED = 0
WARMUP_STEPS = 20
WORKLOADS = {"a": "README loop", "b": "fit", "c": "loop, BatchNorm1d + Dropout(0.5)"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=5, help="measurements per framework and "
                   "workload; medians are reported (default 5)")
    p.add_argument("--threads", type=int, default=None, help="BLAS/OpenMP threads for numpy "
                   "and torch (default: $OMP_NUM_THREADS if set, else the number of CPUs)")
    p.add_argument("--workloads", default="abc", help="which of a, b, c to run (default abc)")
    p.add_argument("--no-torch", action="store_true", help="measure dlcore only")
    p.add_argument("--keep-openblas-coretype", action="store_true",
                   help="keep $OPENBLAS_CORETYPE for numpy's OpenBLAS (default: lift it and let "
                   "OpenBLAS pick the kernels for this CPU; see benchmarks/_machine.py)")
    p.add_argument("--profile", action="store_true",
                   help="also profile one dlcore epoch of (a) with cProfile")
    p.add_argument("--json", metavar="PATH", help="also write every figure as JSON to PATH")
    p.add_argument("--_worker", nargs=2, metavar=("FRAMEWORK", "WORKLOAD"),
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.repeats < 1 or (args.threads is not None and args.threads < 1):
        p.error("--repeats and --threads must be positive integers")
    if not args.workloads or set(args.workloads) - set(WORKLOADS):
        p.error(f"--workloads takes letters from {''.join(WORKLOADS)}, got {args.workloads!r}")
    return args


def default_threads():
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


ARGS = parse_args()
THREADS = ARGS.threads or default_threads()
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)  # before numpy and torch load their thread pools
if not ARGS._worker:  # before numpy loads; the workers inherit the environment
    use_native_openblas(ARGS.keep_openblas_coretype)

import numpy as np


def make_data():
    """x ~ N(0, 1) (N, 784) float32; labels from a random linear teacher, int64."""
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((N_SAMPLES, SIZES[0]), dtype=np.float32)
    teacher = rng.standard_normal((SIZES[0], SIZES[-1]), dtype=np.float32)
    return x, np.argmax(x @ teacher, axis=1).astype(np.int64)


def batches(n):
    return [(i, min(i + BATCH, n)) for i in range(0, n, BATCH)]


def rss_kib(field="VmRSS"):
    """This process's resident set (or its peak, VmHWM) in KiB, from /proc (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak_rss():
    """Make VmHWM start again from the current RSS (Linux: clear_refs 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


# ---------------------------------------------------------------------------- dlcore
def dlcore_model(workload):
    from dlcore import nn

    layers = []
    for i, (a, b) in enumerate(itertools.pairwise(SIZES)):
        layers.append(nn.Linear(a, b, init="pytorch", rng=SEED + i))
        if i < len(SIZES) - 2:
            if workload == "c":
                layers.append(nn.BatchNorm1d(b))
            layers.append(nn.ReLU())
            if workload == "c":
                layers.append(nn.Dropout(0.5, rng=SEED + 10 + i))
    return nn.Sequential(*layers)


class DlcoreRun:
    def __init__(self, workload, x, y):
        from dlcore.losses import CrossEntropyLoss
        from dlcore.optim import Adam

        self.workload, self.x, self.y = workload, x, y
        self.model = dlcore_model(workload)
        self.loss = CrossEntropyLoss()
        self.opt = Adam(self.model.parameters(), lr=LR)

    def weights(self):
        from dlcore import nn
        return [(m.W.data, m.b.data) for m in self.model if isinstance(m, nn.Linear)]

    def steps(self, spans):
        model, loss, opt, x, y = self.model, self.loss, self.opt, self.x, self.y
        value = None
        for lo, hi in spans:  # the README's loop
            value = loss(model(x[lo:hi]), y[lo:hi])
            opt.zero_grad()
            model.backward(loss.backward())
            opt.step()
        return value

    def epoch(self):
        if self.workload != "b":
            return self.steps(batches(N_SAMPLES))
        from dlcore.train import fit
        history = fit(self.model, self.loss, self.opt, (self.x, self.y), epochs=1,
                      batch_size=BATCH, progress=False, rng=SEED)
        return history.train_loss[-1]


# ---------------------------------------------------------------------------- torch
class TorchRun:
    def __init__(self, workload, x, y, weights):
        import torch

        torch.set_num_threads(THREADS)
        torch.manual_seed(SEED)
        self.torch, self.workload = torch, workload
        layers = []
        for i, (W, b) in enumerate(weights):
            lin = torch.nn.Linear(*W.shape)
            with torch.no_grad():  # torch stores W as (out, in)
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
                lin.bias.copy_(torch.from_numpy(b))
            layers.append(lin)
            if i < len(weights) - 1:
                if workload == "c":
                    layers.append(torch.nn.BatchNorm1d(W.shape[1]))
                layers.append(torch.nn.ReLU())
                if workload == "c":
                    layers.append(torch.nn.Dropout(0.5))
        self.model = torch.nn.Sequential(*layers)
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)  # shares numpy's memory
        self.ce = torch.nn.functional.cross_entropy
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LR)

    def steps(self, spans, x=None, y=None):
        model, ce, opt = self.model, self.ce, self.opt
        x = self.x if x is None else x
        y = self.y if y is None else y
        model.train()
        value = None
        for lo, hi in spans:
            opt.zero_grad()
            loss = ce(model(x[lo:hi]), y[lo:hi])
            value = loss.item()  # dlcore's loss returns a Python float: do the same
            loss.backward()
            opt.step()
        return value

    def epoch(self):
        if self.workload != "b":
            return self.steps(batches(N_SAMPLES))
        torch = self.torch
        order = torch.randperm(N_SAMPLES, generator=torch.Generator().manual_seed(SEED))
        x, y = self.x[order], self.y[order]  # shuffled, as fit's minibatches
        self.steps(batches(N_SAMPLES), x, y)
        self.model.eval()
        total, correct = 0.0, 0
        with torch.no_grad():  # fit's end-of-epoch evaluation of the training set
            for lo, hi in [(i, min(i + 512, N_SAMPLES)) for i in range(0, N_SAMPLES, 512)]:
                out = self.model(self.x[lo:hi])
                total += self.ce(out, self.y[lo:hi]).item() * (hi - lo)
                correct += int((out.argmax(1) == self.y[lo:hi]).sum())
        return total / N_SAMPLES


# ---------------------------------------------------------------------------- worker
def worker(framework, workload):
    """In a fresh process: build, warm up, time one epoch, report one JSON line."""
    base_rss = rss_kib()
    if framework == "torch":
        import torch  # noqa: F401  (counted in the baseline, as numpy is for dlcore)
        base_rss = rss_kib()
    x, y = make_data()
    run = DlcoreRun(workload, x, y)
    if framework == "torch":
        run = TorchRun(workload, x, y, [(np.array(W), np.array(b)) for W, b in run.weights()])
    run.steps(batches(WARMUP_STEPS * BATCH))
    reset_peak_rss()
    t0, c0 = time.perf_counter(), time.process_time()
    loss = run.epoch()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"wall": wall, "cpu": cpu, "loss": float(loss),
                      "peak_mib": (rss_kib("VmHWM") - base_rss) / 1024,
                      "version": _version(framework)}))


def _version(framework):
    if framework == "torch":
        import torch
        return torch.__version__
    import dlcore
    return dlcore.__version__


def torch_python():
    """An interpreter that imports torch, or None."""
    candidates = [sys.executable, os.environ.get("BENCH_TORCH_PYTHON"),
                  "/tmp/torchvenv/bin/python"]
    for exe in candidates:
        if exe and os.path.exists(exe) and subprocess.run(
                [exe, "-c", "import torch"], check=False, capture_output=True).returncode == 0:
            return exe
    return None


def run_worker(python, framework, workload):
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [python, os.path.abspath(__file__), "--_worker", framework, workload,
           "--threads", str(THREADS)]
    busy0, t0 = busy_seconds(), time.perf_counter()
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env)
    busy1, t1 = busy_seconds(), time.perf_counter()
    if proc.returncode != 0:
        raise RuntimeError(f"{framework} {workload} failed:\n{proc.stderr.strip()}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if busy0 is not None:  # CPU use of the whole machine, in cores, while the worker ran
        result["machine_load_cores"] = (busy1 - busy0) / (t1 - t0)
    return result


def median(values):
    v = sorted(values)
    m = len(v) // 2
    return v[m] if len(v) % 2 else 0.5 * (v[m - 1] + v[m])


def profile_dlcore():
    """cProfile of one dlcore epoch of (a): where the time goes, by function."""
    import cProfile
    import pstats

    x, y = make_data()
    run = DlcoreRun("a", x, y)
    run.steps(batches(WARMUP_STEPS * BATCH))
    prof = cProfile.Profile()
    prof.runcall(run.epoch)
    stats = pstats.Stats(prof)
    total = stats.total_tt
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:12]
    print(f"\nprofile of one dlcore epoch of (a), {total:.2f} s under cProfile "
          f"(own time per function):")
    for (path, line, name), (_cc, calls, tt, _ct, _callers) in rows:
        where = f"{os.path.basename(path)}:{line}" if line else path
        print(f"  {100 * tt / total:5.1f}%  {tt:6.3f} s  {calls:>7}  {name}  ({where})")


def main():
    if ARGS._worker:
        return worker(*ARGS._worker)
    tpython = None if ARGS.no_torch else torch_python()
    runners = [("dlcore", sys.executable)] + ([("torch", tpython)] if tpython else [])
    samples = {(f, w): [] for f, _ in runners for w in ARGS.workloads}
    for _ in range(ARGS.repeats):
        for w in ARGS.workloads:
            for f, python in runners:
                samples[f, w].append(run_worker(python, f, w))

    load = [s.get("machine_load_cores", float("nan")) for v in samples.values() for s in v]
    torch_version = samples["torch", ARGS.workloads[0]][0]["version"] if tpython else "-"
    print(f"MLP {'-'.join(map(str, SIZES))}, ReLU, cross-entropy, Adam, batch {BATCH}, "
          f"float32, {N_SAMPLES:,} samples; median of {ARGS.repeats} one-epoch runs, "
          f"interleaved, each in a fresh process")
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {platform.machine()}, "
          f"{os.cpu_count()} CPUs ({_cpu_model()}); {THREADS} thread(s) per framework; "
          f"numpy {np.__version__}, torch {torch_version}; "
          f"machine load during runs {min(load):.1f}-{max(load):.1f} cores")
    print(openblas_description())
    print("samples/s from the epoch's wall time and from the process's CPU time (the second")
    print("is not inflated by waiting for a core that another program holds)")
    header = (f"{'workload':<38}{'dlcore':>9}{'torch':>9}{'ratio':>7}{'dlcore':>9}{'torch':>9}"
              f"{'ratio':>7}{'loss d/t':>15}")
    print(f"{'':<38} {'-------- wall ---------':<24} {'--------- cpu ---------':<24}")
    print(header)
    print("-" * len(header))
    table = {}
    for w in ARGS.workloads:
        row = {}
        for f, _ in runners:
            runs = samples[f, w]
            row[f] = {clock: N_SAMPLES / median([s[clock] for s in runs])
                      for clock in ("wall", "cpu")}
            row[f]["loss"] = runs[-1]["loss"]
        cols = ""
        for clock in ("wall", "cpu"):
            d = row["dlcore"][clock]
            if tpython:
                t = row["torch"][clock]
                row[f"ratio_{clock}"] = d / t
                cols += f"{d:>9,.0f}{t:>9,.0f}{d / t:>7.2f}"
            else:
                cols += f"{d:>9,.0f}{'-':>9}{'-':>7}"
        losses = (f"{row['dlcore']['loss']:.3f}/{row['torch']['loss']:.3f}" if tpython
                  else f"{row['dlcore']['loss']:.3f}/-")
        table[w] = row
        print(f"({w}) {WORKLOADS[w]:<34}{cols}{losses:>15}")
    if "a" in ARGS.workloads:
        mem = {f: median([s["peak_mib"] for s in samples[f, "a"]]) for f, _ in runners}
        line = f"peak memory of (a) above the imports: dlcore {mem['dlcore']:.0f} MiB"
        if tpython:
            line += f", torch {mem['torch']:.0f} MiB, ratio {mem['dlcore'] / mem['torch']:.2f}"
        print(line)
        table["peak_mib"] = mem
    if not tpython:
        print("torch: not measured (no interpreter imports it; see benchmarks/README.md)")
    if ARGS.profile:
        profile_dlcore()
    if ARGS.json:
        with open(ARGS.json, "w") as f:
            json.dump({"table": table, "samples": {f"{k[0]}/{k[1]}": v
                                                   for k, v in samples.items()}}, f, indent=1)


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
