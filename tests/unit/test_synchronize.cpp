// Tests for multiprocessing/synchronize.hpp.
#include "support/catch.hpp"
#include "support/helpers.hpp"
#include <multiprocessing/process.hpp>
#include <multiprocessing/synchronize.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace mp = multiprocessing;
using namespace std::chrono_literals;

namespace {

using mp_test::join_bounded;

/// A few longs in anonymous shared memory, for children to write to.
struct shared_longs {
    explicit shared_longs(std::size_t n = 16)
        : mem(mp::detail::map_shared_anonymous(n * sizeof(long), "test")) {}
    volatile long& operator[](std::size_t i) const {
        return static_cast<volatile long*>(mem.get())[i];
    }
    std::shared_ptr<void> mem;
};

/// Joins with a bound, killing a child that overstays, and returns its exit code.
template <class L>
void counter_test(L lock, int nproc, int iterations) {
    shared_longs counter;
    std::vector<mp::Process> procs;
    for (int i = 0; i < nproc; ++i) {
        procs.emplace_back([counter, lock, iterations]() mutable {
            for (int k = 0; k < iterations; ++k) {
                std::lock_guard<L> g(lock);
                const long v = counter[0];
                counter[0] = v + 1;  // a read-modify-write that loses updates unguarded
            }
        });
    }
    for (auto& p : procs) {
        p.start();
    }
    for (auto& p : procs) {
        REQUIRE(join_bounded(p) == 0);
    }
    REQUIRE(counter[0] == static_cast<long>(nproc) * iterations);
}

}  // namespace

TEST_CASE("Lock: counters incremented by several processes end exact", "[synchronize]") {
    counter_test(mp::Lock(), 4, 100000);
}

TEST_CASE("RLock: counters incremented by several processes end exact", "[synchronize]") {
    counter_test(mp::RLock(), 4, 100000);
}

TEST_CASE("Semaphore(1) as a lock: counters end exact", "[synchronize]") {
    counter_test(mp::Semaphore(1), 3, 20000);
}

TEST_CASE("Lock: acquire, try, timeout and release errors", "[synchronize]") {
    mp::Lock lock;
    REQUIRE_THROWS_AS(lock.release(), std::invalid_argument);  // released too many times
    REQUIRE(lock.acquire());
    REQUIRE(lock.is_mine());
    REQUIRE_FALSE(lock.acquire(false));
    REQUIRE_FALSE(lock.acquire(true, 20ms));              // Python: waits, returns False
    REQUIRE_THROWS_AS(lock.acquire(), mp::ProcessError);  // certain deadlock
    REQUIRE(lock.repr() != "<Lock(owner=None)>");
    lock.release();
    REQUIRE(lock.repr() == "<Lock(owner=None)>");
    REQUIRE_THROWS_AS(lock.release(), std::invalid_argument);

    // Held by a child: acquire(false) fails here; release from here is refused.
    mp::Event held, done;
    mp::Process p([lock, held, done]() mutable {
        lock.acquire();
        held.set();
        done.wait(60s);
        lock.release();
    });
    p.start();
    REQUIRE(held.wait(60s));
    REQUIRE_FALSE(lock.acquire(false));
    REQUIRE_FALSE(lock.acquire(30ms));
    REQUIRE_THROWS_AS(lock.release(), mp::ProcessError);
    done.set();
    REQUIRE(lock.acquire(true, 60s));
    REQUIRE_FALSE(lock.owner_died());
    lock.release();
    REQUIRE(join_bounded(p) == 0);
}

TEST_CASE("Lock and RLock work with std::lock_guard, unique_lock and scoped_lock",
          "[synchronize]") {
    mp::Lock lock;
    mp::RLock rlock;
    {
        std::lock_guard<mp::Lock> g(lock);
        REQUIRE(lock.is_mine());
    }
    REQUIRE_FALSE(lock.is_mine());
    {
        std::unique_lock<mp::Lock> u(lock, 10ms);
        REQUIRE(u.owns_lock());
        u.unlock();
        REQUIRE(u.try_lock());
    }
    {
        std::scoped_lock s(lock, rlock);
        REQUIRE(lock.is_mine());
        REQUIRE(rlock.is_mine());
    }
    REQUIRE_FALSE(rlock.is_mine());
}

