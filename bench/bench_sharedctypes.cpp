// multiprocessing-cpp benchmarks: a Value<int> incremented under its lock by
// two processes. Python's equivalent (bench/py_workloads.py):
//
//     def worker(v, n):
//         for _ in range(n):
//             with v.get_lock():
//                 v.value += 1
//
// One iteration is one increment; each of the two processes does half.
// Implementations: "ours" (the Python loop line for line: lock, read, write)
// and "ours_get_obj" (the C++ way: lock, then ++ on the shared int itself).
#include "harness.hpp"
#include <multiprocessing.hpp>

#include <mutex>
#include <stdexcept>

namespace mp = multiprocessing;

namespace {

void python_style(mp::Value<int> v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        std::lock_guard<mp::RLock> g(v.get_lock());
        v.set_value(v.value() + 1);
    }
}

void get_obj_style(mp::Value<int> v, std::size_t n) {
    auto& lock = v.get_lock();
    int& x = v.get_obj();
    for (std::size_t i = 0; i < n; ++i) {
        std::lock_guard<mp::RLock> g(lock);
        ++x;
    }
}

template <void (*Body)(mp::Value<int>, std::size_t)>
double two_processes(std::size_t n) {
    mp::Value<int> v(0);
    mp::Barrier start(3);
    const std::size_t half = n / 2;
    auto worker = [&](std::size_t count) {
        start.wait();
        Body(v, count);
    };
    mp::Process a(worker, half), b(worker, n - half);
    a.start();
    b.start();
    const double seconds = bench::time_it([&] {
        start.wait();
        a.join();
        b.join();
    });
    if (v.value() != static_cast<int>(n)) {
        throw std::runtime_error("lost increments");
    }
    return seconds;
}

BENCH_WORKLOAD("value_increment", "ours",
               "Value<int>: lock_guard(get_lock()); set_value(value()+1)", 1000000,
               two_processes<python_style>);
BENCH_WORKLOAD("value_increment", "ours_get_obj", "Value<int>: lock_guard(get_lock()); ++get_obj()",
               1000000, two_processes<get_obj_style>);

}  // namespace

int main(int argc, char** argv) {
    return bench::main(argc, argv);
}
