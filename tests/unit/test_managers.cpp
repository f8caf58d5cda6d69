// Tests for multiprocessing/managers.hpp: Manager(), SyncManager and the
// proxies (dict, list, Value, Array, Namespace, Queue and the synchronization
// primitives), across processes, after shutdown, when full, and when a user
// of the objects is killed in the middle of a change.
#include "support/catch.hpp"
#include "support/helpers.hpp"
#include <multiprocessing.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <poll.h>
#include <random>
#include <set>
#include <string>
#include <sys/mman.h>
#include <system_error>
#include <thread>
#include <tuple>
#include <unistd.h>
#include <vector>

namespace mp = multiprocessing;
using namespace std::chrono_literals;
using mp::managers::DictProxy;
using mp::managers::ListProxy;
using mp::managers::QueueProxy;
using mp::managers::ValueProxy;

namespace {

using mp_test::join_bounded;

bool in_dev_shm(const std::string& name) {
    return !name.empty() && ::access(("/dev/shm/" + name).c_str(), F_OK) == 0;
}

/// Waits (bounded) until process `pid` has ended; true if it did.
bool wait_gone(pid_t pid, std::chrono::milliseconds limit = 60s) {
    const int fd = mp::detail::pidfd_open(pid);
    if (fd < 0) {
        return errno == ESRCH;
    }
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(limit.count()));
    ::close(fd);
    return r == 1;
}

/// Runs f and describes how it failed: "EPIPE: <message>" for the
/// shut-down error, something else (that tests compare against) otherwise.
template <class F>
std::string failure_of(F&& f) {
    try {
        f();
    } catch (const std::system_error& e) {
        return (e.code().value() == EPIPE ? "EPIPE: "
                                          : "errno " + std::to_string(e.code().value()) + ": ") +
               e.what();
    } catch (const std::exception& e) {
        return std::string("other exception: ") + e.what();
    }
    return "no exception";
}

/// True when `f` throws std::system_error(EPIPE) saying the manager shut down.
template <class F>
bool throws_shut_down(F&& f) {
    const std::string what = failure_of(std::forward<F>(f));
    const bool ok = what.rfind("EPIPE: ", 0) == 0 && what.find("shut down") != std::string::npos;
    if (!ok) {
        UNSCOPED_INFO("failure was: " << what);
    }
    return ok;
}

/// The same, for children (no Catch there): "ok" or what happened.
template <class F>
std::string shut_down_report(F&& f) {
    const std::string what = failure_of(std::forward<F>(f));
    return what.rfind("EPIPE: ", 0) == 0 && what.find("shut down") != std::string::npos ? "ok"
                                                                                        : what;
}

/// A few counters in anonymous shared memory, inherited by children.
struct shared_counters {
    explicit shared_counters(std::size_t n = 8)
        : mem(mp::detail::map_shared_anonymous(n * sizeof(std::atomic<long>), "test")) {
        for (std::size_t i = 0; i < n; ++i) {
            new (&(*this)[i]) std::atomic<long>(0);
        }
    }
    std::atomic<long>& operator[](std::size_t i) const {
        return static_cast<std::atomic<long>*>(mem.get())[i];
    }
    std::shared_ptr<void> mem;
};

using StrIntDict = DictProxy<std::string, int>;

// ---- functions run by Pool workers (they get the proxies as arguments) ----

int pool_set(StrIntDict d, std::string key, int value) {
    d.set(key, value);
    return static_cast<int>(::getpid());
}

int pool_append(ListProxy<int> l, int value) {
    l.append(value);
    return value;
}

int pool_read(StrIntDict d, std::string key) {
    return d.at(key);
}

std::string pool_use(StrIntDict d) {
    return shut_down_report([&] { d.set("late", 1); });
}

/// Connects to the manager at `address` (the worker did not inherit it),
/// makes a list there and returns its proxy.
ListProxy<std::string> pool_connect_and_make(std::string address) {
    mp::SyncManager m;
    m.connect(address);
    auto l = m.list<std::string>({"made", "by", "worker"});
    m.shutdown();  // not the creator: does nothing
    return l;
}

// Pipes made before the pool, so that its workers inherit them.
int g_ready[2] = {-1, -1};
int g_go[2] = {-1, -1};

/// Uses the dict, says so, waits for the test's go, then uses it again.
std::string pool_use_across_shutdown(StrIntDict d) {
    d.set("worker", 1);
    (void)!::write(g_ready[1], "r", 1);
    char c;
    while (::read(g_go[0], &c, 1) < 0 && errno == EINTR) {
    }
    return shut_down_report([&] { (void)d.at("worker"); });
}

bool read_byte(int fd, std::chrono::milliseconds limit = 60s) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) != 1) {
        return false;
    }
    char c;
    return ::read(fd, &c, 1) == 1;
}

}  // namespace

// ==================================================================== dict

TEST_CASE("Manager dict: set, at, get, operator[], contains, erase, pop", "[managers]") {
    auto m = mp::Manager();
    REQUIRE(m.running());
    auto d = m.dict<std::string, int>();
    REQUIRE(d.size() == 0);
    REQUIRE(d.len() == 0);
    d.set("a", 1);
    d["b"] = 2;
    REQUIRE(d.size() == 2);
    REQUIRE(d.at("a") == 1);
    const int b = d["b"];
    REQUIRE(b == 2);
    REQUIRE(d["b"].get() == 2);
    const StrIntDict& cd = d;
    REQUIRE(cd["a"] == 1);
    REQUIRE(d.contains("a"));
    REQUIRE_FALSE(d.contains("zz"));

    // A missing key: KeyError from at()/[] read, None/default from get().
    REQUIRE_THROWS_AS(d.at("zz"), mp::KeyError);
    REQUIRE_THROWS_AS(d.at("zz"), std::out_of_range);  // a LookupError, like IndexError
    REQUIRE_THROWS_AS(static_cast<int>(d["zz"]), mp::KeyError);
    REQUIRE_THROWS_AS(cd["zz"], mp::KeyError);
    REQUIRE(d.get("zz") == std::nullopt);
    REQUIRE(d.get("a") == std::optional<int>(1));
    REQUIRE(d.get("zz", -7) == -7);
    REQUIRE(d.get("a", -7) == 1);
    REQUIRE_FALSE(d.contains("zz"));  // reading did not insert

    // Replace keeps the size; += reads then writes.
    d.set("a", 10);
    REQUIRE(d.size() == 2);
    REQUIRE(d.at("a") == 10);
    d["a"] += 5;
    REQUIRE(d.at("a") == 15);
    REQUIRE_THROWS_AS(d["zz"] += 1, mp::KeyError);

    // del d[k], pop.
    d.erase("a");
    REQUIRE_FALSE(d.contains("a"));
    REQUIRE(d.size() == 1);
    REQUIRE_THROWS_AS(d.erase("a"), mp::KeyError);
    REQUIRE(d.pop("b") == 2);
    REQUIRE(d.size() == 0);
    REQUIRE_THROWS_AS(d.pop("b"), mp::KeyError);
    REQUIRE(d.pop("b", 99) == 99);
    d.set("c", 3);
    REQUIRE(d.pop("c", 99) == 3);
    REQUIRE(d.size() == 0);
}

