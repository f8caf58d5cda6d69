// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// Mirrors CPython's multiprocessing/synchronize.py: Lock, RLock, Semaphore,
// BoundedSemaphore, Condition, Event and Barrier, shared between a process
// and the processes it starts afterwards.
//
// Each object lives in anonymous MAP_SHARED memory made when it is
// constructed; the C++ object is a handle (copying it copies the handle, as
// passing a lock to a Process does in Python), so a child started after the
// construction uses the same lock. An object made in a child is shared with
// that child's later children only.
//
// Locks are POSIX robust mutexes: if a process dies holding a Lock or RLock,
// the next acquire() succeeds as usual and owner_died() is true until that
// holder releases it (the data the lock protects may be half-updated).
#ifndef MULTIPROCESSING_SYNCHRONIZE_HPP
#define MULTIPROCESSING_SYNCHRONIZE_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/detail/posix.hpp>
#include <multiprocessing/detail/sync_core.hpp>
#include <multiprocessing/exceptions.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace multiprocessing {

class Condition;

namespace detail {

/// Builds the primitives over state placed elsewhere (a Manager's segment).
struct sync_access;

/// What Lock and RLock share: a handle to a lock_core in shared memory.
class lock_handle {
public:
    /// Python: acquire(block=True, timeout=None). Returns true when acquired.
    /// If the previous holder died holding it, the lock is acquired all the
    /// same and owner_died() tells so. Throws ProcessError when a thread
    /// blocks without time-out on a Lock it already holds (a certain deadlock).
    bool acquire(bool block = true) { return core_->acquire(block, std::nullopt, kind()); }
    /// Python: acquire(block, timeout). With block false the timeout is ignored.
    template <class Rep, class Period>
    bool acquire(bool block, std::chrono::duration<Rep, Period> timeout) {
        return core_->acquire(block, deadline_after(timeout), kind());
    }
    /// Python: acquire(timeout=t).
    template <class Rep, class Period>
    bool acquire(std::chrono::duration<Rep, Period> timeout) {
        return acquire(true, timeout);
    }

    /// Python: release(). Throws std::invalid_argument ("semaphore or lock
    /// released too many times") for an unlocked Lock, ProcessError for a
    /// Lock held by another thread or process, and ProcessError ("attempt to
    /// release recursive lock not owned by thread") for an RLock not held by
    /// the calling thread.
    void release() { core_->release(kind()); }

    /// True while the current holder's acquisition took the lock over from a
    /// process (or thread) that died holding it; cleared by its last release().
    bool owner_died() const noexcept { return core_->owner_died.load() != 0; }

    /// Python (internal): _is_mine(): held by the calling thread.
    bool is_mine() const noexcept { return core_->is_mine(); }

    /// BasicLockable / Lockable / TimedLockable, for std::lock_guard,
    /// std::unique_lock and std::scoped_lock (Python's `with lock:`).
    void lock() { acquire(true); }
    void unlock() { release(); }
    bool try_lock() { return acquire(false); }
    template <class Rep, class Period>
    bool try_lock_for(std::chrono::duration<Rep, Period> timeout) {
        return acquire(true, timeout);
    }
    template <class Clock, class Duration>
    bool try_lock_until(std::chrono::time_point<Clock, Duration> t) {
        return acquire(true, t - Clock::now());
    }

    /// Two handles are equal when they stand for the same lock.
    friend bool operator==(const lock_handle& a, const lock_handle& b) {
        return a.core_ == b.core_;
    }
    friend bool operator!=(const lock_handle& a, const lock_handle& b) { return !(a == b); }

protected:
    friend class multiprocessing::Condition;
    friend struct sync_access;
    explicit lock_handle(bool recursive)
        : core_(make_shared_anonymous<lock_core>(recursive ? "RLock" : "Lock", recursive)) {}
    explicit lock_handle(std::shared_ptr<lock_core> core) : core_(std::move(core)) {}
    const char* kind() const noexcept { return core_->kind(); }
    std::shared_ptr<lock_core> core_;
};

}  // namespace detail

