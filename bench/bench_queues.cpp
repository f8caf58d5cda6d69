// multiprocessing-cpp benchmarks: Queue throughput and latency, beside
// boost::interprocess::message_queue (the C++ peer) and Python's
// multiprocessing.Queue (bench/py_workloads.py).
// SPDX-License-Identifier: MIT
//
// Workloads (one iteration is one message, or one round trip):
//
//   queue_small       1 producer process -> 1 consumer, eight-byte integers
//                     (messages/s). Python:  for i in range(n): q.put(i)
//   queue_large       1 producer -> 1 consumer, 1 MiB messages (bytes/s).
//                     Python:  q.put(b"x" * 2**20)
//   queue_2p2c        2 producers -> 2 consumers, eight-byte integers in all
//                     (messages/s)
//   queue_round_trip  one eight-byte message each way between two processes
//                     through two queues (time per round trip)
//
// Every child waits on a Barrier before it starts, so process start-up is
// kept out of the timing; the timing ends when every message has arrived
// and every child has been joined.
//
// Implementations: "ours" (mp::Queue), "boost" (message_queue, with as much
// room as our ring: 65536 eight-byte slots, or 8 x 1 MiB), and a floor
// where one makes sense: "ours_ring" for queue_large (our ring alone, bytes
// in and out, without the value codec) and "raw_pipe" for queue_round_trip
// (write()/read() of 8 bytes on two pipes).
#include "harness.hpp"
#include <multiprocessing.hpp>

#include <boost/interprocess/ipc/message_queue.hpp>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace mp = multiprocessing;
namespace bip = boost::interprocess;

