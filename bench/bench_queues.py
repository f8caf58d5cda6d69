"""Python's multiprocessing.Queue on the cases of bench_queues.cpp.

    python3 bench/bench_queues.py          # or: python3 bench/bench_queues.py quick

small: 1 producer -> 1 consumer, eight-byte integers (messages/s)
large: 1 producer -> 1 consumer, 1 MiB bytes messages (GB/s)
2p2c:  2 producers -> 2 consumers, integers (messages/s)
rtt:   one small message each way through two Queues, and through a Pipe (us)
Each case runs `repeat` times; the best is printed (the machine is shared).
"""
import sys
import time
from multiprocessing import Pipe, Process, Queue

QUICK = len(sys.argv) > 1 and sys.argv[1] == "quick"
REPEAT = 1 if QUICK else 3
SMALL_N = 100_000 if QUICK else 1_000_000
LARGE_N = 64 if QUICK else 512  # 512 MiB: Python is slow; the rate is what counts
RTT_N = 5_000 if QUICK else 20_000
MIB = 1 << 20


def producer(q, n):
    for i in range(n):
        q.put(i)


def small():
    q = Queue()
    p = Process(target=producer, args=(q, SMALL_N))
    t0 = time.perf_counter()
    p.start()
    for _ in range(SMALL_N):
        q.get()
    dt = time.perf_counter() - t0
    p.join()
    return SMALL_N / dt


def large_producer(q, n):
    msg = b"x" * MIB
    for _ in range(n):
        q.put(msg)


def large():
    q = Queue()
    p = Process(target=large_producer, args=(q, LARGE_N))
    t0 = time.perf_counter()
    p.start()
    total = 0
    for _ in range(LARGE_N):
        total += len(q.get())
    dt = time.perf_counter() - t0
    p.join()
    return total / dt / 1e9


def consumer(q, done):
    got = 0
    while q.get() >= 0:
        got += 1
    done.put(got)


def two_by_two():
    q, done = Queue(), Queue()
    per = SMALL_N // 2
    ps = [Process(target=producer, args=(q, per)) for _ in range(2)]
    cs = [Process(target=consumer, args=(q, done)) for _ in range(2)]
    t0 = time.perf_counter()
    for p in ps + cs:
        p.start()
    for p in ps:
        p.join()
    q.put(-1)
    q.put(-1)
    total = done.get() + done.get()
    dt = time.perf_counter() - t0
    for c in cs:
        c.join()
    return total / dt


def echo(inq, outq, n):
    for _ in range(n):
        outq.put(inq.get())


def rtt_queue():
    ping, pong = Queue(), Queue()
    p = Process(target=echo, args=(ping, pong, RTT_N + 1))
    p.start()
    ping.put(-1)
    pong.get()
    t0 = time.perf_counter()
    for i in range(RTT_N):
        ping.put(i)
        pong.get()
    dt = time.perf_counter() - t0
    p.join()
    return dt / RTT_N * 1e6


def echo_pipe(conn, n):
    for _ in range(n):
        conn.send(conn.recv())


def rtt_pipe():
    a, b = Pipe()
    p = Process(target=echo_pipe, args=(b, RTT_N + 1))
    p.start()
    a.send(-1)
    a.recv()
    t0 = time.perf_counter()
    for i in range(RTT_N):
        a.send(i)
        a.recv()
    dt = time.perf_counter() - t0
    p.join()
    return dt / RTT_N * 1e6


if __name__ == "__main__":
    best = lambda f, hi=True: (max if hi else min)(f() for _ in range(REPEAT))
    print("case                              python multiprocessing")
    print(f"small 1p->1c (M msg/s)            {best(small) / 1e6:10.3f}", flush=True)
    print(f"large 1 MiB (GB/s)                {best(large):10.3f}", flush=True)
    print(f"small 2p->2c (M msg/s)            {best(two_by_two) / 1e6:10.3f}", flush=True)
    print(f"round trip, 2 Queues (us)         {best(rtt_queue, False):10.2f}", flush=True)
    print(f"round trip, Pipe (us)             {best(rtt_pipe, False):10.2f}", flush=True)
