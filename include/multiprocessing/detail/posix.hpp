// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// Thin wrappers over the POSIX calls the library makes: errors as
// std::system_error naming the call, EINTR retried, deadlines on a steady
// clock. Not part of the public API.
#ifndef MULTIPROCESSING_DETAIL_POSIX_HPP
#define MULTIPROCESSING_DETAIL_POSIX_HPP

#include <multiprocessing/config.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <system_error>
#include <typeinfo>
#include <unistd.h>

#if defined(__GNUG__) || defined(__clang__)
#    include <cxxabi.h>
#endif

namespace multiprocessing::detail {

/// std::system_error(errno, generic_category, what): Python's OSError.
[[noreturn]] inline void throw_errno(const std::string& what, int err = errno) {
    throw std::system_error(err, std::generic_category(), what);
}

/// A point in time after which a blocking call gives up; empty means never.
using clock = std::chrono::steady_clock;
using deadline = std::optional<clock::time_point>;

/// The deadline `timeout` from now (negative timeouts count as zero, as in Python).
template <class Rep, class Period>
deadline deadline_after(std::chrono::duration<Rep, Period> timeout) {
    if (timeout < timeout.zero()) {
        return clock::now();
    }
    // Saturate: a huge timeout (hours::max()) must not overflow time_point.
    const auto max_left = std::chrono::duration_cast<std::chrono::duration<double>>(
        clock::time_point::max() - clock::now());
    if (std::chrono::duration<double>(timeout) >= max_left) {
        return std::nullopt;
    }
    return clock::now() + std::chrono::duration_cast<clock::duration>(timeout);
}

/// Waits until `fd` is readable (or hung up) or the deadline passes.
/// Returns true if readable. Retries on EINTR with the time left.
inline bool wait_readable(int fd, const deadline& until) {
    for (;;) {
        pollfd pfd{fd, POLLIN, 0};
        timespec ts{};
        timespec* tsp = nullptr;
        if (until) {
            auto left = *until - clock::now();
            if (left < left.zero()) {
                left = left.zero();
            }
            const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
            ts.tv_sec = static_cast<time_t>(ns / 1000000000);
            ts.tv_nsec = static_cast<long>(ns % 1000000000);
            tsp = &ts;
        }
        const int r = ::ppoll(&pfd, 1, tsp, nullptr);
        if (r > 0) {
            return true;
        }
        if (r == 0) {
            return false;
        }
        if (errno != EINTR) {
            throw_errno("poll");
        }
    }
}

/// close() that keeps errno and ignores EINTR (the descriptor is gone either way on Linux).
inline void close_fd(int fd) noexcept {
    if (fd >= 0) {
        const int saved = errno;
        ::close(fd);
        errno = saved;
    }
}

/// pidfd_open(2): a descriptor that becomes readable when `pid` exits.
/// Returns -1 where the kernel (or a seccomp filter) does not offer it.
inline int pidfd_open(pid_t pid) noexcept {
#if defined(SYS_pidfd_open)
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

/// Whether pidfd_open works here (probed once per program).
inline bool have_pidfd() {
    static const bool supported = [] {
        const int fd = pidfd_open(::getpid());
        if (fd < 0) {
            return false;
        }
        close_fd(fd);
        return true;
    }();
    return supported;
}

/// Python's exit code from a waitpid status: the exit status, or -N after signal N.
inline int exitcode_from_status(int status) noexcept {
    if (WIFSIGNALED(status)) {
        return -WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}

/// "SIGTERM" for 15 and so on (Python's _exitcode_to_name); empty if unknown.
inline std::string signal_name(int sig) {
    switch (sig) {
        case SIGHUP: return "SIGHUP";
        case SIGINT: return "SIGINT";
        case SIGQUIT: return "SIGQUIT";
        case SIGILL: return "SIGILL";
        case SIGTRAP: return "SIGTRAP";
        case SIGABRT: return "SIGABRT";
        case SIGBUS: return "SIGBUS";
        case SIGFPE: return "SIGFPE";
        case SIGKILL: return "SIGKILL";
        case SIGUSR1: return "SIGUSR1";
        case SIGSEGV: return "SIGSEGV";
        case SIGUSR2: return "SIGUSR2";
        case SIGPIPE: return "SIGPIPE";
        case SIGALRM: return "SIGALRM";
        case SIGTERM: return "SIGTERM";
        default: return {};
    }
}

/// Python's repr of an exit code: "-SIGTERM" for -15, the number otherwise.
inline std::string exitcode_name(int code) {
    if (code < 0) {
        const std::string name = signal_name(-code);
        if (!name.empty()) {
            return "-" + name;
        }
    }
    return std::to_string(code);
}

/// A readable type name: "std::runtime_error" rather than "St13runtime_error".
inline std::string demangle(const char* mangled) {
#if defined(__GNUG__) || defined(__clang__)
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> out(
        abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
    if (status == 0 && out) {
        return out.get();
    }
#endif
    return mangled;
}

/// The type name of the exception being handled (inside a catch block).
inline std::string current_exception_type_name() {
#if defined(__GNUG__) || defined(__clang__)
    if (const std::type_info* t = abi::__cxa_current_exception_type()) {
        return demangle(t->name());
    }
#endif
    return "unknown exception";
}

/// Blocks every signal until destroyed, restoring the previous mask: a signal
/// must not run a handler in a half-made child between fork() and its setup.
class signal_block {
public:
    signal_block() noexcept {
        sigset_t all;
        sigfillset(&all);
        ::pthread_sigmask(SIG_SETMASK, &all, &old_);
    }
    ~signal_block() { restore(); }
    signal_block(const signal_block&) = delete;
    signal_block& operator=(const signal_block&) = delete;
    /// The mask in force before this object blocked everything.
    const sigset_t& saved() const noexcept { return old_; }
    void restore() noexcept {
        if (active_) {
            ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
            active_ = false;
        }
    }

private:
    sigset_t old_{};
    bool active_ = true;
};

}  // namespace multiprocessing::detail

#endif  // MULTIPROCESSING_DETAIL_POSIX_HPP
