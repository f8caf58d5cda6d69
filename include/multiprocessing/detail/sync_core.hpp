// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// The shared-memory building blocks of synchronize.hpp and sharedctypes.hpp:
// anonymous MAP_SHARED mappings (inherited by forked children), futex waits
// with monotonic deadlines, and a lock on a POSIX robust, process-shared
// mutex that a process dying while holding it cannot wedge. Not public API.
#ifndef MULTIPROCESSING_DETAIL_SYNC_CORE_HPP
#define MULTIPROCESSING_DETAIL_SYNC_CORE_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/detail/futex.hpp>
#include <multiprocessing/detail/posix.hpp>
#include <multiprocessing/exceptions.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <ctime>
#include <linux/futex.h>
#include <memory>
#include <new>
#include <pthread.h>
#include <string>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <thread>
#include <type_traits>
#include <unistd.h>
#include <utility>

namespace multiprocessing::detail {

// ---------------------------------------------------------------------------
// Anonymous shared memory

/// A fresh, zero-filled MAP_SHARED | MAP_ANONYMOUS mapping of at least
/// `bytes` bytes (whole pages). Processes forked afterwards share it; it is
/// unmapped in a process when the last pointer to it there goes away.
inline std::shared_ptr<void> map_shared_anonymous(std::size_t bytes, const std::string& who) {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t len = bytes == 0 ? page : (bytes + page - 1) / page * page;
    void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        throw_errno(who + ": mmap");
    }
    return std::shared_ptr<void>(p, [len](void* q) { ::munmap(q, len); });
}

/// Constructs an S in a new shared mapping. S is never destroyed (other
/// processes may still use it), so it must be trivially destructible.
template <class S, class... A>
std::shared_ptr<S> make_shared_anonymous(const std::string& who, A&&... args) {
    static_assert(std::is_trivially_destructible_v<S>);
    auto mem = map_shared_anonymous(sizeof(S), who);
    S* s = ::new (mem.get()) S(std::forward<A>(args)...);
    return std::shared_ptr<S>(std::move(mem), s);
}

// ---------------------------------------------------------------------------
// Who am I: the kernel thread id, cached per thread (and reset after fork).

inline thread_local pid_t cached_tid = 0;

inline pid_t this_tid() noexcept {
    static const bool registered = [] {
        ::pthread_atfork(nullptr, nullptr, [] { cached_tid = 0; });
        return true;
    }();
    (void)registered;
    if (cached_tid == 0) {
        cached_tid = static_cast<pid_t>(::syscall(SYS_gettid));
    }
    return cached_tid;
}

// ---------------------------------------------------------------------------
// The lock of Lock, RLock, Condition, Barrier and Value/Array.

/// A POSIX robust, process-shared mutex plus who holds it. When a holder
/// dies, the next acquirer gets EOWNERDEAD from the kernel, repairs the mutex
/// with pthread_mutex_consistent, and takes it (Boost's interprocess_mutex
/// would instead throw not_recoverable for good). `owner_died` records that
/// until the repairing holder lets go.
struct lock_core {
    pthread_mutex_t mutex;
    std::atomic<pid_t> owner{0};          // thread id of the holder; 0 when free
    std::atomic<std::uint32_t> count{0};  // recursion depth of the holder
    std::atomic<std::uint32_t> owner_died{0};
    bool recursive;

    explicit lock_core(bool is_recursive) : mutex(), recursive(is_recursive) {
        pthread_mutexattr_t attr;
        ::pthread_mutexattr_init(&attr);
        int r = ::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
        if (r == 0) {
            r = ::pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
        }
        if (r == 0) {
            r = ::pthread_mutexattr_settype(
                &attr, is_recursive ? PTHREAD_MUTEX_RECURSIVE : PTHREAD_MUTEX_ERRORCHECK);
        }
        if (r == 0) {
            r = ::pthread_mutex_init(&mutex, &attr);
        }
        ::pthread_mutexattr_destroy(&attr);
        if (r != 0) {
            throw_errno(is_recursive ? "RLock: pthread_mutex_init" : "Lock: pthread_mutex_init", r);
        }
    }