TEST_CASE("Manager dict: popitem LIFO, setdefault, update, clear, insertion order, copy",
          "[managers]") {
    auto m = mp::Manager();
    auto d = m.dict<std::string, int>({{"x", 1}, {"y", 2}, {"z", 3}});
    REQUIRE(d.keys() == std::vector<std::string>{"x", "y", "z"});
    REQUIRE(d.values() == std::vector<int>{1, 2, 3});
    REQUIRE(d.items() == std::vector<std::pair<std::string, int>>{{"x", 1}, {"y", 2}, {"z", 3}});

    // Replacing a value keeps the key's place; re-inserting after del moves it to the end.
    d.set("x", 10);
    REQUIRE(d.keys() == std::vector<std::string>{"x", "y", "z"});
    d.erase("x");
    d.set("x", 11);
    REQUIRE(d.keys() == std::vector<std::string>{"y", "z", "x"});

    // popitem: last inserted first.
    REQUIRE(d.popitem() == std::pair<std::string, int>("x", 11));
    REQUIRE(d.popitem() == std::pair<std::string, int>("z", 3));
    REQUIRE(d.size() == 1);

    // setdefault: stores only when absent, returns what is there.
    REQUIRE(d.setdefault("y", 100) == 2);
    REQUIRE(d.at("y") == 2);
    REQUIRE(d.setdefault("w", 100) == 100);
    REQUIRE(d.at("w") == 100);
    REQUIRE(d.keys() == std::vector<std::string>{"y", "w"});

    // update: from pairs (initializer list, std::map, vector), replacing in place.
    d.update({{"y", 20}, {"v", 5}});
    REQUIRE(d.items() == std::vector<std::pair<std::string, int>>{{"y", 20}, {"w", 100}, {"v", 5}});
    d.update(std::map<std::string, int>{{"a", 1}, {"b", 2}});
    d.update(std::vector<std::pair<std::string, int>>{{"c", 3}});
    REQUIRE(d.keys() == std::vector<std::string>{"y", "w", "v", "a", "b", "c"});

    // copy: a snapshot, not a view.
    const auto snapshot = d.copy();
    REQUIRE(snapshot == std::map<std::string, int>{
                            {"y", 20}, {"w", 100}, {"v", 5}, {"a", 1}, {"b", 2}, {"c", 3}});
    d.set("later", 0);
    REQUIRE(snapshot.count("later") == 0);
    REQUIRE(d.copy().size() == 7);

    // clear, then popitem on the empty dict: KeyError with Python's message.
    d.clear();
    REQUIRE(d.size() == 0);
    REQUIRE(d.keys().empty());
    REQUIRE(d.items().empty());
    REQUIRE_THROWS_AS(d.popitem(), mp::KeyError);
    REQUIRE_THROWS_WITH(d.popitem(), "popitem(): dictionary is empty");
    d.set("after-clear", 1);
    REQUIRE(d.keys() == std::vector<std::string>{"after-clear"});

    auto from_map = m.dict(std::map<int, std::string>{{2, "two"}, {1, "one"}});
    REQUIRE(from_map.keys() == std::vector<int>{1, 2});  // the std::map's order
    REQUIRE(from_map.at(2) == "two");
}

TEST_CASE("Manager dict: thousands of keys (table growth), deletes, and value types",
          "[managers]") {
    auto m = mp::Manager();
    auto d = m.dict<int, std::string>();
    for (int i = 0; i < 5000; ++i) {
        d.set(i, "v" + std::to_string(i));
    }
    REQUIRE(d.size() == 5000);
    for (int i = 0; i < 5000; i += 2) {
        d.erase(i);
    }
    REQUIRE(d.size() == 2500);
    for (int i = 0; i < 5000; ++i) {
        if (i % 2 == 0) {
            REQUIRE_FALSE(d.contains(i));
        } else {
            REQUIRE(d.at(i) == "v" + std::to_string(i));
        }
    }
    // Deleted slots are reused by growth; order is still insertion order.
    for (int i = 5000; i < 8000; ++i) {
        d.set(i, std::string(static_cast<std::size_t>(i % 300), 'x'));
    }
    const auto keys = d.keys();
    REQUIRE(keys.size() == 5500);
    REQUIRE(std::is_sorted(keys.begin(), keys.end()));
    REQUIRE(d.at(7999) == std::string(7999 % 300, 'x'));

    // Values and keys of other types: vectors, doubles, pairs.
    auto dv = m.dict<std::string, std::vector<double>>();
    dv.set("k", {1.5, -2.0});
    dv.set("", {});
    REQUIRE(dv.at("k") == std::vector<double>{1.5, -2.0});
    REQUIRE(dv.at("").empty());
    auto dp = m.dict<std::pair<int, int>, std::string>();
    dp.set({1, 2}, "a");
    dp.set({2, 1}, "b");
    REQUIRE(dp.at({1, 2}) == "a");
    REQUIRE(dp.at({2, 1}) == "b");
    REQUIRE(dp.size() == 2);
}

// ==================================================================== list

TEST_CASE("Manager list: append, extend, insert clamping, pop, remove, index, count",
          "[managers]") {
    auto m = mp::Manager();
    auto l = m.list<int>();
    REQUIRE(l.size() == 0);
    REQUIRE(l.tolist().empty());
    l.append(1);
    l.append(2);
    l.extend({3, 4});
    l += std::vector<int>{5};
    REQUIRE(l.tolist() == std::vector<int>{1, 2, 3, 4, 5});
    REQUIRE(l.len() == 5);

    // insert: i clamped to [0, len]; negative counts from the end.
    l.insert(0, 0);
    l.insert(100, 6);
    l.insert(-100, -1);
    l.insert(-1, 55);  // before the last item
    REQUIRE(l.tolist() == std::vector<int>{-1, 0, 1, 2, 3, 4, 5, 55, 6});

    // get/set with negative indices, and l[i] = v.
    REQUIRE(l.get(0) == -1);
    REQUIRE(l.get(-1) == 6);
    REQUIRE(l.get(-9) == -1);
    l.set(-1, 60);
    l[0] = -10;
    const int first = l[0];
    REQUIRE(first == -10);
    REQUIRE(l[-1].get() == 60);
    const ListProxy<int>& cl = l;
    REQUIRE(cl[1] == 0);

    // IndexError (std::out_of_range) with Python's messages.
    REQUIRE_THROWS_AS(l.get(9), std::out_of_range);
    REQUIRE_THROWS_WITH(l.get(9), "list index out of range");
    REQUIRE_THROWS_WITH(l.get(-10), "list index out of range");
    REQUIRE_THROWS_WITH(l.set(9, 0), "list index out of range");
    REQUIRE_THROWS_WITH(l.pop(9), "pop index out of range");
    REQUIRE_THROWS_WITH(l.pop(-10), "pop index out of range");

    // pop(), pop(i), pop(-i).
    REQUIRE(l.pop() == 60);
    REQUIRE(l.pop(0) == -10);
    REQUIRE(l.pop(-2) == 5);
    REQUIRE(l.pop(2) == 2);
    REQUIRE(l.tolist() == std::vector<int>{0, 1, 3, 4, 55});

    // count, index (with start), remove (the first equal item).
    l.extend({1, 1});
    REQUIRE(l.count(1) == 3);
    REQUIRE(l.count(42) == 0);
    REQUIRE(l.index_of(1) == 1);
    REQUIRE(l.index_of(1, 2) == 5);
    REQUIRE_THROWS_AS(l.index_of(42), std::invalid_argument);  // ValueError
    REQUIRE_THROWS_AS(l.index_of(0, 1), std::invalid_argument);
    l.remove(1);
    REQUIRE(l.tolist() == std::vector<int>{0, 3, 4, 55, 1, 1});
    REQUIRE_THROWS_AS(l.remove(42), std::invalid_argument);
    REQUIRE_THROWS_WITH(l.remove(42), "list.remove(x): x not in list");

    // reverse, sort (default and with a comparison; stable), clear.
    l.reverse();
    REQUIRE(l.tolist() == std::vector<int>{1, 1, 55, 4, 3, 0});
    l.sort();
    REQUIRE(l.tolist() == std::vector<int>{0, 1, 1, 3, 4, 55});
    l.sort(std::greater<int>());
    REQUIRE(l.tolist() == std::vector<int>{55, 4, 3, 1, 1, 0});
    REQUIRE(l.copy() == l.tolist());
    l.clear();
    REQUIRE(l.size() == 0);
    REQUIRE_THROWS_AS(l.pop(), std::out_of_range);
    REQUIRE_THROWS_WITH(l.pop(), "pop from empty list");
    REQUIRE_THROWS_WITH(l.pop(0), "pop from empty list");
    REQUIRE_THROWS_WITH(l.get(0), "list index out of range");
    l.append(7);
    REQUIRE(l.tolist() == std::vector<int>{7});
}

TEST_CASE("Manager list: stable sort with a key comparison, strings, initial items", "[managers]") {
    auto m = mp::Manager();
    auto l = m.list<std::pair<int, std::string>>({{2, "a"}, {1, "b"}, {2, "c"}, {1, "d"}});
    l.sort([](const auto& a, const auto& b) { return a.first < b.first; });
    REQUIRE(l.tolist() ==
            std::vector<std::pair<int, std::string>>{{1, "b"}, {1, "d"}, {2, "a"}, {2, "c"}});
    auto s = m.list<std::string>({"b", "", "a"});
    s.sort();
    REQUIRE(s.tolist() == std::vector<std::string>{"", "a", "b"});
    REQUIRE(s.index_of("") == 0);
}

