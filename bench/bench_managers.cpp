// multiprocessing-cpp benchmarks: manager objects (managers.hpp) used from a
// child process, beside Python's Manager() (bench/py_workloads.py), where
// every proxy call is a round trip to the manager's server process.
// SPDX-License-Identifier: MIT
//
// Workloads (one iteration is one operation, or one message):
//
//   manager_dict   a child alternates d[k] = i and d[k] on a manager dict of
//                  ints (1024 keys, k = (i / 2) % 1024); each set and each
//                  get is one operation (ops/s). Python:
//                      for i in range(n):
//                          k = (i >> 1) & 1023
//                          if i & 1 == 0: d[k] = i
//                          elif d[k] != i - 1: raise ...
//   manager_value  the same on a manager.Value('q', 0): v.value = i, then
//                  v.value (ops/s)
//   manager_queue  1 producer child -> the parent, eight-byte integers,
//                  through manager.Queue() (messages/s). Python:
//                      for i in range(n): q.put(i)
//
// The manager is made and the child started before the clock starts (the
// child waits on a Barrier); the clock stops when the child has been joined
// (and, for the queue, every message has arrived).
//
// Implementations: "ours" (SyncManager proxies); for manager_queue also
// "ours_queue", the library's plain mp::Queue (not in a manager), to show
// what the manager costs over it. For manager_dict also "server_pipe" and
// "server_queues": the design Python uses, written with this library — a
// server process owning a std::unordered_map, one round trip per call, over
// an mp::Pipe or over two mp::Queues (the fastest round trip we have). They
// are why managers.hpp keeps its objects in shared memory instead.
#include "harness.hpp"
#include <multiprocessing.hpp>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <unordered_map>

namespace mp = multiprocessing;

