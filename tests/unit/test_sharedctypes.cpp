// Tests for multiprocessing/sharedctypes.hpp.
#include "support/catch.hpp"
#include "support/helpers.hpp"
#include <multiprocessing/process.hpp>
#include <multiprocessing/sharedctypes.hpp>

#include <chrono>
#include <mutex>
#include <numeric>
#include <vector>

namespace mp = multiprocessing;
using namespace std::chrono_literals;

namespace {

using mp_test::join_bounded;

struct point {
    double x;
    double y;
};

}  // namespace

TEST_CASE("Value: a counter incremented under get_lock() by several processes ends exact",
          "[sharedctypes]") {
    mp::Value<int> counter(0);
    constexpr int nproc = 4;
    constexpr int iterations = 50000;
    std::vector<mp::Process> procs;
    for (int i = 0; i < nproc; ++i) {
        procs.emplace_back([counter]() mutable {
            for (int k = 0; k < iterations; ++k) {
                std::lock_guard<mp::RLock> g(counter.get_lock());
                counter.set_value(counter.value() + 1);
            }
        });
    }
    for (auto& p : procs) {
        p.start();
    }
    for (auto& p : procs) {
        REQUIRE(join_bounded(p) == 0);
    }
    REQUIRE(counter.value() == nproc * iterations);
}

TEST_CASE("Value: value, set_value, get_obj, lock=false and a shared RLock", "[sharedctypes]") {
    mp::Value<double> d(1.5);
    REQUIRE(d.value() == 1.5);
    d.set_value(2.5);
    REQUIRE(d.get_obj() == 2.5);
    {
        std::lock_guard<mp::Value<double>> g(d);  // Python: with v:
        REQUIRE(d.get_lock().is_mine());
        d.set_value(3.0);  // the RLock nests
    }
    REQUIRE_FALSE(d.get_lock().is_mine());

    mp::Value<long> raw(7, false);
    REQUIRE(raw.value() == 7);
    REQUIRE_THROWS_AS(raw.get_lock(), mp::ProcessError);

    mp::RLock shared;
    mp::Value<int> a(1, shared);
    mp::Value<int> b(2, shared);
    REQUIRE(a.get_lock() == b.get_lock());
    REQUIRE(a.get_lock() == shared);

    mp::Value<point> pt(point{1.0, 2.0});
    mp::Process child([pt]() mutable { pt.set_value(point{3.0, 4.0}); });
    child.start();
    REQUIRE(join_bounded(child) == 0);
    REQUIRE(pt.value().x == 3.0);
    REQUIRE(pt.value().y == 4.0);

    mp::Value<int> zero;
    REQUIRE(zero.value() == 0);
}

TEST_CASE("RawValue: shared without a lock", "[sharedctypes]") {
    mp::RawValue<int> v(5);
    mp::Process child([v]() mutable { v.set_value(v.value() * 10); });
    child.start();
    REQUIRE(join_bounded(child) == 0);
    REQUIRE(v.value() == 50);
    v.get_obj() += 1;
    REQUIRE(v.value() == 51);
}

TEST_CASE("Array: indexing, negative indexes, errors, slices, iteration", "[sharedctypes]") {
    mp::Array<int> a{1, 2, 3, 4, 5};
    REQUIRE(a.size() == 5);
    REQUIRE(a[0] == 1);
    REQUIRE(a[-1] == 5);
    REQUIRE(a[std::size_t{2}] == 3);
    REQUIRE_THROWS_AS(a[5], std::out_of_range);
    REQUIRE_THROWS_AS(a[-6], std::out_of_range);
    a[1] = 20;
    a[2] += 10;
    ++a[3];
    REQUIRE(a.slice() == std::vector<int>{1, 20, 13, 5, 5});
    REQUIRE(a.slice(1, 3) == std::vector<int>{20, 13});
    REQUIRE(a.slice(-2) == std::vector<int>{5, 5});
    REQUIRE(a.slice(3, 1).empty());
    REQUIRE(a.slice(-100, 100).size() == 5);
    a.set_slice(0, 2, {7, 8});
    REQUIRE(a.slice(0, 2) == std::vector<int>{7, 8});
    REQUIRE_THROWS_AS(a.set_slice(0, 2, {1}), std::invalid_argument);
    int sum = 0;
    for (int x : a) {
        sum += x;
    }
    REQUIRE(sum == 7 + 8 + 13 + 5 + 5);
    std::vector<int> copy(a.begin(), a.end());
    REQUIRE(copy == a.slice());

    mp::Array<double> z(3);
    REQUIRE(z.slice() == std::vector<double>{0.0, 0.0, 0.0});
    mp::Array<int> from_vector(std::vector<int>{4, 5}, false);
    REQUIRE(from_vector[1] == 5);
    REQUIRE_THROWS_AS(from_vector.get_lock(), mp::ProcessError);
    mp::Array<int> empty(std::size_t{0});
    REQUIRE(empty.size() == 0);
    REQUIRE(empty.begin() == empty.end());

    auto raw = a.get_obj();
    raw[0] = 100;
    REQUIRE(a[0] == 100);
}

TEST_CASE("Array: items updated by several processes end exact", "[sharedctypes]") {
    mp::Array<long> a(4);
    constexpr int nproc = 3;
    constexpr int iterations = 20000;
    std::vector<mp::Process> procs;
    for (int i = 0; i < nproc; ++i) {
        procs.emplace_back([a]() mutable {
            for (int k = 0; k < iterations; ++k) {
                a[k % 4] += 1;  // the lock is held for the whole update
            }
        });
    }
    for (auto& p : procs) {
        p.start();
    }
    for (auto& p : procs) {
        REQUIRE(join_bounded(p) == 0);
    }
    const auto items = a.slice();
    REQUIRE(std::accumulate(items.begin(), items.end(), 0L) == nproc * iterations);
    for (long x : items) {
        REQUIRE(x == nproc * iterations / 4);
    }
}

TEST_CASE("RawArray: shared items, Python indexing and slices", "[sharedctypes]") {
    mp::RawArray<int> r(4);
    mp::Process child([r]() mutable {
        for (std::size_t i = 0; i < r.size(); ++i) {
            r[i] = static_cast<int>(i * i);
        }
    });
    child.start();
    REQUIRE(join_bounded(child) == 0);
    REQUIRE(r.slice() == std::vector<int>{0, 1, 4, 9});
    REQUIRE(r[-1] == 9);
    REQUIRE_THROWS_AS(r[4], std::out_of_range);
    r.set_slice(1, std::nullopt, {5, 6, 7});
    REQUIRE(std::vector<int>(r.begin(), r.end()) == std::vector<int>{0, 5, 6, 7});
    mp::RawArray<char> text{'h', 'i'};
    REQUIRE(text[1] == 'i');
}