TEST_CASE("Manager list: grows far past its first table, with many items", "[managers]") {
    auto m = mp::Manager();
    auto l = m.list<int>({1, 2});
    for (int i = 0; i < 20000; ++i) {
        l.append(i);
    }
    std::vector<int> more(5000);
    for (int i = 0; i < 5000; ++i) {
        more[static_cast<std::size_t>(i)] = -i;
    }
    l.extend(more);
    REQUIRE(l.size() == 25002);
    const auto all = l.tolist();
    REQUIRE(all.size() == 25002);
    REQUIRE(all[0] == 1);
    REQUIRE(all[1] == 2);
    for (int i = 0; i < 20000; ++i) {
        REQUIRE(all[static_cast<std::size_t>(i) + 2] == i);
    }
    REQUIRE(all.back() == -4999);
    REQUIRE(l.get(-1) == -4999);
    REQUIRE(l.get(20001) == 19999);
    for (int i = 0; i < 100; ++i) {
        REQUIRE(l.pop(0) == (i < 2 ? i + 1 : i - 2));
    }
    REQUIRE(l.size() == 24902);
}

// ============================================================ Value, Array

TEST_CASE("Manager Value: get, set, value, set_value, of several types", "[managers]") {
    auto m = mp::Manager();
    auto v = m.Value<int>(5);
    REQUIRE(v.get() == 5);
    REQUIRE(v.value() == 5);
    v.set(6);
    REQUIRE(v.get() == 6);
    v.set_value(-1);
    REQUIRE(v.value() == -1);
    auto s = m.Value<std::string>("hello");
    REQUIRE(s.get() == "hello");
    s.set(std::string(10000, 'q'));
    REQUIRE(s.get() == std::string(10000, 'q'));
    s.set("");
    REQUIRE(s.get().empty());
    auto dbl = m.Value(2.5);
    REQUIRE(dbl.get() == 2.5);
    auto vec = m.Value(std::vector<int>{1, 2, 3});
    REQUIRE(vec.get() == std::vector<int>{1, 2, 3});
}

TEST_CASE("Manager Array: fixed size, indices, out of range", "[managers]") {
    auto m = mp::Manager();
    auto a = m.Array<int>(4);
    REQUIRE(a.size() == 4);
    REQUIRE(a.len() == 4);
    REQUIRE(a.tolist() == std::vector<int>{0, 0, 0, 0});
    a.set(0, 10);
    a[1] = 11;
    a.set(-1, 13);
    REQUIRE(a.get(0) == 10);
    REQUIRE(a[1].get() == 11);
    const int third = a[-2];
    REQUIRE(third == 0);
    REQUIRE(a.get(-1) == 13);
    REQUIRE(a.tolist() == std::vector<int>{10, 11, 0, 13});
    REQUIRE_THROWS_AS(a.get(4), std::out_of_range);
    REQUIRE_THROWS_WITH(a.get(4), "array index out of range");
    REQUIRE_THROWS_WITH(a.get(-5), "array index out of range");
    REQUIRE_THROWS_WITH(a.set(4, 1), "array index out of range");
    REQUIRE(a.size() == 4);  // a failed set does not grow it

    auto b = m.Array<double>({1.5, 2.5});
    REQUIRE(b.tolist() == std::vector<double>{1.5, 2.5});
    auto empty = m.Array<int>(0);
    REQUIRE(empty.size() == 0);
    REQUIRE_THROWS_AS(empty.get(0), std::out_of_range);
}

// =============================================================== Namespace

TEST_CASE("Manager Namespace: set, get, has, del, names, AttributeError, wrong type",
          "[managers]") {
    auto m = mp::Manager();
    auto ns = m.Namespace();
    REQUIRE_FALSE(ns.has("x"));
    REQUIRE(ns.names().empty());
    ns.set("x", 1);
    ns.set("name", std::string("alpha"));
    ns.set("v", std::vector<int>{1, 2});
    REQUIRE(ns.has("x"));
    REQUIRE(ns.get<int>("x") == 1);
    REQUIRE(ns.get<std::string>("name") == "alpha");
    REQUIRE(ns.get<std::vector<int>>("v") == std::vector<int>{1, 2});
    REQUIRE(ns.names() == std::vector<std::string>{"x", "name", "v"});

    // Re-setting may change the type; the old type then fails to load.
    ns.set("x", std::string("now a string"));
    REQUIRE(ns.get<std::string>("x") == "now a string");
    REQUIRE_THROWS_AS(ns.get<int>("x"), mp::UnpicklingError);
    REQUIRE_THROWS_AS(ns.get<double>("name"), mp::UnpicklingError);

    REQUIRE_THROWS_AS(ns.get<int>("missing"), mp::AttributeError);
    REQUIRE_THROWS_WITH(ns.get<int>("missing"), "'Namespace' object has no attribute 'missing'");
    REQUIRE_THROWS_AS(ns.del("missing"), mp::AttributeError);
    ns.del("x");
    REQUIRE_FALSE(ns.has("x"));
    REQUIRE_THROWS_AS(ns.get<std::string>("x"), mp::AttributeError);
    REQUIRE(ns.names() == std::vector<std::string>{"name", "v"});
}

// =================================================================== Queue

TEST_CASE("Manager Queue: FIFO, Empty, Full, maxsize, timeouts, task_done and join", "[managers]") {
    auto m = mp::Manager();
    auto q = m.Queue<std::string>();
    REQUIRE(q.empty());
    REQUIRE(q.qsize() == 0);
    REQUIRE_FALSE(q.full());
    q.put("a");
    q.put_nowait("b");
    q.put("c", true, 1s);
    REQUIRE(q.qsize() == 3);
    REQUIRE(q.get() == "a");
    REQUIRE(q.get_nowait() == "b");
    REQUIRE(q.get(true, 1s) == "c");
    REQUIRE(q.empty());
    REQUIRE_THROWS_AS(q.get_nowait(), mp::Empty);
    REQUIRE_THROWS_AS(q.get(false), mp::Empty);
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE_THROWS_AS(q.get(30ms), mp::Empty);
    REQUIRE(std::chrono::steady_clock::now() - t0 >= 30ms);

    auto bounded = m.Queue<int>(2);
    bounded.put(1);
    bounded.put(2);
    REQUIRE(bounded.full());
    REQUIRE_THROWS_AS(bounded.put_nowait(3), mp::Full);
    REQUIRE_THROWS_AS(bounded.put(3, false), mp::Full);
    REQUIRE_THROWS_AS(bounded.put(3, 20ms), mp::Full);
    REQUIRE(bounded.get() == 1);
    bounded.put(3, 1s);
    REQUIRE(bounded.get() == 2);
    REQUIRE(bounded.get() == 3);

    // task_done/join (JoinableQueue, and manager.Queue() has them too).
    auto j = m.JoinableQueue<int>();
    REQUIRE_THROWS_AS(j.task_done(), std::invalid_argument);
    REQUIRE(j.join(0ms));
    j.put(1);
    j.put(2);
    REQUIRE_FALSE(j.join(20ms));
    REQUIRE(j.get() == 1);
    j.task_done();
    REQUIRE_FALSE(j.join(0ms));
    REQUIRE(j.get() == 2);
    j.task_done();
    REQUIRE(j.join(0ms));
    j.join();
    REQUIRE_THROWS_AS(j.task_done(), std::invalid_argument);
    // q had 3 puts above, none marked done: join waits until all 4 are.
    q.put("x");
    REQUIRE(q.get() == "x");
    for (int i = 0; i < 3; ++i) {
        q.task_done();
        REQUIRE_FALSE(q.join(0ms));
    }
    q.task_done();
    REQUIRE(q.join(0ms));
    REQUIRE_THROWS_WITH(q.task_done(), "task_done() called too many times");
}

// ============================================================== sync proxies

TEST_CASE("Manager Lock and RLock: acquire, try, timeout, recursion, release errors",
          "[managers]") {
    auto m = mp::Manager();
    auto lock = m.Lock();
    REQUIRE_THROWS_AS(lock.release(), std::invalid_argument);
    REQUIRE(lock.acquire());
    REQUIRE_FALSE(lock.acquire(false));
    REQUIRE_FALSE(lock.acquire(true, 20ms));
    REQUIRE_FALSE(lock.try_lock());
    lock.release();
    REQUIRE(lock.try_lock());
    lock.unlock();
    {
        std::lock_guard<mp::managers::LockProxy> g(lock);
        REQUIRE(lock.is_mine());
    }
    REQUIRE_FALSE(lock.is_mine());

    auto r = m.RLock();
    REQUIRE_THROWS_AS(r.release(), mp::ProcessError);
    REQUIRE(r.acquire());
    REQUIRE(r.acquire(false));
    REQUIRE(r.count() == 2);
    r.release();
    r.release();
    REQUIRE(r.count() == 0);
    REQUIRE_THROWS_AS(r.release(), mp::ProcessError);

    // Held by a child: not acquirable here; released when the child lets go.
    mp_test::report_pipe report;
    mp_test::report_pipe gate;
    mp::Process p([lock, r, &report, &gate]() mutable {
        lock.acquire();
        r.acquire();
        report.write_line("held");
        mp_test::wait_for_release(gate);
        r.release();
        lock.release();
    });
    p.start();
    gate.close_read();
    REQUIRE(report.read_line(60s) == std::optional<std::string>("held"));
    REQUIRE_FALSE(lock.acquire(false));
    REQUIRE_FALSE(r.acquire(false));
    REQUIRE_THROWS_AS(r.release(), mp::ProcessError);
    gate.close_write();
    REQUIRE(lock.acquire(true, 60s));
    REQUIRE(r.acquire(true, 60s));
    REQUIRE_FALSE(lock.owner_died());
    r.release();
    lock.release();
    REQUIRE(join_bounded(p) == 0);
}

