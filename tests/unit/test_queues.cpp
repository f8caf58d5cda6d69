// Tests for multiprocessing/queues.hpp: Queue, SimpleQueue, JoinableQueue.
#include "support/catch.hpp"
#include "support/helpers.hpp"
#include <multiprocessing/process.hpp>
#include <multiprocessing/queues.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <dirent.h>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <thread>
#include <vector>

namespace mp = multiprocessing;
using namespace std::chrono_literals;

namespace {

/// A message that can tell if it was torn: its body is a function of
/// (producer, seq).
struct Msg {
    std::uint32_t producer = 0;
    std::uint32_t seq = 0;
    std::string body;

    template <class Archive>
    void serialize(Archive& ar) {
        ar(producer, seq, body);
    }
};

char body_char(std::uint32_t producer, std::uint32_t seq, std::size_t i) {
    return static_cast<char>('a' + (producer * 7 + seq * 13 + i) % 26);
}

/// Mixed sizes: small, mid-size, and larger than a 4 KiB ring.
std::size_t body_size(std::uint32_t producer, std::uint32_t seq) {
    const std::uint32_t k = (producer * 31 + seq * 17) % 10;
    if (k < 6) {
        return (seq * 3) % 40;
    }
    if (k < 9) {
        return 200 + (seq * 7) % 300;
    }
    return 3000 + (seq * 101) % 7000;
}

Msg make_msg(std::uint32_t producer, std::uint32_t seq) {
    Msg m{producer, seq, std::string(body_size(producer, seq), ' ')};
    for (std::size_t i = 0; i < m.body.size(); ++i) {
        m.body[i] = body_char(producer, seq, i);
    }
    return m;
}

bool intact(const Msg& m) {
    if (m.body.size() != body_size(m.producer, m.seq)) {
        return false;
    }
    for (std::size_t i = 0; i < m.body.size(); ++i) {
        if (m.body[i] != body_char(m.producer, m.seq, i)) {
            return false;
        }
    }
    return true;
}

/// A type whose serialization fails.
struct Bad {
    std::string x;
    template <class Archive>
    void save(Archive&) const {
        throw std::runtime_error("cannot serialize");
    }
    template <class Archive>
    void load(Archive&) {}
};

/// Exposes the ring's published byte count, to see a producer stuck half-way.
template <class T>
struct PeekQueue : mp::Queue<T> {
    using mp::Queue<T>::Queue;
    std::size_t used_bytes() const { return this->ring_.used_bytes(); }
};

/// Waits (bounded) for a condition another process brings about.
template <class F>
bool eventually(F&& cond, std::chrono::milliseconds limit = 20s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > until) {
            return false;
        }
        std::this_thread::yield();
    }
    return true;
}

/// Names in /dev/shm, to check that queues leave nothing there.
std::set<std::string> dev_shm_names() {
    std::set<std::string> names;
    if (DIR* d = ::opendir("/dev/shm")) {
        while (dirent* e = ::readdir(d)) {
            names.insert(e->d_name);
        }
        ::closedir(d);
    }
    return names;
}

/// Shared memory for children to count into (made before the fork).
template <class T>
struct shared_block {
    T* p;
    shared_block() {
        void* m =
            ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            throw std::runtime_error("mmap failed");
        }
        p = new (m) T{};
    }
    ~shared_block() { ::munmap(p, sizeof(T)); }
    T* operator->() const { return p; }
};

}  // namespace

// ------------------------------------------------------------ one process

TEST_CASE("Queue: put and get in FIFO order; qsize, empty and full are exact", "[queues]") {
    mp::Queue<int> q;
    REQUIRE(q.empty());
    REQUIRE(q.qsize() == 0);
    REQUIRE_FALSE(q.full());
    for (int i = 0; i < 100; ++i) {
        q.put(i);
        REQUIRE(q.qsize() == static_cast<std::size_t>(i + 1));
    }
    REQUIRE_FALSE(q.empty());
    REQUIRE_FALSE(q.full());  // no maxsize
    for (int i = 0; i < 100; ++i) {
        REQUIRE(q.get() == i);
    }
    REQUIRE(q.empty());
    REQUIRE(q.maxsize() == 0);
    REQUIRE(q.capacity() == (std::size_t{1} << 20));
}