TEST_CASE("RLock: recursion, count, and releasing an unowned RLock", "[synchronize]") {
    mp::RLock r;
    REQUIRE_THROWS_AS(r.release(), mp::ProcessError);
    try {
        r.release();
    } catch (const mp::ProcessError& e) {
        REQUIRE(std::string(e.what()) == "attempt to release recursive lock not owned by thread");
    }
    REQUIRE(r.acquire());
    REQUIRE(r.acquire());
    REQUIRE(r.acquire(false));
    REQUIRE(r.count() == 3);
    r.release();
    r.release();
    REQUIRE(r.count() == 1);
    REQUIRE(r.repr().find(", 1)>") != std::string::npos);
    r.release();
    REQUIRE(r.count() == 0);
    REQUIRE(r.repr() == "<RLock(None, 0)>");

    // Held by another process: this process may not release it.
    mp::Event held, done;
    mp::Process p([r, held, done]() mutable {
        r.acquire();
        r.acquire();
        held.set();
        done.wait(60s);
        r.release();
        r.release();
    });
    p.start();
    REQUIRE(held.wait(60s));
    REQUIRE_THROWS_AS(r.release(), mp::ProcessError);
    REQUIRE_FALSE(r.acquire(false));
    done.set();
    REQUIRE(join_bounded(p) == 0);
    REQUIRE(r.acquire(false));
    r.release();
}

TEST_CASE("a process killed while holding a Lock does not block the others",
          "[synchronize][crash]") {
    mp::Lock lock;
    mp::Event held;
    mp::Process holder([lock, held]() mutable {
        lock.acquire();
        held.set();
        for (;;) {
            ::pause();  // killed here, holding the lock
        }
    });
    holder.start();
    REQUIRE(held.wait(60s));

    // A second process already blocked in acquire() when the holder dies.
    mp_test::report_pipe report;
    mp::Event waiting;
    mp::Process waiter([lock, waiting, &report]() mutable {
        waiting.set();
        const bool got = lock.acquire(true, 60s);
        report.write_line(std::string(got ? "got" : "timeout") +
                          (lock.owner_died() ? " owner-died" : " clean"));
        if (got) {
            lock.release();
        }
    });
    waiter.start();
    REQUIRE(waiting.wait(60s));
    REQUIRE_FALSE(lock.acquire(false));

    holder.kill();
    holder.join(60s);
    REQUIRE(holder.exitcode() == -SIGKILL);

    auto line = report.read_line(60s);
    REQUIRE(line.has_value());
    REQUIRE(*line == "got owner-died");
    REQUIRE(join_bounded(waiter) == 0);

    // The lock is consistent again: ordinary acquisitions, no owner-died flag.
    REQUIRE(lock.acquire(true, 60s));
    REQUIRE_FALSE(lock.owner_died());
    lock.release();
}

TEST_CASE("the next acquirer of a dead holder's RLock sees owner_died() until it releases",
          "[synchronize][crash]") {
    mp::RLock r;
    mp::Process holder([r]() mutable {
        r.acquire();
        r.acquire();
        ::raise(SIGKILL);
    });
    holder.start();
    holder.join(60s);
    REQUIRE(holder.exitcode() == -SIGKILL);
    REQUIRE(r.acquire(true, 60s));
    REQUIRE(r.owner_died());
    REQUIRE(r.count() == 1);
    REQUIRE(r.acquire());  // recursion still works
    r.release();
    REQUIRE(r.owner_died());
    r.release();
    REQUIRE_FALSE(r.owner_died());
    std::lock_guard<mp::RLock> g(r);
    REQUIRE_FALSE(r.owner_died());
}

TEST_CASE("Semaphore: values, timeouts and release from another process", "[synchronize]") {
    REQUIRE_THROWS_AS(mp::Semaphore(-1), std::invalid_argument);
    mp::Semaphore s(2);
    REQUIRE(s.get_value() == 2);
    REQUIRE(s.acquire());
    REQUIRE(s.acquire(false));
    REQUIRE_FALSE(s.acquire(false));
    REQUIRE_FALSE(s.acquire(20ms));
    REQUIRE(s.repr() == "<Semaphore(value=0)>");

    mp::Process releaser([s]() mutable {
        s.release();
        s.release();
        s.release();
    });
    releaser.start();
    REQUIRE(s.acquire(true, 60s));
    REQUIRE(s.acquire(true, 60s));
    REQUIRE(s.acquire(true, 60s));
    REQUIRE(join_bounded(releaser) == 0);
    REQUIRE(s.get_value() == 0);
    s.release();  // an unbounded semaphore may go above its initial value
    s.release();
    s.release();
    REQUIRE(s.get_value() == 3);
}

TEST_CASE("Semaphore bounds how many processes are inside at once", "[synchronize]") {
    mp::Semaphore sem(2);
    mp::Lock lock;
    shared_longs st;  // [0] inside now, [1] most inside at once, [2] entries
    std::vector<mp::Process> procs;
    for (int i = 0; i < 5; ++i) {
        procs.emplace_back([sem, lock, st]() mutable {
            for (int k = 0; k < 300; ++k) {
                std::lock_guard<mp::Semaphore> in(sem);
                {
                    std::lock_guard<mp::Lock> g(lock);
                    st[0] = st[0] + 1;
                    if (st[0] > st[1]) {
                        st[1] = st[0];
                    }
                    st[2] = st[2] + 1;
                }
                std::this_thread::yield();
                std::lock_guard<mp::Lock> g(lock);
                st[0] = st[0] - 1;
            }
        });
    }
    for (auto& p : procs) {
        p.start();
    }
    for (auto& p : procs) {
        REQUIRE(join_bounded(p) == 0);
    }
    REQUIRE(st[2] == 1500);
    REQUIRE(st[0] == 0);
    REQUIRE(st[1] >= 1);
    REQUIRE(st[1] <= 2);
    REQUIRE(sem.get_value() == 2);
}