TEST_CASE("Manager Semaphore and BoundedSemaphore: values, timeouts, bound", "[managers]") {
    auto m = mp::Manager();
    REQUIRE_THROWS_AS(m.Semaphore(-1), std::invalid_argument);
    REQUIRE_THROWS_AS(m.BoundedSemaphore(-1), std::invalid_argument);
    auto s = m.Semaphore(2);
    REQUIRE(s.get_value() == 2);
    REQUIRE(s.acquire());
    REQUIRE(s.acquire(false));
    REQUIRE_FALSE(s.acquire(false));
    REQUIRE_FALSE(s.acquire(20ms));
    s.release();
    s.release();
    s.release();  // a plain Semaphore may go above its start value
    REQUIRE(s.get_value() == 3);

    auto b = m.BoundedSemaphore(1);
    REQUIRE(b.acquire());
    REQUIRE_FALSE(b.acquire(false));
    b.release();
    REQUIRE_THROWS_AS(b.release(), std::invalid_argument);  // released too many times
    REQUIRE(b.get_value() == 1);

    auto zero = m.Semaphore(0);
    REQUIRE_FALSE(zero.acquire(false));
    mp::Process p([zero]() mutable { zero.release(); });
    p.start();
    REQUIRE(zero.acquire(true, 60s));  // released by another process
    REQUIRE(join_bounded(p) == 0);
}

TEST_CASE("Manager Event, Condition and Barrier: basic behaviour", "[managers]") {
    auto m = mp::Manager();
    auto e = m.Event();
    REQUIRE_FALSE(e.is_set());
    REQUIRE_FALSE(e.wait(10ms));
    e.set();
    REQUIRE(e.is_set());
    REQUIRE(e.wait());
    REQUIRE(e.wait(0ms));
    e.clear();
    REQUIRE_FALSE(e.is_set());

    auto c = m.Condition();
    REQUIRE(c.acquire());
    REQUIRE_FALSE(c.wait(10ms));  // nobody notifies: times out, lock held again
    c.notify();                   // nobody waiting: no-op
    c.notify_all();
    REQUIRE(c.wait_for([] { return true; }, 0ms));
    c.release();
    REQUIRE_THROWS_AS(c.wait(10ms), mp::ProcessError);  // not holding the lock

    auto lock = m.Lock();
    auto cl = m.Condition(lock);
    REQUIRE(cl.acquire());
    REQUIRE_FALSE(lock.acquire(false));  // the condition's lock is that Lock
    cl.release();
    REQUIRE(lock.acquire(false));
    lock.release();
    auto rl = m.RLock();
    auto cr = m.Condition(rl);
    REQUIRE(cr.acquire());
    REQUIRE(rl.count() == 1);
    cr.release();
    auto other = mp::Manager();
    REQUIRE_THROWS_AS(m.Condition(other.Lock()), std::invalid_argument);

    REQUIRE_THROWS_AS(m.Barrier(0), std::invalid_argument);
    auto one = m.Barrier(1);
    REQUIRE(one.parties() == 1);
    REQUIRE(one.wait() == 0);
    auto two = m.Barrier(2, 50ms);
    REQUIRE(two.n_waiting() == 0);
    REQUIRE_THROWS_AS(two.wait(), mp::BrokenBarrierError);  // the default time-out breaks it
    REQUIRE(two.broken());
    two.reset();
    REQUIRE_FALSE(two.broken());
    two.abort();
    REQUIRE_THROWS_AS(two.wait(), mp::BrokenBarrierError);
}

// ==================================================================== misuse

TEST_CASE("SyncManager: start twice, factories before start and after shutdown, unbound proxies",
          "[managers]") {
    mp::SyncManager m;
    REQUIRE_FALSE(m.running());
    REQUIRE(m.address().empty());
    REQUIRE_THROWS_AS((m.dict<int, int>()), mp::ProcessError);
    REQUIRE_THROWS_AS(m.list<int>(), mp::ProcessError);
    REQUIRE_THROWS_AS(m.Lock(), mp::ProcessError);
    REQUIRE_THROWS_AS(m.Queue<int>(), mp::ProcessError);
    REQUIRE_THROWS_AS(m.free_memory(), mp::ProcessError);
    m.shutdown();  // not started: nothing
    m.join();
    m.start();
    REQUIRE(m.running());
    REQUIRE(m.address().rfind("mp-manager-", 0) == 0);
    REQUIRE(in_dev_shm(m.address()));
    REQUIRE_THROWS_AS(m.start(), mp::ProcessError);
    REQUIRE_THROWS_WITH(m.start(), "Already started server");
    REQUIRE_THROWS_AS(m.connect(m.address()), mp::ProcessError);
    m.join(10ms);
    const std::string name = m.address();
    m.shutdown();
    m.shutdown();  // twice: nothing more
    REQUIRE_FALSE(m.running());
    REQUIRE_FALSE(in_dev_shm(name));
    REQUIRE_THROWS_AS(m.start(), mp::ProcessError);
    REQUIRE(throws_shut_down([&] { m.dict<int, int>(); }));

    REQUIRE_THROWS_AS(mp::Manager(mp::ManagerOptions{1024}), std::invalid_argument);

    // A default-constructed proxy refers to nothing.
    StrIntDict d;
    REQUIRE_THROWS_AS(d.size(), mp::ProcessError);
    ListProxy<int> l;
    REQUIRE_THROWS_AS(l.append(1), mp::ProcessError);
    QueueProxy<int> q;
    REQUIRE_THROWS_AS(q.put(1), mp::ProcessError);
    mp::managers::LockProxy lk;
    REQUIRE_THROWS_AS(lk.acquire(), mp::ProcessError);
    REQUIRE_THROWS_AS(mp::reduction::dumps(d), mp::ProcessError);

    // connect to a manager that does not exist: as after a shutdown.
    mp::SyncManager c;
    REQUIRE(throws_shut_down([&] { c.connect(name); }));
}

TEST_CASE("Manager proxies: equality, address, repr, a round trip through the codec",
          "[managers]") {
    auto m = mp::Manager();
    auto d = m.dict<std::string, int>();
    auto d2 = d;
    auto other = m.dict<std::string, int>();
    REQUIRE(d == d2);
    REQUIRE(d != other);
    REQUIRE(d.address() == m.address());
    REQUIRE(d.repr().find("DictProxy") != std::string::npos);
    REQUIRE(d.repr().find(m.address()) != std::string::npos);
    auto l = m.list<int>();
    REQUIRE(l.repr().find("ListProxy") != std::string::npos);

    // Round trip through the codec: the same object.
    d.set("k", 1);
    auto back = mp::reduction::loads<StrIntDict>(mp::reduction::dumps(d));
    REQUIRE(back == d);
    back.set("k", 2);
    REQUIRE(d.at("k") == 2);
    auto lback = mp::reduction::loads<ListProxy<int>>(mp::reduction::dumps(l));
    lback.append(3);
    REQUIRE(l.tolist() == std::vector<int>{3});
}

// ============================================================ cross-process

TEST_CASE("Manager proxies inherited by Process children: every kind, changes seen here",
          "[managers]") {
    auto m = mp::Manager();
    auto d = m.dict<std::string, int>();
    auto l = m.list<std::string>();
    auto v = m.Value<int>(0);
    auto a = m.Array<int>(3);
    auto ns = m.Namespace();
    auto q = m.Queue<int>();
    auto e = m.Event();
    mp::Process p([=]() mutable {
        d.set("child", 1);
        d["pid"] = static_cast<int>(::getpid());
        l.append("from child");
        v.set(41);
        a.set(2, 7);
        ns.set("who", std::string("child"));
        q.put(99);
        e.set();
    });
    p.start();
    REQUIRE(join_bounded(p) == 0);
    REQUIRE(d.at("child") == 1);
    REQUIRE(d.at("pid") == static_cast<int>(*p.pid()));
    REQUIRE(l.tolist() == std::vector<std::string>{"from child"});
    REQUIRE(v.get() == 41);
    REQUIRE(a.tolist() == std::vector<int>{0, 0, 7});
    REQUIRE(ns.get<std::string>("who") == "child");
    REQUIRE(q.get(60s) == 99);
    REQUIRE(e.is_set());
    REQUIRE(m.running());  // the child's copies did not shut the manager down
}

