"""One training epoch of an MLP 784-256-128-10 in dlcore, and in PyTorch when it imports.

What is measured (the same for both frameworks): ReLU MLP 784-256-128-10, softmax
cross-entropy, a plain SGD step (p -= lr * grad), batch 128, float32, 60,000 seeded
synthetic samples in a fixed order (469 steps, the last one of 96 samples), the same
initial weights. Reported per framework:

* samples/s: from the plain wall time of whole epochs run WITHOUT per-phase timers
  (median over repeats); this is the headline figure;
* forward / backward / update shares: from separate epochs in which each phase is
  timed with time.perf_counter and summed over the epoch (median over repeats):
    forward  = model(x) + loss value,
    backward = loss.backward() + model.backward(dlogits, input_grad=False)   (torch: loss.backward()),
    update   = the SGD step over the parameters + zero_grad.

Thread counts are set before numpy is imported (OMP/OPENBLAS/MKL_NUM_THREADS) and torch
gets the same count (torch.set_num_threads), so both use the same number of cores.
PyTorch is not a dependency of the project: run this in a scratch venv that has torch
(see benchmarks/README.md); without torch only dlcore is measured.

    python benchmarks/mlp_epoch.py --threads 1 --repeats 5 --json out.json
"""
import argparse
import itertools
import math
import os
import platform
import sys
import time
from datetime import datetime, timezone

