// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// Lock and unlock of a robust, process-shared pthread mutex, with the
// uncontended case done inline: the queue's rings take and release such a
// mutex on every put and get, and glibc's general path for robust mutexes
// (__pthread_mutex_lock_full, __pthread_mutex_unlock_full) costs several
// times the two atomic instructions it needs. Not part of the public API.
//
// What makes a robust mutex robust is the kernel's robust-futex list, not
// glibc's code: each thread registers a list head (glibc does it at thread
// start and again in a fork child, with set_robust_list), every robust mutex
// it holds is linked into that list, and when the thread ends, however it
// ends (SIGKILL included), the kernel walks the list before the thread
// becomes a zombie, sets FUTEX_OWNER_DIED in each futex word still holding
// the thread's id, and wakes a waiter. The next pthread_mutex_lock or
// trylock then returns EOWNERDEAD. A killed process is thus found dead
// whether or not its parent reaped it, and a reused pid cannot pass for it.
// `list_op_pending` covers a death between the lock word's change and the
// list's update: the kernel checks that entry as well.
//
// The inline path does what glibc's robust path does, in glibc's own layout
// (the list entry is the mutex's __list.__next, doubly linked through
// __list.__prev, so glibc can still link and unlink its own mutexes around
// ours); anything but "free, take it" and "held by me, no complications"
// goes to glibc. It is compiled only where that layout is glibc's x86-64
// one, and used only if the thread's registered list head says so
// (get_robust_list: its futex_offset must be glibc's). Elsewhere both calls
// are plain pthread_mutex_trylock/unlock, as they are everywhere when the
// program defines MULTIPROCESSING_NO_INLINE_ROBUST_MUTEX.
#ifndef MULTIPROCESSING_DETAIL_ROBUST_MUTEX_HPP
#define MULTIPROCESSING_DETAIL_ROBUST_MUTEX_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/detail/posix.hpp>
#include <multiprocessing/detail/sync_core.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <linux/futex.h>
#include <pthread.h>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__GLIBC__) && defined(__x86_64__) && defined(__PTHREAD_MUTEX_HAVE_PREV) && \
    __PTHREAD_MUTEX_HAVE_PREV == 1 && !defined(MULTIPROCESSING_NO_INLINE_ROBUST_MUTEX)
#    define MULTIPROCESSING_ROBUST_INLINE 1
#else
#    define MULTIPROCESSING_ROBUST_INLINE 0
#endif

namespace multiprocessing::detail {

#if MULTIPROCESSING_ROBUST_INLINE

/// This thread's robust-futex list head as the kernel knows it, if it is
/// glibc's (a futex word 32 bytes before each entry); else nullptr. The
/// address stays right in a fork child: glibc registers the same head again.
inline robust_list_head* this_robust_head() noexcept {
    thread_local robust_list_head* const head = []() -> robust_list_head* {
        robust_list_head* h = nullptr;
        std::size_t len = 0;
        if (::syscall(SYS_get_robust_list, 0, &h, &len) != 0 || h == nullptr ||
            len != sizeof(robust_list_head)) {
            return nullptr;
        }
        const long expected = static_cast<long>(offsetof(__pthread_mutex_s, __lock)) -
                              static_cast<long>(offsetof(__pthread_mutex_s, __list.__next));
        return h->futex_offset == expected ? h : nullptr;
    }();
    return head;
}

/// glibc's list pointers may carry a flag in bit 0 (PI mutexes).
inline __pthread_list_t* robust_entry(void* p) noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{1};
    return reinterpret_cast<__pthread_list_t*>(a - offsetof(__pthread_list_t, __next));
}

inline void robust_compiler_barrier() noexcept {
    asm volatile("" ::: "memory");
}

#endif

/// Initialises a robust, process-shared mutex.
inline void init_robust_mutex(pthread_mutex_t* m, const char* who) {
    pthread_mutexattr_t attr;
    int r = ::pthread_mutexattr_init(&attr);
    if (r == 0) {
        r = ::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    }
    if (r == 0) {
        r = ::pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    }
    if (r == 0) {
        r = ::pthread_mutex_init(m, &attr);
    }
    ::pthread_mutexattr_destroy(&attr);
    if (r != 0) {
        throw_errno(std::string(who) + ": pthread_mutex_init", r);
    }
}

/// pthread_mutex_trylock of a robust, process-shared, normal mutex: 0,
/// EBUSY, EOWNERDEAD (then the caller must repair and make it consistent),
/// or another error.
inline int robust_trylock(pthread_mutex_t* m) noexcept {
#if MULTIPROCESSING_ROBUST_INLINE
    if (robust_list_head* head = this_robust_head()) {
        auto& d = m->__data;
        const int tid = static_cast<int>(this_tid());
        // As glibc: announce the entry, take the word, link the entry in.
        head->list_op_pending = reinterpret_cast<robust_list*>(&d.__list.__next);
        robust_compiler_barrier();
        int expected = 0;
        if (__atomic_compare_exchange_n(&d.__lock, &expected, tid, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            __pthread_list_t* first = robust_entry(head->list.next);
            first->__prev = reinterpret_cast<__pthread_list_t*>(&d.__list.__next);
            d.__list.__next = reinterpret_cast<__pthread_list_t*>(head->list.next);
            d.__list.__prev = reinterpret_cast<__pthread_list_t*>(head);
            robust_compiler_barrier();
            head->list.next = reinterpret_cast<robust_list*>(&d.__list.__next);
            robust_compiler_barrier();
            head->list_op_pending = nullptr;
            d.__owner = tid;
            ++d.__nusers;
            return 0;
        }
        robust_compiler_barrier();
        head->list_op_pending = nullptr;
        if ((expected & FUTEX_OWNER_DIED) == 0 && expected != 0) {
            return EBUSY;  // held by a live thread: what glibc would say
        }
    }
#endif
    return ::pthread_mutex_trylock(m);
}

/// pthread_mutex_unlock of a mutex this thread holds (taken by
/// robust_trylock or by any pthread call, and made consistent if it came
/// with EOWNERDEAD).
inline void robust_unlock(pthread_mutex_t* m) noexcept {
#if MULTIPROCESSING_ROBUST_INLINE
    if (robust_list_head* head = this_robust_head()) {
        auto& d = m->__data;
        const int tid = static_cast<int>(this_tid());
        if (d.__owner == tid &&
            (__atomic_load_n(&d.__lock, __ATOMIC_RELAXED) & FUTEX_TID_MASK) == tid) {
            // As glibc: announce the entry, unlink it, free the word, wake a
            // sleeper if one said so (FUTEX_WAITERS), forget the entry.
            head->list_op_pending = reinterpret_cast<robust_list*>(&d.__list.__next);
            robust_compiler_barrier();
            robust_entry(d.__list.__next)->__prev = d.__list.__prev;
            robust_entry(d.__list.__prev)->__next = d.__list.__next;
            robust_compiler_barrier();
            d.__list.__prev = nullptr;
            d.__list.__next = nullptr;
            d.__owner = 0;
            --d.__nusers;
            const int old = __atomic_exchange_n(&d.__lock, 0, __ATOMIC_RELEASE);
            if ((static_cast<unsigned>(old) & FUTEX_WAITERS) != 0) {
                ::syscall(SYS_futex, &d.__lock, FUTEX_WAKE, 1, nullptr, nullptr, 0);
            }
            robust_compiler_barrier();
            head->list_op_pending = nullptr;
            return;
        }
    }
#endif
    ::pthread_mutex_unlock(m);
}

}  // namespace multiprocessing::detail

#endif  // MULTIPROCESSING_DETAIL_ROBUST_MUTEX_HPP