    const char* kind() const noexcept { return recursive ? "RLock" : "Lock"; }

    bool is_mine() const noexcept { return owner.load(std::memory_order_relaxed) == this_tid(); }

    /// Records a successful pthread lock (0 or EOWNERDEAD) by this thread.
    void took(int r, const char* who) {
        if (r == EOWNERDEAD) {
            const int c = ::pthread_mutex_consistent(&mutex);
            if (c != 0) {
                throw_errno(std::string(who) + ": pthread_mutex_consistent", c);
            }
            owner_died.store(1, std::memory_order_relaxed);
            count.store(0, std::memory_order_relaxed);
        }
        const pid_t me = this_tid();
        if (owner.load(std::memory_order_relaxed) == me) {
            count.fetch_add(1, std::memory_order_relaxed);
        } else {
            owner.store(me, std::memory_order_relaxed);
            count.store(1, std::memory_order_relaxed);
        }
    }

    /// Python's SemLock.acquire(block, timeout). True when acquired.
    bool acquire(bool block, const deadline& until, const char* who) {
        int r = ::pthread_mutex_trylock(&mutex);
        if (r == EBUSY && block) {
            // Critical sections are usually short: spin a little before sleeping.
            for (int i = 0; i < 100 && r == EBUSY; ++i) {
                cpu_relax();
                r = ::pthread_mutex_trylock(&mutex);
            }
            if (r == EBUSY) {
                if (until) {
                    const timespec ts = monotonic_timespec(*until);
                    r = ::pthread_mutex_clocklock(&mutex, CLOCK_MONOTONIC, &ts);
                } else {
                    r = ::pthread_mutex_lock(&mutex);
                }
            }
        }
        switch (r) {
            case 0:
            case EOWNERDEAD: took(r, who); return true;
            case EBUSY:
            case ETIMEDOUT: return false;
            case EDEADLK:
                // A Lock acquired again by its holder: Python would block
                // forever (or until the time-out, then return False).
                if (!block) {
                    return false;
                }
                if (until) {
                    std::this_thread::sleep_until(*until);
                    return false;
                }
                throw ProcessError(std::string(who) +
                                   ": deadlock: the calling thread already holds this Lock "
                                   "(use an RLock to acquire it again)");
            default: throw_errno(std::string(who) + ": pthread_mutex_lock", r);
        }
    }

    /// Python's SemLock.release().
    void release(const char* who) {
        const pid_t me = this_tid();
        const pid_t holder = owner.load(std::memory_order_relaxed);
        if (holder != me) {
            if (recursive) {
                throw ProcessError("attempt to release recursive lock not owned by thread");
            }
            if (holder == 0) {
                throw std::invalid_argument("semaphore or lock released too many times");
            }
            throw ProcessError(std::string(who) + ": the lock is held by thread " +
                               std::to_string(holder) +
                               "; only the thread that acquired a Lock may release it");
        }
        const std::uint32_t c = count.load(std::memory_order_relaxed);
        if (c <= 1) {
            owner_died.store(0, std::memory_order_relaxed);
            count.store(0, std::memory_order_relaxed);
            owner.store(0, std::memory_order_relaxed);
        } else {
            count.store(c - 1, std::memory_order_relaxed);
        }
        const int r = ::pthread_mutex_unlock(&mutex);
        if (r != 0) {
            throw_errno(std::string(who) + ": pthread_mutex_unlock", r);
        }
    }

    /// Lets go of every level the calling holder has (for Condition.wait);
    /// returns what reacquire() needs.
    std::pair<std::uint32_t, std::uint32_t> release_all() {
        const std::uint32_t depth = count.load(std::memory_order_relaxed);
        const std::uint32_t died = owner_died.load(std::memory_order_relaxed);
        owner_died.store(0, std::memory_order_relaxed);
        count.store(0, std::memory_order_relaxed);
        owner.store(0, std::memory_order_relaxed);
        for (std::uint32_t i = 0; i < depth; ++i) {
            ::pthread_mutex_unlock(&mutex);
        }
        return {depth, died};
    }

