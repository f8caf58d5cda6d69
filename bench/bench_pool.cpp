// multiprocessing-cpp benchmarks: Pool throughput and parallel speedup,
// beside Python's multiprocessing.Pool (bench/py_workloads.py).
// SPDX-License-Identifier: MIT
//
// Workloads (one iteration is one task, or one block of CPU-bound work):
//
//   pool_map              pool.map(identity, range(n)), default chunksize
//                         (tasks/s)
//   pool_map_chunksize_1  pool.map(identity, range(n), 1)  (tasks/s)
//   pool_apply_async      n pool.apply_async(identity, (i,)), then every
//                         .get()  (tasks/s)
//   pool_primes           counting the primes in n blocks of 20,000 numbers:
//                         pool.map(count_primes, range(n)) against the same
//                         loop in this process ("serial"), whose time over
//                         ours is the speedup of Pool(2)
//
// The pool (mp::Pool(2), Python: Pool(2), fork context) is made, and its
// workers have run one apply(), before the clock starts; the input is built
// before it too. The clock stops when every result is back. Closing and
// joining the pool is not timed, on either side.
//
// pool_primes also has a floor, "raw_fork": the blocks split in two halves,
// one in a fork()ed child (started before the clock, released by a pipe),
// the other in this process, with no pool: the parallelism the machine
// gives two busy processes at that moment.
#include "harness.hpp"
#include <multiprocessing.hpp>

#include <cerrno>
#include <cstddef>
#include <fcntl.h>
#include <numeric>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace mp = multiprocessing;

namespace {

constexpr int pool_processes = 2;

int identity(int x) {
    return x;
}

/// The primes in one block of 20,000 numbers from 1,000,000 on (blocks
/// repeat every 8, so all cost nearly the same and any n balances).
int count_primes(int block) {
    const int base = 1000000 + (block % 8) * 20000;
    int count = 0;
    for (int n = base; n < base + 20000; ++n) {
        bool prime = true;
        for (int d = 2; d * d <= n; ++d) {
            if (n % d == 0) {
                prime = false;
                break;
            }
        }
        count += prime ? 1 : 0;
    }
    return count;
}

/// count_primes(b) for b = 0..7 (so results are checked without counting again).
constexpr int primes_per_block[8] = {1472, 1433, 1429, 1438, 1444, 1452, 1436, 1428};

long long expected_primes(int first, int last) {
    long long total = 0;
    for (int b = first; b < last; ++b) {
        total += primes_per_block[b % 8];
    }
    return total;
}

void check_primes(long long total, std::size_t n) {
    if (total != expected_primes(0, static_cast<int>(n))) {
        throw std::runtime_error("wrong count of primes");
    }
}

std::vector<int> range(std::size_t n) {
    std::vector<int> v(n);
    std::iota(v.begin(), v.end(), 0);
    return v;
}

/// A Pool(2) whose workers are up (one apply() done), then f(pool) timed,
/// then close() and join(), not timed.
template <class F>
double with_pool(F&& f) {
    mp::Pool pool(pool_processes);
    if (pool.apply(identity, 7) != 7) {
        throw std::runtime_error("apply returned a wrong value");
    }
    const double seconds = bench::time_it([&] { f(pool); });
    pool.close();
    pool.join();
    return seconds;
}

void check_identity(const std::vector<int>& r, std::size_t n) {
    if (r.size() != n || (n > 0 && r.back() != static_cast<int>(n) - 1)) {
        throw std::runtime_error("map returned wrong results");
    }
}

double ours_map(std::size_t n) {
    const auto v = range(n);
    std::vector<int> r;
    const double seconds = with_pool([&](mp::Pool& pool) { r = pool.map(identity, v); });
    check_identity(r, n);
    return seconds;
}

double ours_map_chunksize_1(std::size_t n) {
    const auto v = range(n);
    std::vector<int> r;
    const double seconds = with_pool([&](mp::Pool& pool) { r = pool.map(identity, v, 1); });
    check_identity(r, n);
    return seconds;
}

double ours_apply_async(std::size_t n) {
    std::vector<mp::AsyncResult<int>> rs;
    rs.reserve(n);
    long long sum = 0;
    const double seconds = with_pool([&](mp::Pool& pool) {
        for (std::size_t i = 0; i < n; ++i) {
            rs.push_back(pool.apply_async(identity, static_cast<int>(i)));
        }
        for (auto& r : rs) {
            sum += r.get();
        }
    });
    const auto nn = static_cast<long long>(n);
    if (sum != nn * (nn - 1) / 2) {
        throw std::runtime_error("apply_async returned wrong results");
    }
    return seconds;
}

long long serial_primes(int first, int last) {
    long long total = 0;
    for (int b = first; b < last; ++b) {
        total += count_primes(b);
    }
    return total;
}

double ours_primes(std::size_t n) {
    const auto blocks = range(n);
    std::vector<int> r;
    const double seconds = with_pool([&](mp::Pool& pool) { r = pool.map(count_primes, blocks); });
    check_primes(std::accumulate(r.begin(), r.end(), 0LL), n);
    return seconds;
}

double serial_primes_timed(std::size_t n) {
    long long total = 0;
    const double seconds = bench::time_it([&] { total = serial_primes(0, static_cast<int>(n)); });
    check_primes(total, n);
    return seconds;
}

void write_all(int fd, const void* data, std::size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t k = ::write(fd, p, size);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            throw std::runtime_error("write failed");
        }
        p += k;
        size -= static_cast<std::size_t>(k);
    }
}

