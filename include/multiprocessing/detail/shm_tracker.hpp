// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// Removes the shared-memory segments a process created when that process
// ends, normally or by a crash (Python's resource_tracker, per process).
//
// - Normal end (return from main, exit()): an atexit handler unlinks them.
// - Crash (SIGKILL, abort, ...): at its first tracked segment a process
//   starts a watchdog, `/bin/sh` running a short script, that reads
//   "+name" / "-name" lines from a socket and, at end of file, removes what is
//   left from /dev/shm. End of file comes when every process holding the
//   socket's other end has ended: the creator and the children it forked
//   afterwards (which may still use the segments). The watchdog is exec'd,
//   so it holds none of the creator's memory, and it ignores SIGINT, SIGTERM
//   and SIGHUP, so a Ctrl-C that kills the creator does not kill it first.
// Not public API.
#ifndef MULTIPROCESSING_DETAIL_SHM_TRACKER_HPP
#define MULTIPROCESSING_DETAIL_SHM_TRACKER_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/detail/posix.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <mutex>
#include <set>
#include <string>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace multiprocessing::detail {

/// The script the watchdog runs: keeps the live names in "$@", removes them at EOF.
inline constexpr const char* shm_watchdog_script =
    "set -f; set --\n"
    "while IFS= read -r line; do\n"
    "  name=${line#?}\n"
    "  case $line in\n"
    "    +*) set -- \"$@\" \"$name\" ;;\n"
    "    -*) for x do shift; [ \"$x\" = \"$name\" ] || set -- \"$@\" \"$x\"; done ;;\n"
    "  esac\n"
    "done\n"
    "for x do rm -f -- \"/dev/shm/$x\"; done\n";

struct shm_tracker_state {
    std::mutex mutex;
    pid_t owner = 0;              // the process whose segments these are
    pid_t watchdog = 0;           // the watchdog's pid (0: none)
    int write_fd = -1;            // our end of the watchdog's socket
    std::set<std::string> names;  // created here, not yet unlinked
};

/// Never destroyed: the atexit handler uses it after static destructors may have run.
inline shm_tracker_state& shm_tracker() {
    static auto* state = new shm_tracker_state();
    return *state;
}

inline void shm_write_all(int fd, const std::string& s) noexcept {
    const char* p = s.data();
    std::size_t left = s.size();
    while (left > 0) {
        const ssize_t n = ::send(fd, p, left, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

/// At normal exit of the creating process: unlink what it still owns.
inline void shm_tracker_atexit() noexcept {
    shm_tracker_state& t = shm_tracker();
    std::lock_guard<std::mutex> g(t.mutex);
    if (t.owner != ::getpid()) {
        return;  // a forked copy calling exit(): not its segments
    }
    for (const auto& name : t.names) {
        ::shm_unlink(("/" + name).c_str());
        if (t.write_fd >= 0) {
            shm_write_all(t.write_fd, "-" + name + "\n");
        }
    }
    t.names.clear();
    close_fd(t.write_fd);
    t.write_fd = -1;
}

/// Starts this process's watchdog (caller holds the mutex). Without /bin/sh
/// only the atexit clean-up remains.
inline void shm_start_watchdog(shm_tracker_state& t) {
#if defined(__linux__)
    int data[2];
    int err[2];
    // A socket rather than a pipe: send(MSG_NOSIGNAL) cannot raise SIGPIPE
    // here should the watchdog be gone.
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, data) < 0) {
        throw_errno("SharedMemory: socketpair");
    }
    if (::pipe2(err, O_CLOEXEC) < 0) {
        const int e = errno;
        close_fd(data[0]);
        close_fd(data[1]);
        throw_errno("SharedMemory: pipe2", e);
    }
    const char* argv[] = {"sh", "-c", shm_watchdog_script, nullptr};
    pid_t pid = -1;
    {
        signal_block block;
        pid = ::fork();
        if (pid == 0) {
            // Async-signal-safe calls only until exec.
            struct sigaction ign {};
            ign.sa_handler = SIG_IGN;
            ::sigaction(SIGINT, &ign, nullptr);
            ::sigaction(SIGTERM, &ign, nullptr);
            ::sigaction(SIGHUP, &ign, nullptr);
            ::sigaction(SIGQUIT, &ign, nullptr);
            ::setpgid(0, 0);  // out of the terminal's foreground group
            sigset_t none;
            sigemptyset(&none);
            ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
            const int null_fd = ::open("/dev/null", O_RDWR);
            ::dup2(data[0], 0);
            ::dup2(null_fd, 1);
            ::dup2(null_fd, 2);
            const int err_fd = ::fcntl(err[1], F_DUPFD_CLOEXEC, 3);
            // Close everything else, so the watchdog keeps no one's pipe open.
            if (err_fd > 3) {
                ::syscall(SYS_close_range, 3U, static_cast<unsigned>(err_fd - 1), 0U);
            }
            ::syscall(SYS_close_range, static_cast<unsigned>(err_fd + 1), ~0U, 0U);
            ::execv("/bin/sh", const_cast<char* const*>(argv));
            const int e = errno;
            (void)!::write(err_fd, &e, sizeof e);
            ::_exit(127);
        }
    }
    const int fork_errno = errno;
    close_fd(data[0]);
    close_fd(err[1]);
    if (pid < 0) {
        close_fd(data[1]);
        close_fd(err[0]);
        throw_errno("SharedMemory: fork", fork_errno);
    }
    int child_errno = 0;
    ssize_t n;
    do {
        n = ::read(err[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    close_fd(err[0]);
    if (n > 0) {  // exec failed: no watchdog; reap it
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        close_fd(data[1]);
        return;
    }
    t.watchdog = pid;
    t.write_fd = data[1];
#else
    (void)t;
#endif
}

/// Records that this process created `name` (without the leading slash).
inline void shm_track(const std::string& name) {
    shm_tracker_state& t = shm_tracker();
    std::lock_guard<std::mutex> g(t.mutex);
    const pid_t me = ::getpid();
    if (t.owner != me) {
        // First segment here, or a forked child: the parent's watchdog and
        // names are not ours (the inherited descriptor is closed here only).
        static const bool registered = (std::atexit(shm_tracker_atexit), true);
        (void)registered;
        close_fd(t.write_fd);
        t.write_fd = -1;
        t.watchdog = 0;
        t.names.clear();
        t.owner = me;
        shm_start_watchdog(t);
    }
    t.names.insert(name);
    if (t.write_fd >= 0) {
        shm_write_all(t.write_fd, "+" + name + "\n");
    }
}

/// Records that `name` was unlinked (by anyone in this process).
inline void shm_untrack(const std::string& name) {
    shm_tracker_state& t = shm_tracker();
    std::lock_guard<std::mutex> g(t.mutex);
    if (t.owner != ::getpid() || t.names.erase(name) == 0) {
        return;
    }
    if (t.write_fd >= 0) {
        shm_write_all(t.write_fd, "-" + name + "\n");
    }
}

/// The pid of this process's watchdog, 0 if none (for tests).
inline pid_t shm_watchdog_pid() {
    shm_tracker_state& t = shm_tracker();
    std::lock_guard<std::mutex> g(t.mutex);
    return t.owner == ::getpid() ? t.watchdog : 0;
}

}  // namespace multiprocessing::detail

#endif  // MULTIPROCESSING_DETAIL_SHM_TRACKER_HPP