/// Python: multiprocessing.Lock(). A non-recursive lock shared with the
/// processes started after it. Unlike Python's, only the thread that
/// acquired it may release it, and a holder that dies does not wedge it
/// (see owner_died()). Use it with std::lock_guard / std::unique_lock.
/// Throws std::system_error if the shared memory cannot be made.
class Lock : public detail::lock_handle {
public:
    Lock() : lock_handle(false) {}
    /// Internal: a Lock over an existing core (a Manager's Lock).
    explicit Lock(std::shared_ptr<detail::lock_core> core) : lock_handle(std::move(core)) {}
    /// Python: repr(lock), e.g. <Lock(owner=None)> or <Lock(owner=4242)> (a thread id).
    std::string repr() const {
        const pid_t o = core_->owner.load();
        return "<Lock(owner=" + (o == 0 ? std::string("None") : std::to_string(o)) + ")>";
    }
};

/// Python: multiprocessing.RLock(). A recursive lock: its holder may acquire
/// it again and must release it as many times. Shared and robust like Lock.
class RLock : public detail::lock_handle {
public:
    RLock() : lock_handle(true) {}
    /// Internal: an RLock over an existing core (Value's lock in its own mapping).
    explicit RLock(std::shared_ptr<detail::lock_core> core) : lock_handle(std::move(core)) {}
    /// Python (internal): _count(): how many times the holder acquired it.
    unsigned count() const noexcept { return core_->is_mine() ? core_->count.load() : 0U; }
    /// Python: repr(rlock), e.g. <RLock(None, 0)> or <RLock(4242, 2)> (thread id, depth).
    std::string repr() const {
        const pid_t o = core_->owner.load();
        return "<RLock(" + (o == 0 ? std::string("None") : std::to_string(o)) + ", " +
               std::to_string(o == 0 ? 0U : core_->count.load()) + ")>";
    }
};

/// Python: multiprocessing.Semaphore(value=1). A counter that acquire()
/// decrements (blocking at zero) and release() increments. A process that
/// dies holding a unit does not give it back (as in Python).
class Semaphore {
public:
    /// Throws std::invalid_argument for a negative value (Python: ValueError).
    explicit Semaphore(int value = 1) : Semaphore(value, false, "Semaphore") {}

    /// Python: acquire(block=True, timeout=None). True when a unit was taken.
    bool acquire(bool block = true) { return core_->acquire(block, std::nullopt); }
    /// Python: acquire(block, timeout). With block false the timeout is ignored.
    template <class Rep, class Period>
    bool acquire(bool block, std::chrono::duration<Rep, Period> timeout) {
        return core_->acquire(block, detail::deadline_after(timeout));
    }
    /// Python: acquire(timeout=t).
    template <class Rep, class Period>
    bool acquire(std::chrono::duration<Rep, Period> timeout) {
        return acquire(true, timeout);
    }
    /// Python: release(). Any process may release. A BoundedSemaphore
    /// released above its initial value throws std::invalid_argument
    /// ("semaphore or lock released too many times", Python's ValueError).
    void release() { core_->release(kind_); }
    /// Python: get_value().
    int get_value() const noexcept { return static_cast<int>(core_->value.load()); }

    /// BasicLockable / Lockable / TimedLockable (Python's `with sem:`).
    void lock() { acquire(true); }
    void unlock() { release(); }
    bool try_lock() { return acquire(false); }
    template <class Rep, class Period>
    bool try_lock_for(std::chrono::duration<Rep, Period> timeout) {
        return acquire(true, timeout);
    }
    template <class Clock, class Duration>
    bool try_lock_until(std::chrono::time_point<Clock, Duration> t) {
        return acquire(true, t - Clock::now());
    }

