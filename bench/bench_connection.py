# Python's side of bench_connection.cpp: the same measurements with
# multiprocessing.Pipe. Prints "name value" lines; bench_connection runs it.
#   python3 bench/bench_connection.py [round_trips] [mib]
import sys
import time
from multiprocessing import Pipe, Process

ROUND_TRIPS = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
MIB = int(sys.argv[2]) if len(sys.argv) > 2 else 1000


def echo_obj(conn, n):
    for _ in range(n):
        conn.send(conn.recv() + 1)


def echo_bytes(conn, n):
    for _ in range(n):
        conn.send_bytes(conn.recv_bytes())


def stream(conn, n):
    block = b'x' * (1 << 20)
    for _ in range(n):
        conn.send_bytes(block)
    conn.recv_bytes()


def round_trips(target, use_bytes):
    a, b = Pipe()
    p = Process(target=target, args=(b, ROUND_TRIPS))
    p.start()
    start = time.perf_counter()
    if use_bytes:
        msg = (7).to_bytes(4, 'little')
        for _ in range(ROUND_TRIPS):
            a.send_bytes(msg)
            msg = a.recv_bytes()
    else:
        x = 0
        for _ in range(ROUND_TRIPS):
            a.send(x)
            x = a.recv()
    elapsed = time.perf_counter() - start
    p.join()
    return elapsed / ROUND_TRIPS * 1e6


def throughput():
    a, b = Pipe()
    p = Process(target=stream, args=(b, MIB))
    p.start()
    start = time.perf_counter()
    total = 0
    for _ in range(MIB):
        total += len(a.recv_bytes())
    elapsed = time.perf_counter() - start
    a.send_bytes(b'done')
    p.join()
    return total / elapsed / 1e9


if __name__ == '__main__':
    print('py_send_recv_us', round_trips(echo_obj, False), flush=True)
    print('py_send_bytes_us', round_trips(echo_bytes, True), flush=True)
    print('py_1mib_gbps', throughput(), flush=True)