TEST_CASE("BoundedSemaphore released too often throws ValueError's equivalent", "[synchronize]") {
    mp::BoundedSemaphore b(2);
    REQUIRE_THROWS_AS(b.release(), std::invalid_argument);
    b.acquire();
    b.release();
    try {
        b.release();
        FAIL("no exception");
    } catch (const std::invalid_argument& e) {
        REQUIRE(std::string(e.what()) == "semaphore or lock released too many times");
    }
    REQUIRE(b.repr() == "<BoundedSemaphore(value=2, maxvalue=2)>");
    mp::BoundedSemaphore zero(0);
    REQUIRE_THROWS_AS(zero.release(), std::invalid_argument);

    // Across processes: a child releasing one time too many sees the error.
    b.acquire();
    mp::Process child([b]() mutable {
        b.release();
        try {
            b.release();
        } catch (const std::invalid_argument&) {
            mp::sys_exit(7);
        }
    });
    child.start();
    REQUIRE(join_bounded(child) == 7);
    REQUIRE(b.get_value() == 2);
}

TEST_CASE("Condition: hand-offs between two processes", "[synchronize]") {
    mp::Condition cond;
    shared_longs turn;  // [0]: whose turn (0 parent, 1 child), [1]: the ball
    constexpr int rounds = 200;
    mp::Process child([cond, turn]() mutable {
        for (int i = 0; i < rounds; ++i) {
            std::unique_lock<mp::Condition> g(cond);
            cond.wait_for([&] { return turn[0] == 1; });
            turn[1] = turn[1] + 1;
            turn[0] = 0;
            cond.notify();
        }
    });
    child.start();
    for (int i = 0; i < rounds; ++i) {
        std::unique_lock<mp::Condition> g(cond);
        REQUIRE(turn[1] == 2 * i);
        turn[1] = turn[1] + 1;
        turn[0] = 1;
        cond.notify();
        REQUIRE(cond.wait_for([&] { return turn[0] == 0; }, 60s));
    }
    REQUIRE(turn[1] == 2 * rounds);
    REQUIRE(join_bounded(child) == 0);
}

TEST_CASE("Condition: notify_all wakes every waiting process", "[synchronize]") {
    mp::Lock lock;
    mp::Condition cond(lock);
    shared_longs st;  // [0] go flag, [1] waiting count
    std::vector<mp::Process> procs;
    for (int i = 0; i < 3; ++i) {
        procs.emplace_back([cond, st]() mutable {
            std::unique_lock<mp::Condition> g(cond);
            st[1] = st[1] + 1;
            cond.notify_all();  // tell the parent one more is waiting
            if (!cond.wait_for([&] { return st[0] == 1; }, 60s)) {
                mp::sys_exit(3);
            }
        });
    }
    for (auto& p : procs) {
        p.start();
    }
    {
        std::unique_lock<mp::Condition> g(cond);
        REQUIRE(cond.wait_for([&] { return st[1] == 3; }, 60s));
        st[0] = 1;
        cond.notify_all();
    }
    for (auto& p : procs) {
        REQUIRE(join_bounded(p) == 0);
    }
}

TEST_CASE("Condition: errors and time-outs", "[synchronize]") {
    mp::Condition cond;
    REQUIRE_THROWS_AS(cond.wait(), mp::ProcessError);
    REQUIRE_THROWS_AS(cond.notify(), mp::ProcessError);
    REQUIRE_THROWS_AS(cond.notify_all(), mp::ProcessError);
    cond.acquire();
    cond.acquire();  // RLock by default: the holder may nest
    REQUIRE_FALSE(cond.wait(20ms));
    REQUIRE_FALSE(cond.wait_for([] { return false; }, 20ms));
    REQUIRE(cond.wait_for([] { return true; }, 0ms));
    cond.release();
    cond.release();
    REQUIRE_THROWS_AS(cond.release(), mp::ProcessError);
}