TEST_CASE("Queue: values of any serializable type", "[queues]") {
    mp::Queue<std::vector<std::string>> q;
    q.put({"hello", "", std::string(5000, 'z')});
    q.put({});
    const auto a = q.get();
    REQUIRE(a.size() == 3);
    REQUIRE(a[0] == "hello");
    REQUIRE(a[1].empty());
    REQUIRE(a[2] == std::string(5000, 'z'));
    REQUIRE(q.get().empty());

    mp::Queue<Msg> m;
    m.put(make_msg(1, 2));
    const Msg got = m.get();
    REQUIRE(got.producer == 1);
    REQUIRE(got.seq == 2);
    REQUIRE(intact(got));
}

TEST_CASE("Queue(maxsize): full, put_nowait and put with a timeout raise Full", "[queues]") {
    mp::Queue<int> q(2);
    REQUIRE(q.maxsize() == 2);
    q.put(1);
    q.put_nowait(2);
    REQUIRE(q.full());
    REQUIRE(q.qsize() == 2);
    REQUIRE_THROWS_AS(q.put_nowait(3), mp::Full);
    REQUIRE_THROWS_AS(q.put(3, false), mp::Full);
    REQUIRE_THROWS_AS(q.put(3, false, 10s), mp::Full);  // timeout ignored without block
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE_THROWS_AS(q.put(3, 50ms), mp::Full);
    REQUIRE(std::chrono::steady_clock::now() - t0 >= 50ms);
    REQUIRE_THROWS_WITH(q.put(3, true, 20ms), "Queue.put: timed out after 0.02 s");
    REQUIRE(q.qsize() == 2);
    REQUIRE(q.get() == 1);
    REQUIRE_FALSE(q.full());
    q.put(3, 1s);
    REQUIRE(q.get() == 2);
    REQUIRE(q.get() == 3);
    REQUIRE(q.empty());
}

TEST_CASE("Queue: get_nowait and get with a timeout raise Empty", "[queues]") {
    mp::Queue<int> q;
    REQUIRE_THROWS_AS(q.get_nowait(), mp::Empty);
    REQUIRE_THROWS_AS(q.get(false), mp::Empty);
    REQUIRE_THROWS_AS(q.get(false, 10s), mp::Empty);
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE_THROWS_AS(q.get(50ms), mp::Empty);
    REQUIRE(std::chrono::steady_clock::now() - t0 >= 50ms);
    REQUIRE_THROWS_WITH(q.get(true, 20ms), "Queue.get: timed out after 0.02 s");
    REQUIRE_THROWS_WITH(q.get_nowait(), "Queue.get: empty");
    // Empty and Full are not ProcessError, as in Python.
    REQUIRE_THROWS_AS(q.get_nowait(), std::runtime_error);
    q.put(7);
    REQUIRE(q.get_nowait() == 7);
    q.put(8);
    REQUIRE(q.get(1s) == 8);
    q.put(9);
    REQUIRE(q.get(true) == 9);
}

TEST_CASE("Queue: a zero or negative timeout does not wait", "[queues]") {
    mp::Queue<int> q(1);
    REQUIRE_THROWS_AS(q.get(0s), mp::Empty);
    REQUIRE_THROWS_AS(q.get(-1s), mp::Empty);
    q.put(1);
    REQUIRE_THROWS_AS(q.put(2, 0ms), mp::Full);
    REQUIRE(q.get(0s) == 1);
}

TEST_CASE("Queue: close() makes put and get raise ValueError; join_thread needs close",
          "[queues]") {
    mp::Queue<int> q;
    q.put(1);
    REQUIRE_THROWS_AS(q.join_thread(), mp::ProcessError);
    REQUIRE_THROWS_WITH(q.join_thread(), "Queue not closed");
    mp::Queue<int> other = q;  // another handle on the same queue
    q.close();
    REQUIRE_THROWS_AS(q.put(2), std::invalid_argument);
    REQUIRE_THROWS_WITH(q.put(2), "Queue is closed");
    REQUIRE_THROWS_AS(q.get(), std::invalid_argument);
    REQUIRE_THROWS_AS(q.get_nowait(), std::invalid_argument);
    REQUIRE_THROWS_AS(q.put_nowait(2), std::invalid_argument);
    REQUIRE(q.qsize() == 1);  // Python's qsize/empty/full work after close too
    q.join_thread();
    q.cancel_join_thread();
    REQUIRE(other.get() == 1);  // other handles go on
}

TEST_CASE("Queue: a value that cannot be serialized fails at the put call", "[queues]") {
    mp::Queue<Bad> q;
    REQUIRE_THROWS_WITH(q.put(Bad{}), "cannot serialize");
    REQUIRE(q.empty());
}

