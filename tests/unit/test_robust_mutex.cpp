// Tests for multiprocessing/detail/robust_mutex.hpp: the inline lock and
// unlock of robust, process-shared mutexes that the queue rings use. They
// must stay interchangeable with glibc's own calls (same list, same words),
// and a holder that dies must be found dead by the kernel's robust list.
#include "support/catch.hpp"
#include "support/helpers.hpp"
#include <multiprocessing/detail/robust_mutex.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <ctime>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mpd = multiprocessing::detail;

namespace {

/// Three robust, process-shared mutexes in an anonymous shared mapping.
struct shared_mutexes {
    pthread_mutex_t* m = nullptr;

    shared_mutexes() {
        void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        REQUIRE(p != MAP_FAILED);
        m = static_cast<pthread_mutex_t*>(p);
        pthread_mutexattr_t attr;
        ::pthread_mutexattr_init(&attr);
        ::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
        ::pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
        for (int i = 0; i < 3; ++i) {
            REQUIRE(::pthread_mutex_init(&m[i], &attr) == 0);
        }
        ::pthread_mutexattr_destroy(&attr);
    }
    ~shared_mutexes() { ::munmap(m, 4096); }
    shared_mutexes(const shared_mutexes&) = delete;
    shared_mutexes& operator=(const shared_mutexes&) = delete;
};

/// Reads one byte from the child; false on EOF.
bool read_byte(int fd) {
    char c = 0;
    ssize_t n = 0;
    do {
        n = ::read(fd, &c, 1);
    } while (n < 0 && errno == EINTR);
    return n == 1;
}

int lock_word(pthread_mutex_t* m) {
    return __atomic_load_n(&m->__data.__lock, __ATOMIC_ACQUIRE);
}

}  // namespace

TEST_CASE("robust_mutex: exclusion, and glibc's calls mixed with the inline ones",
          "[robust_mutex]") {
    shared_mutexes s;
    pthread_mutex_t* a = &s.m[0];
    pthread_mutex_t* b = &s.m[1];
    pthread_mutex_t* c = &s.m[2];
    // Interleaved so that glibc links and unlinks its entries next to ours.
    REQUIRE(::pthread_mutex_lock(a) == 0);
    REQUIRE(mpd::robust_trylock(b) == 0);
    CHECK(mpd::robust_trylock(b) == EBUSY);
    REQUIRE(::pthread_mutex_lock(c) == 0);
    REQUIRE(::pthread_mutex_unlock(a) == 0);
    mpd::robust_unlock(b);
    CHECK(lock_word(b) == 0);
    REQUIRE(::pthread_mutex_trylock(b) == 0);  // glibc takes it,
    mpd::robust_unlock(b);                     // the inline path lets it go
    REQUIRE(mpd::robust_trylock(a) == 0);      // and the other way round
    REQUIRE(::pthread_mutex_unlock(a) == 0);
    REQUIRE(::pthread_mutex_unlock(c) == 0);
    for (int i = 0; i < 3; ++i) {
        CHECK(lock_word(&s.m[i]) == 0);
    }
#if MULTIPROCESSING_ROBUST_INLINE
    // Nothing is left in this thread's robust list.
    robust_list_head* head = mpd::this_robust_head();
    REQUIRE(head != nullptr);
    CHECK(head->list.next == &head->list);
    CHECK(head->list_op_pending == nullptr);
#endif
    // Another process sees them held while one is, and free after.
    REQUIRE(mpd::robust_trylock(b) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const int held = mpd::robust_trylock(b);
        ::_exit(held == EBUSY ? 0 : 1);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    mpd::robust_unlock(b);
}

TEST_CASE(
    "robust_mutex: a holder killed (not yet reaped) is found dead, then EOWNERDEAD, then usable",
    "[robust_mutex][crash]") {
    shared_mutexes s;
    for (const bool by_kill : {true, false}) {
        mp_test::report_pipe ready;
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            // Two taken inline, one by glibc, one inline taken and let go.
            const bool ok = mpd::robust_trylock(&s.m[0]) == 0 &&
                            ::pthread_mutex_lock(&s.m[1]) == 0 && mpd::robust_trylock(&s.m[2]) == 0;
            if (!ok || ::write(ready.write_fd(), "x", 1) != 1) {
                ::_exit(1);
            }
            if (!by_kill) {
                ::_exit(0);  // dies holding them, no unlock
            }
            for (;;) {
                ::pause();
            }
        }
        ready.close_write();
        REQUIRE(read_byte(ready.read_fd()));
        if (by_kill) {
            REQUIRE(::kill(pid, SIGKILL) == 0);
        }
        // Wait until it is a zombie, without reaping it: the kernel has walked
        // its robust list by then.
        siginfo_t info{};
        REQUIRE(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) == 0);
        for (int i = 0; i < 3; ++i) {
            CHECK((lock_word(&s.m[i]) & FUTEX_OWNER_DIED) != 0);
            REQUIRE(mpd::robust_trylock(&s.m[i]) == EOWNERDEAD);
            REQUIRE(::pthread_mutex_consistent(&s.m[i]) == 0);
            mpd::robust_unlock(&s.m[i]);
            REQUIRE(mpd::robust_trylock(&s.m[i]) == 0);
            mpd::robust_unlock(&s.m[i]);
            CHECK(lock_word(&s.m[i]) == 0);
        }
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
    }
}

TEST_CASE("robust_mutex: the inline unlock wakes a process asleep in pthread_mutex_lock",
          "[robust_mutex]") {
    shared_mutexes s;
    pthread_mutex_t* a = &s.m[0];
    mp_test::report_pipe ready;
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (mpd::robust_trylock(a) != 0) {
            ::_exit(1);
        }
        if (::write(ready.write_fd(), "x", 1) != 1) {
            ::_exit(1);
        }
        // Let go only once the parent has said it sleeps (FUTEX_WAITERS).
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while ((static_cast<unsigned>(lock_word(a)) & FUTEX_WAITERS) == 0) {
            if (std::chrono::steady_clock::now() > give_up) {
                ::_exit(2);
            }
            mpd::cpu_relax();
        }
        mpd::robust_unlock(a);
        ::_exit(0);
    }
    ready.close_write();
    REQUIRE(read_byte(ready.read_fd()));
    timespec until{};
    ::clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += 60;  // a lost wake fails the test rather than hanging it
    const int r = ::pthread_mutex_clocklock(a, CLOCK_MONOTONIC, &until);
    CHECK(r == 0);
    if (r == 0) {
        mpd::robust_unlock(a);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}
