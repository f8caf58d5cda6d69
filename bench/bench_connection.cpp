// multiprocessing-cpp benchmarks: Pipe/Connection latency and throughput,
// beside a raw socketpair (the floor) and Python's multiprocessing.Pipe
// (bench/py_workloads.py).
// SPDX-License-Identifier: MIT
//
// Workloads (one iteration is one round trip, or one message):
//
//   pipe_round_trip        a small integer to an echoing child and back
//                          through a duplex Pipe, with send()/recv<int>().
//                          Python:  a.send(i); total += a.recv()
//   pipe_round_trip_bytes  the same with send_bytes()/recv_bytes() of 4 bytes.
//                          Python:  a.send_bytes(b4); a.recv_bytes()
//   pipe_large             1 MiB messages from a child to the parent (bytes/s).
//                          Python:  conn.send_bytes(b"x" * 2**20); a.recv_bytes()
//
// Every child waits on a Barrier before it starts, so process start-up is
// kept out of the timing; the timing ends when every message has arrived and
// the child has been joined.
//
// Implementations: "ours" (mp::Pipe), two more ways of receiving large
// messages ("ours_string": send()/recv<std::string>(); "ours_into":
// recv_bytes_into() a reused buffer), and the floor "raw_socketpair": the
// same bytes through an AF_UNIX socketpair (what mp::Pipe is) with
// write()/read() and no framing.
#include "harness.hpp"
#include <multiprocessing.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace mp = multiprocessing;

namespace {

constexpr std::size_t mib = std::size_t{1} << 20;
constexpr std::size_t round_trip_iterations = 100000;
constexpr std::size_t large_iterations = 1024;  // 1 GiB

/// Starts the child, then times from the moment it and the caller are past
/// `start` until `body` returns and the child is joined.
template <class Body>
double timed_run(mp::Process& child, mp::Barrier& start, Body&& body) {
    child.start();
    const double seconds = bench::time_it([&] {
        start.wait();
        body();
        child.join();
    });
    if (child.exitcode() != 0) {
        throw std::runtime_error("the child failed");
    }
    return seconds;
}

void check_sum(std::int64_t sum, std::size_t n) {
    const auto expected = static_cast<std::int64_t>(n) * (static_cast<std::int64_t>(n) - 1) / 2;
    if (sum != expected) {
        throw std::runtime_error("lost or corrupted messages");
    }
}

// ------------------------------------------------------------------ ours

double ours_round_trip(std::size_t n) {
    auto [a, b] = mp::Pipe();
    mp::Barrier start(2);
    mp::Process child([&b = b, &start, n] {
        start.wait();
        for (std::size_t i = 0; i < n; ++i) {
            b.send(b.recv<int>());
        }
    });
    std::int64_t sum = 0;
    const double s = timed_run(child, start, [&a = a, &sum, n] {
        for (std::size_t i = 0; i < n; ++i) {
            a.send(static_cast<int>(i));
            sum += a.recv<int>();
        }
    });
    check_sum(sum, n);
    return s;
}

double ours_round_trip_bytes(std::size_t n) {
    auto [a, b] = mp::Pipe();
    mp::Barrier start(2);
    mp::Process child([&b = b, &start, n] {
        start.wait();
        for (std::size_t i = 0; i < n; ++i) {
            b.send_bytes(b.recv_bytes());
        }
    });
    std::int64_t sum = 0;
    const double s = timed_run(child, start, [&a = a, &sum, n] {
        char msg[4];
        for (std::size_t i = 0; i < n; ++i) {
            const auto v = static_cast<std::int32_t>(i);
            std::memcpy(msg, &v, sizeof msg);
            a.send_bytes(std::string_view(msg, sizeof msg));
            const std::string back = a.recv_bytes();
            std::int32_t w = 0;
            std::memcpy(&w, back.data(), std::min(back.size(), sizeof w));
            sum += w;
        }
    });
    check_sum(sum, n);
    return s;
}

enum class receive { bytes, string, into };

/// 1 MiB messages from a child to the parent, received as `how` says.
double ours_large(std::size_t n, receive how) {
    auto [a, b] = mp::Pipe();
    mp::Barrier start(2);
    mp::Process child([&b = b, &start, n, how] {
        std::string msg(mib, 'x');
        start.wait();
        for (std::size_t i = 0; i < n; ++i) {
            msg[0] = static_cast<char>(i);
            if (how == receive::string) {
                b.send(msg);
            } else {
                b.send_bytes(msg);
            }
        }
    });
    std::string buffer(mib, '\0');
    std::size_t bytes = 0;
    const double s = timed_run(child, start, [&a = a, &buffer, &bytes, n, how] {
        for (std::size_t i = 0; i < n; ++i) {
            switch (how) {
                case receive::bytes: bytes += a.recv_bytes().size(); break;
                case receive::string: bytes += a.recv<std::string>().size(); break;
                case receive::into: bytes += a.recv_bytes_into(buffer); break;
            }
        }
    });
    if (bytes != n * mib) {
        throw std::runtime_error("lost bytes");
    }
    return s;
}

// ------------------------------------------------------------------- raw

/// A socketpair, as mp::Pipe makes it, closed on destruction.
struct socket_pair {
    int fd[2] = {-1, -1};
    socket_pair() {
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd) != 0) {
            throw std::runtime_error("socketpair failed");
        }
    }
    ~socket_pair() {
        for (int f : fd) {
            ::close(f);
        }
    }
    socket_pair(const socket_pair&) = delete;
    socket_pair& operator=(const socket_pair&) = delete;
};