void read_all(int fd, void* data, std::size_t size) {
    char* p = static_cast<char*>(data);
    while (size > 0) {
        const ssize_t k = ::read(fd, p, size);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            throw std::runtime_error("read failed");
        }
        p += k;
        size -= static_cast<std::size_t>(k);
    }
}

/// The floor: half the blocks in a forked child, half here, no pool.
double raw_fork_primes(std::size_t n) {
    const int half = static_cast<int>(n / 2);
    const int all = static_cast<int>(n);
    int go[2];
    int result[2];
    if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(result, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe2 failed");
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
        char c = 0;
        if (::read(go[0], &c, 1) != 1) {
            ::_exit(1);
        }
        const long long count = serial_primes(0, half);
        ::_exit(::write(result[1], &count, sizeof count) == sizeof count ? 0 : 1);
    }
    ::close(go[0]);
    ::close(result[1]);
    long long theirs = 0;
    long long mine = 0;
    const double seconds = bench::time_it([&] {
        const char c = 'g';
        write_all(go[1], &c, 1);
        mine = serial_primes(half, all);
        read_all(result[0], &theirs, sizeof theirs);
    });
    ::close(go[1]);
    ::close(result[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error("the child failed");
    }
    check_primes(mine + theirs, n);
    return seconds;
}

}  // namespace

BENCH_WORKLOAD("pool_map", "ours", "mp::Pool(2).map(identity, range(n)), default chunksize",
               1000000, ours_map, bench::rate{1, "tasks"});
BENCH_WORKLOAD("pool_map_chunksize_1", "ours", "mp::Pool(2).map(identity, range(n), 1)", 100000,
               ours_map_chunksize_1, bench::rate{1, "tasks"});
BENCH_WORKLOAD("pool_apply_async", "ours", "n mp::Pool(2).apply_async(identity, i), then get()",
               20000, ours_apply_async, bench::rate{1, "tasks"});
BENCH_WORKLOAD("pool_primes", "ours", "mp::Pool(2).map(count_primes, range(n)), blocks of 20000",
               64, ours_primes);
BENCH_WORKLOAD("pool_primes", "serial", "count_primes on every block in this process", 64,
               serial_primes_timed);
BENCH_WORKLOAD("pool_primes", "raw_fork", "half the blocks in a fork()ed child, half here", 64,
               raw_fork_primes);

int main(int argc, char** argv) {
    return bench::main(argc, argv);
}