    /// Takes the lock back at the depth release_all() gave up.
    void reacquire(std::pair<std::uint32_t, std::uint32_t> saved, const char* who) {
        acquire(true, std::nullopt, who);
        for (std::uint32_t i = 1; i < saved.first; ++i) {
            const int r = ::pthread_mutex_lock(&mutex);  // recursive: only counts
            if (r != 0) {
                throw_errno(std::string(who) + ": pthread_mutex_lock", r);
            }
        }
        count.store(saved.first, std::memory_order_relaxed);
        if (saved.second != 0) {
            owner_died.store(1, std::memory_order_relaxed);
        }
    }
};
static_assert(std::is_trivially_destructible_v<lock_core>);

/// The shared part of a Condition: a sequence number bumped by notify().
struct cond_core {
    futex_word seq{0};
    std::atomic<std::uint32_t> waiters{0};

    /// Python's Condition.wait(timeout) on `lock`, held by the caller.
    bool wait(lock_core& lock, const deadline& until) {
        if (!lock.is_mine()) {
            throw ProcessError("must acquire() condition before using wait()");
        }
        const std::uint32_t s = seq.load();
        waiters.fetch_add(1);
        const auto saved = lock.release_all();
        bool notified = true;
        try {
            while (seq.load() == s) {
                if (!futex_wait(seq, s, until)) {
                    notified = seq.load() != s;
                    break;
                }
            }
        } catch (...) {
            waiters.fetch_sub(1);
            lock.reacquire(saved, "Condition.wait");
            throw;
        }
        waiters.fetch_sub(1);
        lock.reacquire(saved, "Condition.wait");
        return notified;
    }

    /// Python's Condition.notify(n) / notify_all() (n < 0), lock held.
    void notify(lock_core& lock, int n) {
        if (!lock.is_mine()) {
            throw ProcessError("lock is not owned");
        }
        seq.fetch_add(1);
        if (waiters.load() > 0) {
            futex_wake(seq, n < 0 ? INT_MAX : n);
        }
    }
};

/// A counting semaphore on one futex word; a bounded one never exceeds `maxvalue`.
struct sem_core {
    futex_word value;
    std::atomic<std::uint32_t> waiters{0};
    std::uint32_t maxvalue;
    bool bounded;

    sem_core(std::uint32_t initial, bool is_bounded)
        : value(initial), maxvalue(initial), bounded(is_bounded) {}

    bool try_take() noexcept {
        std::uint32_t v = value.load();
        while (v > 0) {
            if (value.compare_exchange_weak(v, v - 1)) {
                return true;
            }
        }
        return false;
    }

    bool acquire(bool block, const deadline& until) {
        if (try_take()) {
            return true;
        }
        if (!block) {
            return false;
        }
        for (int i = 0; i < 100; ++i) {
            cpu_relax();
            if (try_take()) {
                return true;
            }
        }
        for (;;) {
            waiters.fetch_add(1);
            bool in_time = true;
            try {
                in_time = futex_wait(value, 0, until);
            } catch (...) {
                waiters.fetch_sub(1);
                throw;
            }
            waiters.fetch_sub(1);
            if (try_take()) {
                return true;
            }
            if (!in_time) {
                return false;
            }
        }
    }

    void release(const char* who) {
        std::uint32_t v = value.load();
        for (;;) {
            if (bounded && v >= maxvalue) {
                throw std::invalid_argument("semaphore or lock released too many times");
            }
            if (v >= static_cast<std::uint32_t>(INT_MAX)) {
                throw std::overflow_error(std::string(who) + ": semaphore value too large");
            }
            if (value.compare_exchange_weak(v, v + 1)) {
                break;
            }
        }
        if (waiters.load() > 0) {
            futex_wake(value, 1);
        }
    }
};

/// Converts an optional chrono duration to a deadline (none: block).
template <class Rep, class Period>
deadline deadline_from(const std::optional<std::chrono::duration<Rep, Period>>& timeout) {
    if (!timeout) {
        return std::nullopt;
    }
    return deadline_after(*timeout);
}

}  // namespace multiprocessing::detail

#endif  // MULTIPROCESSING_DETAIL_SYNC_CORE_HPP