TEST_CASE("Queue: the ring capacity is checked", "[queues]") {
    mp::QueueOptions o;
    o.capacity = 8;
    REQUIRE_THROWS_AS(mp::Queue<int>(o), std::invalid_argument);
    o.capacity = (std::size_t{1} << 30) + 1;
    REQUIRE_THROWS_AS(mp::Queue<int>(o), std::invalid_argument);
    o.capacity = 100;
    REQUIRE(mp::Queue<int>(o).capacity() == 104);  // rounded up to 8
}

TEST_CASE("Queue: messages larger than the ring go through, in one process", "[queues]") {
    mp::QueueOptions o;
    o.capacity = 256;
    mp::Queue<std::string> q(o);
    // Bigger than the ring cannot be put without a reader: a reader thread.
    std::thread reader([&] {
        for (int i = 0; i < 50; ++i) {
            const std::string s = q.get(30s);
            if (s != std::string(static_cast<std::size_t>(i * 97), char('a' + i % 26))) {
                q.close();  // makes the writer's next put fail
                return;
            }
        }
    });
    for (int i = 0; i < 50; ++i) {
        q.put(std::string(static_cast<std::size_t>(i * 97), char('a' + i % 26)));
    }
    reader.join();
    REQUIRE(q.empty());
}

namespace {
/// A Queue whose ring the test reads and writes as bytes.
template <class T>
struct ring_probe : mp::Queue<T> {
    using mp::Queue<T>::Queue;
    mp::detail::shm_ring& ring() { return this->ring_; }
};

std::string take_bytes(mp::detail::shm_ring& ring) {
    std::string out;
    REQUIRE(ring.get_bytes([&](std::string_view b) { out.assign(b); },
                           mp::detail::wait_spec::nonblocking()) == mp::detail::ring_status::ok);
    return out;
}
}  // namespace

TEST_CASE("Queue: values travel as reduction's frames, whole across the ring's end", "[queues]") {
    mp::QueueOptions o;
    o.capacity = 256;
    // The bytes in the ring are reduction::dumps's frame.
    ring_probe<std::string> raw(o);
    for (std::size_t n : {std::size_t{0}, std::size_t{5}, std::size_t{150}, std::size_t{1000}}) {
        std::thread writer([&] { raw.put(std::string(n, 'q')); });
        std::string got;
        REQUIRE(raw.ring().get_bytes([&](std::string_view b) { got.assign(b); },
                                     mp::detail::wait_spec::forever()) ==
                mp::detail::ring_status::ok);
        writer.join();
        CHECK(got == mp::reduction::dumps(std::string(n, 'q')));
    }
    ring_probe<std::int64_t> ints(o);
    ints.put(-7);
    CHECK(take_bytes(ints.ring()) == mp::reduction::dumps(std::int64_t{-7}));

    // One put, one get, sizes that make messages start and end everywhere.
    mp::Queue<std::string> strings(o);
    mp::Queue<std::vector<std::int32_t>> vectors(o);
    struct Pod {
        std::uint32_t a;
        double b;
        char c[13];
    };
    mp::Queue<Pod> pods(o);
    for (std::uint32_t i = 0; i < 300; ++i) {
        const std::string s(i % 211, static_cast<char>('a' + i % 26));
        strings.put(s);
        CHECK(strings.get_nowait() == s);
        std::vector<std::int32_t> v(i % 53);
        for (std::size_t k = 0; k < v.size(); ++k) {
            v[k] = static_cast<std::int32_t>(i * 1000 + k);
        }
        vectors.put(v);
        CHECK(vectors.get_nowait() == v);
        Pod p{i, i * 0.5, {}};
        p.c[i % 13] = static_cast<char>(i);
        pods.put(p);
        const Pod back = pods.get_nowait();
        CHECK((back.a == i && back.b == i * 0.5 && back.c[i % 13] == static_cast<char>(i)));
    }
    CHECK(strings.empty());
    CHECK(vectors.empty());
    CHECK(pods.empty());
}