    /// Python: repr(sem), e.g. <Semaphore(value=2)>.
    std::string repr() const {
        std::string r = std::string("<") + kind_ + "(value=" + std::to_string(get_value());
        if (core_->bounded) {
            r += ", maxvalue=" + std::to_string(core_->maxvalue);
        }
        return r + ")>";
    }

protected:
    friend struct detail::sync_access;
    Semaphore(std::shared_ptr<detail::sem_core> core, const char* kind)
        : core_(std::move(core)), kind_(kind) {}
    Semaphore(int value, bool bounded, const char* kind) : kind_(kind) {
        if (value < 0) {
            throw std::invalid_argument("semaphore initial value must be >= 0");
        }
        core_ = detail::make_shared_anonymous<detail::sem_core>(
            kind, static_cast<std::uint32_t>(value), bounded);
    }

private:
    std::shared_ptr<detail::sem_core> core_;
    const char* kind_;
};

/// Python: multiprocessing.BoundedSemaphore(value=1). A Semaphore whose
/// release() throws std::invalid_argument ("semaphore or lock released too
/// many times") once the value would exceed the initial one.
class BoundedSemaphore : public Semaphore {
public:
    explicit BoundedSemaphore(int value = 1) : Semaphore(value, true, "BoundedSemaphore") {}

private:
    friend struct detail::sync_access;
    explicit BoundedSemaphore(std::shared_ptr<detail::sem_core> core)
        : Semaphore(std::move(core), "BoundedSemaphore") {}
};

/// Python: multiprocessing.Condition(lock=None). A condition variable over
/// an RLock (its own by default) or a given Lock/RLock, shared with the
/// processes started after it. Use it with std::unique_lock or its own
/// acquire()/release(). wait() may return true without a matching notify()
/// when several waiters race (as POSIX condition variables may), so wait in
/// a loop or with wait_for(predicate).
class Condition {
public:
    /// Python: Condition() with its own RLock.
    Condition() : Condition(RLock()) {}
    /// Python: Condition(lock).
    explicit Condition(const Lock& lock) : Condition(lock.core_) {}
    /// Python: Condition(rlock).
    explicit Condition(const RLock& lock) : Condition(lock.core_) {}

    /// Python: acquire(block, timeout) / release() of the underlying lock.
    bool acquire(bool block = true) { return lock_->acquire(block, std::nullopt, "Condition"); }
    template <class Rep, class Period>
    bool acquire(bool block, std::chrono::duration<Rep, Period> timeout) {
        return lock_->acquire(block, detail::deadline_after(timeout), "Condition");
    }
    template <class Rep, class Period>
    bool acquire(std::chrono::duration<Rep, Period> timeout) {
        return acquire(true, timeout);
    }
    void release() { lock_->release("Condition"); }
    void lock() { acquire(true); }
    void unlock() { release(); }
    bool try_lock() { return acquire(false); }

    /// Python: wait(timeout=None). Releases the lock (every level of an
    /// RLock), sleeps until notified, takes the lock back. Returns false if
    /// the time-out passed. Throws ProcessError ("must acquire() condition
    /// before using wait()") when the caller does not hold the lock.
    bool wait() { return shared_->cond.wait(*lock_, std::nullopt); }
    template <class Rep, class Period>
    bool wait(std::chrono::duration<Rep, Period> timeout) {
        return shared_->cond.wait(*lock_, detail::deadline_after(timeout));
    }

    /// Python: wait_for(predicate, timeout=None). Waits until predicate() is
    /// true (checked first, then after each wake-up); returns its last value.
    template <class Predicate>
    bool wait_for(Predicate predicate) {
        bool result = predicate();
        while (!result) {
            wait();
            result = predicate();
        }
        return result;
    }
    template <class Predicate, class Rep, class Period>
    bool wait_for(Predicate predicate, std::chrono::duration<Rep, Period> timeout) {
        const detail::deadline until = detail::deadline_after(timeout);
        if (!until) {
            return wait_for(std::move(predicate));  // too long to count: no time-out
        }
        bool result = predicate();
        while (!result) {
            const auto left = *until - detail::clock::now();
            if (left <= left.zero()) {
                break;
            }
            shared_->cond.wait(*lock_, until);
            result = predicate();
        }
        return result;
    }

