// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// Futexes on words in shared memory: how Lock, Semaphore, Event, Condition
// and the queue rings sleep in the kernel instead of polling. Linux only.
// Not part of the public API.
#ifndef MULTIPROCESSING_DETAIL_FUTEX_HPP
#define MULTIPROCESSING_DETAIL_FUTEX_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/detail/posix.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace multiprocessing::detail {

using futex_word = std::atomic<std::uint32_t>;
static_assert(sizeof(futex_word) == sizeof(std::uint32_t) && futex_word::is_always_lock_free,
              "a futex word must be a plain 32-bit integer");

/// steady_clock's epoch is CLOCK_MONOTONIC's on Linux: a deadline as an
/// absolute timespec (for FUTEX_WAIT_BITSET and pthread_mutex_clocklock).
inline timespec monotonic_timespec(clock::time_point t) noexcept {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    if (ns < 0) {
        ns = 0;
    }
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(ns / 1000000000);
    ts.tv_nsec = static_cast<long>(ns % 1000000000);
    return ts;
}

/// Sleeps while `word == expected`, until woken or `until` passes. Returns
/// false only on time-out; spurious returns are possible (callers re-check).
inline bool futex_wait(futex_word& word, std::uint32_t expected, const deadline& until) {
    timespec ts{};
    timespec* tsp = nullptr;
    if (until) {
        ts = monotonic_timespec(*until);
        tsp = &ts;
    }
    // Not FUTEX_PRIVATE_FLAG: the word is shared between processes.
    const long r = ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_BITSET,
                             expected, tsp, nullptr, FUTEX_BITSET_MATCH_ANY);
    if (r == 0 || errno == EAGAIN || errno == EINTR) {
        return true;
    }
    if (errno == ETIMEDOUT) {
        return false;
    }
    throw_errno("futex(FUTEX_WAIT)");
}

/// Wakes up to `n` processes sleeping on `word`.
inline void futex_wake(futex_word& word, int n) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, n, nullptr, nullptr,
              0);
}

/// Wakes every process sleeping on `word`.
inline void futex_wake_all(futex_word& word) noexcept {
    futex_wake(word, INT_MAX);
}

/// One iteration of a busy-wait: tells the CPU (and its sibling thread) we spin.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

}  // namespace multiprocessing::detail

#endif  // MULTIPROCESSING_DETAIL_FUTEX_HPP