namespace {

constexpr std::size_t op_iterations = 1000000;
constexpr std::size_t queue_iterations = 1000000;

/// Starts `p`, then times from the moment it and the caller are past
/// `start` until `body` returns and `p` has been joined.
template <class Body>
double timed_run(mp::Process& p, mp::Barrier& start, Body&& body) {
    p.start();
    const double seconds = bench::time_it([&] {
        start.wait();
        body();
        p.join();
    });
    if (p.exitcode() != 0) {
        throw std::runtime_error("the child failed");
    }
    return seconds;
}

/// The key of operation i: a set then a get of the same key.
std::int64_t key_of(std::size_t i) {
    return static_cast<std::int64_t>((i >> 1) & 1023);
}

double ours_dict(std::size_t n) {
    auto manager = mp::Manager();
    auto d = manager.dict<std::int64_t, std::int64_t>();
    mp::Barrier start(2);
    mp::Process p([&] {
        start.wait();
        for (std::size_t i = 0; i < n; ++i) {
            const auto k = key_of(i);
            if ((i & 1) == 0) {
                d.set(k, static_cast<std::int64_t>(i));  // d[k] = i
            } else if (d.at(k) != static_cast<std::int64_t>(i - 1)) {
                throw std::runtime_error("dict: wrong value read back");
            }
        }
    });
    const double s = timed_run(p, start, [] {});
    if (n >= 2 && d.size() != std::min<std::size_t>((n + 1) / 2, 1024)) {
        throw std::runtime_error("dict: wrong size");
    }
    return s;
}

/// A request to the server: op 1 = d[k] = v, op 2 = d[k], op 0 = stop.
struct request {
    std::int32_t op;
    std::int64_t key;
    std::int64_t value;
};

/// The client loop of manager_dict, against a server reached by `call`.
template <class Call>
void dict_client(std::size_t n, Call&& call) {
    for (std::size_t i = 0; i < n; ++i) {
        const auto k = key_of(i);
        if ((i & 1) == 0) {
            call(request{1, k, static_cast<std::int64_t>(i)});
        } else if (call(request{2, k, 0}) != static_cast<std::int64_t>(i - 1)) {
            throw std::runtime_error("server: wrong value read back");
        }
    }
}

/// The server: applies requests to its own map until op 0.
template <class Receive, class Answer>
void dict_server(Receive&& receive, Answer&& answer) {
    std::unordered_map<std::int64_t, std::int64_t> d;
    for (;;) {
        const request r = receive();
        if (r.op == 0) {
            return;
        }
        if (r.op == 1) {
            d[r.key] = r.value;
            answer(0);
        } else {
            answer(d[r.key]);
        }
    }
}

double server_pipe(std::size_t n) {
    auto [client, server_end] = mp::Pipe();
    mp::Process server([&] {
        dict_server([&] { return server_end.recv<request>(); },
                    [&](std::int64_t v) { server_end.send(v); });
    });
    server.start();
    mp::Barrier start(2);
    mp::Process p([&] {
        start.wait();
        dict_client(n, [&](const request& r) {
            client.send(r);
            return client.recv<std::int64_t>();
        });
        client.send(request{0, 0, 0});
    });
    const double s = timed_run(p, start, [] {});
    server.join();
    return s;
}

double server_queues(std::size_t n) {
    mp::Queue<request> requests;
    mp::Queue<std::int64_t> answers;
    mp::Process server([&] {
        dict_server([&] { return requests.get(); }, [&](std::int64_t v) { answers.put(v); });
    });
    server.start();
    mp::Barrier start(2);
    mp::Process p([&] {
        start.wait();
        dict_client(n, [&](const request& r) {
            requests.put(r);
            return answers.get();
        });
        requests.put(request{0, 0, 0});
    });
    const double s = timed_run(p, start, [] {});
    server.join();
    return s;
}

double ours_value(std::size_t n) {
    auto manager = mp::Manager();
    auto v = manager.Value<std::int64_t>(0);
    mp::Barrier start(2);
    mp::Process p([&] {
        start.wait();
        for (std::size_t i = 0; i < n; ++i) {
            if ((i & 1) == 0) {
                v.set(static_cast<std::int64_t>(i));  // v.value = i
            } else if (v.get() != static_cast<std::int64_t>(i - 1)) {
                throw std::runtime_error("Value: wrong value read back");
            }
        }
    });
    return timed_run(p, start, [] {});
}

template <class Queue>
double queue_run(Queue q, std::size_t n) {
    mp::Barrier start(2);
    mp::Process p([&] {
        start.wait();
        for (std::size_t i = 0; i < n; ++i) {
            q.put(static_cast<std::int64_t>(i));
        }
    });
    std::int64_t sum = 0;
    const double s = timed_run(p, start, [&] {
        for (std::size_t i = 0; i < n; ++i) {
            sum += q.get();
        }
    });
    const auto expected = static_cast<std::int64_t>(n) * (static_cast<std::int64_t>(n) - 1) / 2;
    if (sum != expected) {
        throw std::runtime_error("lost or corrupted messages");
    }
    return s;
}

double ours_queue(std::size_t n) {
    auto manager = mp::Manager();
    return queue_run(manager.Queue<std::int64_t>(), n);
}

double plain_queue(std::size_t n) {
    return queue_run(mp::Queue<std::int64_t>(), n);
}

const bench::rate ops{1, "ops"};
const bench::rate messages{1, "messages"};

BENCH_WORKLOAD("manager_dict", "ours", "manager.dict<int64,int64>: d[k] = i / d[k] from a child",
               op_iterations, ours_dict, ops);
BENCH_WORKLOAD("manager_dict", "server_pipe",
               "a server process's std::unordered_map, a round trip per call over mp::Pipe",
               op_iterations / 10, server_pipe, ops);
BENCH_WORKLOAD("manager_dict", "server_queues",
               "a server process's std::unordered_map, a round trip per call over two mp::Queues",
               op_iterations / 10, server_queues, ops);
BENCH_WORKLOAD("manager_value", "ours", "manager.Value<int64>: set(i) / get() from a child",
               op_iterations, ours_value, ops);
BENCH_WORKLOAD("manager_queue", "ours", "manager.Queue<int64_t>, 1 producer child -> parent",
               queue_iterations, ours_queue, messages);
BENCH_WORKLOAD("manager_queue", "ours_queue", "mp::Queue<int64_t> (no manager), 1 -> 1",
               queue_iterations, plain_queue, messages);

}  // namespace

int main(int argc, char** argv) {
    return bench::main(argc, argv);
}