void write_all(int fd, const void* data, std::size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t w = ::write(fd, p, size);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::runtime_error("write failed");
        }
        p += w;
        size -= static_cast<std::size_t>(w);
    }
}

void read_all(int fd, void* data, std::size_t size) {
    char* p = static_cast<char*>(data);
    while (size > 0) {
        const ssize_t r = ::read(fd, p, size);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) {
                continue;
            }
            throw std::runtime_error("read failed");
        }
        p += r;
        size -= static_cast<std::size_t>(r);
    }
}

/// A 4-byte integer each way through a socketpair: the kernel's floor.
double raw_round_trip(std::size_t n) {
    socket_pair sp;
    mp::Barrier start(2);
    mp::Process child([&sp, &start, n] {
        start.wait();
        for (std::size_t i = 0; i < n; ++i) {
            std::int32_t v = 0;
            read_all(sp.fd[1], &v, sizeof v);
            write_all(sp.fd[1], &v, sizeof v);
        }
    });
    std::int64_t sum = 0;
    const double s = timed_run(child, start, [&sp, &sum, n] {
        for (std::size_t i = 0; i < n; ++i) {
            auto v = static_cast<std::int32_t>(i);
            write_all(sp.fd[0], &v, sizeof v);
            read_all(sp.fd[0], &v, sizeof v);
            sum += v;
        }
    });
    check_sum(sum, n);
    return s;
}

/// 1 MiB blocks written and read through a socketpair, no framing.
double raw_large(std::size_t n) {
    socket_pair sp;
    mp::Barrier start(2);
    mp::Process child([&sp, &start, n] {
        std::string msg(mib, 'x');
        start.wait();
        for (std::size_t i = 0; i < n; ++i) {
            msg[0] = static_cast<char>(i);
            write_all(sp.fd[1], msg.data(), msg.size());
        }
    });
    std::string buffer(mib, '\0');
    std::size_t bytes = 0;
    const double s = timed_run(child, start, [&sp, &buffer, &bytes, n] {
        for (std::size_t i = 0; i < n; ++i) {
            read_all(sp.fd[0], buffer.data(), buffer.size());
            bytes += buffer.size();
        }
    });
    if (bytes != n * mib) {
        throw std::runtime_error("lost bytes");
    }
    return s;
}

const bench::rate bytes_rate{static_cast<double>(mib), "bytes"};

BENCH_WORKLOAD("pipe_round_trip", "ours", "mp::Pipe, send(int)/recv<int>(), parent <-> child",
               round_trip_iterations, ours_round_trip);
BENCH_WORKLOAD("pipe_round_trip", "raw_socketpair", "4 bytes each way, write()/read()",
               round_trip_iterations, raw_round_trip);

BENCH_WORKLOAD("pipe_round_trip_bytes", "ours", "mp::Pipe, send_bytes()/recv_bytes() of 4 bytes",
               round_trip_iterations, ours_round_trip_bytes);
BENCH_WORKLOAD("pipe_round_trip_bytes", "raw_socketpair", "4 bytes each way, write()/read()",
               round_trip_iterations, raw_round_trip);

BENCH_WORKLOAD(
    "pipe_large", "ours", "mp::Pipe, send_bytes()/recv_bytes() of 1 MiB, child -> parent",
    large_iterations, [](std::size_t n) { return ours_large(n, receive::bytes); }, bytes_rate);
BENCH_WORKLOAD(
    "pipe_large", "ours_string", "mp::Pipe, send()/recv<std::string>() of 1 MiB", large_iterations,
    [](std::size_t n) { return ours_large(n, receive::string); }, bytes_rate);
BENCH_WORKLOAD(
    "pipe_large", "ours_into", "mp::Pipe, send_bytes()/recv_bytes_into() a reused buffer",
    large_iterations, [](std::size_t n) { return ours_large(n, receive::into); }, bytes_rate);
BENCH_WORKLOAD("pipe_large", "raw_socketpair", "1 MiB write()/read() loops, no framing",
               large_iterations, raw_large, bytes_rate);

}  // namespace

int main(int argc, char** argv) {
    return bench::main(argc, argv);
}
