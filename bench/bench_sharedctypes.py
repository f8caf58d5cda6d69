# Benchmark: a multiprocessing.Value('i') incremented under get_lock() by two
# processes (ops/s). C++ equivalent: bench/bench_sharedctypes.cpp.
#   python3 bench/bench_sharedctypes.py [increments per process]
import multiprocessing as mp
import sys
import time


def worker(v, start, n):
    start.wait()
    for _ in range(n):
        with v.get_lock():
            v.value += 1


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    mp.set_start_method("fork")
    v = mp.Value("i", 0)
    start = mp.Barrier(3)
    procs = [mp.Process(target=worker, args=(v, start, n)) for _ in range(2)]
    for p in procs:
        p.start()
    start.wait()
    t0 = time.perf_counter()
    for p in procs:
        p.join()
    secs = time.perf_counter() - t0
    print(f"{'Python Value(i), 2 processes, get_lock()':44} {2 * n / secs:12.0f} increments/s"
          f"  (value {v.value}, expected {2 * n})")


if __name__ == "__main__":
    main()