TEST_CASE("Manager proxies as Pool task arguments, with a Pool made before the manager",
          "[managers]") {
    mp::Pool pool(2);  // its workers do not have the segment: they map it by name
    auto m = mp::Manager();
    auto d = m.dict<std::string, int>();
    auto l = m.list<int>();
    REQUIRE(pool.apply(pool_set, d, std::string("a"), 1) != static_cast<int>(::getpid()));
    REQUIRE(d.at("a") == 1);
    d.set("b", 22);
    REQUIRE(pool.apply(pool_read, d, std::string("b")) == 22);
    std::vector<mp::AsyncResult<int>> results;
    for (int i = 0; i < 200; ++i) {
        results.push_back(pool.apply_async(pool_append, l, i));
    }
    for (auto& r : results) {
        r.get(60s);
    }
    auto items = l.tolist();
    std::sort(items.begin(), items.end());
    std::vector<int> want(200);
    for (int i = 0; i < 200; ++i) {
        want[static_cast<std::size_t>(i)] = i;
    }
    REQUIRE(items == want);

    // A worker that did not inherit the manager connects by address and
    // makes an object there; its proxy comes back as the task's result.
    auto made = pool.apply(pool_connect_and_make, m.address());
    REQUIRE(made.tolist() == std::vector<std::string>{"made", "by", "worker"});
    made.append("here");
    REQUIRE(made.size() == 4);
    REQUIRE(m.running());
    REQUIRE(d.at("a") == 1);

    // A missing key in a worker: KeyError comes back as RemoteError.
    REQUIRE_THROWS_AS(pool.apply(pool_read, d, std::string("missing")), mp::RemoteError);
}

TEST_CASE("Manager proxies as Pool task arguments, with a Pool made after the manager",
          "[managers]") {
    auto m = mp::Manager();
    auto d = m.dict<std::string, int>();
    auto l = m.list<int>();
    mp::Pool pool(2);
    std::vector<mp::AsyncResult<int>> results;
    for (int i = 0; i < 50; ++i) {
        results.push_back(pool.apply_async(pool_set, d, "k" + std::to_string(i), i));
        results.push_back(pool.apply_async(pool_append, l, i));
    }
    for (auto& r : results) {
        r.get(60s);
    }
    REQUIRE(d.size() == 50);
    for (int i = 0; i < 50; ++i) {
        REQUIRE(d.at("k" + std::to_string(i)) == i);
    }
    REQUIRE(l.size() == 50);
    REQUIRE(l.count(7) == 1);
}

TEST_CASE("Manager: objects made in a child via an inherited SyncManager are seen by the parent",
          "[managers]") {
    auto m = mp::Manager();
    auto q = m.Queue<ListProxy<std::string>>();
    mp::Connection here, there;
    std::tie(here, there) = mp::Pipe();
    mp::Process p([m, q, &there]() mutable {
        auto l = m.list<std::string>({"one"});
        l.append("two");
        q.put(l);
        auto d = m.dict<int, int>({{1, 10}});
        there.send(d);
        m.shutdown();  // not the creating process: does nothing
    });
    p.start();
    auto l = q.get(60s);
    auto d = here.recv<DictProxy<int, int>>();
    REQUIRE(join_bounded(p) == 0);
    REQUIRE(m.running());
    REQUIRE(l.tolist() == std::vector<std::string>{"one", "two"});
    REQUIRE(d.at(1) == 10);
    l.append("three");
    d.set(2, 20);
    REQUIRE(l.size() == 3);
    REQUIRE(d.size() == 2);
}

TEST_CASE("Manager proxies sent through a manager Queue and through a Pipe", "[managers]") {
    mp::Pool pool(1);  // forked before the manager: maps it by name
    auto m = mp::Manager();
    auto d = m.dict<std::string, int>();
    auto lock = m.Lock();
    auto ev = m.Event();

    // Through a Pipe to a Process child.
    mp::Connection here, there;
    std::tie(here, there) = mp::Pipe();
    mp::Process p([&there]() mutable {
        auto dd = there.recv<StrIntDict>();
        auto lk = there.recv<mp::managers::LockProxy>();
        auto e = there.recv<mp::managers::EventProxy>();
        auto back = there.recv<QueueProxy<int>>();
        {
            std::lock_guard<mp::managers::LockProxy> g(lk);
            dd.set("via pipe", 1);
        }
        back.put(5);
        e.set();
    });
    p.start();
    here.send(d);
    here.send(lock);
    here.send(ev);
    auto replies = m.Queue<int>();
    here.send(replies);
    REQUIRE(replies.get(60s) == 5);
    REQUIRE(ev.wait(60s));
    REQUIRE(join_bounded(p) == 0);
    REQUIRE(d.at("via pipe") == 1);

    // Through a manager Queue, received by a Pool worker that has no mapping.
    auto q = m.Queue<StrIntDict>();
    q.put(d);
    auto r = pool.apply(
        [](QueueProxy<StrIntDict> qq) {
            auto got = qq.get(std::chrono::seconds(60));
            got.set("via queue", 2);
            return got.size();
        },
        q);
    REQUIRE(r == std::size_t{2});
    REQUIRE(d.at("via queue") == 2);
}

// ======================================================= no lost updates

TEST_CASE("Manager: increments by 4 processes under a manager Lock end exact", "[managers]") {
    auto m = mp::Manager();
    auto d = m.dict<std::string, int>({{"n", 0}});
    auto v = m.Value<long>(0);
    auto lock = m.Lock();
    constexpr int nproc = 4;
    constexpr int iterations = 1000;
    std::vector<mp::Process> procs;
    for (int i = 0; i < nproc; ++i) {
        procs.emplace_back([d, v, lock]() mutable {
            for (int k = 0; k < iterations; ++k) {
                std::lock_guard<mp::managers::LockProxy> g(lock);
                d["n"] += 1;  // read then write: loses updates without the lock
                v.set(v.get() + 1);
            }
        });
    }
    for (auto& p : procs) {
        p.start();
    }
    for (auto& p : procs) {
        REQUIRE(join_bounded(p) == 0);
    }
    REQUIRE(d.at("n") == nproc * iterations);
    REQUIRE(v.get() == nproc * iterations);
}

TEST_CASE("Manager: concurrent appends and distinct-key sets from 4 processes are all kept",
          "[managers]") {
    auto m = mp::Manager();
    auto l = m.list<int>();
    auto d = m.dict<int, int>();
    constexpr int nproc = 4;
    constexpr int per = 1500;
    mp_test::report_pipe gate;
    std::vector<mp::Process> procs;
    for (int i = 0; i < nproc; ++i) {
        procs.emplace_back([l, d, i, &gate]() mutable {
            mp_test::wait_for_release(gate);  // all start together
            for (int k = 0; k < per; ++k) {
                l.append(i * per + k);
                d.set(i * per + k, i);
            }
        });
    }
    for (auto& p : procs) {
        p.start();
    }
    gate.close_read();
    gate.close_write();
    for (auto& p : procs) {
        REQUIRE(join_bounded(p) == 0);
    }
    auto items = l.tolist();
    REQUIRE(items.size() == static_cast<std::size_t>(nproc * per));
    std::sort(items.begin(), items.end());
    for (int k = 0; k < nproc * per; ++k) {
        REQUIRE(items[static_cast<std::size_t>(k)] == k);  // each exactly once
    }
    REQUIRE(d.size() == static_cast<std::size_t>(nproc * per));
    for (int k = 0; k < nproc * per; ++k) {
        REQUIRE(d.at(k) == k / per);
    }
}

