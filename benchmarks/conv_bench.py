"""Convolution forward+backward in dlcore, and in PyTorch CPU when an interpreter has it.

Two cases on the same input x of shape (32, 32, 32, 32) (N, C, H, W), float32:

* conv: Conv2d(32, 64, 3, padding=1);
* sep:  DepthwiseConv2d(32, 3, padding=1) then Conv2d(32, 64, 1) (MobileNet's depthwise
        separable block; torch: Conv2d(32, 32, 3, padding=1, groups=32), Conv2d(32, 64, 1)).

One step = forward, then backward of a fixed upstream gradient, INCLUDING the input's
gradient (as for a layer inside a network; torch: x.requires_grad_()). Each measurement
runs in a fresh process with a given number of BLAS/OpenMP threads (both frameworks get
the same count), warms up, and reports the median of --iters steps (forward and backward
also timed apart, and the process's CPU time per step, which is what waiting for a
core that another program holds does not inflate). Processes alternate case by case and framework by framework, repeat
after repeat, so that load from other programs hits both alike; the table gives the
median over repeats, the dlcore/torch time ratio (<= 2 is the target), and, beside the
time ratio sep/conv, the ratio of their multiply-adds from dlcore.count_flops.

PyTorch is not a dependency. The torch column comes from the first interpreter that
imports torch among: this interpreter, $BENCH_TORCH_PYTHON, /tmp/torchvenv/bin/python
(see benchmarks/README.md); the torch worker needs numpy and torch only. Without one, only
dlcore is measured.

    python benchmarks/conv_bench.py [--repeats 5] [--iters 5] [--threads 1,2] [--no-torch]
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

from _machine import busy_seconds, openblas_description, use_native_openblas

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N, C_IN, C_OUT, SIZE, K = 32, 32, 64, 32, 3
CASES = {"conv": f"Conv2d {K}x{K} {C_IN}->{C_OUT}, padding 1",
         "sep": f"depthwise {K}x{K} on {C_IN} + pointwise 1x1 {C_IN}->{C_OUT}"}
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=5, help="processes per framework, case and "
                   "thread count; the median is reported (default 5)")
    p.add_argument("--iters", type=int, default=5, help="timed steps per process (default 5)")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    p.add_argument("--no-torch", action="store_true", help="measure dlcore only")
    p.add_argument("--keep-openblas-coretype", action="store_true",
                   help="keep $OPENBLAS_CORETYPE for numpy's OpenBLAS (default: lift it and let "
                   "OpenBLAS pick the kernels for this CPU; see benchmarks/_machine.py)")
    p.add_argument("--profile", action="store_true",
                   help="also print a cProfile of dlcore's steps, by function")
    p.add_argument("--json", metavar="PATH", help="also write every measurement to PATH")
    p.add_argument("--_worker", nargs=2, metavar=("FRAMEWORK", "CASE"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    try:
        args.threads = [int(t) for t in args.threads.split(",")]
    except ValueError:
        p.error(f"--threads takes comma-separated positive integers, got {args.threads!r}")
    if min(args.threads) < 1 or args.repeats < 1 or args.iters < 1:
        p.error("--threads, --repeats and --iters must be positive")
    return args


# ---------------------------------------------------------------------------- workers
def inputs(np, case):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C_IN, SIZE, SIZE), dtype=np.float32)
    dout = rng.standard_normal((N, C_OUT, SIZE, SIZE), dtype=np.float32)
    return x, dout


def dlcore_step(case):
    import numpy as np

    from dlcore import nn

    x, dout = inputs(np, case)
    if case == "conv":
        layer = nn.Conv2d(C_IN, C_OUT, K, padding=1, rng=0)
    else:
        layer = nn.DepthwiseSeparableConv2d(C_IN, C_OUT, K, padding=1, rng=0)
    return lambda: layer(x), lambda: layer.backward(dout)


def torch_step(case):
    import numpy as np
    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    torch.manual_seed(0)
    x, dout = (torch.from_numpy(a) for a in inputs(np, case))
    x.requires_grad_()
    if case == "conv":
        layer = torch.nn.Conv2d(C_IN, C_OUT, K, padding=1)
    else:
        layer = torch.nn.Sequential(torch.nn.Conv2d(C_IN, C_IN, K, padding=1, groups=C_IN),
                                    torch.nn.Conv2d(C_IN, C_OUT, 1))
    out = [None]

    def forward():
        out[0] = layer(x)

    return forward, lambda: out[0].backward(dout)


def worker(framework, case, iters):
    """In a fresh process: warm up, then time `iters` steps; one JSON line on stdout."""
    forward, backward = (torch_step if framework == "torch" else dlcore_step)(case)
    for _ in range(2):
        forward()
        backward()
    steps, fwd, bwd, cpu = [], [], [], []
    for _ in range(iters):
        c0, t0 = time.process_time(), time.perf_counter()
        forward()
        t1 = time.perf_counter()
        backward()
        t2, c2 = time.perf_counter(), time.process_time()
        steps.append(t2 - t0)
        fwd.append(t1 - t0)
        bwd.append(t2 - t1)
        cpu.append(c2 - c0)
    if framework == "torch":
        import torch
        version = torch.__version__
    else:
        import dlcore
        version = dlcore.__version__
    print(json.dumps({"step": statistics.median(steps), "forward": statistics.median(fwd),
                      "backward": statistics.median(bwd), "cpu": statistics.median(cpu),
                      "version": version}))


# ---------------------------------------------------------------------------- parent
def torch_python():
    """An interpreter that imports torch, or None."""
    for exe in (sys.executable, os.environ.get("BENCH_TORCH_PYTHON"),
                "/tmp/torchvenv/bin/python"):
        if exe and os.path.exists(exe) and subprocess.run(
                [exe, "-c", "import torch"], check=False, capture_output=True).returncode == 0:
            return exe
    return None


def run_worker(python, framework, case, threads, iters):
    env = {**os.environ, **{v: str(threads) for v in THREAD_VARS},
           "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [python, os.path.abspath(__file__), "--_worker", framework, case,
           "--iters", str(iters)]
    b0, t0 = busy_seconds(), time.perf_counter()
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env)
    b1, t1 = busy_seconds(), time.perf_counter()
    if proc.returncode != 0:
        raise RuntimeError(f"{framework} {case} with {threads} thread(s) failed:\n"
                           f"{proc.stderr.strip()}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if b0 is not None:  # cores busy on the whole machine while the worker ran (itself included)
        result["machine_load_cores"] = (b1 - b0) / (t1 - t0)
    return result


def flop_ratio():
    """Multiply-adds of the separable block over the standard convolution, per image."""
    import dlcore
    from dlcore import nn

    shape = (C_IN, SIZE, SIZE)
    std = dlcore.count_flops(nn.Conv2d(C_IN, C_OUT, K, padding=1), shape).total_macs
    sep = dlcore.count_flops(nn.DepthwiseSeparableConv2d(C_IN, C_OUT, K, padding=1),
                             shape).total_macs
    return sep, std


def profile_dlcore(case):
    import cProfile
    import pstats

    forward, backward = dlcore_step(case)
    forward()
    backward()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(5):
        forward()
        backward()
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt
    print(f"\nprofile of 5 dlcore steps of '{case}' ({total:.3f} s under cProfile), own time:")
    for (path, line, name), (_cc, calls, tt, _ct, _c) in sorted(
            stats.stats.items(), key=lambda kv: -kv[1][2])[:8]:
        where = f"{os.path.basename(path)}:{line}" if line else path
        print(f"  {100 * tt / total:5.1f}%  {calls:>5}  {name}  ({where})")


def main(args):
    if args._worker:
        return worker(*args._worker, args.iters)
    use_native_openblas(args.keep_openblas_coretype)  # the workers inherit the environment
    tpython = None if args.no_torch else torch_python()
    runners = [("dlcore", sys.executable)] + ([("torch", tpython)] if tpython else [])
    samples = {(f, c, t): [] for f, _ in runners for c in CASES for t in args.threads}
    for _ in range(args.repeats):
        for t in args.threads:
            for c in CASES:
                for f, python in runners:
                    samples[f, c, t].append(run_worker(python, f, c, t, args.iters))

    def med(f, c, t, key="step"):
        return 1e3 * statistics.median(s[key] for s in samples[f, c, t])

    load = [s["machine_load_cores"] for v in samples.values() for s in v
            if "machine_load_cores" in s]
    import numpy as np
    versions = {f: samples[f, "conv", args.threads[0]][0]["version"] for f, _ in runners}
    print(f"Convolution forward+backward (input gradient included), x {N}x{C_IN}x{SIZE}x{SIZE} "
          f"float32; median of {args.repeats} processes x {args.iters} steps, interleaved")
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {platform.machine()}, "
          f"{os.cpu_count()} CPUs; numpy {np.__version__}, dlcore {versions['dlcore']}, "
          f"torch {versions.get('torch', 'not measured')}"
          + (f"; machine busy {min(load):.1f}-{max(load):.1f} cores during runs" if load else ""))
    print(openblas_description())
    head = (f"{'threads':>7}  {'case':<48}{'dlcore ms':>10}{'(fwd+bwd)':>14}"
            f"{'torch ms':>10}{'(fwd+bwd)':>14}{'ratio':>7}{'CPU ms d/t':>16}{'ratio':>7}")
    print(head)
    print("-" * len(head))
    for t in args.threads:
        for c, label in CASES.items():
            d = f"{med('dlcore', c, t, 'forward'):.1f}+{med('dlcore', c, t, 'backward'):.1f}"
            line = f"{t:>7}  {label:<48}{med('dlcore', c, t):>10.1f}{d:>14}"
            if tpython:
                tt = f"{med('torch', c, t, 'forward'):.1f}+{med('torch', c, t, 'backward'):.1f}"
                ratio = med("dlcore", c, t) / med("torch", c, t)
                line += f"{med('torch', c, t):>10.1f}{tt:>14}{ratio:>7.2f}"
                cpu = f"{med('dlcore', c, t, 'cpu'):.1f}/{med('torch', c, t, 'cpu'):.1f}"
                line += f"{cpu:>16}{med('dlcore', c, t, 'cpu') / med('torch', c, t, 'cpu'):>7.2f}"
            else:
                line += f"{'-':>10}{'-':>14}{'-':>7}{med('dlcore', c, t, 'cpu'):>14.1f}/-{'-':>7}"
            print(line)
    print("(ms: wall time of one step; CPU ms: the process's CPU time per step, all its threads "
          "together,\n which waiting for a core that another program holds does not inflate)")
    sep, std = flop_ratio()
    print(f"\nsep / conv: multiply-adds {sep:,} / {std:,} = {sep / std:.3f} "
          f"(1/N + 1/D_K^2 = {1 / C_OUT + 1 / K**2:.3f})")
    for t in args.threads:
        line = f"  time, {t} thread(s): dlcore {med('dlcore', 'sep', t) / med('dlcore', 'conv', t):.3f}"
        if tpython:
            line += f", torch {med('torch', 'sep', t) / med('torch', 'conv', t):.3f}"
        print(line)
    if not tpython:
        print("torch: not measured (no interpreter imports it; set BENCH_TORCH_PYTHON, "
              "see benchmarks/README.md)")
    if args.profile:
        for c in CASES:
            profile_dlcore(c)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({f"{k[0]}/{k[1]}/{k[2]}": v for k, v in samples.items()}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(parse_args()))