    /// Python: notify(n=1). Wakes up to n waiters. Throws ProcessError ("lock
    /// is not owned") when the caller does not hold the lock.
    void notify(int n = 1) { shared_->cond.notify(*lock_, n < 0 ? 0 : n); }
    /// Python: notify_all().
    void notify_all() { shared_->cond.notify(*lock_, -1); }

    /// Whether the previous holder of the lock died holding it (see Lock).
    bool owner_died() const noexcept { return lock_->owner_died.load() != 0; }

private:
    friend struct detail::sync_access;
    struct shared_state {
        detail::cond_core cond;
    };
    explicit Condition(std::shared_ptr<detail::lock_core> lock)
        : lock_(std::move(lock)),
          shared_(detail::make_shared_anonymous<shared_state>("Condition")) {}
    Condition(std::shared_ptr<detail::lock_core> lock, std::shared_ptr<shared_state> shared)
        : lock_(std::move(lock)), shared_(std::move(shared)) {}
    std::shared_ptr<detail::lock_core> lock_;
    std::shared_ptr<shared_state> shared_;
};

/// Python: multiprocessing.Event(). A flag that processes wait for.
class Event {
public:
    Event() : flag_(detail::make_shared_anonymous<state>("Event")) {}

    /// Python: is_set().
    bool is_set() const noexcept { return flag_->flag.load() != 0; }
    /// Python: set(). Wakes every waiter.
    void set() {
        flag_->flag.store(1);
        if (flag_->waiters.load() > 0) {
            detail::futex_wake(flag_->flag, INT_MAX);
        }
    }
    /// Python: clear().
    void clear() noexcept { flag_->flag.store(0); }
    /// Python: wait(timeout=None). Returns the flag: false only on time-out.
    bool wait() { return wait_until(std::nullopt); }
    template <class Rep, class Period>
    bool wait(std::chrono::duration<Rep, Period> timeout) {
        return wait_until(detail::deadline_after(timeout));
    }
    /// Python: repr(event): <Event(set)> or <Event(unset)>.
    std::string repr() const { return is_set() ? "<Event(set)>" : "<Event(unset)>"; }

private:
    friend struct detail::sync_access;
    struct state {
        detail::futex_word flag{0};
        std::atomic<std::uint32_t> waiters{0};
    };
    explicit Event(std::shared_ptr<state> flag) : flag_(std::move(flag)) {}
    bool wait_until(const detail::deadline& until) {
        while (flag_->flag.load() == 0) {
            flag_->waiters.fetch_add(1);
            bool in_time = true;
            try {
                in_time = detail::futex_wait(flag_->flag, 0, until);
            } catch (...) {
                flag_->waiters.fetch_sub(1);
                throw;
            }
            flag_->waiters.fetch_sub(1);
            if (!in_time) {
                break;
            }
        }
        return is_set();
    }
    std::shared_ptr<state> flag_;
};

/// Python: multiprocessing.Barrier(parties, action=None, timeout=None).
/// wait() blocks until `parties` processes (or threads) have called it, then
/// releases them all; it can be used again for the next round. `action`
/// runs in the last process to arrive, before the others are released. The
/// barrier is broken by abort(), a wait() time-out or an action that throws;
/// waiters then get BrokenBarrierError until reset().
class Barrier {
public:
    /// Throws std::invalid_argument if parties < 1 (Python: ValueError).
    explicit Barrier(int parties, std::function<void()> action = {}) : action_(std::move(action)) {
        if (parties < 1) {
            throw std::invalid_argument("parties must be > 0");
        }
        state_ = detail::make_shared_anonymous<state>("Barrier", parties);
    }
    /// Python: Barrier(parties, action, timeout): the default time-out of wait().
    template <class Rep, class Period>
    Barrier(int parties, std::function<void()> action, std::chrono::duration<Rep, Period> timeout)
        : Barrier(parties, std::move(action)) {
        timeout_ = std::chrono::duration_cast<detail::clock::duration>(
            std::chrono::duration<double>(timeout));
    }