TEST_CASE("Manager Barrier: rounds across 4 processes", "[managers]") {
    auto m = mp::Manager();
    constexpr int parties = 4;
    constexpr int rounds = 30;
    auto barrier = m.Barrier(parties);
    auto progress = m.Array<int>(parties);  // the round each process has reached
    auto indices = m.list<std::pair<int, int>>();
    mp_test::report_pipe report;
    std::vector<mp::Process> procs;
    for (int id = 0; id < parties; ++id) {
        procs.emplace_back([barrier, progress, indices, id, &report]() mutable {
            for (int r = 1; r <= rounds; ++r) {
                progress.set(id, r);
                const int idx = barrier.wait(std::chrono::seconds(60));
                indices.append({r, idx});
                for (int other = 0; other < parties; ++other) {
                    if (progress.get(other) < r) {  // someone not there yet: barrier broken
                        report.write_line("round " + std::to_string(r) + ": process " +
                                          std::to_string(other) + " had not arrived");
                        mp::sys_exit(3);
                    }
                }
            }
        });
    }
    for (auto& p : procs) {
        p.start();
    }
    report.close_write();
    for (auto& p : procs) {
        REQUIRE(join_bounded(p) == 0);
    }
    REQUIRE(report.read_all_lines(1s).empty());
    std::map<int, std::set<int>> by_round;
    for (const auto& [r, idx] : indices.tolist()) {
        by_round[r].insert(idx);
    }
    REQUIRE(by_round.size() == static_cast<std::size_t>(rounds));
    for (const auto& [r, idx] : by_round) {
        REQUIRE(idx == std::set<int>{0, 1, 2, 3});  // each index once per round
    }
    REQUIRE(barrier.n_waiting() == 0);
    REQUIRE_FALSE(barrier.broken());
}

TEST_CASE("Manager Condition: a hand-off between two processes, many turns", "[managers]") {
    auto m = mp::Manager();
    auto cond = m.Condition();
    auto turn = m.Value<int>(0);  // even: the parent's move, odd: the child's
    constexpr int turns = 200;
    mp::Process child([cond, turn]() mutable {
        for (int i = 0; i < turns; ++i) {
            cond.acquire();
            if (!cond.wait_for([&] { return turn.get() % 2 == 1; }, std::chrono::seconds(60))) {
                mp::sys_exit(4);
            }
            turn.set(turn.get() + 1);
            cond.notify();
            cond.release();
        }
    });
    child.start();
    for (int i = 0; i < turns; ++i) {
        cond.acquire();
        REQUIRE(cond.wait_for([&] { return turn.get() % 2 == 0; }, 60s));
        REQUIRE(turn.get() == 2 * i);
        turn.set(turn.get() + 1);
        cond.notify_all();
        cond.release();
    }
    cond.acquire();
    REQUIRE(cond.wait_for([&] { return turn.get() == 2 * turns; }, 60s));
    cond.release();
    REQUIRE(join_bounded(child) == 0);
}

TEST_CASE("Manager Event: waiters in 3 processes wake when it is set", "[managers]") {
    auto m = mp::Manager();
    auto ev = m.Event();
    auto flag = m.Value<int>(0);  // set just before the event
    mp_test::report_pipe report;
    std::vector<mp::Process> procs;
    for (int i = 0; i < 3; ++i) {
        procs.emplace_back([ev, flag, &report]() mutable {
            report.write_line("waiting");
            const bool woke = ev.wait(std::chrono::seconds(60));
            report.write_line(woke && flag.get() == 1 ? "woke after set" : "woke early");
        });
    }
    for (auto& p : procs) {
        p.start();
    }
    for (int i = 0; i < 3; ++i) {
        REQUIRE(report.read_line(60s) == std::optional<std::string>("waiting"));
    }
    REQUIRE_FALSE(ev.wait(50ms));
    flag.set(1);
    ev.set();
    for (int i = 0; i < 3; ++i) {
        REQUIRE(report.read_line(60s) == std::optional<std::string>("woke after set"));
    }
    for (auto& p : procs) {
        REQUIRE(join_bounded(p) == 0);
    }
}

TEST_CASE("Manager Semaphore(2): never more than 2 holders among 5 processes", "[managers]") {
    auto m = mp::Manager();
    auto sem = m.BoundedSemaphore(2);

    // Two holders in two children: a third acquire fails until one lets go.
    {
        mp_test::report_pipe report;
        mp_test::report_pipe gate;
        std::vector<mp::Process> holders;
        for (int i = 0; i < 2; ++i) {
            holders.emplace_back([sem, &report, &gate]() mutable {
                sem.acquire();
                report.write_line("holding");
                mp_test::wait_for_release(gate);
                sem.release();
            });
        }
        for (auto& p : holders) {
            p.start();
        }
        gate.close_read();
        REQUIRE(report.read_line(60s) == std::optional<std::string>("holding"));
        REQUIRE(report.read_line(60s) == std::optional<std::string>("holding"));
        REQUIRE(sem.get_value() == 0);
        REQUIRE_FALSE(sem.acquire(false));
        gate.close_write();
        REQUIRE(sem.acquire(true, 60s));
        sem.release();
        for (auto& p : holders) {
            REQUIRE(join_bounded(p) == 0);
        }
    }

    // Many rounds: a counter of holders, in shared memory, never goes above 2.
    shared_counters c;  // 0: inside now, 1: most seen inside, 2: total entries
    std::vector<mp::Process> procs;
    for (int i = 0; i < 5; ++i) {
        procs.emplace_back([sem, c]() mutable {
            for (int k = 0; k < 300; ++k) {
                sem.acquire();
                const long now = ++c[0];
                long seen = c[1].load();
                while (now > seen && !c[1].compare_exchange_weak(seen, now)) {
                }
                ++c[2];
                std::this_thread::yield();
                --c[0];
                sem.release();
            }
        });
    }
    for (auto& p : procs) {
        p.start();
    }
    for (auto& p : procs) {
        REQUIRE(join_bounded(p) == 0);
    }
    REQUIRE(c[2].load() == 5 * 300);
    REQUIRE(c[1].load() >= 1);
    REQUIRE(c[1].load() <= 2);
    REQUIRE(c[0].load() == 0);
    REQUIRE(sem.get_value() == 2);
}

// ================================================================= lifetime

TEST_CASE("Manager shutdown: every proxy kind then throws EPIPE saying it shut down",
          "[managers]") {
    auto m = mp::Manager();
    const std::string name = m.address();
    auto d = m.dict<std::string, int>({{"a", 1}});
    auto l = m.list<int>({1});
    auto v = m.Value<int>(1);
    auto a = m.Array<int>(2);
    auto ns = m.Namespace();
    auto q = m.Queue<int>();
    auto lock = m.Lock();
    auto rlock = m.RLock();
    auto sem = m.Semaphore(1);
    auto bsem = m.BoundedSemaphore(1);
    auto cond = m.Condition();
    auto ev = m.Event();
    auto bar = m.Barrier(2);
    const std::string d_bytes = mp::reduction::dumps(d);
    m.shutdown();
    REQUIRE_FALSE(m.running());
    REQUIRE_FALSE(in_dev_shm(name));

    CHECK(throws_shut_down([&] { d.set("b", 2); }));
    CHECK(throws_shut_down([&] { (void)d.at("a"); }));
    CHECK(throws_shut_down([&] { (void)d.size(); }));
    CHECK(throws_shut_down([&] { (void)d.keys(); }));
    CHECK(throws_shut_down([&] { l.append(2); }));
    CHECK(throws_shut_down([&] { (void)l.tolist(); }));
    CHECK(throws_shut_down([&] { (void)v.get(); }));
    CHECK(throws_shut_down([&] { v.set(3); }));
    CHECK(throws_shut_down([&] { (void)a.get(0); }));
    CHECK(throws_shut_down([&] { ns.set("x", 1); }));
    CHECK(throws_shut_down([&] { q.put(1); }));
    CHECK(throws_shut_down([&] { (void)q.get_nowait(); }));
    CHECK(throws_shut_down([&] { (void)q.qsize(); }));
    CHECK(throws_shut_down([&] { lock.acquire(); }));
    CHECK(throws_shut_down([&] { rlock.acquire(); }));
    CHECK(throws_shut_down([&] { sem.release(); }));
    CHECK(throws_shut_down([&] { bsem.acquire(false); }));
    CHECK(throws_shut_down([&] { cond.notify(); }));
    CHECK(throws_shut_down([&] { ev.set(); }));
    CHECK(throws_shut_down([&] { (void)ev.wait(10ms); }));
    CHECK(throws_shut_down([&] { (void)bar.wait(); }));
    CHECK(throws_shut_down([&] { m.Value<int>(1); }));

    // A proxy arriving (deserialized) after the shutdown.
    CHECK(throws_shut_down([&] { (void)mp::reduction::loads<StrIntDict>(d_bytes); }));
    CHECK(throws_shut_down([&] { (void)mp::reduction::dumps(q); }));
}

