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


# ------------------------------------------------------------------ pool
# The cases of bench/bench_pool.cpp. The Pool(2) is made, and its workers
# have run one apply(), before the clock starts; the input is built before
# it too; the clock stops when every result is back; close() and join() are
# not timed.

POOL_PROCESSES = 2


def identity(x):
    return x


def count_primes(block):
    """The primes in one block of 20,000 numbers from 1,000,000 on (as in
    bench_pool.cpp: blocks repeat every 8)."""
    base = 1000000 + (block % 8) * 20000
    count = 0
    for n in range(base, base + 20000):
        d = 2
        prime = True
        while d * d <= n:
            if n % d == 0:
                prime = False
                break
            d += 1
        count += prime
    return count


PRIMES_PER_BLOCK = (1472, 1433, 1429, 1438, 1444, 1452, 1436, 1428)


def _with_pool(ctx, body):
    pool = ctx.Pool(POOL_PROCESSES)
    try:
        if pool.apply(identity, (7,)) != 7:
            raise RuntimeError("apply returned a wrong value")
        t0 = time.perf_counter()
        result = body(pool)
        seconds = time.perf_counter() - t0
        pool.close()
        pool.join()
    finally:
        pool.terminate()
    return seconds, result


def _check_identity(r, n):
    if len(r) != n or (n and r[-1] != n - 1):
        raise RuntimeError("map returned wrong results")


@workload("pool_map")
def pool_map(ctx, n):
    """pool.map(identity, range(n)), default chunksize."""
    v = list(range(n))
    seconds, r = _with_pool(ctx, lambda pool: pool.map(identity, v))
    _check_identity(r, n)
    return seconds


@workload("pool_map_chunksize_1")
def pool_map_chunksize_1(ctx, n):
    """pool.map(identity, range(n), 1)."""
    v = list(range(n))
    seconds, r = _with_pool(ctx, lambda pool: pool.map(identity, v, 1))
    _check_identity(r, n)
    return seconds


@workload("pool_apply_async")
def pool_apply_async(ctx, n):
    """n pool.apply_async(identity, (i,)), then every get()."""
    def body(pool):
        rs = [pool.apply_async(identity, (i,)) for i in range(n)]
        return sum(r.get() for r in rs)
    seconds, total = _with_pool(ctx, body)
    _check_sum(total, n)
    return seconds


@workload("pool_primes")
def pool_primes(ctx, n):
    """pool.map(count_primes, range(n)): n blocks of CPU-bound work."""
    blocks = list(range(n))
    seconds, r = _with_pool(ctx, lambda pool: pool.map(count_primes, blocks))
    if sum(r) != sum(PRIMES_PER_BLOCK[b % 8] for b in blocks):
        raise RuntimeError("wrong count of primes")
    return seconds



# -------------------------------------------------------------- managers
# The cases of bench/bench_managers.cpp: a Manager() (its server process)
# and a child using its proxies, both started before the clock starts (the
# child waits on a Barrier); the clock stops when the child has been joined.

def manager_ops_worker(obj, start, n, kind):
    """n operations alternating a set and a get of what was just set: on a
    dict, d[k] = i then d[k] (1024 keys); on a Value, v.value = i then v.value."""
    start.wait()
    if kind == "dict":
        for i in range(n):
            k = (i >> 1) & 1023
            if i & 1 == 0:
                obj[k] = i
            elif obj[k] != i - 1:
                raise RuntimeError("dict: wrong value read back")
    else:
        for i in range(n):
            if i & 1 == 0:
                obj.value = i
            elif obj.value != i - 1:
                raise RuntimeError("Value: wrong value read back")


@workload("manager_dict")
def manager_dict(ctx, n):
    """A child sets and gets keys of manager.dict(): n operations."""
    with ctx.Manager() as manager:
        d = manager.dict()
        start = ctx.Barrier(2)
        procs = [ctx.Process(target=manager_ops_worker, args=(d, start, n, "dict"))]
        seconds, _ = _timed(start, procs, lambda: None)
        if n >= 2 and len(d) != min((n + 1) // 2, 1024):
            raise RuntimeError("dict: wrong size")
    return seconds


@workload("manager_value")
def manager_value(ctx, n):
    """A child sets and gets manager.Value('q', 0): n operations."""
    with ctx.Manager() as manager:
        v = manager.Value("q", 0)
        start = ctx.Barrier(2)
        procs = [ctx.Process(target=manager_ops_worker, args=(v, start, n, "value"))]
        seconds, _ = _timed(start, procs, lambda: None)
    return seconds


@workload("manager_queue")
def manager_queue(ctx, n):
    """1 producer child -> 1 consumer (this process) through manager.Queue()."""
    with ctx.Manager() as manager:
        q = manager.Queue()
        start = ctx.Barrier(2)
        procs = [ctx.Process(target=queue_producer, args=(q, start, n))]
        seconds, total = _timed(start, procs, lambda: sum(q.get() for _ in range(n)))
        _check_sum(total, n)
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