    /// Python: wait(timeout=None). Returns this caller's arrival index, 0 to
    /// parties - 1. Throws BrokenBarrierError if the barrier is or becomes
    /// broken (or is reset) while waiting, or when the time-out passes (which
    /// breaks it for everyone); rethrows what `action` threw (breaking it).
    int wait() {
        return wait_until(timeout_ ? detail::deadline_after(*timeout_) : detail::deadline{});
    }
    template <class Rep, class Period>
    int wait(std::chrono::duration<Rep, Period> timeout) {
        return wait_until(detail::deadline_after(timeout));
    }

    /// Python: reset(). Back to the empty state; current waiters get BrokenBarrierError.
    void reset() {
        guard g(*this);
        state& s = *state_;
        if (s.count > 0) {
            if (s.phase == filling || s.phase == broken_) {
                s.phase = resetting;
            }
        } else {
            s.phase = filling;
        }
        s.cond.notify(s.lock, -1);
    }
    /// Python: abort(). Breaks the barrier: waiters get BrokenBarrierError.
    void abort() {
        guard g(*this);
        break_locked();
    }
    /// Python: parties.
    int parties() const noexcept { return state_->parties; }
    /// Python: n_waiting.
    int n_waiting() const noexcept {
        return state_->phase == filling ? static_cast<int>(state_->count) : 0;
    }
    /// Python: broken.
    bool broken() const noexcept { return state_->phase == broken_; }

private:
    friend struct detail::sync_access;
    enum phase_t : std::int32_t { filling = 0, draining = 1, resetting = -1, broken_ = -2 };
    struct state {
        explicit state(int n) : lock(false), parties(n) {}
        detail::lock_core lock;
        detail::cond_core cond;
        // Changed under `lock`; read without it by n_waiting() and broken().
        std::atomic<std::int32_t> phase{filling};
        std::atomic<std::int32_t> count{0};
        std::int32_t parties;
    };
    struct guard {
        explicit guard(Barrier& b) : s(*b.state_) { s.lock.acquire(true, std::nullopt, "Barrier"); }
        ~guard() { s.lock.release("Barrier"); }
        guard(const guard&) = delete;
        guard& operator=(const guard&) = delete;
        state& s;
    };

    void break_locked() {
        state_->phase = broken_;
        state_->cond.notify(state_->lock, -1);
    }

    int wait_until(const detail::deadline& until) {
        guard g(*this);
        state& s = *state_;
        // Block while the barrier drains or resets.
        while (s.phase == draining || s.phase == resetting) {
            s.cond.wait(s.lock, std::nullopt);
        }
        if (s.phase < 0) {
            throw BrokenBarrierError("Barrier.wait: the barrier is broken");
        }
        const int index = s.count.load();
        s.count.fetch_add(1);
        try {
            if (index + 1 == s.parties) {
                try {
                    if (action_) {
                        action_();
                    }
                    s.phase = draining;
                    s.cond.notify(s.lock, -1);
                } catch (...) {
                    break_locked();
                    throw;
                }
            } else {
                while (s.phase == filling) {
                    if (!s.cond.wait(s.lock, until) && s.phase == filling) {
                        break_locked();
                        throw BrokenBarrierError("Barrier.wait: timed out; the barrier is broken");
                    }
                }
                if (s.phase < 0) {
                    throw BrokenBarrierError("Barrier.wait: the barrier was broken or reset");
                }
            }
        } catch (...) {
            leave_locked();
            throw;
        }
        leave_locked();
        return index;
    }

    void leave_locked() {
        state& s = *state_;
        s.count.fetch_sub(1);
        if (s.count == 0 && (s.phase == resetting || s.phase == draining)) {
            s.phase = filling;
            s.cond.notify(s.lock, -1);
        }
    }

    explicit Barrier(std::shared_ptr<state> s) : state_(std::move(s)) {}

    std::shared_ptr<state> state_;
    std::function<void()> action_;
    std::optional<detail::clock::duration> timeout_;
};

}  // namespace multiprocessing

#endif  // MULTIPROCESSING_SYNCHRONIZE_HPP