SIZES = (784, 256, 128, 10)
N_SAMPLES = 60_000
BATCH = 128
LR = 0.05
SEED = 0
WARMUP_STEPS = 20  # one short pass per framework before any clock is read


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=1,
                   help="epochs per timed measurement (default 1)")
    p.add_argument("--repeats", type=int, default=3,
                   help="timed measurements per framework and kind; the median is reported")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS/OpenMP threads for numpy and torch (default: $OPENBLAS_NUM_THREADS "
                        "or $OMP_NUM_THREADS if set, else the number of CPUs)")
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu",
                   help="device for dlcore ('gpu' needs CuPy); torch uses CUDA then if it can")
    p.add_argument("--no-torch", action="store_true", help="measure dlcore only")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    p.add_argument("--_worker", choices=("dlcore", "torch"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    for name in ("epochs", "repeats"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be a positive integer, got {getattr(args, name)}")
    if args.threads is not None and args.threads < 1:
        p.error(f"--threads must be a positive integer, got {args.threads}")
    return args


def default_threads():
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


ARGS = parse_args()
THREADS = ARGS.threads if ARGS.threads is not None else default_threads()
# Before numpy (and torch) load: BLAS pools read these once, at import.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)

import numpy as np

import dlcore
from dlcore import backend, nn
from dlcore.losses import CrossEntropyLoss


def blas_threads():
    """numpy's BLAS thread count as the BLAS library reports it, or None if unknown."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return counts[0] if counts else None


def make_data():
    """Seeded synthetic MNIST-sized set: x ~ N(0, 1) (N, 784) float32, labels from a
    random linear teacher (so the task is learnable), int64."""
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((N_SAMPLES, SIZES[0]), dtype=np.float32)
    teacher = rng.standard_normal((SIZES[0], SIZES[-1]), dtype=np.float32)
    y = np.argmax(x @ teacher, axis=1).astype(np.int64)
    return x, y


def batches(n):
    return [(i, min(i + BATCH, n)) for i in range(0, n, BATCH)]


def sync_fn(device):
    if device == "gpu":
        import cupy
        return cupy.cuda.Device().synchronize
    return lambda: None


# ---------------------------------------------------------------------------- dlcore
class DlcoreRun:
    name = "dlcore"

    def __init__(self, x, y, device):
        layers = []
        for i, (a, b) in enumerate(itertools.pairwise(SIZES)):
            layers.append(nn.Linear(a, b, init="pytorch", rng=SEED + i))
            if i < len(SIZES) - 2:
                layers.append(nn.ReLU())
        self.model = nn.Sequential(*layers)
        self.device = device
        if device == "gpu":
            self.model.to("gpu")
        self.x = backend.to_device(x, device)
        self.y = backend.to_device(y, device)
        self.loss = CrossEntropyLoss()
        self.params = self.model.parameters()
        self.sync = sync_fn(device)
        self.label = device
        self.threads = THREADS

    def initial_weights(self):
        """[(W (in, out), b (out,)), ...] as numpy, for the torch copy."""
        lin = [m for m in self.model if isinstance(m, nn.Linear)]
        return [(backend.to_numpy(m.W.data), backend.to_numpy(m.b.data)) for m in lin]

    def epoch(self, steps):
        model, loss, params, x, y = self.model, self.loss, self.params, self.x, self.y
        for lo, hi in steps:
            loss(model(x[lo:hi]), y[lo:hi])
            model.backward(loss.backward(), input_grad=False)  # the input is data, as in torch
            for p in params:
                p.data -= LR * p.grad
            model.zero_grad()
        self.sync()

    def epoch_phases(self, steps):
        model, loss, params, x, y = self.model, self.loss, self.params, self.x, self.y
        sync, clock = self.sync, time.perf_counter
        t_f = t_b = t_u = 0.0
        last = None
        for lo, hi in steps:
            t0 = clock()
            last = loss(model(x[lo:hi]), y[lo:hi])
            sync()
            t1 = clock()
            model.backward(loss.backward(), input_grad=False)  # the input is data, as in torch
            sync()
            t2 = clock()
            for p in params:
                p.data -= LR * p.grad
            model.zero_grad()
            sync()
            t3 = clock()
            t_f += t1 - t0
            t_b += t2 - t1
            t_u += t3 - t2
        return (t_f, t_b, t_u), last


# ---------------------------------------------------------------------------- torch
class TorchRun:
    name = "torch"

    def __init__(self, torch, x, y, weights, device):
        self.torch = torch
        torch.set_num_threads(THREADS)
        torch.manual_seed(SEED)
        dev = "cuda" if device == "gpu" and torch.cuda.is_available() else "cpu"
        layers = []
        for i, (W, b) in enumerate(weights):
            lin = torch.nn.Linear(W.shape[0], W.shape[1])
            with torch.no_grad():  # the same start as dlcore: torch stores W as (out, in)
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
                lin.bias.copy_(torch.from_numpy(b))
            layers.append(lin)
            if i < len(weights) - 1:
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers).to(dev)
        self.params = list(self.model.parameters())
        self.x = torch.from_numpy(x).to(dev)
        self.y = torch.from_numpy(y).to(dev)
        self.ce = torch.nn.functional.cross_entropy
        self.sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
        self.label = dev
        self.threads = torch.get_num_threads()

    def epoch(self, steps):
        torch, model, ce, params, x, y = (self.torch, self.model, self.ce, self.params,
                                          self.x, self.y)
        for lo, hi in steps:
            loss = ce(model(x[lo:hi]), y[lo:hi])
            loss.item()  # dlcore's loss returns a Python float: do the same here
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p.add_(p.grad, alpha=-LR)
            model.zero_grad()
        self.sync()

    def epoch_phases(self, steps):
        torch, model, ce, params, x, y = (self.torch, self.model, self.ce, self.params,
                                          self.x, self.y)
        sync, clock = self.sync, time.perf_counter
        t_f = t_b = t_u = 0.0
        last = None
        for lo, hi in steps:
            t0 = clock()
            loss = ce(model(x[lo:hi]), y[lo:hi])
            last = loss.item()
            sync()
            t1 = clock()
            loss.backward()
            sync()
            t2 = clock()
            with torch.no_grad():
                for p in params:
                    p.add_(p.grad, alpha=-LR)
            model.zero_grad()
            sync()
            t3 = clock()
            t_f += t1 - t0
            t_b += t2 - t1
            t_u += t3 - t2
        return (t_f, t_b, t_u), last


# ---------------------------------------------------------------------------- driver
def worker(framework):
    """Child process: warm up, then time one plain epoch run and one phase-timed run.

    Prints one JSON line. Each framework runs in its own process because numpy's
    OpenBLAS pool and torch's OpenMP pool both spin-wait between calls: in one process,
    the idle pool of one library steals the cores the other one is using (on 2 cores
    this made epochs up to 5x slower and the figures meaningless).
    """
    import json
    x, y = make_data()
    run = DlcoreRun(x, y, ARGS.device)
    if framework == "torch":
        import torch
        run = TorchRun(torch, x, y, run.initial_weights(), ARGS.device)
    steps = batches(N_SAMPLES) * ARGS.epochs
    warm = batches(WARMUP_STEPS * BATCH)
    run.epoch(warm)  # warm-up: BLAS pool, allocator, first-call costs
    run.epoch_phases(warm)
    t0 = time.perf_counter()
    run.epoch(steps)
    wall = time.perf_counter() - t0
    phases, last = run.epoch_phases(steps)
    print(json.dumps({"device": run.label, "threads": run.threads, "wall": wall,
                      "phases": phases, "loss": float(last), "blas_threads": blas_threads()}))


def run_worker(framework):
    """Run `worker(framework)` in a fresh interpreter; return its parsed result."""
    import json
    import subprocess
    cmd = [sys.executable, os.path.abspath(__file__), "--_worker", framework,
           "--threads", str(THREADS), "--epochs", str(ARGS.epochs), "--device", ARGS.device]
    busy0, own0, t0 = _busy_seconds(), _children_cpu_seconds(), time.perf_counter()
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    busy1, own1, t1 = _busy_seconds(), _children_cpu_seconds(), time.perf_counter()
    if proc.returncode != 0:
        raise RuntimeError(f"the {framework} measurement failed:\n{proc.stderr.strip()}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if busy0 is not None and busy1 is not None:
        # CPU time that other processes used while this one ran, in cores: the machine
        # is not ours alone when this is well above 0, and the figures are then slower.
        result["other_load_cores"] = max(0.0, (busy1 - busy0) - (own1 - own0)) / (t1 - t0)
    return result


def _busy_seconds():
    """CPU seconds all processes on the machine have used so far (Linux), or None."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _children_cpu_seconds():
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _median(values):
    v = sorted(values)
    m = len(v) // 2
    return v[m] if len(v) % 2 else 0.5 * (v[m - 1] + v[m])


def summarise(samples, epochs):
    """Median samples/s over repeats from plain epochs; phase shares from the median of
    each phase over the phase-timed epochs (a median, so that a repeat slowed down by
    other processes on the machine does not skew the shares)."""
    walls = sorted(s["wall"] for s in samples)
    n = N_SAMPLES * epochs
    names = ("forward", "backward", "update")
    phases = [_median(s["phases"][i] for s in samples) / epochs for i in range(3)]
    total = sum(phases)
    return {
        "device": samples[0]["device"],
        "threads": samples[0]["threads"],
        "numpy_blas_threads_reported": samples[0]["blas_threads"],
        "epoch_seconds": [round(s["wall"] / epochs, 4) for s in samples],
        "samples_per_s": n / _median(walls),
        "samples_per_s_best": n / walls[0],
        "phase_seconds_per_epoch": dict(zip(names, phases)),
        "phase_share": {name: t / total for name, t in zip(names, phases)},
        "other_load_cores": [round(s.get("other_load_cores", float("nan")), 2) for s in samples],
        "last_loss": samples[-1]["loss"],
    }


def main():
    if ARGS._worker:
        return worker(ARGS._worker)
    frameworks = ["dlcore"]
    torch_version = None
    torch_note = "not measured (--no-torch)"
    if not ARGS.no_torch:
        try:
            import torch
        except ImportError as exc:
            torch_note = f"not measured: torch does not import ({exc})"
        else:
            torch_version = torch.__version__
            frameworks.append("torch")

    # Alternate the frameworks, one fresh process each per repeat, so that drift in
    # the machine's speed hits both alike.
    samples = {f: [] for f in frameworks}
    for _ in range(ARGS.repeats):
        for f in frameworks:
            samples[f].append(run_worker(f))
    results = {f: summarise(samples[f], ARGS.epochs) for f in frameworks}

    meta = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {_cpu_model()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "dlcore": dlcore.__version__,
        "torch": torch_version,
        "threads": THREADS,
        "model": "-".join(map(str, SIZES)) + f" ReLU MLP, cross-entropy, SGD lr={LR:g}",
        "batch_size": BATCH,
        "samples": N_SAMPLES,
        "epochs_per_measurement": ARGS.epochs,
        "repeats": ARGS.repeats,
    }
    blas = results["dlcore"]["numpy_blas_threads_reported"]
    print(f"MLP {meta['model']}, batch {BATCH}, {N_SAMPLES} samples, float32; "
          f"median of {ARGS.repeats} x {ARGS.epochs} epoch(s)")
    print(f"{meta['machine']}; numpy {meta['numpy']}, torch {torch_version or '-'}, "
          f"threads {THREADS} (numpy BLAS reports {blas if blas else 'n/a'})")
    header = (f"{'framework':<10}{'device':>7}{'threads':>8}{'samples/s':>11}{'best':>9}"
              f"{'forward%':>10}{'backward%':>10}{'update%':>9}{'ms/epoch':>10}")
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        s = r["phase_share"]
        print(f"{name:<10}{r['device']:>7}{r['threads']:>8}{r['samples_per_s']:>11,.0f}"
              f"{r['samples_per_s_best']:>9,.0f}{100 * s['forward']:>10.1f}{100 * s['backward']:>10.1f}{100 * s['update']:>9.1f}"
              f"{1000 * N_SAMPLES / r['samples_per_s']:>10.0f}")
    if "torch" in results:
        ratio = results["dlcore"]["samples_per_s"] / results["torch"]["samples_per_s"]
        best = results["dlcore"]["samples_per_s_best"] / results["torch"]["samples_per_s_best"]
        meta["ratio_dlcore_over_torch"] = ratio
        meta["ratio_dlcore_over_torch_best"] = best
        print(f"dlcore/torch samples/s: {ratio:.2f} median, {best:.2f} best "
              f"(>= 1 means dlcore is at least as fast)")
    else:
        print(f"torch: {torch_note}")
    loads = [v for r in results.values() for v in r["other_load_cores"] if not math.isnan(v)]
    if loads and max(loads) > 0.2:
        print(f"note: other processes used up to {max(loads):.1f} of {os.cpu_count()} cores "
              f"during the runs; the figures are slower than on a quiet machine")

    if ARGS.json:
        import json
        os.makedirs(os.path.dirname(os.path.abspath(ARGS.json)), exist_ok=True)
        with open(ARGS.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=2)
        print(f"wrote {ARGS.json}")


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