TEST_CASE("Queue: a frame of another type raises UnpicklingError and is consumed", "[queues]") {
    mp::QueueOptions o;
    o.capacity = 256;
    ring_probe<std::vector<std::int32_t>> q(o);
    // Pieces of garbage, ending at several offsets so some wrap around.
    for (int i = 0; i < 20; ++i) {
        REQUIRE(q.ring().put_bytes(mp::reduction::dumps(std::string(std::size_t(i) * 9, 'x')),
                                   mp::detail::wait_spec::nonblocking()) ==
                mp::detail::ring_status::ok);
        REQUIRE_THROWS_AS(q.get_nowait(), mp::UnpicklingError);
        REQUIRE(q.ring().put_bytes(std::string(std::size_t(i) * 5, 'g'),
                                   mp::detail::wait_spec::nonblocking()) ==
                mp::detail::ring_status::ok);
        REQUIRE_THROWS_AS(q.get_nowait(), mp::UnpicklingError);
        q.put({i, i + 1});
        REQUIRE(q.get_nowait() == std::vector<std::int32_t>{i, i + 1});
    }
    ring_probe<std::int64_t> ints(o);
    REQUIRE(ints.ring().put_bytes(mp::reduction::dumps(std::int32_t{1}),
                                  mp::detail::wait_spec::nonblocking()) ==
            mp::detail::ring_status::ok);
    REQUIRE_THROWS_AS(ints.get_nowait(), mp::UnpicklingError);
    REQUIRE(ints.empty());
}

TEST_CASE("Queue: a large put that times out is aborted, the queue goes on", "[queues]") {
    mp::QueueOptions o;
    o.capacity = 256;
    mp::Queue<std::string> q(o);
    REQUIRE_THROWS_AS(q.put(std::string(2000, 'x'), 30ms), mp::Full);
    REQUIRE(q.qsize() == 0);
    // The part already in the ring is skipped by the reader, up to the ABORT.
    REQUIRE_THROWS_AS(q.get_nowait(), mp::Empty);
    q.put("after");
    REQUIRE(q.get_nowait() == "after");
    REQUIRE_THROWS_AS(q.get_nowait(), mp::Empty);
}

// ------------------------------------------------------------ processes

TEST_CASE("Queue: a queue made before start() is shared with the child", "[queues]") {
    mp::Queue<int> to_child;
    mp::Queue<int> from_child;
    mp::Process p(
        [](mp::Queue<int> in, mp::Queue<int> out) {
            for (int i = 0; i < 1000; ++i) {
                out.put(in.get() * 2);
            }
        },
        to_child, from_child);
    p.start();
    for (int i = 0; i < 1000; ++i) {
        to_child.put(i);
    }
    for (int i = 0; i < 1000; ++i) {
        REQUIRE(from_child.get(30s) == i * 2);
    }
    p.join(30s);
    REQUIRE(p.exitcode() == 0);
    REQUIRE(from_child.empty());
}

TEST_CASE("Queue: a blocked get wakes when another process puts", "[queues]") {
    mp::Queue<int> q;
    mp::Queue<int> started;
    mp::Process p(
        [](mp::Queue<int> qq, mp::Queue<int> s) {
            s.put(1);
            mp::sys_exit(qq.get() == 42 ? 0 : 3);
        },
        q, started);
    p.start();
    REQUIRE(started.get(30s) == 1);
    q.put(42);
    p.join(30s);
    REQUIRE(p.exitcode() == 0);
}

TEST_CASE("Queue(maxsize): a blocked put wakes when another process gets", "[queues]") {
    mp::Queue<int> q(1);
    q.put(1);
    mp::Process p([](mp::Queue<int> qq) { qq.put(2); }, q);  // blocks: full
    p.start();
    REQUIRE(q.get(30s) == 1);
    REQUIRE(q.get(30s) == 2);
    p.join(30s);
    REQUIRE(p.exitcode() == 0);
}

