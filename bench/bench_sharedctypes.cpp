// Benchmark: a Value<int> incremented under its lock by two processes (ops/s).
// Python equivalent: bench/bench_sharedctypes.py.
//
// Build and run (standalone; not part of the CMake build):
//   g++ -O2 -std=c++17 -Iinclude bench/bench_sharedctypes.cpp -o /tmp/bench_sharedctypes -pthread
//   /tmp/bench_sharedctypes [increments per process]
#include <multiprocessing.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace mp = multiprocessing;

namespace {

// The Python loop, line for line: `with v.get_lock(): v.value += 1`.
void python_style(mp::Value<int> v, long n) {
    for (long i = 0; i < n; ++i) {
        std::lock_guard<mp::RLock> g(v.get_lock());
        v.set_value(v.value() + 1);
    }
}

// The C++ way: one lock, then the shared int itself.
void direct(mp::Value<int> v, long n) {
    auto& lock = v.get_lock();
    int& x = v.get_obj();
    for (long i = 0; i < n; ++i) {
        std::lock_guard<mp::RLock> g(lock);
        ++x;
    }
}

template <class F>
double run(const char* label, F body, long n) {
    mp::Value<int> v(0);
    mp::Barrier start(3);
    auto worker = [&](long count) {
        start.wait();
        body(v, count);
    };
    mp::Process a(worker, n), b(worker, n);
    a.start();
    b.start();
    start.wait();
    const auto t0 = std::chrono::steady_clock::now();
    a.join();
    b.join();
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double ops = static_cast<double>(2 * n) / secs;
    std::printf("%-44s %12.0f increments/s  (value %d, expected %ld)\n", label, ops, v.value(),
                2 * n);
    return ops;
}

}  // namespace

int main(int argc, char** argv) {
    const long n = argc > 1 ? std::atol(argv[1]) : 2000000;
    run("C++ Value<int>, 2 processes, python style", python_style, n);
    run("C++ Value<int>, 2 processes, lock + get_obj", direct, n);
}
