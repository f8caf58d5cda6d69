#!/usr/bin/env python3
"""Runs the C++ benchmarks and their Python multiprocessing equivalents in one
run and prints them side by side, with ratios.

    cmake --build build --target mp_all_bench
    python3 bench/run.py --build build

Every implementation of every workload is measured --repeat times, in
rounds (the C++ ones, then each Python one, then again), each measurement
in a fresh process after a few untimed warm-up iterations; the table shows
one row per implementation: the median per-iteration time, the rate for
throughput workloads, and its time over ours (spread with --verbose).
Within a measurement, the C++ implementations take turns every
--interleave iterations where the workload allows it, so a burst of load
on the machine hits them alike.

Adding a workload: a C++ function registered with BENCH_WORKLOAD in a
bench/bench_<name>.cpp, a Python function registered with @workload in
bench/py_workloads.py, and an entry in WORKLOADS below (bench/README.md).
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
class Cpp:
    """Another C++ implementation in the workload's program (BENCH_WORKLOAD)."""
    impl: str            # its name in BENCH_WORKLOAD
    label: str           # how the table calls it


@dataclasses.dataclass
class Py:
    """A Python measurement (a @workload in bench/py_workloads.py)."""
    context: str         # the start method: "fork", "spawn", "forkserver"
    workload: str = ""   # the @workload name (default: the workload's own)
    label: str = ""      # how the table calls it (default "py <context>")


@dataclasses.dataclass(frozen=True)
class Within:
    """A goal relative to a floor: ours should take at most `factor` times
    that row's time (e.g. Within(1.2) of the raw round trip)."""
    factor: float


def goal_text(goal, it, ours):
    """The goal column: ">=5x met" (ours at least 5x faster than that row),
    "within 1.2x not met" (ours at most 1.2x that row's time)."""
    if isinstance(goal, Within):
        return "within %gx %s" % (goal.factor, "met" if ours <= goal.factor * it else "not met")
    return ">=%gx %s" % (goal, "met" if it / ours >= goal else "not met")


@dataclasses.dataclass
class Workload:
    name: str            # the name in BENCH_WORKLOAD and in @workload
    title: str           # what the table calls it
    binary: str          # the C++ program (a target in bench/CMakeLists.txt)
    iterations: int      # per measurement
    ours: str = "ours"   # the C++ impl of this library
    raw: str = ""        # the C++ impl that is the floor (empty: none), labelled "raw"
    raw_title: str = ""  # how the floor is described under the table
    python_contexts: tuple = ("fork", "spawn")  # Python's own workload, labelled "py <ctx>"
    compare: tuple = ()  # more rows: Cpp peers (e.g. Boost), Py entries of other workloads
    unit: str = ""       # "messages", "bytes": a throughput workload, shown as a rate too
    per_iteration: float = 1  # units one iteration moves (e.g. 1 MiB of bytes)
    python_iterations: int = 0  # iterations of the Python measurements (0: the same)
    goals: dict = dataclasses.field(default_factory=dict)  # label -> N: ours >= Nx faster;
                                                           # Within(N): ours <= N x its time
    interleave: bool = True  # False where one iteration is too small to time alone,
                             # or each measurement starts processes (throughput)

    def others(self, contexts):
        """The rows after ours: Cpp peers, raw, then Python (filtered by contexts)."""
        rows = [c for c in self.compare if isinstance(c, Cpp)]
        if self.raw:
            rows.append(Cpp(self.raw, "raw"))
        for ctx in (self.python_contexts if contexts is None else contexts):
            rows.append(Py(ctx, self.name, "py " + ctx))
        for c in self.compare:
            if isinstance(c, Py) and (contexts is None or c.context in contexts):
                rows.append(Py(c.context, c.workload or self.name,
                               c.label or "py " + c.context))
        return rows