TEST_CASE("Queue: several producers and consumers, mixed sizes larger than the ring", "[queues]") {
    constexpr std::uint32_t producers = 3;
    constexpr std::uint32_t consumers = 3;
    constexpr std::uint32_t per_producer = 300;
    mp::QueueOptions o;
    o.capacity = 4096;
    o.maxsize = 50;
    mp::Queue<Msg> q(o);
    mp_test::report_pipe pipe;
    std::vector<std::unique_ptr<mp::Process>> procs;
    for (std::uint32_t c = 0; c < consumers; ++c) {
        procs.push_back(std::make_unique<mp::Process>(
            [&pipe](mp::Queue<Msg> qq) {
                for (;;) {
                    const Msg m = qq.get();
                    if (m.producer == 999) {
                        return;
                    }
                    pipe.write_line((intact(m) ? "ok " : "torn ") + std::to_string(m.producer) +
                                    " " + std::to_string(m.seq) + " " + std::to_string(::getpid()));
                }
            },
            q));
    }
    for (std::uint32_t p = 0; p < producers; ++p) {
        procs.push_back(std::make_unique<mp::Process>(
            [p](mp::Queue<Msg> qq) {
                for (std::uint32_t s = 0; s < per_producer; ++s) {
                    qq.put(make_msg(p, s));
                }
            },
            q));
    }
    for (auto& proc : procs) {
        proc->start();
    }
    pipe.close_write();
    for (std::uint32_t p = 0; p < producers; ++p) {
        procs[consumers + p]->join(60s);
        REQUIRE(procs[consumers + p]->exitcode() == 0);
    }
    for (std::uint32_t c = 0; c < consumers; ++c) {
        q.put(Msg{999, 0, {}});
    }
    const auto lines = pipe.read_all_lines(60s);
    for (std::uint32_t c = 0; c < consumers; ++c) {
        procs[c]->join(60s);
        REQUIRE(procs[c]->exitcode() == 0);
    }
    REQUIRE(lines.size() == producers * per_producer);
    std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
    std::map<std::pair<std::string, std::uint32_t>, std::uint32_t> last;  // (consumer, producer)
    for (const auto& line : lines) {
        char status[8] = {};
        unsigned prod = 0, seq = 0;
        char pid[16] = {};
        REQUIRE(std::sscanf(line.c_str(), "%7s %u %u %15s", status, &prod, &seq, pid) == 4);
        REQUIRE(std::string(status) == "ok");
        REQUIRE(seen.insert({prod, seq}).second);  // no duplicate
        auto key = std::make_pair(std::string(pid), prod);
        if (last.count(key) != 0) {
            REQUIRE(seq > last[key]);  // FIFO per producer, as each consumer sees it
        }
        last[key] = seq;
    }
    REQUIRE(q.empty());
}

TEST_CASE("JoinableQueue: task_done and join", "[queues]") {
    mp::JoinableQueue<int> q;
    REQUIRE_THROWS_AS(q.task_done(), std::invalid_argument);
    REQUIRE_THROWS_WITH(q.task_done(), "task_done() called too many times");
    REQUIRE(q.join(0ms));  // nothing unfinished
    for (int i = 0; i < 10; ++i) {
        q.put(i);
    }
    REQUIRE_FALSE(q.join(20ms));
    mp::Process worker(
        [](mp::JoinableQueue<int> qq) {
            for (int i = 0; i < 10; ++i) {
                qq.get();
                qq.task_done();
            }
        },
        q);
    worker.start();
    q.join();
    REQUIRE(q.empty());
    REQUIRE_THROWS_AS(q.task_done(), std::invalid_argument);
    worker.join(30s);
    REQUIRE(worker.exitcode() == 0);
    q.put(1);
    REQUIRE(q.get() == 1);
    q.task_done();
    REQUIRE(q.join(0ms));
}

TEST_CASE("SimpleQueue: put, get, empty, close", "[queues]") {
    mp::SimpleQueue<std::string> q;
    REQUIRE(q.empty());
    mp::Process p([](mp::SimpleQueue<std::string> qq) { qq.put("from child"); }, q);
    p.start();
    REQUIRE(q.get() == "from child");
    p.join(30s);
    REQUIRE(q.empty());
    q.put("x");
    REQUIRE_FALSE(q.empty());
    REQUIRE(q.get(1s) == "x");
    REQUIRE_THROWS_AS(q.get(20ms), mp::Empty);
    q.close();
    REQUIRE_THROWS_AS(q.put("y"), std::system_error);
    REQUIRE_THROWS_AS(q.get(), std::system_error);
    REQUIRE_THROWS_AS(q.empty(), std::system_error);
    try {
        q.get();
    } catch (const std::system_error& e) {
        REQUIRE(e.code().value() == EBADF);
    }
}

TEST_CASE("Queue: nothing is left in /dev/shm", "[queues]") {
    const auto before = dev_shm_names();
    {
        mp::Queue<int> q;
        mp::JoinableQueue<int> j;
        mp::SimpleQueue<int> s;
        mp::Process p([](mp::Queue<int> qq) { qq.put(1); }, q);
        p.start();
        REQUIRE(q.get() == 1);
        p.join(30s);
        REQUIRE(dev_shm_names() == before);
    }
    REQUIRE(dev_shm_names() == before);
}

