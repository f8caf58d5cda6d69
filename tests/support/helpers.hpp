// Helpers shared by the tests: a raw pipe for children to report through
// (children never use REQUIRE/CHECK: they write here and _exit), and a way to
// run a program and capture its output, for asserting from outside.
#ifndef MP_TEST_SUPPORT_HELPERS_HPP
#define MP_TEST_SUPPORT_HELPERS_HPP

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace mp_test {

/// A pipe for child-to-parent reports. Both ends close-on-exec.
class report_pipe {
public:
    report_pipe() {
        if (::pipe2(fds_, O_CLOEXEC) < 0) {
            throw std::runtime_error("pipe2 failed");
        }
    }
    ~report_pipe() {
        close_read();
        close_write();
    }
    report_pipe(const report_pipe&) = delete;
    report_pipe& operator=(const report_pipe&) = delete;

    int read_fd() const { return fds_[0]; }
    int write_fd() const { return fds_[1]; }
    void close_read() {
        if (fds_[0] >= 0) {
            ::close(fds_[0]);
            fds_[0] = -1;
        }
    }
    void close_write() {
        if (fds_[1] >= 0) {
            ::close(fds_[1]);
            fds_[1] = -1;
        }
    }

    /// Writes one line (a newline is added). Async-signal-safe; for children.
    void write_line(const std::string& line) const {
        std::string s = line + "\n";
        const char* p = s.data();
        std::size_t left = s.size();
        while (left > 0) {
            const ssize_t n = ::write(fds_[1], p, left);
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

    /// Reads one line, waiting at most `timeout`; empty optional on time-out or EOF.
    std::optional<std::string> read_line(
        std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        const auto until = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const auto nl = buffer_.find('\n');
            if (nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                until - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                return std::nullopt;
            }
            pollfd pfd{fds_[0], POLLIN, 0};
            const int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r <= 0) {
                return std::nullopt;
            }
            char chunk[4096];
            const ssize_t n = ::read(fds_[0], chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return std::nullopt;
            }
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    /// Reads lines until EOF (every writer closed) or the time-out.
    std::vector<std::string> read_all_lines(
        std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        std::vector<std::string> lines;
        while (auto line = read_line(timeout)) {
            lines.push_back(*line);
        }
        return lines;
    }

private:
    int fds_[2] = {-1, -1};
    std::string buffer_;
};

/// In a child: drop our copy of the pipe's write end, then block until every
/// other writer has closed it (EOF). A "gate": the parent opens it by closing
/// its own write end. Also returns if the parent dies.
inline void wait_for_release(report_pipe& gate) {
    gate.close_write();
    char c;
    for (;;) {
        const ssize_t n = ::read(gate.read_fd(), &c, 1);
        if (n == 0 || (n < 0 && errno != EINTR)) {
            return;
        }
    }
}

/// Joins `p` for at most `limit`; a child still running then is killed and
/// -999 returned, so a broken test fails instead of hanging. Otherwise the
/// child's exit code.
template <class Process>
int join_bounded(Process& p, std::chrono::seconds limit = std::chrono::seconds(60)) {
    p.join(limit);
    if (!p.exitcode()) {
        p.kill();
        p.join();
        return -999;
    }
    return *p.exitcode();
}

/// What a program printed and how it ended.
struct program_result {
    int exit_status = -1;    // exit code, or -N after signal N
    bool timed_out = false;  // killed because it ran longer than allowed
    std::string output;      // stdout and stderr, interleaved as written
};

/// Runs `path args...` with stdout and stderr captured, waiting at most `timeout`
/// (then SIGKILL). Uses fork/exec directly, not the library under test.
inline program_result run_program(const std::string& path, std::vector<std::string> args = {},
                                  std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) < 0) {
        throw std::runtime_error("pipe2 failed");
    }
    std::vector<char*> argv;
    std::string prog = path;
    argv.push_back(prog.data());
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
        ::dup2(out[1], 1);
        ::dup2(out[1], 2);
        ::execv(prog.c_str(), argv.data());
        ::_exit(127);
    }
    ::close(out[1]);
    program_result result;
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            until - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            ::kill(pid, SIGKILL);
            result.timed_out = true;
            break;
        }
        pollfd pfd{out[0], POLLIN, 0};
        const int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r == 0) {
            continue;
        }
        char chunk[4096];
        const ssize_t n = ::read(out[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        result.output.append(chunk, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exit_status = WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
    return result;
}

/// Path of a built tutorial example (examples/<name>.cpp).
inline std::string example_path(const std::string& name) {
#ifdef MP_EXAMPLES_DIR
    return std::string(MP_EXAMPLES_DIR) + "/" + name;
#else
    return name;
#endif
}

/// Path of a built test program (tests/programs/<name>.cpp).
inline std::string program_path(const std::string& name) {
#ifdef MP_TEST_PROGRAMS_DIR
    return std::string(MP_TEST_PROGRAMS_DIR) + "/prog_" + name;
#else
    return name;
#endif
}

/// Position of `needle` in `haystack`, or npos; for asserting output order.
inline std::size_t find(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle);
}

}  // namespace mp_test

#endif