TEST_CASE("Event: set wakes a waiting process, wait times out", "[synchronize]") {
    mp::Event ev, started;
    REQUIRE_FALSE(ev.is_set());
    REQUIRE_FALSE(ev.wait(20ms));
    REQUIRE(ev.repr() == "<Event(unset)>");
    mp::Process child([ev, started]() mutable {
        started.set();
        if (!ev.wait(60s)) {
            mp::sys_exit(2);
        }
    });
    child.start();
    REQUIRE(started.wait(60s));
    ev.set();
    REQUIRE(join_bounded(child) == 0);
    REQUIRE(ev.is_set());
    REQUIRE(ev.wait());
    REQUIRE(ev.wait(0s));
    ev.clear();
    REQUIRE_FALSE(ev.is_set());
    REQUIRE_FALSE(ev.wait(10ms));
}

TEST_CASE("Barrier: rounds across three processes", "[synchronize]") {
    constexpr int parties = 3;
    constexpr int rounds = 20;
    shared_longs st(
        64);  // [0] action runs; [1 + p] round reached by party p; [8 + r*4 + i] index hits
    mp::Barrier barrier(parties, [st] { st[0] = st[0] + 1; });
    REQUIRE(barrier.parties() == 3);
    REQUIRE(barrier.n_waiting() == 0);
    auto party = [barrier, st](int me) mutable {
        for (int r = 0; r < rounds; ++r) {
            st[1 + static_cast<std::size_t>(me)] = r;
            const int index = barrier.wait(60s);
            // Everyone reached round r before anyone passed the barrier.
            for (std::size_t q = 0; q < parties; ++q) {
                if (st[1 + q] < r) {
                    mp::sys_exit(10);
                }
            }
            if (r < 8) {
                st[8 + static_cast<std::size_t>(r * 4 + index)] = 1;
            }
            barrier.wait(60s);  // nobody starts round r+1 before all checked round r
        }
    };
    mp::Process a(party, 1), b(party, 2);
    a.start();
    b.start();
    party(0);
    REQUIRE(join_bounded(a) == 0);
    REQUIRE(join_bounded(b) == 0);
    REQUIRE(st[0] == 2 * rounds);
    for (std::size_t r = 0; r < 8; ++r) {
        for (std::size_t i = 0; i < parties; ++i) {
            REQUIRE(st[8 + r * 4 + i] == 1);  // indices 0, 1, 2 each given once per round
        }
    }
    REQUIRE_FALSE(barrier.broken());
}

TEST_CASE("Barrier: abort breaks it for a waiting process, reset repairs it", "[synchronize]") {
    REQUIRE_THROWS_AS(mp::Barrier(0), std::invalid_argument);
    mp::Barrier barrier(2);
    mp::Event started;
    shared_longs st;
    mp::Process child([barrier, started, st]() mutable {
        started.set();
        try {
            barrier.wait(60s);
        } catch (const mp::BrokenBarrierError&) {
            mp::sys_exit(5);
        }
    });
    child.start();
    REQUIRE(started.wait(60s));
    // Wait (bounded) until the child is inside wait(), then abort.
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (barrier.n_waiting() != 1 && std::chrono::steady_clock::now() < until) {
        std::this_thread::yield();
    }
    REQUIRE(barrier.n_waiting() == 1);
    barrier.abort();
    REQUIRE(join_bounded(child) == 5);
    REQUIRE(barrier.broken());
    REQUIRE_THROWS_AS(barrier.wait(), mp::BrokenBarrierError);
    barrier.reset();
    REQUIRE_FALSE(barrier.broken());

    // Usable again.
    mp::Process again([barrier]() mutable { barrier.wait(60s); });
    again.start();
    REQUIRE(barrier.wait(60s) >= 0);
    REQUIRE(join_bounded(again) == 0);
    (void)st;
}

TEST_CASE("Barrier: a wait time-out breaks the barrier", "[synchronize]") {
    mp::Barrier barrier(2, {}, 30ms);  // default time-out for wait()
    REQUIRE_THROWS_AS(barrier.wait(), mp::BrokenBarrierError);
    REQUIRE(barrier.broken());
    REQUIRE_THROWS_AS(barrier.wait(), mp::BrokenBarrierError);
    barrier.reset();
    REQUIRE_THROWS_AS(barrier.wait(10ms), mp::BrokenBarrierError);
    REQUIRE(barrier.broken());
    REQUIRE(barrier.n_waiting() == 0);
}

TEST_CASE("Barrier: an action that throws breaks the barrier and the error reaches the caller",
          "[synchronize]") {
    mp::Barrier barrier(1, [] { throw std::runtime_error("action failed"); });
    REQUIRE_THROWS_WITH(barrier.wait(), "action failed");
    REQUIRE(barrier.broken());
}

TEST_CASE("synchronize primitives work between threads of one process too", "[synchronize]") {
    mp::Lock lock;
    long counter = 0;
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) {
        threads.emplace_back([&] {
            for (int k = 0; k < 10000; ++k) {
                std::lock_guard<mp::Lock> g(lock);
                ++counter;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    REQUIRE(counter == 20000);
}
