#!/usr/bin/env python3
"""Runs the C++ benchmarks and their Python multiprocessing equivalents in one
run and prints them side by side, with ratios.

    cmake --build build --target mp_all_bench
    python3 bench/run.py --build build

Every implementation of every workload is measured --repeat times, in
rounds (ours and raw, Python fork, Python spawn, then again), each
measurement in a fresh process after a few untimed warm-up iterations; the
table shows the median per-iteration time (spread with --verbose). Within a
measurement, ours and raw take turns every --interleave iterations, so a
burst of load on the machine hits both alike.

Adding a workload: a C++ function registered with BENCH_WORKLOAD in a
bench/bench_<name>.cpp, a Python function registered with @workload in
bench/py_workloads.py, and an entry in WORKLOADS below.
"""
import argparse
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PY_WORKLOADS = os.path.join(HERE, "py_workloads.py")


@dataclasses.dataclass
class Workload:
    name: str            # the name in BENCH_WORKLOAD and in @workload
    title: str           # what the table calls it
    binary: str          # the C++ program (a target in bench/CMakeLists.txt)
    iterations: int      # per measurement
    ours: str = "ours"   # the C++ impl of this library
    raw: str = ""        # the C++ impl that is the floor (empty: none)
    raw_title: str = ""  # how the floor is described under the table
    python_contexts: tuple = ("fork", "spawn")
    interleave: bool = True  # False where one iteration is too small to time alone


WORKLOADS = [
    Workload(
        name="process_start_join",
        title="Process start+join, empty target",
        binary="bench_process",
        iterations=300,
        raw="raw_fork",
        raw_title="raw = fork(); _exit(0) in the child; waitpid() in the parent",
    ),
    Workload(
        name="value_increment",
        title="Value<int> += 1 under its lock, 2 processes",
        binary="bench_sharedctypes",
        iterations=1000000,
        raw="ours_get_obj",
        raw_title="raw = the same lock, then ++ on the shared int (get_obj())",
        python_contexts=("fork",),
        interleave=False,
    ),
    # Next: pipe_round_trip (bench_connection), queue_throughput
    # (bench_queues), pool_map (bench_pool): same shape.
]


def machine_info():
    lines = []
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = ""
    try:
        load = "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        pass
    lines.append("machine: %s, nproc %d, %s %s %s" % (
        cpu or platform.machine(), os.cpu_count() or 0, platform.system(),
        platform.release(), platform.machine()))
    lines.append("python:  %s %s; load average %s" % (
        platform.python_implementation(), platform.python_version(), load))
    return "\n".join(lines)