// ------------------------------------------------------------ crashes

TEST_CASE("Queue: a consumer killed while blocked in get leaves the queue usable",
          "[queues][crash]") {
    mp::Queue<int> q;
    mp::Queue<int> started;
    mp::Process p(
        [](mp::Queue<int> qq, mp::Queue<int> s) {
            s.put(1);
            qq.get();  // holds the reader's turn while it sleeps
        },
        q, started);
    p.start();
    REQUIRE(started.get(30s) == 1);
    p.kill();
    p.join(30s);
    REQUIRE(p.exitcode() == -SIGKILL);
    q.put(5);
    REQUIRE(q.get(5s) == 5);
    REQUIRE(q.empty());
}

TEST_CASE("Queue: a producer killed half-way through a large message", "[queues][crash]") {
    mp::QueueOptions o;
    o.capacity = 1024;
    PeekQueue<std::string> q(o);
    q.put("before");
    mp::Process p([](mp::Queue<std::string> qq) { qq.put(std::string(10000, 'x')); }, q);
    p.start();
    // The child fills the ring with the first chunks and waits for room.
    REQUIRE(eventually([&] { return q.used_bytes() > 900; }));
    p.kill();
    p.join(30s);
    REQUIRE(p.exitcode() == -SIGKILL);
    REQUIRE(q.qsize() == 1);  // the half-written message never counted
    REQUIRE(q.get_nowait() == "before");
    // The reader finds the writer dead, drops the part, and reports Empty.
    REQUIRE_THROWS_AS(q.get_nowait(), mp::Empty);
    q.put("after");
    REQUIRE(q.qsize() == 1);
    REQUIRE(q.get_nowait() == "after");
}

TEST_CASE("Queue: the next producer repairs after one killed half-way", "[queues][crash]") {
    mp::QueueOptions o;
    o.capacity = 1024;
    PeekQueue<std::string> q(o);
    mp::Process p([](mp::Queue<std::string> qq) { qq.put(std::string(10000, 'x')); }, q);
    p.start();
    REQUIRE(eventually([&] { return q.used_bytes() > 900; }));
    p.kill();
    p.join(30s);
    // Another producer takes the writer's turn (EOWNERDEAD), closes the
    // half-written message and streams its own.
    const std::string big(5000, 'z');
    mp::Process p2([big](mp::Queue<std::string> qq) { qq.put(big); }, q);
    p2.start();
    REQUIRE(q.get(30s) == big);
    p2.join(30s);
    REQUIRE(p2.exitcode() == 0);
    REQUIRE(q.empty());
}

TEST_CASE("Queue: a consumer killed half-way through a large message", "[queues][crash]") {
    mp::QueueOptions o;
    o.capacity = 1024;
    PeekQueue<std::string> q(o);
    // The producer streams a large message, then a small one.
    mp::Process producer(
        [](mp::Queue<std::string> qq) {
            qq.put(std::string(20000, 'x'));
            qq.put("next");
        },
        q);
    producer.start();
    REQUIRE(eventually([&] { return q.used_bytes() > 900; }));
    // A consumer takes the first chunks (the producer then refills the ring)
    // and is killed half-way.
    mp::Process consumer([](mp::Queue<std::string> qq) { qq.get(); }, q);
    consumer.start();
    consumer.kill();
    consumer.join(30s);
    // Whatever the consumer had taken, the next reader gets whole messages
    // only: the large one (if the consumer had not begun it) and then "next".
    std::string first = q.get(30s);
    if (first != "next") {
        REQUIRE(first == std::string(20000, 'x'));
        REQUIRE(q.get(30s) == "next");
    }
    producer.join(30s);
    REQUIRE(producer.exitcode() == 0);
    REQUIRE(q.empty());
}

namespace {

constexpr int max_producers = 2;  // per round; slots are reused
constexpr int max_consumers = 2;
constexpr int log_size = 20000;

/// What the children of the kill test write down, in shared memory.
struct kill_test_log {
    std::atomic<std::uint32_t> acked[max_producers];  // seqs whose put() returned
    std::atomic<std::uint32_t> count[max_consumers];  // entries in got[c]
    std::uint64_t got[max_consumers][log_size];       // producer << 32 | seq
    std::atomic<std::uint32_t> torn;
};

}  // namespace

