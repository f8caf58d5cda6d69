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


# ---------------------------------------------------------------- queues
# The cases of bench/bench_queues.cpp. Every child waits on a Barrier before
# it starts, so process start-up stays out of the timing; the timing ends
# when every message has arrived and every child has been joined.

MIB = 1 << 20


def _timed(start, procs, body):
    """Starts procs, then times from the barrier to body() and every join."""
    for p in procs:
        p.start()
    start.wait()
    t0 = time.perf_counter()
    result = body()
    for p in procs:
        p.join()
    seconds = time.perf_counter() - t0
    for p in procs:
        if p.exitcode != 0:
            raise RuntimeError("child failed: exitcode %r" % p.exitcode)
    return seconds, result


def queue_producer(q, start, n):
    start.wait()
    for i in range(n):
        q.put(i)


def queue_consumer(q, start, n):
    start.wait()
    for _ in range(n):
        q.get()


def _check_sum(total, n):
    if total != n * (n - 1) // 2:
        raise RuntimeError("lost or corrupted messages")


@workload("queue_small")
def queue_small(ctx, n):
    """1 producer -> 1 consumer (this process), n small integers."""
    q = ctx.Queue()
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=queue_producer, args=(q, start, n))]
    seconds, total = _timed(start, procs, lambda: sum(q.get() for _ in range(n)))
    _check_sum(total, n)
    return seconds


def queue_large_producer(q, start, n):
    msg = b"x" * MIB
    start.wait()
    for _ in range(n):
        q.put(msg)


@workload("queue_large")
def queue_large(ctx, n):
    """1 producer -> 1 consumer, n messages of 1 MiB (bytes)."""
    q = ctx.Queue()
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=queue_large_producer, args=(q, start, n))]
    seconds, total = _timed(start, procs, lambda: sum(len(q.get()) for _ in range(n)))
    if total != n * MIB:
        raise RuntimeError("lost bytes")
    return seconds


@workload("queue_2p2c")
def queue_2p2c(ctx, n):
    """2 producers -> 2 consumers, n small integers in all."""
    q = ctx.Queue()
    start = ctx.Barrier(5)
    shares = (n // 2, n - n // 2)
    procs = ([ctx.Process(target=queue_producer, args=(q, start, k)) for k in shares]
             + [ctx.Process(target=queue_consumer, args=(q, start, k)) for k in shares])
    seconds, _ = _timed(start, procs, lambda: None)
    return seconds


def queue_echo(inq, outq, start, n):
    start.wait()
    for _ in range(n):
        outq.put(inq.get())


@workload("queue_round_trip")
def queue_round_trip(ctx, n):
    """One small message each way through two Queues, n times."""
    ping, pong = ctx.Queue(), ctx.Queue()
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=queue_echo, args=(ping, pong, start, n))]

    def body():
        total = 0
        for i in range(n):
            ping.put(i)
            total += pong.get()
        return total
    seconds, total = _timed(start, procs, body)
    _check_sum(total, n)
    return seconds


def pipe_echo(conn, start, n):
    start.wait()
    for _ in range(n):
        conn.send(conn.recv())


@workload("pipe_round_trip")
def pipe_round_trip(ctx, n):
    """One small message each way through a duplex Pipe, n times."""
    a, b = ctx.Pipe()
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=pipe_echo, args=(b, start, n))]

    def body():
        total = 0
        for i in range(n):
            a.send(i)
            total += a.recv()
        return total
    seconds, total = _timed(start, procs, body)
    _check_sum(total, n)
    return seconds


# ------------------------------------------------------------ Pipe / Connection
# The cases of bench/bench_connection.cpp (pipe_round_trip is above), shaped
# like the queue ones: the child waits on a Barrier, the timing ends at its join.

def pipe_echo_bytes(conn, start, n):
    start.wait()
    for _ in range(n):
        conn.send_bytes(conn.recv_bytes())


@workload("pipe_round_trip_bytes")
def pipe_round_trip_bytes(ctx, n):
    """4 bytes each way through a duplex Pipe, send_bytes/recv_bytes, n times."""
    a, b = ctx.Pipe()
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=pipe_echo_bytes, args=(b, start, n))]

    def body():
        total = 0
        for i in range(n):
            a.send_bytes(i.to_bytes(4, "little"))
            total += int.from_bytes(a.recv_bytes(), "little")
        return total
    seconds, total = _timed(start, procs, body)
    _check_sum(total, n)
    return seconds


def pipe_large_sender(conn, start, n):
    msg = b"x" * MIB
    start.wait()
    for _ in range(n):
        conn.send_bytes(msg)


@workload("pipe_large")
def pipe_large(ctx, n):
    """n messages of 1 MiB from a child to this process, send_bytes/recv_bytes."""
    a, b = ctx.Pipe()
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=pipe_large_sender, args=(b, start, n))]
    seconds, total = _timed(start, procs, lambda: sum(len(a.recv_bytes()) for _ in range(n)))
    if total != n * MIB:
        raise RuntimeError("lost bytes")
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