def run_json(cmd):
    """Runs cmd, returns the JSON objects it printed one per line."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    if proc.returncode != 0:
        sys.exit("bench/run.py: %s failed (exit %d):\n%s" % (
            " ".join(cmd), proc.returncode, proc.stderr))
    results = [json.loads(line) for line in proc.stdout.splitlines()
               if line.startswith("{")]
    if not results:
        sys.exit("bench/run.py: %s printed no result:\n%s" % (
            " ".join(cmd), proc.stdout + proc.stderr))
    return results


def measure_cpp(binary, workload, impls, iterations, warmup, interleave):
    """One measurement of each C++ impl, interleaved: {impl: seconds per iteration}."""
    cmd = [binary, "--workload", workload, "--iterations", str(iterations),
           "--warmup", str(warmup), "--interleave", str(interleave), "--repeat", "1", "--json"]
    for impl in impls:
        cmd += ["--impl", impl]
    results = run_json(cmd)
    return {r["impl"]: (r["seconds"] / r["iterations"], r["cpu_seconds"] / r["iterations"])
            for r in results}


def measure_python(python, workload, context, iterations, warmup):
    [r] = run_json([python, PY_WORKLOADS, workload, context, str(iterations),
                    "--warmup", str(warmup)])
    return r["seconds"] / r["iterations"]


def find_binary(build, name):
    """<build>/bench/<name>, or <build>/<name> when given the bench directory."""
    for path in (os.path.join(build, "bench", name), os.path.join(build, name)):
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    sys.exit("bench/run.py: %s not built: cmake --build %s --target %s" % (
        name, build, name))


def fmt_ms(seconds):
    if seconds is None:
        return "-"
    ms = seconds * 1e3
    return "%.3f" % ms if ms < 10 else "%.1f" % ms


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return "%.2fx" % (a / b)


def print_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    def line(cells):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def main():
    parser = argparse.ArgumentParser(
        description="Compare multiprocessing-cpp with Python's multiprocessing.")
    parser.add_argument("--build", default="build",
                        help="CMake build directory (default: build)")
    parser.add_argument("--workload", action="append",
                        help="run only this workload (may be repeated)")
    parser.add_argument("--iterations", type=int,
                        help="iterations per measurement (default: each workload's own)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="measurements per implementation, interleaved (default 5)")
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed iterations before each measurement (default 3)")
    parser.add_argument("--contexts", default=None,
                        help="Python start methods to compare, comma-separated "
                             "(default: fork,spawn; empty: C++ only)")
    parser.add_argument("--python", default=sys.executable,
                        help="the Python to compare with (default: this one)")
    parser.add_argument("--interleave", type=int, default=10,
                        help="the C++ implementations take turns, this many iterations "
                             "each (default 10; 0: one after the other)")
    parser.add_argument("--stat", choices=("median", "min"), default="median",
                        help="how the measurements are summarised (default: median)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="print every measurement and the spread")
    parser.add_argument("--list", action="store_true", help="list the workloads")
    args = parser.parse_args()

    if args.list:
        for w in WORKLOADS:
            print("%-24s %-14s %5d  %s" % (w.name, w.binary, w.iterations, w.title))
        return
    selected = [w for w in WORKLOADS if not args.workload or w.name in args.workload]
    if not selected:
        sys.exit("bench/run.py: no such workload (see --list)")
    if args.repeat < 1 or (args.iterations is not None and args.iterations < 1):
        sys.exit("bench/run.py: --repeat and --iterations must be at least 1")

    if args.contexts is None:
        contexts = None  # each workload's own
    else:
        contexts = [c for c in args.contexts.split(",") if c]
    stat = min if args.stat == "min" else statistics.median

    print(machine_info())
    print("per-iteration time in ms, %s of %d measurements" % (
        "best" if args.stat == "min" else "median", args.repeat))
    print()

    # Columns: ours, each Python context, raw; then the ratios.
    all_contexts = []
    for w in selected:
        for ctx in (w.python_contexts if contexts is None else contexts):
            if ctx not in all_contexts:
                all_contexts.append(ctx)
    header = (["workload", "ours"] + ["py %s" % c for c in all_contexts]
              + ["raw", "ours/raw", "ours/raw cpu"]
              + ["py %s/ours" % c for c in all_contexts])
    rows = []
    notes = []
    for w in selected:
        binary = find_binary(args.build, w.binary)
        n = args.iterations or w.iterations
        cpp = {w.ours: "ours"}
        if w.raw:
            cpp[w.raw] = "raw"
        py_contexts = w.python_contexts if contexts is None else contexts
        samples = {label: [] for label in list(cpp.values()) + ["py " + c for c in py_contexts]}
        cpu = {label: [] for label in cpp.values()}
        for _ in range(args.repeat):  # rounds, so drift hits every column alike
            for impl, (seconds, cpu_seconds) in measure_cpp(
                    binary, w.name, list(cpp), n, args.warmup,
                    args.interleave if w.interleave else 0).items():
                samples[cpp[impl]].append(seconds)
                cpu[cpp[impl]].append(cpu_seconds)
            for ctx in py_contexts:
                samples["py " + ctx].append(
                    measure_python(args.python, w.name, ctx, n, args.warmup))
        value = {label: stat(s) for label, s in samples.items()}
        if args.verbose:
            for label, s in samples.items():
                print("%s  %-9s %s  (min %s, median %s, max %s)" % (
                    w.name, label, " ".join(fmt_ms(x) for x in s), fmt_ms(min(s)),
                    fmt_ms(statistics.median(s)), fmt_ms(max(s))))
            for label, s in cpu.items():
                print("%s  %-9s %s  (CPU time, parent and children)" % (
                    w.name, label, " ".join(fmt_ms(x) for x in s)))
        ours = value["ours"]
        raw = value.get("raw")
        py = [value.get("py " + c) for c in all_contexts]
        cpu_ratio = (fmt_ratio(stat(cpu["ours"]), stat(cpu["raw"])) if "raw" in cpu else "-")
        rows.append([w.title + " (x%d)" % n, fmt_ms(ours)] + [fmt_ms(v) for v in py]
                    + [fmt_ms(raw), fmt_ratio(ours, raw), cpu_ratio]
                    + [fmt_ratio(v, ours) for v in py])
        if w.raw_title:
            notes.append(w.raw_title)
    if args.verbose:
        print()
    print_table(header, rows)
    for note in notes:
        print(note)
    print("ours/raw cpu: the same ratio in CPU time (parent and children), "
          "less sensitive to other load")

if __name__ == "__main__":
    main()
