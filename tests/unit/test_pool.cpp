// Tests of multiprocessing/pool.hpp: Pool, ThreadPool, AsyncResult, imap.
#include "support/catch.hpp"
#include "support/helpers.hpp"
#include <multiprocessing.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace mp = multiprocessing;
using namespace std::chrono_literals;

namespace {

// ---- shared state the workers inherit (set before the pool forks them) ----

/// Counters in MAP_SHARED memory: seen by the parent and every worker.
struct shared_counters {
    std::atomic<int> running;
    std::atomic<int> max_running;
    std::atomic<int> started;
    std::atomic<int> finished;
    std::atomic<int> input_read;
};

shared_counters* make_counters() {
    void* p = ::mmap(nullptr, sizeof(shared_counters), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    return new (p) shared_counters{};
}

shared_counters* g_counters = nullptr;

/// A gate tasks block on until the test releases them (one byte per task).
int g_gate[2] = {-1, -1};

void open_gate_pipe() {
    REQUIRE(::pipe2(g_gate, O_CLOEXEC) == 0);
}
void release(int n) {
    for (int i = 0; i < n; ++i) {
        REQUIRE(::write(g_gate[1], "x", 1) == 1);
    }
}
void close_gate_pipe() {
    ::close(g_gate[0]);
    ::close(g_gate[1]);
    g_gate[0] = g_gate[1] = -1;
}

int wait_at_gate(int x) {
    char c;
    while (::read(g_gate[0], &c, 1) < 0 && errno == EINTR) {
    }
    return x;
}

int square(int x) {
    return x * x;
}
int add(int a, int b) {
    return a + b;
}
int my_pid(int) {
    return static_cast<int>(::getpid());
}
int fail_on_3(int x) {
    if (x == 3) {
        throw std::out_of_range("three is not allowed");
    }
    return x;
}
std::string shout(std::string s) {
    return s + "!";
}

/// Counts concurrency in shared memory: waits (bounded) until `want` tasks
/// have started, so that the maximum seen proves how many ran at once.
int concurrent_task(int x, int want) {
    auto& c = *g_counters;
    const int now = ++c.running;
    int prev = c.max_running.load();
    while (now > prev && !c.max_running.compare_exchange_weak(prev, now)) {
    }
    ++c.started;
    for (int i = 0; i < 200000 && c.started.load() < want; ++i) {
        ::usleep(50);  // bounded: the assertion on max_running decides, not this wait
    }
    --c.running;
    ++c.finished;
    return x;
}

int die_segv(int) {
    // A real invalid access (a page with no access rights), with the default
    // action, so that sanitizers neither flag it nor turn it into exit(1).
    std::signal(SIGSEGV, SIG_DFL);
    void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    volatile int* p = static_cast<volatile int*>(page);
    return *p;
}
int die_abort(int) {
    std::signal(SIGABRT, SIG_DFL);
    std::abort();
}
int die_kill9(int) {
    ::kill(::getpid(), SIGKILL);
    for (;;) {
        ::pause();
    }
}
int die_exit3(int) {
    ::_exit(3);
}

/// A functor with state that cereal serializes (not trivially copyable).
struct prefixer {
    std::string prefix;
    std::string operator()(const std::string& s) const { return prefix + s; }
    template <class Archive>
    void serialize(Archive& ar) {
        ar(prefix);
    }
};

/// An input iterator that counts how many items were read (imap laziness).
struct counting_input {
    using iterator_category = std::input_iterator_tag;
    using value_type = int;
    using difference_type = std::ptrdiff_t;
    using pointer = const int*;
    using reference = int;
    int i = 0;
    int* reads = nullptr;
    int operator*() const {
        ++*reads;
        return i;
    }
    counting_input& operator++() {
        ++i;
        return *this;
    }
    bool operator!=(const counting_input& o) const { return i != o.i; }
    bool operator==(const counting_input& o) const { return i == o.i; }
};
struct counting_range {
    int n;
    int* reads;
    counting_input begin() const { return {0, reads}; }
    counting_input end() const { return {n, reads}; }
};

bool pid_alive(pid_t pid) {
    return ::kill(pid, 0) == 0;
}

}  // namespace

// ------------------------------------------------------------------ basics

TEST_CASE("apply runs the function in a worker process and returns its result", "[pool]") {
    mp::Pool pool(2);
    CHECK(pool.apply(square, 7) == 49);
    CHECK(pool.apply(add, 2, 3) == 5);
    CHECK(pool.apply(my_pid, 0) != static_cast<int>(::getpid()));
    CHECK(pool.apply(shout, std::string("hi")) == "hi!");
    CHECK(pool.apply(shout, "c string") == "c string!");
    CHECK(pool.processes() == 2);
}

TEST_CASE("lambdas: captureless, capturing ints, and cereal functors travel", "[pool]") {
    mp::Pool pool(1);
    CHECK(pool.apply([](int x) { return x + 1; }, 1) == 2);
    const int k = 10;
    const double f = 0.5;
    CHECK(pool.apply([k, f](int x) { return static_cast<double>(x + k) * f; }, 4) == 7.0);
    CHECK(pool.apply(prefixer{"pre-"}, std::string("fix")) == "pre-fix");
    CHECK(pool.map(prefixer{">"}, std::vector<std::string>{"a", "b"}) ==
          std::vector<std::string>{">a", ">b"});
}

TEST_CASE("apply of a void function and of string and vector values", "[pool]") {
    mp::Pool pool(1);
    pool.apply([](int) {}, 1);
    auto a = pool.apply_async([](int) {}, 1);
    a.get();
    CHECK(a.successful());
    auto v = pool.apply(
        [](std::vector<int> x) {
            std::reverse(x.begin(), x.end());
            return x;
        },
        std::vector<int>{1, 2, 3});
    CHECK(v == std::vector<int>{3, 2, 1});
}

TEST_CASE("arguments and results larger than the channel's buffers travel whole", "[pool]") {
    mp::Pool pool(2);
    std::vector<int> big(3 * 1000 * 1000);  // 12 MB each way
    std::iota(big.begin(), big.end(), 0);
    auto twice = [](std::vector<int> v) {
        for (auto& x : v) {
            x *= 2;
        }
        return v;
    };
    auto a = pool.apply_async(twice, big);
    auto b = pool.apply_async(twice, big);
    const auto ra = a.get(60s);
    const auto rb = b.get(60s);
    REQUIRE(ra.size() == big.size());
    CHECK(ra == rb);
    CHECK(ra[123456] == 246912);
    CHECK(ra.back() == 2 * big.back());
    std::vector<int> m = pool.map(square, std::vector<int>(2000000, 3));
    CHECK(std::count(m.begin(), m.end(), 9) == 2000000);
}

TEST_CASE("AsyncResult: get, get(timeout), wait, ready, successful", "[pool]") {
    open_gate_pipe();
    {
        mp::Pool pool(1);
        auto r = pool.apply_async(wait_at_gate, 5);
        CHECK_FALSE(r.ready());
        CHECK_THROWS_AS(r.successful(), std::invalid_argument);
        CHECK_THROWS_AS(r.get(20ms), mp::TimeoutError);
        CHECK_FALSE(r.wait(10ms));
        release(1);
        r.wait();
        CHECK(r.ready());
        CHECK(r.successful());
        CHECK(r.get() == 5);
        CHECK(r.get(0ms) == 5);  // get() may be called again
        pool.close();
        pool.join();
    }
    close_gate_pipe();
}

TEST_CASE("an exception in a task is rethrown from get() as RemoteError, the pool goes on",
          "[pool]") {
    mp::Pool pool(2);
    auto r = pool.apply_async(fail_on_3, 3);
    try {
        r.get();
        FAIL("no exception");
    } catch (const mp::RemoteError& e) {
        CHECK(e.remote_type() == "std::out_of_range");
        CHECK(std::string(e.what()).find("three is not allowed") != std::string::npos);
        CHECK(e.pid() != ::getpid());
        CHECK(e.process_name().rfind("ForkPoolWorker-", 0) == 0);
    }
    CHECK_FALSE(r.successful());
    CHECK(pool.apply(fail_on_3, 4) == 4);
}

TEST_CASE("callbacks run in the parent on the pool's result thread", "[pool]") {
    mp::Pool pool(2);
    std::mutex m;
    std::vector<int> got;
    std::set<std::thread::id> threads;
    std::atomic<int> errors{0};
    std::string error_text;
    std::vector<mp::AsyncResult<int>> rs;
    for (int i = 0; i < 10; ++i) {
        rs.push_back(pool.apply_async(
            fail_on_3, mp::args(i),
            [&](int v) {
                std::lock_guard<std::mutex> lock(m);
                got.push_back(v);
                threads.insert(std::this_thread::get_id());
            },
            [&](const std::exception& e) {
                std::lock_guard<std::mutex> lock(m);
                error_text = e.what();
                threads.insert(std::this_thread::get_id());
                ++errors;
            }));
    }
    for (auto& r : rs) {
        r.wait();  // the callback has run before the result is ready
    }
    std::lock_guard<std::mutex> lock(m);
    std::sort(got.begin(), got.end());
    CHECK(got == std::vector<int>{0, 1, 2, 4, 5, 6, 7, 8, 9});
    CHECK(errors == 1);
    CHECK(error_text.find("three is not allowed") != std::string::npos);
    REQUIRE(threads.size() == 1);
    CHECK(*threads.begin() == pool.result_thread_id());
    CHECK(*threads.begin() != std::this_thread::get_id());
}

// --------------------------------------------------------------------- map

TEST_CASE("map returns results in order for every chunksize", "[pool]") {
    mp::Pool pool(2);
    std::vector<int> v(1000);
    std::iota(v.begin(), v.end(), 0);
    std::vector<int> want(v.size());
    std::transform(v.begin(), v.end(), want.begin(), square);
    CHECK(pool.map(square, v) == want);
    CHECK(pool.map(square, v, 1) == want);
    CHECK(pool.map(square, v, 7) == want);
    CHECK(pool.map(square, v, 5000) == want);
    CHECK(pool.map(square, std::vector<int>{}).empty());
    CHECK(pool.map(square, {1, 2, 3}) == std::vector<int>{1, 4, 9});
}

TEST_CASE("map of a void function runs every item and returns nothing", "[pool]") {
    g_counters = make_counters();
    {
        mp::Pool pool(2);
        std::vector<int> v(50, 1);
        pool.map([](int x) { g_counters->finished += x; }, v, 3);
        CHECK(g_counters->finished == 50);
        bool called = false;
        auto r =
            pool.map_async([](int x) { g_counters->finished += x; }, v, 1, [&] { called = true; });
        r.get();
        CHECK(called);
        CHECK(g_counters->finished == 100);
        std::vector<std::pair<int, int>> p{{1, 2}, {3, 4}};
        pool.starmap([](int a, int b) { g_counters->finished += a + b; }, p);
        CHECK(g_counters->finished == 110);
    }
    ::munmap(g_counters, sizeof(shared_counters));
    g_counters = nullptr;
}

TEST_CASE("chunksize below 1 is rejected everywhere", "[pool]") {
    mp::Pool pool(1);
    std::vector<int> v{1, 2, 3};
    CHECK_THROWS_AS(pool.map(square, v, 0), std::invalid_argument);
    CHECK_THROWS_AS(pool.map(square, v, -1), std::invalid_argument);
    CHECK_THROWS_AS(pool.map_async(square, v, 0), std::invalid_argument);
    CHECK_THROWS_AS(pool.imap(square, v, 0), std::invalid_argument);
    CHECK_THROWS_AS(pool.imap_unordered(square, v, 0), std::invalid_argument);
    std::vector<std::tuple<int, int>> t{{1, 2}};
    CHECK_THROWS_AS(pool.starmap(add, t, 0), std::invalid_argument);
}

TEST_CASE("map_async: callback gets the whole list, get(timeout), errors", "[pool]") {
    mp::Pool pool(2);
    std::vector<int> v{1, 2, 3, 4};
    std::vector<int> seen;
    auto r = pool.map_async(square, v, 2, [&](const std::vector<int>& x) { seen = x; });
    CHECK(r.get(30s) == std::vector<int>{1, 4, 9, 16});
    CHECK(seen == std::vector<int>{1, 4, 9, 16});
    std::string err;
    auto bad = pool.map_async(fail_on_3, v, 1, mp::detail::no_callback{},
                              [&](const std::exception& e) { err = e.what(); });
    CHECK_THROWS_AS(bad.get(), mp::RemoteError);
    CHECK(err.find("three") != std::string::npos);
}

TEST_CASE("map fails fast: the first failure is thrown without waiting for other chunks",
          "[pool]") {
    open_gate_pipe();
    {
        mp::Pool pool(2);
        // Item 3 fails at once; items 0..2 block at the gate until released.
        auto f = [](int x) { return x == 3 ? fail_on_3(x) : wait_at_gate(x); };
        CHECK_THROWS_AS(pool.map(f, std::vector<int>{3, 0, 1, 2}, 1), mp::RemoteError);
        release(3);  // only now can the others finish
        pool.close();
        pool.join();
    }
    close_gate_pipe();
}

TEST_CASE("starmap and starmap_async unpack tuples and pairs", "[pool]") {
    mp::Pool pool(2);
    std::vector<std::tuple<int, int>> t{{1, 2}, {3, 4}, {5, 6}};
    CHECK(pool.starmap(add, t) == std::vector<int>{3, 7, 11});
    std::vector<std::pair<int, int>> p{{10, 1}, {20, 2}};
    CHECK(pool.starmap_async(add, p, 1).get() == std::vector<int>{11, 22});
    std::vector<std::tuple<std::string, int>> s{{"a", 2}, {"b", 3}};
    CHECK(pool.starmap(
              [](std::string x, int n) {
                  std::string out;
                  for (int i = 0; i < n; ++i) {
                      out += x;
                  }
                  return out;
              },
              s) == std::vector<std::string>{"aa", "bbb"});
}

// -------------------------------------------------------------------- imap

TEST_CASE("imap yields results in order, imap_unordered all of them", "[pool]") {
    mp::Pool pool(2);
    std::vector<int> v(100);
    std::iota(v.begin(), v.end(), 0);
    std::vector<int> got;
    for (int x : pool.imap(square, v)) {
        got.push_back(x);
    }
    std::vector<int> want(v.size());
    std::transform(v.begin(), v.end(), want.begin(), square);
    CHECK(got == want);
    got.clear();
    for (int x : pool.imap(square, v, 7)) {
        got.push_back(x);
    }
    CHECK(got == want);
    got.clear();
    for (int x : pool.imap(square, v, 20)) {  // chunks of numbers travel as one block
        got.push_back(x);
    }
    CHECK(got == want);
    auto it = pool.imap_unordered(square, std::vector<int>(v), 3);
    std::multiset<int> un;
    for (std::size_t i = 0; i < v.size(); ++i) {
        un.insert(it.next(30s));
    }
    CHECK(un == std::multiset<int>(want.begin(), want.end()));
    CHECK_THROWS_AS(it.next(), mp::StopIteration);
}

TEST_CASE("imap next(timeout) raises TimeoutError, errors come in place", "[pool]") {
    open_gate_pipe();
    {
        mp::Pool pool(1);
        auto it = pool.imap(wait_at_gate, std::vector<int>{1, 2});
        CHECK_THROWS_AS(it.next(20ms), mp::TimeoutError);
        release(2);
        CHECK(it.next(30s) == 1);
        CHECK(it.next(30s) == 2);
        CHECK_THROWS_AS(it.next(), mp::StopIteration);
        auto e = pool.imap(fail_on_3, std::vector<int>{2, 3, 4});
        CHECK(e.next() == 2);
        CHECK_THROWS_AS(e.next(), mp::RemoteError);
        CHECK(e.next() == 4);
        pool.close();
        pool.join();
    }
    close_gate_pipe();
}

TEST_CASE("imap reads its input lazily, a bounded number of chunks ahead", "[pool]") {
    mp::Pool pool(2);
    int reads = 0;
    counting_range input{1000, &reads};
    auto it = pool.imap(square, input, 2, 4);  // chunks of 2, at most 4 chunks ahead
    CHECK(reads == 8);
    for (int i = 0; i < 10; ++i) {
        CHECK(it.next(30s) == i * i);
        CHECK(reads <= 8 + 2 * (i / 2 + 1));
    }
    int n = 10;
    for (int x : it) {
        CHECK(x == n * n);
        ++n;
    }
    CHECK(n == 1000);
    CHECK(reads == 1000);
}

// ------------------------------------------------------------ state, misuse

TEST_CASE("misuse fails as in Python: submit after close, join while running", "[pool]") {
    mp::Pool pool(1);
    CHECK_THROWS_WITH(pool.join(), "Pool is still running");
    pool.close();
    CHECK_THROWS_WITH(pool.apply_async(square, 1), "Pool not running");
    CHECK_THROWS_AS(pool.apply(square, 1), std::invalid_argument);
    CHECK_THROWS_AS(pool.map(square, std::vector<int>{1}), std::invalid_argument);
    CHECK_THROWS_AS(pool.imap(square, std::vector<int>{1}), std::invalid_argument);
    pool.join();
    CHECK_THROWS_AS(mp::Pool(0), std::invalid_argument);
    mp::PoolOptions o;
    o.processes = 1;
    o.maxtasksperchild = 0;
    CHECK_THROWS_AS(mp::Pool(o), std::invalid_argument);
}

TEST_CASE("close then join waits for every submitted task", "[pool]") {
    mp::Pool pool(2);
    std::vector<mp::AsyncResult<int>> rs;
    for (int i = 0; i < 50; ++i) {
        rs.push_back(pool.apply_async(square, i));
    }
    pool.close();
    pool.join();
    for (int i = 0; i < 50; ++i) {
        REQUIRE(rs[static_cast<std::size_t>(i)].ready());
        CHECK(rs[static_cast<std::size_t>(i)].get() == i * i);
    }
    for (pid_t pid : pool.worker_pids()) {
        CHECK_FALSE(pid_alive(pid));
    }
}

TEST_CASE("terminate stops the workers, unfinished tasks fail instead of hanging", "[pool]") {
    open_gate_pipe();
    mp::Pool pool(2);
    auto blocked = pool.apply_async(wait_at_gate, 1);
    auto queued = pool.map_async(square, std::vector<int>(100, 2), 1);
    const auto pids = pool.worker_pids();
    pool.terminate();
    CHECK_THROWS_AS(blocked.get(30s), mp::ProcessError);
    CHECK(queued.ready());
    for (pid_t pid : pids) {
        CHECK_FALSE(pid_alive(pid));
    }
    pool.join();
    close_gate_pipe();
}

TEST_CASE("leaving the scope terminates the pool, like `with Pool()`", "[pool]") {
    std::vector<pid_t> pids;
    {
        mp::Pool pool(2);
        pool.apply(square, 1);
        pids = pool.worker_pids();
        REQUIRE(pids.size() == 2);
    }
    for (pid_t pid : pids) {
        CHECK_FALSE(pid_alive(pid));
    }
}

TEST_CASE("initializer runs in each worker, processes defaults to cpu_count", "[pool]") {
    static int g_initialized = 0;
    mp::Pool pool(
        2, [](int v) { g_initialized = v; }, 42);
    CHECK(pool.apply([](int) { return g_initialized; }, 0) == 42);
    CHECK(g_initialized == 0);  // not in the parent
    mp::Pool def;
    CHECK(def.processes() == mp::cpu_count());
}

// ----------------------------------------------------------- worker death

namespace {
void check_death(int (*killer)(int), int exitcode, const std::string& words) {
    mp::Pool pool(2);
    const auto before = pool.worker_pids();
    std::vector<mp::AsyncResult<int>> others;
    for (int i = 0; i < 20; ++i) {
        others.push_back(pool.apply_async(square, i));
    }
    auto doomed = pool.apply_async(killer, 0);
    for (int i = 20; i < 40; ++i) {
        others.push_back(pool.apply_async(square, i));
    }
    try {
        doomed.get(60s);
        FAIL("the task should have failed");
    } catch (const mp::WorkerLostError& e) {
        CHECK(e.exitcode() == exitcode);
        CHECK(std::string(e.what()).find(words) != std::string::npos);
        INFO(e.what());
    }
    for (int i = 0; i < 40; ++i) {
        CHECK(others[static_cast<std::size_t>(i)].get(60s) == i * i);
    }
    CHECK(pool.apply(square, 9) == 81);
    const auto after = pool.worker_pids();
    CHECK(after.size() == 2);
    CHECK(after != before);
}
}  // namespace

TEST_CASE("a worker that segfaults fails only its task and is replaced", "[pool][crash]") {
    check_death(die_segv, -SIGSEGV, "SIGSEGV");
}
TEST_CASE("a worker that aborts fails only its task and is replaced", "[pool][crash]") {
    check_death(die_abort, -SIGABRT, "SIGABRT");
}
TEST_CASE("a worker killed with kill -9 fails only its task and is replaced", "[pool][crash]") {
    check_death(die_kill9, -SIGKILL, "SIGKILL");
}
TEST_CASE("a worker that calls _exit(3) fails only its task and is replaced", "[pool][crash]") {
    check_death(die_exit3, 3, "exited with code 3");
}

TEST_CASE("a worker dying in a map chunk fails that map only", "[pool][crash]") {
    mp::Pool pool(2);
    auto f = [](int x) { return x == 50 ? die_exit3(x) : x; };
    std::vector<int> v(100);
    std::iota(v.begin(), v.end(), 0);
    CHECK_THROWS_AS(pool.map(f, v, 10), mp::WorkerLostError);
    CHECK(pool.map(square, std::vector<int>{1, 2}) == std::vector<int>{1, 4});
}

TEST_CASE("per-task timeout: the task raises TimeoutError, its worker is replaced",
          "[pool][crash]") {
    open_gate_pipe();
    {
        mp::PoolOptions o;
        o.processes = 2;
        o.task_timeout = std::chrono::milliseconds(300);
        mp::Pool pool(o);
        auto stuck = pool.apply_async(wait_at_gate, 1);  // never released
        std::string message;
        try {
            stuck.get(60s);
        } catch (const mp::TimeoutError& e) {
            message = e.what();
        }
        CHECK(message.find("timed out after 0.3 s") != std::string::npos);
        CHECK_THROWS_AS(stuck.get(), mp::TimeoutError);
        CHECK(stuck.ready());
        CHECK(pool.apply(square, 5) == 25);
        CHECK(pool.map(square, std::vector<int>{1, 2, 3}) == std::vector<int>{1, 4, 9});
        pool.close();
        pool.join();
    }
    close_gate_pipe();
}

TEST_CASE("maxtasksperchild replaces workers without losing or duplicating tasks", "[pool]") {
    mp::PoolOptions o;
    o.processes = 2;
    o.maxtasksperchild = 3;
    mp::Pool pool(o);
    std::vector<mp::AsyncResult<std::pair<int, int>>> rs;
    for (int i = 0; i < 60; ++i) {
        rs.push_back(pool.apply_async(
            [](int x) { return std::make_pair(x, static_cast<int>(::getpid())); }, i));
    }
    std::map<int, int> seen;
    std::map<int, int> per_pid;
    for (auto& r : rs) {
        auto [x, pid] = r.get(60s);
        ++seen[x];
        ++per_pid[pid];
    }
    CHECK(seen.size() == 60);
    for (const auto& [x, n] : seen) {
        CHECK(n == 1);
    }
    CHECK(per_pid.size() >= 20);
    for (const auto& [pid, n] : per_pid) {
        CHECK(n <= 3);
    }
    std::vector<int> v(300);
    std::iota(v.begin(), v.end(), 0);
    CHECK(pool.map(square, v, 5).size() == 300);
}

TEST_CASE("a burst of 100,000 tasks all complete", "[pool][slow]") {
    mp::Pool pool(2);
    std::vector<mp::AsyncResult<int>> rs;
    rs.reserve(100000);
    for (int i = 0; i < 100000; ++i) {
        rs.push_back(pool.apply_async(square, i % 1000));
    }
    long long sum = 0;
    for (auto& r : rs) {
        sum += r.get(120s);
    }
    long long want = 0;
    for (int i = 0; i < 100000; ++i) {
        want += (i % 1000) * (i % 1000);
    }
    CHECK(sum == want);
    std::vector<int> v(100000, 3);
    auto m = pool.map(square, v, 1);
    CHECK(std::all_of(m.begin(), m.end(), [](int x) { return x == 9; }));
}

TEST_CASE("a pool cannot be used from a forked child", "[pool]") {
    mp::Pool pool(1);
    mp_test::report_pipe rp;
    mp::Process p([&] {
        try {
            pool.apply(square, 2);
            rp.write_line("no error");
        } catch (const mp::ProcessError&) {
            rp.write_line("ProcessError");
        } catch (...) {
            rp.write_line("other");
        }
    });
    p.start();
    rp.close_write();
    CHECK(rp.read_line() == std::string("ProcessError"));
    p.join();
}

// -------------------------------------------------------------- ThreadPool

TEST_CASE("ThreadPool: the same API on threads, any callable, exceptions as themselves",
          "[pool][threadpool]") {
    mp::ThreadPool pool(3);
    const std::string suffix = "!";  // a capture a process pool would refuse
    CHECK(pool.apply([suffix](const std::string& s) { return s + suffix; }, "hi") == "hi!");
    CHECK(pool.map(square, {1, 2, 3}) == std::vector<int>{1, 4, 9});
    std::vector<std::pair<int, int>> p{{1, 2}, {3, 4}};
    CHECK(pool.starmap(add, p) == std::vector<int>{3, 7});
    std::vector<int> got;
    for (int x : pool.imap(square, std::vector<int>{4, 5, 6}, 2)) {
        got.push_back(x);
    }
    CHECK(got == std::vector<int>{16, 25, 36});
    CHECK_THROWS_AS(pool.apply(fail_on_3, 3), std::out_of_range);
    CHECK_THROWS_AS(pool.map(square, std::vector<int>{1}, 0), std::invalid_argument);
    std::thread::id cb_thread;
    auto r =
        pool.apply_async(square, mp::args(3), [&](int) { cb_thread = std::this_thread::get_id(); });
    CHECK(r.get() == 9);
    CHECK(cb_thread == pool.result_thread_id());
    CHECK(cb_thread != std::this_thread::get_id());
    pool.close();
    CHECK_THROWS_WITH(pool.apply_async(square, 1), "Pool not running");
    pool.join();
}

TEST_CASE("ThreadPool: at most N tasks at once, terminate fails queued tasks",
          "[pool][threadpool]") {
    std::atomic<int> running{0};
    std::atomic<int> max_running{0};
    std::atomic<bool> go{false};
    {
        mp::ThreadPool pool(2);
        std::vector<mp::AsyncResult<int>> rs;
        for (int i = 0; i < 6; ++i) {
            rs.push_back(pool.apply_async(
                [&](int x) {
                    const int now = ++running;
                    int prev = max_running.load();
                    while (now > prev && !max_running.compare_exchange_weak(prev, now)) {
                    }
                    while (!go) {
                        std::this_thread::yield();
                    }
                    --running;
                    return x;
                },
                i));
        }
        while (running.load() < 2) {
            std::this_thread::yield();
        }
        std::thread releaser([&] { go = true; });
        pool.close();
        pool.join();
        releaser.join();
        for (int i = 0; i < 6; ++i) {
            CHECK(rs[static_cast<std::size_t>(i)].get() == i);
        }
    }
    CHECK(max_running == 2);
}

// ------------------------------------------------------------------- seeds

TEST_CASE("seed 000-07: Pool(3), 5 apply_async tasks, at most 3 at once", "[pool][seed-000-07]") {
    g_counters = make_counters();
    {
        mp::Pool pool(3);
        std::vector<mp::AsyncResult<int>> rs;
        for (int i = 1; i <= 5; ++i) {
            rs.push_back(pool.apply_async(concurrent_task, i, 3));
        }
        pool.close();
        pool.join();
        for (auto& r : rs) {
            CHECK(r.successful());
        }
    }
    CHECK(g_counters->finished == 5);
    CHECK(g_counters->max_running == 3);
    ::munmap(g_counters, sizeof(shared_counters));
    g_counters = nullptr;
}

TEST_CASE("seed 001-03: Pool(3), 10 tasks all run, never more than 3 at once",
          "[pool][seed-001-03]") {
    g_counters = make_counters();
    {
        mp::Pool pool(3);
        for (int i = 0; i < 10; ++i) {
            pool.apply_async(concurrent_task, i, 3);
        }
        pool.close();
        pool.join();
    }
    CHECK(g_counters->finished == 10);
    CHECK(g_counters->max_running == 3);
    ::munmap(g_counters, sizeof(shared_counters));
    g_counters = nullptr;
}

TEST_CASE("seed 004-04: Pool(5), 7 tasks, at most 5 distinct worker pids, over printed last",
          "[pool][seed-004-04]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_004_04_pool"));
    REQUIRE(r.exit_status == 0);
    CHECK(r.output.find("over!!!") != std::string::npos);
    CHECK(r.output.rfind("over!!!") + std::string("over!!!\n").size() == r.output.size());
    mp::Pool pool(5);
    std::vector<mp::AsyncResult<int>> rs;
    for (int i = 0; i < 7; ++i) {
        rs.push_back(pool.apply_async(my_pid, i));
    }
    std::set<int> pids;
    for (auto& r2 : rs) {
        pids.insert(r2.get());
    }
    CHECK(pids.size() <= 5);
    CHECK(pids.count(static_cast<int>(::getpid())) == 0);
}

TEST_CASE("seed 004-05: the callback receives each task's return value, in the parent",
          "[pool][seed-004-05]") {
    mp::Pool pool(5);
    std::mutex m;
    std::vector<std::string> got;
    std::set<int> callback_pids;
    const std::vector<std::string> tasks{"music", "eat", "game", "walk", "sleep", "study", "ball"};
    for (const auto& t : tasks) {
        pool.apply_async([](std::string name) { return "done " + name; }, mp::args(t),
                         [&](const std::string& s) {
                             std::lock_guard<std::mutex> lock(m);
                             got.push_back(s);
                             callback_pids.insert(static_cast<int>(::getpid()));
                         });
    }
    pool.close();
    pool.join();
    std::sort(got.begin(), got.end());
    std::vector<std::string> want;
    for (const auto& t : tasks) {
        want.push_back("done " + t);
    }
    std::sort(want.begin(), want.end());
    CHECK(got == want);
    CHECK(callback_pids == std::set<int>{static_cast<int>(::getpid())});
}
