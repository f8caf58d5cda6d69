#!/usr/bin/env python3
"""Pool throughput: multiprocessing-cpp against Python's multiprocessing.Pool, in one run.

Workloads (the same in bench_pool.cpp; throughput: best of 3 runs in one process):
  map of identity over 1,000,000 ints, default chunksize      (tasks/s)
  map of identity over 100,000 ints, chunksize 1              (tasks/s)
  20,000 apply_async calls                                    (tasks/s)
  CPU-bound map (primes in 64 blocks) serial vs Pool(2)      (speedup)
    (blocks of 20,000 numbers in C++, 2,000 in Python, so that Python's
    serial run takes seconds, not minutes; the figure is a ratio)
  control: the parallel speedup two busy processes get on the machine now

Usage:
  python3 bench/bench_pool.py [--cxx-binary PATH] [--repeat N]
Without --cxx-binary, compiles bench/bench_pool.cpp with g++ -O2 first.
"""
import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def identity(x):
    return x


def count_primes(block):
    count = 0
    for n in range(block * 2000, (block + 1) * 2000):
        if n < 2:
            continue
        d = 2
        prime = True
        while d * d <= n:
            if n % d == 0:
                prime = False
                break
            d += 1
        count += prime
    return count


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def python_figures():
    out = {}
    with mp.Pool(2) as pool:
        pool.apply(identity, (0,))
        # Best of 3 runs in this process, as bench_pool.cpp does.
        v = list(range(1000000))
        best = min(timed(lambda: pool.map(identity, v)) for _ in range(3))
        out["map_default_chunksize"] = 1e6 / best
        v = list(range(100000))
        best = min(timed(lambda: pool.map(identity, v, 1)) for _ in range(3))
        out["map_chunksize_1"] = 1e5 / best

        def apply_all():
            rs = [pool.apply_async(identity, (i,)) for i in range(20000)]
            for r in rs:
                r.get()

        best = min(timed(apply_all) for _ in range(3))
        out["apply_async"] = 2e4 / best
        blocks = list(range(64))
        s1 = s2 = 1e9
        for _ in range(3):  # best of 3 each, interleaved
            t0 = time.perf_counter()
            serial = sum(count_primes(b) for b in blocks)
            s1 = min(s1, time.perf_counter() - t0)
            t0 = time.perf_counter()
            par = sum(pool.map(count_primes, blocks))
            s2 = min(s2, time.perf_counter() - t0)
            assert par == serial
        out["primes_speedup"] = s1 / s2
    return out


def cxx_figures(binary):
    text = subprocess.run([binary], check=True, capture_output=True, text=True).stdout
    out = {}
    for line in text.splitlines():
        name, value, _unit = line.split()
        out[name] = float(value)
    return out


def best(runs, key, higher=True):
    values = [r[key] for r in runs]
    return max(values) if higher else min(values)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cxx-binary")
    ap.add_argument("--repeat", type=int, default=3, help="C++ runs (best is kept)")
    ap.add_argument("--py-repeat", type=int, default=1, help="Python runs")
    args = ap.parse_args()
    binary = args.cxx_binary
    if not binary:
        binary = os.path.join(tempfile.mkdtemp(), "bench_pool")
        subprocess.run(["g++", "-O2", "-std=c++17", "-I" + os.path.join(ROOT, "include"),
                        os.path.join(HERE, "bench_pool.cpp"), "-o", binary, "-pthread"],
                       check=True)
    cxx = [cxx_figures(binary) for _ in range(args.repeat)]
    py = [python_figures() for _ in range(args.py_repeat)]
    goals = {"map_default_chunksize": 10, "map_chunksize_1": 20, "apply_async": 20}
    print(f"best of {args.repeat} C++ and {args.py_repeat} Python runs, {os.cpu_count()} cpus")
    print(f"{'workload':24} {'C++':>14} {'Python':>14} {'ratio':>8} {'goal':>6}")
    for key, goal in goals.items():
        c, p = best(cxx, key), best(py, key)
        print(f"{key:24} {c:14,.0f} {p:14,.0f} {c / p:7.1f}x {goal:5}x")
    c, p = best(cxx, "primes_speedup"), best(py, "primes_speedup")
    print(f"{'primes speedup Pool(2)':24} {c:13.2f}x {p:13.2f}x {'':8} {'1.9':>5}x")
    ctl = best(cxx, "control_parallel_speedup")
    print(f"{'control: 2 busy procs':24} {ctl:13.2f}x   (the machine's parallelism during the run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