TEST_CASE("Queue: producers and consumers killed at random points, many rounds",
          "[queues][crash]") {
    mp::QueueOptions o;
    o.capacity = 4096;  // small: many large messages stream in chunks
    o.maxsize = 64;
    mp::Queue<Msg> q(o);
    shared_block<kill_test_log> log;
    std::mt19937 rng(12345);
    const auto stop_at = std::chrono::steady_clock::now() + 12s;
    int next_producer = 0;
    int rounds = 0;
    std::size_t checked = 0;
    std::size_t lost_total = 0;
    while (std::chrono::steady_clock::now() < stop_at) {
        ++rounds;
        for (int i = 0; i < max_producers; ++i) {
            log->acked[i].store(0);
        }
        for (int i = 0; i < max_consumers; ++i) {
            log->count[i].store(0);
        }
        std::vector<std::unique_ptr<mp::Process>> procs;
        std::vector<int> round_producers;
        std::vector<int> round_consumers;
        for (int slot = 0; slot < max_producers; ++slot) {
            const int id = next_producer++;  // unique over all rounds
            round_producers.push_back(id);
            procs.push_back(std::make_unique<mp::Process>(
                [id, slot, &log](mp::Queue<Msg> qq) {
                    for (std::uint32_t s = 0; s < log_size / 4; ++s) {
                        qq.put(make_msg(static_cast<std::uint32_t>(id), s));
                        log->acked[slot].store(s + 1);
                    }
                },
                q));
        }
        for (int id = 0; id < max_consumers; ++id) {
            round_consumers.push_back(id);
            procs.push_back(std::make_unique<mp::Process>(
                [id, &log](mp::Queue<Msg> qq) {
                    for (;;) {
                        const Msg m = qq.get();
                        if (!intact(m)) {
                            log->torn.fetch_add(1);
                        }
                        const std::uint32_t n = log->count[id].load();
                        if (n < log_size) {
                            log->got[id][n] = (std::uint64_t{m.producer} << 32) | m.seq;
                            log->count[id].store(n + 1);
                        }
                    }
                },
                q));
        }
        for (auto& p : procs) {
            p->start();
        }
        // Kill them one by one at random moments (the delays only spread the
        // kill points; nothing waits on them for correctness).
        std::vector<std::size_t> order(procs.size());
        for (std::size_t i = 0; i < order.size(); ++i) {
            order[i] = i;
        }
        std::shuffle(order.begin(), order.end(), rng);
        for (const std::size_t i : order) {
            std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
            procs[i]->kill();
        }
        for (auto& p : procs) {
            p->join(30s);
            REQUIRE_FALSE(p->is_alive());
        }
        // Drain what is left: whole messages only, the queue still works.
        std::vector<std::uint64_t> drained;
        for (;;) {
            try {
                const Msg m = q.get_nowait();
                REQUIRE(intact(m));
                drained.push_back((std::uint64_t{m.producer} << 32) | m.seq);
            } catch (const mp::Empty&) {
                break;
            }
        }
        REQUIRE(q.qsize() == 0);
        REQUIRE(log->torn.load() == 0);
        // Check every message of the round by its sequence number.
        std::map<std::uint64_t, int> times;
        for (const int c : round_consumers) {
            const std::uint32_t n = log->count[c].load();
            REQUIRE(n < log_size);
            std::map<std::uint32_t, std::uint32_t> last;
            for (std::uint32_t k = 0; k < n; ++k) {
                const std::uint64_t e = log->got[c][k];
                ++times[e];
                const auto prod = static_cast<std::uint32_t>(e >> 32);
                const auto seq = static_cast<std::uint32_t>(e);
                if (last.count(prod) != 0) {
                    REQUIRE(seq > last[prod]);
                }
                last[prod] = seq;
            }
        }
        for (const std::uint64_t e : drained) {
            ++times[e];
        }
        std::size_t lost = 0;
        for (std::size_t slot = 0; slot < round_producers.size(); ++slot) {
            const int p = round_producers[slot];
            const std::uint32_t acked = log->acked[slot].load();
            for (std::uint32_t s = 0; s <= acked; ++s) {
                const std::uint64_t e = (std::uint64_t(p) << 32) | s;
                const int t = times.count(e) != 0 ? times[e] : 0;
                REQUIRE(t <= 1);  // never twice
                if (s < acked && t == 0) {
                    ++lost;  // put() returned, never seen
                }
                times.erase(e);
            }
        }
        REQUIRE(times.empty());  // nothing beyond the put in progress
        // Only a consumer killed between taking a message and writing it
        // down may lose one: at most one per killed consumer.
        REQUIRE(lost <= round_consumers.size());
        lost_total += lost;
        for (int slot = 0; slot < max_producers; ++slot) {
            checked += log->acked[slot].load();
        }
    }
    INFO("rounds " << rounds << ", acknowledged messages checked " << checked << ", lost "
                   << lost_total);
    REQUIRE(rounds >= 3);
    REQUIRE(checked > 0);
    // Still usable after all that.
    q.put(make_msg(7, 7));
    REQUIRE(intact(q.get(5s)));
    REQUIRE(q.empty());
}

