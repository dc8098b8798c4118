"""Data-parallel speed-up on MPI: seconds per step of DataParallel on 1 and 2 ranks.

    .venv/bin/python benchmarks/mpi_speedup.py [--repeats 5] [--batch 2048] [--hidden 256]

Runs `mpiexec -n 1` and `mpiexec -n 2` of `python -m dlcore.parallel.demo --parts timing`
alternately, `repeats` times each, and prints the median step time of each run, the median
speed-up, and the time in the all-reduce. Other programs on the machine slow these runs
unevenly; alternating the two sizes spreads that noise over both.
"""
import argparse
import platform
import statistics
import time

from dlcore.parallel import run_demo


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=2048)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    runs = {1: [], 2: []}
    for _ in range(args.repeats):
        for k in (1, 2):
            r = run_demo(k, timeout=300, parts="timing", time_batch=args.batch,
                         time_hidden=args.hidden, time_steps=args.steps)
            runs[k].append(r["timing"])
    step = {k: [t["median_step_seconds"] for t in v] for k, v in runs.items()}
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
          f"{platform.processor() or platform.machine()}; batch {args.batch}, "
          f"MLP 256-{args.hidden}-{args.hidden}-10, {runs[1][0]['parameters']} parameters")
    for k in (1, 2):
        ms = ", ".join(f"{1e3 * s:.0f}" for s in step[k])
        ar = statistics.median(t["allreduce_seconds"] for t in runs[k])
        print(f"{k} rank(s): median step per run (ms) {ms}; all-reduce median {1e3 * ar:.1f} ms")
    speedups = [a / b for a, b in zip(step[1], step[2])]
    print(f"speed-up per pair: {', '.join(f'{s:.2f}' for s in speedups)}; "
          f"median {statistics.median(speedups):.2f}; best {max(speedups):.2f}")


if __name__ == "__main__":
    main()