MIB = 1 << 20

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
    Workload(
        name="queue_small",
        title="Queue, 1 producer -> 1 consumer, 8-byte ints",
        binary="bench_queues",
        iterations=1000000,
        unit="messages",
        compare=(Cpp("boost", "boost"),),
        python_contexts=("fork",),
        goals={"boost": 2, "py fork": 80},
        interleave=False,
    ),
    Workload(
        name="queue_large",
        title="Queue, 1 producer -> 1 consumer, 1 MiB messages",
        binary="bench_queues",
        iterations=512,  # 512 MiB (the 2 GiB, shortened)
        unit="bytes",
        per_iteration=MIB,
        compare=(Cpp("boost", "boost"),),
        raw="ours_ring",
        raw_title="raw = the queue's ring alone: bytes in, "
                  "bytes copied out, no value codec",
        python_contexts=("fork",),
        goals={"boost": 2},
        interleave=False,
    ),
    Workload(
        name="queue_2p2c",
        title="Queue, 2 producers -> 2 consumers, 8-byte ints",
        binary="bench_queues",
        iterations=1000000,
        unit="messages",
        compare=(Cpp("boost", "boost"),),
        python_contexts=("fork",),
        interleave=False,
    ),
    Workload(
        name="queue_round_trip",
        title="Round trip, 1 message each way, 2 queues",
        binary="bench_queues",
        iterations=100000,
        python_iterations=20000,
        compare=(Cpp("boost", "boost"),
                 Py("fork", "pipe_round_trip", "py Pipe fork")),
        raw="raw_pipe",
        raw_title="raw = 8 bytes each way through two pipes "
                  "(write()/read())",
        python_contexts=("fork",),
        goals={"py Pipe fork": 25},
        interleave=False,
    ),
    Workload(
        name="pipe_round_trip",
        title="Pipe round trip, small int, send/recv",
        binary="bench_connection",
        iterations=100000,
        python_iterations=20000,
        raw="raw_socketpair",
        raw_title="raw = 4 bytes each way through a socketpair (write()/read())",
        python_contexts=("fork",),
        goals={"raw": Within(1.2)},
        interleave=False,
    ),
    Workload(
        name="pipe_round_trip_bytes",
        title="Pipe round trip, 4 bytes, send_bytes/recv_bytes",
        binary="bench_connection",
        iterations=100000,
        python_iterations=20000,
        raw="raw_socketpair",
        raw_title="raw = 4 bytes each way through a socketpair (write()/read())",
        python_contexts=("fork",),
        goals={"raw": Within(1.2)},
        interleave=False,
    ),
    Workload(
        name="pipe_large",
        title="Pipe, child -> parent, 1 MiB messages, send_bytes/recv_bytes",
        binary="bench_connection",
        iterations=1024,  # 1 GiB
        unit="bytes",
        per_iteration=MIB,
        compare=(Cpp("ours_string", "ours recv<string>"),
                 Cpp("ours_into", "ours recv_bytes_into")),
        raw="raw_socketpair",
        raw_title="raw = 1 MiB write()/read() loops on a socketpair, no framing",
        python_contexts=("fork",),
        goals={"py fork": 5},
        interleave=False,
    ),
]

# Pool (bench_pool): one iteration is one task; the pool is made and warmed
# before the clock starts, on both sides.
WORKLOADS += [
    Workload(
        name="pool_map",
        title="Pool(2).map(identity, ints), default chunksize",
        binary="bench_pool",
        iterations=1000000,
        unit="tasks",
        python_contexts=("fork",),
        goals={"py fork": 10},
        interleave=False,
    ),
    Workload(
        name="pool_map_chunksize_1",
        title="Pool(2).map(identity, ints, chunksize=1)",
        binary="bench_pool",
        iterations=100000,
        unit="tasks",
        python_contexts=("fork",),
        goals={"py fork": 20},
        interleave=False,
    ),
    Workload(
        name="pool_apply_async",
        title="Pool(2).apply_async(identity, i), then get() each",
        binary="bench_pool",
        iterations=20000,
        unit="tasks",
        python_contexts=("fork",),
        goals={"py fork": 20},
        interleave=False,
    ),
    Workload(
        name="pool_primes",
        title="Primes in blocks of 20,000 numbers, Pool(2).map vs serial",
        binary="bench_pool",
        iterations=64,
        python_iterations=8,  # about 1 s of CPU per block in Python
        raw="raw_fork",
        raw_title="raw = half the blocks in a fork()ed child, half in the parent, "
                  "no pool (what 2 busy processes get from the machine now); "
                  "serial/ours is the speedup of Pool(2)",
        compare=(Cpp("serial", "serial"),),
        python_contexts=(),   # slow; --contexts fork adds Python's Pool(2)
        goals={"serial": 1.9},
        interleave=False,     # a block per turn would not split over 2 workers
    ),
]