namespace {

constexpr std::size_t mib = std::size_t{1} << 20;
constexpr std::size_t small_iterations = 1000000;
constexpr std::size_t large_iterations = 512;  // 512 MiB
constexpr std::size_t round_trip_iterations = 100000;

using process_list = std::vector<std::unique_ptr<mp::Process>>;

template <class F>
void add_process(process_list& ps, F&& f) {
    ps.push_back(std::make_unique<mp::Process>(std::forward<F>(f)));
}

/// Starts the children, then times from the moment all of them (and the
/// caller) are past `start` until `body` returns and every child is joined.
template <class Body>
double timed_run(process_list& ps, mp::Barrier& start, Body&& body) {
    for (auto& p : ps) {
        p->start();
    }
    const double seconds = bench::time_it([&] {
        start.wait();
        body();
        for (auto& p : ps) {
            p->join();
        }
    });
    for (auto& p : ps) {
        if (p->exitcode() != 0) {
            throw std::runtime_error("a child failed");
        }
    }
    return seconds;
}

/// The first half of n, and the rest.
std::size_t share(std::size_t n, int k) {
    return k == 0 ? n / 2 : n - n / 2;
}

void check_sum(std::int64_t sum, std::size_t n) {
    const auto expected = static_cast<std::int64_t>(n) * (static_cast<std::int64_t>(n) - 1) / 2;
    if (sum != expected) {
        throw std::runtime_error("lost or corrupted messages");
    }
}

// ------------------------------------------------------------------ ours

double ours_small(std::size_t n) {
    mp::Queue<std::int64_t> q;
    mp::Barrier start(2);
    process_list ps;
    add_process(ps, [&] {
        start.wait();
        for (std::size_t i = 0; i < n; ++i) {
            q.put(static_cast<std::int64_t>(i));
        }
    });
    std::int64_t sum = 0;
    const double s = timed_run(ps, start, [&] {
        for (std::size_t i = 0; i < n; ++i) {
            sum += q.get();
        }
    });
    check_sum(sum, n);
    return s;
}

double ours_large(std::size_t n) {
    mp::QueueOptions options;
    options.capacity = 8 * mib;  // the memory Boost's queue gets
    mp::Queue<std::string> q(options);
    mp::Barrier start(2);
    process_list ps;
    add_process(ps, [&] {
        std::string msg(mib, 'x');
        start.wait();
        for (std::size_t i = 0; i < n; ++i) {
            msg[0] = static_cast<char>(i);
            q.put(msg);
        }
    });
    std::size_t bytes = 0;
    const double s = timed_run(ps, start, [&] {
        for (std::size_t i = 0; i < n; ++i) {
            bytes += q.get().size();
        }
    });
    if (bytes != n * mib) {
        throw std::runtime_error("lost bytes");
    }
    return s;
}

// The queue's ring alone: bytes in, bytes copied out, no value codec.
double ours_ring_large(std::size_t n) {
    mp::detail::shm_ring ring(8 * mib, 0);
    mp::Barrier start(2);
    process_list ps;
    add_process(ps, [&] {
        std::string msg(mib, 'x');
        start.wait();
        for (std::size_t i = 0; i < n; ++i) {
            msg[0] = static_cast<char>(i);
            ring.put_bytes(msg, mp::detail::wait_spec::forever());
        }
    });
    std::vector<char> buf(mib);
    std::size_t bytes = 0;
    const double s = timed_run(ps, start, [&] {
        for (std::size_t i = 0; i < n; ++i) {
            ring.get_bytes(
                [&](std::string_view v) {
                    std::memcpy(buf.data(), v.data(), v.size());
                    bytes += v.size();
                },
                mp::detail::wait_spec::forever());
        }
    });
    if (bytes != n * mib) {
        throw std::runtime_error("lost bytes");
    }
    return s;
}

double ours_2p2c(std::size_t n) {
    mp::Queue<std::int64_t> q;
    mp::Barrier start(5);
    process_list ps;
    for (int k = 0; k < 2; ++k) {
        add_process(ps, [&, k] {
            start.wait();
            for (std::size_t i = 0; i < share(n, k); ++i) {
                q.put(static_cast<std::int64_t>(i));
            }
        });
        add_process(ps, [&, k] {
            start.wait();
            std::int64_t sum = 0;
            for (std::size_t i = 0; i < share(n, k); ++i) {
                sum += q.get();
            }
            bench::do_not_optimize(sum);
        });
    }
    return timed_run(ps, start, [] {});
}

double ours_round_trip(std::size_t n) {
    mp::Queue<std::int64_t> ping;
    mp::Queue<std::int64_t> pong;
    mp::Barrier start(2);
    process_list ps;
    add_process(ps, [&] {
        start.wait();
        for (std::size_t i = 0; i < n; ++i) {
            pong.put(ping.get());
        }
    });
    std::int64_t sum = 0;
    const double s = timed_run(ps, start, [&] {
        for (std::size_t i = 0; i < n; ++i) {
            ping.put(static_cast<std::int64_t>(i));
            sum += pong.get();
        }
    });
    check_sum(sum, n);
    return s;
}

// ----------------------------------------------------------------- Boost

/// Names of two Boost queues in /dev/shm, removed before and after.
struct boost_names {
    std::string a = "mp_bench_q1_" + std::to_string(::getpid());
    std::string b = "mp_bench_q2_" + std::to_string(::getpid());
    boost_names() { remove(); }
    ~boost_names() { remove(); }
    boost_names(const boost_names&) = delete;
    boost_names& operator=(const boost_names&) = delete;
    void remove() const {
        bip::message_queue::remove(a.c_str());
        bip::message_queue::remove(b.c_str());
    }
};

std::int64_t boost_receive(bip::message_queue& q) {
    std::int64_t v = 0;
    std::size_t got = 0;
    unsigned prio = 0;
    q.receive(&v, sizeof v, got, prio);
    return v;
}

void boost_send(bip::message_queue& q, std::int64_t v) {
    q.send(&v, sizeof v, 0);
}

double boost_small(std::size_t n) {
    boost_names names;
    bip::message_queue q(bip::create_only, names.a.c_str(), 65536, sizeof(std::int64_t));
    mp::Barrier start(2);
    process_list ps;
    add_process(ps, [&] {
        bip::message_queue qq(bip::open_only, names.a.c_str());
        start.wait();
        for (std::size_t i = 0; i < n; ++i) {
            boost_send(qq, static_cast<std::int64_t>(i));
        }
    });
    std::int64_t sum = 0;
    const double s = timed_run(ps, start, [&] {
        for (std::size_t i = 0; i < n; ++i) {
            sum += boost_receive(q);
        }
    });
    check_sum(sum, n);
    return s;
}

double boost_large(std::size_t n) {
    boost_names names;
    bip::message_queue q(bip::create_only, names.a.c_str(), 8, mib);  // 8 MiB, as our ring
    mp::Barrier start(2);
    process_list ps;
    add_process(ps, [&] {
        bip::message_queue qq(bip::open_only, names.a.c_str());
        std::vector<char> msg(mib, 'x');
        start.wait();
        for (std::size_t i = 0; i < n; ++i) {
            msg[0] = static_cast<char>(i);
            qq.send(msg.data(), msg.size(), 0);
        }
    });
    std::vector<char> buf(mib);
    std::size_t bytes = 0;
    const double s = timed_run(ps, start, [&] {
        for (std::size_t i = 0; i < n; ++i) {
            std::size_t got = 0;
            unsigned prio = 0;
            q.receive(buf.data(), buf.size(), got, prio);
            bytes += got;
        }
    });
    if (bytes != n * mib) {
        throw std::runtime_error("lost bytes");
    }
    return s;
}

double boost_2p2c(std::size_t n) {
    boost_names names;
    bip::message_queue q(bip::create_only, names.a.c_str(), 65536, sizeof(std::int64_t));
    mp::Barrier start(5);
    process_list ps;
    for (int k = 0; k < 2; ++k) {
        add_process(ps, [&, k] {
            bip::message_queue qq(bip::open_only, names.a.c_str());
            start.wait();
            for (std::size_t i = 0; i < share(n, k); ++i) {
                boost_send(qq, static_cast<std::int64_t>(i));
            }
        });
        add_process(ps, [&, k] {
            bip::message_queue qq(bip::open_only, names.a.c_str());
            start.wait();
            std::int64_t sum = 0;
            for (std::size_t i = 0; i < share(n, k); ++i) {
                sum += boost_receive(qq);
            }
            bench::do_not_optimize(sum);
        });
    }
    return timed_run(ps, start, [] {});
}

double boost_round_trip(std::size_t n) {
    boost_names names;
    bip::message_queue ping(bip::create_only, names.a.c_str(), 16, sizeof(std::int64_t));
    bip::message_queue pong(bip::create_only, names.b.c_str(), 16, sizeof(std::int64_t));
    mp::Barrier start(2);
    process_list ps;
    add_process(ps, [&] {
        bip::message_queue in(bip::open_only, names.a.c_str());
        bip::message_queue out(bip::open_only, names.b.c_str());
        start.wait();
        for (std::size_t i = 0; i < n; ++i) {
            boost_send(out, boost_receive(in));
        }
    });
    std::int64_t sum = 0;
    const double s = timed_run(ps, start, [&] {
        for (std::size_t i = 0; i < n; ++i) {
            boost_send(ping, static_cast<std::int64_t>(i));
            sum += boost_receive(pong);
        }
    });
    check_sum(sum, n);
    return s;
}

// ------------------------------------------------------------------- raw

/// Two pipes, closed on destruction.
struct pipe_pair {
    int fd[2][2] = {{-1, -1}, {-1, -1}};
    pipe_pair() {
        for (auto& p : fd) {
            if (::pipe2(p, O_CLOEXEC) != 0) {
                throw std::runtime_error("pipe2 failed");
            }
        }
    }
    ~pipe_pair() {
        for (auto& p : fd) {
            for (int f : p) {
                if (f >= 0) {
                    ::close(f);
                }
            }
        }
    }
    pipe_pair(const pipe_pair&) = delete;
    pipe_pair& operator=(const pipe_pair&) = delete;
};

void write_all(int fd, std::int64_t v) {
    while (::write(fd, &v, sizeof v) != static_cast<ssize_t>(sizeof v)) {
        if (errno != EINTR) {
            throw std::runtime_error("write failed");
        }
    }
}

std::int64_t read_all(int fd) {
    std::int64_t v = 0;
    while (::read(fd, &v, sizeof v) != static_cast<ssize_t>(sizeof v)) {
        if (errno != EINTR) {
            throw std::runtime_error("read failed");
        }
    }
    return v;
}

double raw_pipe_round_trip(std::size_t n) {
    pipe_pair pipes;  // [0]: parent -> child, [1]: child -> parent
    mp::Barrier start(2);
    process_list ps;
    add_process(ps, [&] {
        start.wait();
        for (std::size_t i = 0; i < n; ++i) {
            write_all(pipes.fd[1][1], read_all(pipes.fd[0][0]));
        }
    });
    std::int64_t sum = 0;
    const double s = timed_run(ps, start, [&] {
        for (std::size_t i = 0; i < n; ++i) {
            write_all(pipes.fd[0][1], static_cast<std::int64_t>(i));
            sum += read_all(pipes.fd[1][0]);
        }
    });
    check_sum(sum, n);
    return s;
}

const bench::rate messages{1, "messages"};
const bench::rate bytes{static_cast<double>(mib), "bytes"};

BENCH_WORKLOAD("queue_small", "ours", "mp::Queue<int64_t>, 1 producer -> 1 consumer",
               small_iterations, ours_small, messages);
BENCH_WORKLOAD("queue_small", "boost", "bip::message_queue(65536 x 8 B), 1 -> 1", small_iterations,
               boost_small, messages);

BENCH_WORKLOAD("queue_large", "ours", "mp::Queue<std::string>, 8 MiB ring, 1 MiB messages",
               large_iterations, ours_large, bytes);
BENCH_WORKLOAD("queue_large", "boost", "bip::message_queue(8 x 1 MiB), 1 MiB messages",
               large_iterations, boost_large, bytes);
BENCH_WORKLOAD("queue_large", "ours_ring", "the queue's 8 MiB ring alone: bytes, no codec",
               large_iterations, ours_ring_large, bytes);

BENCH_WORKLOAD("queue_2p2c", "ours", "mp::Queue<int64_t>, 2 producers -> 2 consumers",
               small_iterations, ours_2p2c, messages);
BENCH_WORKLOAD("queue_2p2c", "boost", "bip::message_queue(65536 x 8 B), 2 -> 2", small_iterations,
               boost_2p2c, messages);

BENCH_WORKLOAD("queue_round_trip", "ours", "two mp::Queue<int64_t>, one message each way",
               round_trip_iterations, ours_round_trip);
BENCH_WORKLOAD("queue_round_trip", "boost", "two bip::message_queue, one message each way",
               round_trip_iterations, boost_round_trip);
BENCH_WORKLOAD("queue_round_trip", "raw_pipe", "8 bytes each way through two pipes",
               round_trip_iterations, raw_pipe_round_trip);

}  // namespace

int main(int argc, char** argv) {
    return bench::main(argc, argv);
}