TEST_CASE(
    "Manager shutdown seen by a child holding an inherited proxy, and by a child "
    "receiving one afterwards",
    "[managers]") {
    auto m = mp::Manager();
    auto d = m.dict<std::string, int>();
    auto q = m.Queue<int>();
    const std::string d_bytes = mp::reduction::dumps(d);
    mp_test::report_pipe report;
    mp_test::report_pipe gate;
    mp::Connection here, there;
    std::tie(here, there) = mp::Pipe();
    mp::Process p([d, q, &report, &gate, &there]() mutable {
        d.set("child", 1);
        report.write_line("using");
        mp_test::wait_for_release(gate);
        report.write_line(shut_down_report([&] { d.set("child", 2); }));
        report.write_line(shut_down_report([&] { q.put(1); }));
        const auto bytes = there.recv_bytes();
        report.write_line(shut_down_report([&] { (void)mp::reduction::loads<StrIntDict>(bytes); }));
    });
    p.start();
    gate.close_read();
    REQUIRE(report.read_line(60s) == std::optional<std::string>("using"));
    REQUIRE(d.at("child") == 1);
    m.shutdown();
    gate.close_write();
    here.send_bytes(d_bytes);
    CHECK(report.read_line(60s) == std::optional<std::string>("ok"));
    CHECK(report.read_line(60s) == std::optional<std::string>("ok"));
    CHECK(report.read_line(60s) == std::optional<std::string>("ok"));
    REQUIRE(join_bounded(p) == 0);
}