# Managers (bench_managers): the manager and the child are started before
# the clock starts, on both sides; Python's manager is a server process that
# every proxy call goes to and back.
WORKLOADS += [
    Workload(
        name="manager_dict",
        title="manager.dict(): d[k] = i / d[k] from a child, 1024 int keys",
        binary="bench_managers",
        iterations=400000,  # the server rows take ~10 us per call
        python_iterations=20000,
        unit="ops",
        compare=(Cpp("server_pipe", "server, Pipe"), Cpp("server_queues", "server, 2 Queues")),
        python_contexts=("fork",),
        goals={"py fork": 100},
        interleave=False,
    ),
    Workload(
        name="manager_value",
        title="manager.Value(): v.value = i / v.value from a child",
        binary="bench_managers",
        iterations=1000000,
        python_iterations=20000,
        unit="ops",
        python_contexts=("fork",),
        interleave=False,
    ),
    Workload(
        name="manager_queue",
        title="manager.Queue(), 1 producer child -> parent, 8-byte ints",
        binary="bench_managers",
        iterations=1000000,
        python_iterations=20000,
        unit="messages",
        compare=(Cpp("ours_queue", "ours mp::Queue"),),
        python_contexts=("fork",),
        goals={"py fork": 100},
        interleave=False,
    ),
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
    """One measurement of each C++ impl, interleaved:
    {impl: (seconds per iteration, CPU seconds per iteration)}."""
    cmd = [binary, "--workload", workload, "--iterations", str(iterations),
           "--warmup", str(warmup), "--interleave", str(interleave), "--repeat", "1", "--json"]
    for impl in impls:
        cmd += ["--impl", impl]
    results = run_json(cmd)
    missing = set(impls) - {r["impl"] for r in results}
    if missing:
        sys.exit("bench/run.py: %s has no impl %s for %s (see --list)" % (
            binary, ", ".join(sorted(missing)), workload))
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


def fmt_time(seconds):
    """A per-iteration time with a unit that keeps 3 or 4 digits."""
    if seconds is None:
        return "-"
    for scale, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")):
        if seconds >= scale or unit == "ns":
            v = seconds / scale
            return ("%.1f %s" if v >= 100 else "%.2f %s" if v >= 10 else "%.3f %s") % (v, unit)


def fmt_rate(seconds, unit, per_iteration):
    """Units per second: "10.3 M msg/s", "1.52 GB/s"; "-" without a unit."""
    if not unit or not seconds:
        return "-"
    v = per_iteration / seconds
    prefix = ""
    for scale, p in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= scale:
            v, prefix = v / scale, p
            break
    text = ("%.3g" % v) if v < 1000 else ("%.0f" % v)
    if unit == "bytes":
        return "%s %sB/s" % (text, prefix)
    short = {"messages": "msg"}.get(unit, unit)
    return "%s %s%s/s" % (text, prefix + " " if prefix else "", short)


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    r = a / b
    return "%.2fx" % r if r < 10 else "%.1fx" % r if r < 100 else "%.0fx" % r


def print_table(header, rows, markdown=False):
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print("| " + " | ".join(str(c) if c != "" else " " for c in r) + " |")
        return
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    def line(cells):
        return "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
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
                        help="iterations per measurement, C++ and Python "
                             "(default: each workload's own)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="measurements per implementation, in rounds (default 5)")
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed iterations before each measurement (default 3)")
    parser.add_argument("--contexts", default=None,
                        help="Python start methods to compare, comma-separated "
                             "(default: each workload's own; empty: C++ only)")
    parser.add_argument("--python", default=sys.executable,
                        help="the Python to compare with (default: this one)")
    parser.add_argument("--interleave", type=int, default=10,
                        help="the C++ implementations take turns, this many iterations "
                             "each, where the workload allows it (default 10; "
                             "0: one after the other)")
    parser.add_argument("--stat", choices=("median", "min"), default="median",
                        help="how the measurements are summarised (default: median)")
    parser.add_argument("--markdown", action="store_true",
                        help="print the table as Markdown")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="print every measurement and the spread")
    parser.add_argument("--list", action="store_true", help="list the workloads")
    args = parser.parse_args()

    if args.list:
        for w in WORKLOADS:
            print("%-20s %-18s %8d  %s" % (w.name, w.binary, w.iterations, w.title))
        return
    selected = [w for w in WORKLOADS if not args.workload or w.name in args.workload]
    if not selected:
        sys.exit("bench/run.py: no such workload (see --list)")
    if args.repeat < 1 or (args.iterations is not None and args.iterations < 1):
        sys.exit("bench/run.py: --repeat and --iterations must be at least 1")

    contexts = None if args.contexts is None else [c for c in args.contexts.split(",") if c]
    stat = min if args.stat == "min" else statistics.median

    print(machine_info())
    print("%s of %d measurements; it/ours: its time over ours (above 1: ours is faster)" % (
        "best" if args.stat == "min" else "median", args.repeat))
    print()

    header = ["workload", "impl", "per iteration", "rate", "it/ours", "it/ours cpu", "goal"]
    rows = []
    notes = []
    for w in selected:
        binary = find_binary(args.build, w.binary)
        n = args.iterations or w.iterations
        n_py = args.iterations or w.python_iterations or w.iterations
        others = w.others(contexts)
        cpp = [w.ours] + [o.impl for o in others if isinstance(o, Cpp)]
        labels = {w.ours: "ours"}
        labels.update({o.impl: o.label for o in others if isinstance(o, Cpp)})
        samples = {label: [] for label in ["ours"] + [o.label for o in others]}
        cpu = {label: [] for label in labels.values()}
        for _ in range(args.repeat):  # rounds, so drift hits every row alike
            for impl, (seconds, cpu_seconds) in measure_cpp(
                    binary, w.name, cpp, n, args.warmup,
                    args.interleave if w.interleave else 0).items():
                samples[labels[impl]].append(seconds)
                cpu[labels[impl]].append(cpu_seconds)
            for o in others:
                if isinstance(o, Py):
                    samples[o.label].append(
                        measure_python(args.python, o.workload, o.context, n_py, args.warmup))
        value = {label: stat(s) for label, s in samples.items()}
        if args.verbose:
            for label, s in samples.items():
                print("%s  %-13s %s  (min %s, median %s, max %s)" % (
                    w.name, label, " ".join(fmt_time(x) for x in s), fmt_time(min(s)),
                    fmt_time(statistics.median(s)), fmt_time(max(s))))
            for label, s in cpu.items():
                print("%s  %-13s %s  (CPU time, parent and children)" % (
                    w.name, label, " ".join(fmt_time(x) for x in s)))
        ours = value["ours"]
        title = w.title + " (x%d%s)" % (n, "" if n_py == n else ", Python x%d" % n_py)
        rows.append([title, "ours", fmt_time(ours), fmt_rate(ours, w.unit, w.per_iteration),
                     "", "", ""])
        for o in others:
            v = value[o.label]
            cpu_ratio = (fmt_ratio(stat(cpu[o.label]), stat(cpu["ours"]))
                         if o.label in cpu else "")
            goal = w.goals.get(o.label)
            rows.append(["", o.label, fmt_time(v), fmt_rate(v, w.unit, w.per_iteration),
                         fmt_ratio(v, ours), cpu_ratio,
                         goal_text(goal, v, ours) if goal else ""])
        if w.raw_title and w.raw:
            notes.append("%s: %s" % (w.name, w.raw_title))
    if args.verbose:
        print()
    print_table(header, rows, args.markdown)
    print()
    for note in notes:
        print(note)
    print("it/ours cpu: the same ratio in CPU time (parent and children), "
          "less sensitive to other load")
    if any(w.goals for w in selected):
        print("goal: >=Nx: ours should be at least N times faster than that row; "
              "within Nx: ours should take at most N times its time")


if __name__ == "__main__":
    main()