// ------------------------------------------------------------ seed examples

TEST_CASE("seed 001-05: the reader gets 1, 2, 3 then Empty; full() false, empty() true",
          "[queues][seed-001-05]") {
    mp::Queue<int> q;
    mp_test::report_pipe pipe;
    mp::Process pw(
        [](mp::Queue<int> qq) {
            for (int i : {1, 2, 3}) {
                qq.put(i);
            }
        },
        q);
    mp::Process pr(
        [&pipe](mp::Queue<int> qq) {
            for (;;) {
                try {
                    pipe.write_line(std::to_string(qq.get(false)));
                } catch (const mp::Empty&) {
                    pipe.write_line("empty");
                    return;
                }
            }
        },
        q);
    pw.start();
    pw.join(30s);
    pr.start();
    pr.join(30s);
    pipe.close_write();
    REQUIRE(pipe.read_all_lines() == std::vector<std::string>{"1", "2", "3", "empty"});
    REQUIRE_FALSE(q.full());
    REQUIRE(q.empty());
    // The tutorial itself prints the same.
    const auto out = mp_test::run_program(mp_test::example_path("seed_001_05_queue_get_nowait"));
    REQUIRE(out.exit_status == 0);
    REQUIRE(out.output.find("读取到消息： 3\n读取消息完毕\nfalse\ntrue\n执行主进程") !=
            std::string::npos);
}

namespace {

struct Greeting {
    std::string word;
    int n = 0;
    template <class Archive>
    void serialize(Archive& ar) {
        ar(word, n);
    }
};

class Myprocess : public mp::Process {
public:
    Myprocess(mp::Queue<Greeting> q, int n) : q_(std::move(q)), n_(n) {}
    void run() override { q_.put(Greeting{"hello", n_}); }

private:
    mp::Queue<Greeting> q_;
    int n_;
};

}  // namespace

TEST_CASE("seed 002-03: three Process subclasses put into one Queue; the parent gets one from each",
          "[queues][seed-002-03]") {
    mp::Queue<Greeting> q;
    std::vector<std::unique_ptr<Myprocess>> list;
    for (int i = 0; i < 3; ++i) {
        list.push_back(std::make_unique<Myprocess>(q, i));
        list.back()->start();
    }
    std::set<int> ns;
    for (int i = 0; i < 3; ++i) {
        const Greeting g = q.get(30s);
        REQUIRE(g.word == "hello");
        ns.insert(g.n);
    }
    REQUIRE(ns == std::set<int>{0, 1, 2});
    for (auto& p : list) {
        p->join(30s);
        REQUIRE(p->exitcode() == 0);
    }
    REQUIRE(q.empty());
}

TEST_CASE("seed 004-06: bounded Queue(5), get(timeout) until the timeout",
          "[queues][seed-004-06]") {
    mp::Queue<std::string> q(5);
    mp_test::report_pipe pipe;
    mp::Process p1(
        [](mp::Queue<std::string> qq) {
            for (const char* image : {"1.png", "2.png", "3.png", "4.png"}) {
                qq.put(image);
            }
        },
        q);
    mp::Process p2(
        [&pipe](mp::Queue<std::string> qq) {
            for (;;) {
                try {
                    pipe.write_line(qq.get(300ms) + " 保存成功");
                } catch (const mp::Empty&) {
                    pipe.write_line("timeout");
                    return;
                }
            }
        },
        q);
    p1.start();
    p2.start();
    p1.join(30s);
    p2.join(30s);
    REQUIRE(p1.exitcode() == 0);
    REQUIRE(p2.exitcode() == 0);
    pipe.close_write();
    REQUIRE(pipe.read_all_lines() == std::vector<std::string>{"1.png 保存成功", "2.png 保存成功",
                                                              "3.png 保存成功", "4.png 保存成功",
                                                              "timeout"});
    REQUIRE(q.maxsize() == 5);
}