TEST_CASE("Manager shutdown seen by a Pool worker, during a task and in a later task",
          "[managers]") {
    REQUIRE(::pipe2(g_ready, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(g_go, O_CLOEXEC) == 0);
    std::string during;
    std::string later;
    {
        mp::Pool pool(1);
        auto m = mp::Manager();
        auto d = m.dict<std::string, int>();
        auto result = pool.apply_async(pool_use_across_shutdown, d);
        REQUIRE(read_byte(g_ready[0]));
        REQUIRE(d.at("worker") == 1);
        m.shutdown();
        REQUIRE(::write(g_go[1], "g", 1) == 1);
        during = result.get(60s);
        try {
            later = pool.apply(pool_use, d);  // the proxy arrives after the shutdown
        } catch (const std::exception& e) {
            later = e.what();
        }
    }
    for (int fd : {g_ready[0], g_ready[1], g_go[0], g_go[1]}) {
        ::close(fd);
    }
    CHECK(during == "ok");
    INFO(later);
    CHECK(later.find("shut down") != std::string::npos);
}

TEST_CASE("Manager: a proxy keeps its manager alive, the last one removes the segment",
          "[managers]") {
    std::string name;
    {
        auto q = mp::Manager().Queue<int>();  // the SyncManager is a temporary
        name = q.address();
        REQUIRE(in_dev_shm(name));
        q.put(1);
        REQUIRE(q.get() == 1);
        auto d = mp::Manager().dict<std::string, int>();
        d.set("x", 1);
        REQUIRE(d.at("x") == 1);
    }
    REQUIRE_FALSE(in_dev_shm(name));

    {
        auto m = mp::Manager();
        name = m.address();
        auto m2 = m;  // copies share the manager
        auto l = m.list<int>({1});
        auto lock = m.Lock();
        m = mp::SyncManager();
        REQUIRE(in_dev_shm(name));
        REQUIRE(m2.running());
        m2 = mp::SyncManager();
        REQUIRE(in_dev_shm(name));  // the proxies still hold it
        l.append(2);
        REQUIRE(l.tolist() == std::vector<int>{1, 2});
        {
            auto l2 = l;
            l = ListProxy<int>();
            REQUIRE(in_dev_shm(name));
            REQUIRE(l2.size() == 2);
        }
        REQUIRE(in_dev_shm(name));  // the Lock proxy is the last
        REQUIRE(lock.acquire(false));
        lock.release();
    }
    REQUIRE_FALSE(in_dev_shm(name));
}

TEST_CASE("SyncManager::connect from another process uses the manager and does not stop it",
          "[managers]") {
    auto m = mp::Manager();
    auto d = m.dict<std::string, int>();
    const std::string address = m.address();
    mp::Connection here, there;
    std::tie(here, there) = mp::Pipe();
    mp::Process p([address, &there]() mutable {
        mp::SyncManager c;
        c.connect(address);
        if (!c.running() || c.address() != address) {
            mp::sys_exit(2);
        }
        auto l = c.list<int>({1, 2, 3});
        there.send(l);
        auto dd = there.recv<StrIntDict>();
        dd.set("connected", 1);
        there.send(1);
        c.shutdown();  // not the creator: nothing
    });
    p.start();
    auto l = here.recv<ListProxy<int>>();
    here.send(d);
    REQUIRE(here.recv<int>() == 1);
    REQUIRE(join_bounded(p) == 0);
    REQUIRE(m.running());
    REQUIRE(in_dev_shm(address));
    REQUIRE(l.tolist() == std::vector<int>{1, 2, 3});
    REQUIRE(d.at("connected") == 1);
}

TEST_CASE("Manager: no /dev/shm entry is left after the creating program ends normally",
          "[managers]") {
    for (const char* how : {"normal", "leak"}) {
        INFO(how);
        const auto r = mp_test::run_program(mp_test::program_path("manager_lifetime"), {how});
        INFO(r.output);
        REQUIRE(r.exit_status == 0);
        const auto n = r.output.find("name=");
        const auto w = r.output.find(" watchdog=");
        REQUIRE(n != std::string::npos);
        REQUIRE(w != std::string::npos);
        const std::string name = r.output.substr(n + 5, w - n - 5);
        REQUIRE(name.rfind("mp-manager-", 0) == 0);
        REQUIRE(r.output.find("value=42") != std::string::npos);
        REQUIRE_FALSE(in_dev_shm(name));  // removed at exit, before the program ended
        const auto watchdog = static_cast<pid_t>(std::atoi(r.output.c_str() + w + 10));
        if (watchdog > 0) {
            REQUIRE(wait_gone(watchdog));
        }
    }
}

TEST_CASE("Manager: no /dev/shm entry is left after the creating program is killed",
          "[managers][crash]") {
    const auto r = mp_test::run_program(mp_test::program_path("manager_lifetime"), {"crash"});
    INFO(r.output);
    REQUIRE(r.exit_status == -SIGKILL);
    const auto n = r.output.find("name=");
    const auto w = r.output.find(" watchdog=");
    REQUIRE(n != std::string::npos);
    REQUIRE(w != std::string::npos);
    const std::string name = r.output.substr(n + 5, w - n - 5);
    const auto watchdog = static_cast<pid_t>(std::atoi(r.output.c_str() + w + 10));
    REQUIRE(watchdog > 0);
    REQUIRE(wait_gone(watchdog));
    REQUIRE_FALSE(in_dev_shm(name));
}

// ================================================================= capacity

TEST_CASE("Manager capacity: a full segment raises ENOMEM naming ManagerOptions::capacity",
          "[managers]") {
    auto m = mp::Manager(mp::ManagerOptions{std::size_t{256} << 10});
    auto d = m.dict<int, std::string>();
    const std::string chunk(1000, 'x');
    std::string what;
    int stored = 0;
    try {
        for (; stored < 100000; ++stored) {
            d.set(stored, chunk);
        }
    } catch (const std::system_error& e) {
        REQUIRE(e.code().value() == ENOMEM);
        what = e.what();
    }
    INFO(what);
    REQUIRE(stored > 100);
    REQUIRE(stored < 300);  // 256 KiB holds no more than ~250 of them
    REQUIRE(what.find("ManagerOptions::capacity") != std::string::npos);

    // The dict is intact and usable once room is made.
    REQUIRE(d.size() == static_cast<std::size_t>(stored));
    REQUIRE(d.at(0) == chunk);
    REQUIRE(d.at(stored - 1) == chunk);
    REQUIRE_FALSE(d.contains(stored));
    for (int i = 0; i < 50; ++i) {
        d.erase(i);
    }
    d.set(stored, chunk);
    REQUIRE(d.at(stored) == chunk);

    // Other factories fail the same way when there is no room for them.
    auto l = m.list<std::string>();
    REQUIRE_THROWS_AS(l.append(std::string(std::size_t{512} << 10, 'y')), std::system_error);
    REQUIRE(l.size() == 0);
    REQUIRE_THROWS_AS(m.Queue<int>(), std::system_error);  // a 1 MiB ring does not fit
}

TEST_CASE("Manager capacity: memory is reused after erase and clear", "[managers]") {
    auto m = mp::Manager(mp::ManagerOptions{std::size_t{1} << 20});
    auto d = m.dict<int, std::string>();
    auto l = m.list<std::string>();
    const std::size_t before = m.free_memory();
    REQUIRE(before > (std::size_t{900} << 10));
    // Each cycle stores ~600 KiB: without reuse the second would not fit.
    for (int cycle = 0; cycle < 10; ++cycle) {
        for (int i = 0; i < 300; ++i) {
            d.set(i, std::string(1000, static_cast<char>('a' + cycle)));
            l.append(std::string(1000, 'b'));
        }
        REQUIRE(m.free_memory() < before - (std::size_t{500} << 10));
        for (int i = 0; i < 300; ++i) {
            d.erase(i);
        }
        while (l.size() > 0) {
            l.pop();
        }
        INFO("cycle " << cycle << ": " << m.free_memory() << " of " << before);
        // Back near the start: what stays is the grown tables' room.
        REQUIRE(m.free_memory() + (std::size_t{32} << 10) > before);
    }
    d.clear();
    l.clear();
    REQUIRE(m.free_memory() + 1024 > before);
}

TEST_CASE("Manager objects are freed when their last proxy goes, as Python's are", "[managers]") {
    auto m = mp::Manager(mp::ManagerOptions{std::size_t{1} << 20});
    const std::size_t before = m.free_memory();
    // ~200 KiB per round: without freeing, the 1 MiB segment is full by round 6.
    for (int round = 0; round < 50; ++round) {
        auto d = m.dict<int, std::string>();
        auto l = m.list<std::string>();
        auto v = m.Value<std::string>(std::string(1000, 'v'));
        auto q = m.Queue<int>(mp::QueueOptions{0, 1 << 16});
        auto c = m.Condition();
        for (int i = 0; i < 100; ++i) {
            d.set(i, std::string(1000, 'd'));
            l.append(std::string(1000, 'l'));
        }
        auto copy = d;  // a second reference: the dict survives the first going
        d = m.dict<int, std::string>();
        REQUIRE(copy.size() == 100);
        REQUIRE(copy.at(99) == std::string(1000, 'd'));
    }
    INFO(m.free_memory() << " of " << before);
    REQUIRE(m.free_memory() + (std::size_t{16} << 10) > before);
}

TEST_CASE("Manager: a proxy in flight keeps its object alive after the sender drops it",
          "[managers]") {
    mp::Pool pool(1);  // forked before the manager
    auto m = mp::Manager(mp::ManagerOptions{std::size_t{1} << 20});
    const std::size_t before = m.free_memory();
    auto q = m.Queue<StrIntDict>(mp::QueueOptions{0, 1 << 16});
    const std::size_t with_queue = m.free_memory();
    {
        auto d = m.dict<std::string, int>();
        d.set("kept", 7);
        q.put(d);
    }  // the only proxy here is gone: the bytes in the queue hold the dict
    auto got = pool.apply(
        [](QueueProxy<StrIntDict> qq) {
            auto dd = qq.get(std::chrono::seconds(60));
            const int v = dd.at("kept");
            dd.set("seen", v + 1);
            return v;
        },
        q);
    REQUIRE(got == 7);
    // The worker's proxy is gone too: the dict was freed.
    REQUIRE(m.free_memory() + 512 > with_queue);
    REQUIRE(with_queue < before);
}

TEST_CASE("Manager: proxies stored in a manager dict stay valid however often they are read",
          "[managers]") {
    auto m = mp::Manager();
    auto lists = m.dict<std::string, ListProxy<int>>();
    {
        auto l = m.list<int>({1, 2, 3});
        lists.set("a", l);
    }  // only the stored bytes refer to the list now
    for (int i = 0; i < 20; ++i) {
        auto l = lists.at("a");
        REQUIRE(l.size() == static_cast<std::size_t>(3 + i));
        l.append(4 + i);
    }
    REQUIRE(lists.at("a").tolist().back() == 23);
    // A Condition keeps its lock alive.
    auto cond = [&] {
        auto lock = m.Lock();
        return m.Condition(lock);
    }();
    {
        std::unique_lock<mp::managers::ConditionProxy> g(cond);
        REQUIRE_FALSE(cond.wait(1ms));
    }
    REQUIRE(cond.acquire(false));
    cond.release();
}

// =================================================================== crash

// The objects and the heap are changed by single 8-byte commits, so a kill
// anywhere (inside an allocation or a free too) leaves them consistent: the
// same manager and objects serve every round.
TEST_CASE("Manager dict and list stay consistent when a user is SIGKILLed at random points",
          "[managers][crash]") {
    auto m = mp::Manager();
    auto d = m.dict<std::string, std::string>();
    auto l = m.list<std::string>();
    std::mt19937 rng(20261123);
    const auto stop = std::chrono::steady_clock::now() + 8s;
    int rounds = 0;
    while (rounds < 400 && std::chrono::steady_clock::now() < stop) {
        ++rounds;
        const unsigned seed = static_cast<unsigned>(rng());
        mp_test::report_pipe report;
        mp::Process child([d, l, seed, &report]() mutable {
            std::mt19937 r(seed);
            bool told = false;
            for (unsigned long n = 0;; ++n) {
                const std::string key = "k" + std::to_string(r() % 64);
                switch (r() % 8) {
                    case 0:
                    case 1:
                    case 2: d.set(key, key + "|" + std::to_string(n)); break;
                    case 3: d.pop(key, ""); break;
                    case 4: l.append("item|" + std::to_string(n)); break;
                    case 5: l.insert(static_cast<std::int64_t>(r() % 50), "ins|" + key); break;
                    case 6:
                        if (l.size() > 0) {
                            l.pop(r() % 2 == 0 ? -1 : 0);
                        }
                        break;
                    default:
                        if (r() % 64 == 0) {
                            d.clear();
                        } else if (d.size() > 0) {
                            d.popitem();
                        }
                        break;
                }
                if (l.size() > 300) {
                    l.clear();
                }
                if (!told) {
                    report.write_line("running");
                    told = true;
                }
            }
        });
        child.start();
        REQUIRE(report.read_line(60s) == std::optional<std::string>("running"));
        // A random moment in the child's work (randomness, not synchronization).
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
        child.kill();
        child.join(60s);
        REQUIRE(child.exitcode() == -SIGKILL);

        // The dict: size = keys iterated, no duplicates, each found, items decode.
        const auto keys = d.keys();
        REQUIRE(d.size() == keys.size());
        const std::set<std::string> unique(keys.begin(), keys.end());
        REQUIRE(unique.size() == keys.size());
        for (const auto& k : keys) {
            const std::string value = d.at(k);
            REQUIRE(value.rfind(k + "|", 0) == 0);
        }
        const auto items = d.items();
        REQUIRE(items.size() == keys.size());
        for (const auto& [k, value] : items) {
            REQUIRE(value.rfind(k + "|", 0) == 0);
        }
        // The list: decodes, size matches, every item well-formed.
        const auto all = l.tolist();
        REQUIRE(l.size() == all.size());
        for (const auto& item : all) {
            REQUIRE((item.rfind("item|", 0) == 0 || item.rfind("ins|k", 0) == 0));
        }
        // And both go on working here.
        const std::string mine = "parent" + std::to_string(rounds);
        d.set(mine, mine + "|x");
        REQUIRE(d.at(mine) == mine + "|x");
        REQUIRE(d.pop(mine) == mine + "|x");
        REQUIRE_FALSE(d.contains(mine));
        l.append("item|parent");
        l.insert(0, "ins|kparent");
        REQUIRE(l.pop(0) == "ins|kparent");
        REQUIRE(l.pop() == "item|parent");
        REQUIRE(l.size() == all.size());
    }
    INFO("rounds: " << rounds);
    REQUIRE(rounds >= 20);
    REQUIRE(m.running());
}

TEST_CASE("Manager Lock held by a SIGKILLed child: the next acquire succeeds, owner_died()",
          "[managers][crash]") {
    auto m = mp::Manager();
    auto lock = m.Lock();
    auto d = m.dict<std::string, int>();
    mp::Process holder([lock, d]() mutable {
        lock.acquire();
        d.set("held", 1);
        ::raise(SIGKILL);
    });
    holder.start();
    holder.join(60s);
    REQUIRE(holder.exitcode() == -SIGKILL);
    REQUIRE(d.at("held") == 1);
    REQUIRE(lock.acquire(true, 60s));
    REQUIRE(lock.owner_died());
    lock.release();
    REQUIRE(lock.acquire(true, 60s));
    REQUIRE_FALSE(lock.owner_died());
    lock.release();
}
