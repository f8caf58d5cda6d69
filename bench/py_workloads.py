"""Python's side of the benchmarks: the same workloads as bench/bench_*.cpp,
written with the standard multiprocessing module.

Run by bench/run.py (one measurement per invocation, JSON on stdout):

    python3 bench/py_workloads.py WORKLOAD CONTEXT ITERATIONS [--warmup W]

CONTEXT is a start method ("fork", "spawn", "forkserver"). Each workload is
a function (ctx, n) -> seconds, registered with @workload("name"); it keeps
its own set-up out of the timing. Targets live at module level so the spawn
context can find them when it re-imports this file in the child.
"""
import argparse
import json
import multiprocessing
import sys
import time

WORKLOADS = {}


def workload(name):
    def register(fn):
        WORKLOADS[name] = fn
        return fn
    return register


def empty():
    pass


@workload("process_start_join")
def process_start_join(ctx, n):
    t0 = time.perf_counter()
    for _ in range(n):
        p = ctx.Process(target=empty)
        p.start()
        p.join()
        if p.exitcode != 0:
            raise RuntimeError("child failed: exitcode %r" % p.exitcode)
    return time.perf_counter() - t0


def value_increment_worker(v, start, n):
    start.wait()
    for _ in range(n):
        with v.get_lock():
            v.value += 1


@workload("value_increment")
def value_increment(ctx, n):
    v = ctx.Value("i", 0)
    start = ctx.Barrier(3)
    half = n // 2
    procs = [ctx.Process(target=value_increment_worker, args=(v, start, c))
             for c in (half, n - half)]
    for p in procs:
        p.start()
    t0 = time.perf_counter()
    start.wait()
    for p in procs:
        p.join()
    seconds = time.perf_counter() - t0
    if v.value != n:
        raise RuntimeError("lost increments: %d of %d" % (v.value, n))
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("context")
    parser.add_argument("iterations", type=int)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    ctx = multiprocessing.get_context(args.context)
    fn = WORKLOADS[args.workload]
    if args.warmup:
        fn(ctx, args.warmup)
    seconds = fn(ctx, args.iterations)
    json.dump({"workload": args.workload, "impl": "python_" + args.context,
               "iterations": args.iterations, "seconds": seconds}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
