// Tests for multiprocessing/process.hpp (and cpu_count from context.hpp).
//
// Children never use REQUIRE/CHECK: they report through a pipe (report_pipe)
// or their exit code, and the parent asserts.
#include "support/catch.hpp"
#include "support/helpers.hpp"
#include <multiprocessing/context.hpp>
#include <multiprocessing/process.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

namespace mp = multiprocessing;
using namespace std::chrono_literals;

namespace {

/// A pipe children block on until the parent lets them go (one byte each).
/// Children inherit the write end, so release is by bytes, not by EOF.
class gate {
public:
    gate() {
        if (::pipe2(fds_, O_CLOEXEC) < 0) {
            throw std::runtime_error("pipe2 failed");
        }
    }
    /// Releases any child still waiting (a failed REQUIRE must not leave
    /// children blocked, or the exit handler would wait for them forever).
    ~gate() {
        open(256);
        ::close(fds_[0]);
        ::close(fds_[1]);
    }
    gate(const gate&) = delete;
    gate& operator=(const gate&) = delete;
    /// In a child: blocks until released.
    void wait() const {
        char c;
        while (::read(fds_[0], &c, 1) < 0 && errno == EINTR) {
        }
    }
    /// Lets `n` waiters go.
    void open(int n = 1) const {
        for (int i = 0; i < n; ++i) {
            const char c = 'g';
            while (::write(fds_[1], &c, 1) < 0 && errno == EINTR) {
            }
        }
    }

private:
    int fds_[2] = {-1, -1};
};

/// Number of open descriptors of the calling process.
int count_fds() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (const dirent* e = ::readdir(d)) {
            if (e->d_name[0] != '.') {
                ++n;
            }
        }
        ::closedir(d);
    }
    return n;
}

/// Children of this process in state Z (<defunct>), from /proc.
std::vector<pid_t> zombie_children() {
    std::vector<pid_t> zombies;
    const pid_t me = ::getpid();
    DIR* d = ::opendir("/proc");
    if (!d) {
        return zombies;
    }
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        std::ifstream in("/proc/" + name + "/stat");
        std::string stat;
        std::getline(in, stat);
        const auto close_paren = stat.rfind(')');
        if (close_paren == std::string::npos) {
            continue;
        }
        std::istringstream rest(stat.substr(close_paren + 1));
        char state = 0;
        long ppid = 0;
        rest >> state >> ppid;
        if (ppid == me && state == 'Z') {
            zombies.push_back(static_cast<pid_t>(std::stol(name)));
        }
    }
    ::closedir(d);
    return zombies;
}

/// In a child: no core files from the signal deaths provoked on purpose.
void no_core_dump() {
    rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);
}

/// Blocks until the child `pid` has ended, leaving it a zombie (WNOWAIT).
bool wait_ended_not_reaped(pid_t pid) {
    siginfo_t info{};
    int r;
    do {
        r = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT);
    } while (r < 0 && errno == EINTR);
    return r == 0;
}

/// Sets the fatal signals to their default action while alive, so the
/// children this test kills die as any program would, without running the
/// test framework's handlers (which they would inherit).
class default_fatal_signals {
public:
    default_fatal_signals() {
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        for (std::size_t i = 0; i < count; ++i) {
            ::sigaction(signals[i], &dfl, &saved_[i]);
        }
    }
    ~default_fatal_signals() {
        for (std::size_t i = 0; i < count; ++i) {
            ::sigaction(signals[i], &saved_[i], nullptr);
        }
    }
    default_fatal_signals(const default_fatal_signals&) = delete;
    default_fatal_signals& operator=(const default_fatal_signals&) = delete;

private:
    static constexpr std::size_t count = 5;
    static constexpr int signals[count] = {SIGTERM, SIGABRT, SIGSEGV, SIGINT, SIGILL};
    struct sigaction saved_[count] {};
};

/// True if the process `pid` no longer exists (reaped).
bool gone(pid_t pid) {
    return ::kill(pid, 0) < 0 && errno == ESRCH;
}

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

int plain_function_target_code = 0;
void plain_function_target(int code, const std::string& text) {
    if (text == "seven") {
        mp::sys_exit(code);
    }
    mp::sys_exit(plain_function_target_code);
}

struct functor_target {
    int code;
    void operator()(int extra) const { mp::sys_exit(code + extra); }
};

class Clock : public mp::Process {
public:
    Clock(int fd, int value) : fd_(fd), value_(value) {}
    void run() override {
        const std::string line = std::to_string(value_) + " " + mp::current_process().repr() +
                                 "\n" + mp::current_process().name() + "\n";
        (void)!::write(fd_, line.data(), line.size());
    }

private:
    int fd_;
    int value_;
};

class Silent : public mp::Process {
public:
    Silent() : mp::Process(mp::ProcessOptions{"quiet", true}) {}
};

}  // namespace

// ---------------------------------------------------------------- construction

TEST_CASE("a started child runs its target and its exit code is seen", "[process]") {
    mp::Process p([](int code) { mp::sys_exit(code); }, 5);
    p.start();
    p.join();
    REQUIRE(p.exitcode() == 5);
}

TEST_CASE("a process takes any callable with arguments, like std::thread", "[process]") {
    SECTION("function pointer with arguments") {
        mp::Process p(plain_function_target, 7, std::string("seven"));
        p.start();
        p.join();
        REQUIRE(p.exitcode() == 7);
    }
    SECTION("function object") {
        mp::Process p(functor_target{40}, 2);
        p.start();
        p.join();
        REQUIRE(p.exitcode() == 42);
    }
    SECTION("arguments are copied at construction") {
        int value = 3;
        mp::Process p([](int v) { mp::sys_exit(v); }, value);
        value = 9;
        p.start();
        p.join();
        REQUIRE(p.exitcode() == 3);
    }
    SECTION("std::ref passes a reference (to the child's copy)") {
        mp_test::report_pipe rp;
        std::string text = "before";
        mp::Process p(
            [&rp](std::string& s) {
                s += " changed in child";
                rp.write_line(s);
            },
            std::ref(text));
        text = "after construction";
        p.start();
        rp.close_write();
        p.join();
        REQUIRE(rp.read_line() == std::string("after construction changed in child"));
        REQUIRE(text == "after construction");
        REQUIRE(p.exitcode() == 0);
    }
    SECTION("a move-only argument") {
        auto owned = std::make_unique<int>(11);
        mp::Process p([](std::unique_ptr<int>& v) { mp::sys_exit(*v); }, std::move(owned));
        p.start();
        p.join();
        REQUIRE(p.exitcode() == 11);
    }
    SECTION("options with a target") {
        mp::ProcessOptions options;
        options.name = "worker-a";
        options.daemon = true;
        mp::Process p(
            options, [](int v) { mp::sys_exit(v); }, 4);
        REQUIRE(p.name() == "worker-a");
        REQUIRE(p.daemon());
        p.start();
        p.join();
        REQUIRE(p.exitcode() == 4);
    }
    SECTION("a default-constructed process runs nothing and exits 0") {
        mp::Process p;
        p.start();
        p.join();
        REQUIRE(p.exitcode() == 0);
    }
    SECTION("a moved process keeps its child") {
        mp::Process a([] { mp::sys_exit(6); });
        a.start();
        mp::Process b = std::move(a);
        REQUIRE_THROWS_AS(a.join(), std::invalid_argument);
        b.join();
        REQUIRE(b.exitcode() == 6);
    }
}

TEST_CASE("a subclass overriding run() runs it in the child, named after its class", "[process]") {
    mp_test::report_pipe rp;
    Clock c(rp.write_fd(), 17);
    const std::string name = c.name();
    REQUIRE(starts_with(name, "Clock-"));
    REQUIRE(starts_with(c.repr(), "<Clock name='" + name + "' parent="));
    c.start();
    rp.close_write();
    c.join();
    REQUIRE(c.exitcode() == 0);
    const auto line = rp.read_line();
    REQUIRE(line);
    // current_process() in the child shows the subclass, as Python's does.
    REQUIRE(starts_with(
        *line, "17 <Clock name='" + name + "' parent=" + std::to_string(::getpid()) + " started>"));
    REQUIRE(rp.read_line() == name);

    Silent s;
    REQUIRE(s.name() == "quiet");
    REQUIRE(s.daemon());
}

TEST_CASE("run() called directly runs the target in this process", "[process]") {
    int calls = 0;
    mp::Process p([&calls](int n) { calls += n; }, 3);
    p.run();
    REQUIRE(calls == 3);
    REQUIRE_FALSE(p.pid());
}

// ----------------------------------------------------------------------- names

TEST_CASE("default names count per parent: Process-N, Process-N+1, Foo-N+2", "[process]") {
    mp::Process a;
    mp::Process b;
    Silent named;  // has a name: still takes a number
    mp_test::report_pipe rp;
    Clock c(rp.write_fd(), 0);
    const auto number = [](const std::string& n) { return std::stoi(n.substr(n.find('-') + 1)); };
    REQUIRE(starts_with(a.name(), "Process-"));
    REQUIRE(number(b.name()) == number(a.name()) + 1);
    REQUIRE(c.name() == "Clock-" + std::to_string(number(a.name()) + 3));
    a.set_name("renamed");
    REQUIRE(a.name() == "renamed");
}

TEST_CASE("current_process() in a child and a grandchild: Process-N and Process-N:1", "[process]") {
    mp_test::report_pipe rp;
    mp::Process p([&rp] {
        rp.write_line(mp::current_process().name());
        mp::Process grandchild([&rp] {
            rp.write_line(mp::current_process().name());
            rp.write_line(mp::parent_process()->name());
        });
        grandchild.start();
        grandchild.join();
        mp::Process second;
        rp.write_line(second.name());
    });
    const std::string name = p.name();
    p.start();
    rp.close_write();
    p.join();
    REQUIRE(p.exitcode() == 0);
    const auto lines = rp.read_all_lines();
    REQUIRE(lines == std::vector<std::string>{name, name + ":1", name, name + ":2"});
}

TEST_CASE("a fresh program names its processes Process-1, Process-2, Foo-3, Process-1:1",
          "[process]") {
    const auto r = mp_test::run_program(mp_test::program_path("names"));
    INFO(r.output);
    REQUIRE_FALSE(r.timed_out);
    REQUIRE(r.exit_status == 0);
    REQUIRE(r.output.find("<_MainProcess name='MainProcess' parent=None started>\n") !=
            std::string::npos);
    REQUIRE(r.output.find("Process-1 Process-2 Foo-3\n") != std::string::npos);
    REQUIRE(r.output.find("child: Process-1\n") != std::string::npos);
    REQUIRE(r.output.find("grandchild: Process-1:1 parent Process-1\n") != std::string::npos);
    REQUIRE(r.output.find("second in child: Process-1:2\n") != std::string::npos);
    REQUIRE(r.output.find("exit code 0\n") != std::string::npos);
}

// ------------------------------------------------------------------ attributes

TEST_CASE("pid and ident are empty before start, the child's pid after", "[process]") {
    mp_test::report_pipe rp;
    mp::Process p([&rp] { rp.write_line(std::to_string(::getpid())); });
    REQUIRE_FALSE(p.pid());
    REQUIRE_FALSE(p.ident());
    p.start();
    rp.close_write();
    REQUIRE(p.pid());
    REQUIRE(p.ident() == p.pid());
    REQUIRE(rp.read_line() == std::to_string(*p.pid()));
    p.join();
    REQUIRE(p.pid());  // still known after the end, as in Python
}

TEST_CASE("daemon is settable at construction and before start, not after", "[process]") {
    gate release;
    mp::Process p([&release] { release.wait(); });
    REQUIRE_FALSE(p.daemon());
    p.set_daemon(true);
    REQUIRE(p.daemon());
    p.set_daemon(false);
    p.start();
    REQUIRE_THROWS_AS(p.set_daemon(true), mp::ProcessError);
    REQUIRE_THROWS_WITH(p.set_daemon(true), "Process.daemon: process has already started");
    REQUIRE_FALSE(p.daemon());
    release.open();
    p.join();
    REQUIRE(p.exitcode() == 0);
}

TEST_CASE("authkey is inherited from the creating process and passed to the child", "[process]") {
    const std::string main_key = mp::current_process().authkey();
    REQUIRE(main_key.size() == 32);
    mp::Process p;
    REQUIRE(p.authkey() == main_key);
    p.set_authkey(std::string("secret\0key", 10));
    REQUIRE(p.authkey() == std::string("secret\0key", 10));

    mp_test::report_pipe rp;
    mp::Process q([&rp] {
        const std::string k = mp::current_process().authkey();
        mp::Process grandchild;
        rp.write_line(k == std::string("child\0key", 9) ? "child key" : "wrong key");
        rp.write_line(grandchild.authkey() == k ? "grandchild key" : "wrong grandchild key");
    });
    q.set_authkey(std::string("child\0key", 9));
    q.start();
    rp.close_write();
    q.join();
    REQUIRE(rp.read_all_lines() == std::vector<std::string>{"child key", "grandchild key"});
}

TEST_CASE("sentinel is close-on-exec and becomes readable when the child ends", "[process]") {
    gate release;
    mp::Process p([&release] { release.wait(); });
    REQUIRE_THROWS_AS(p.sentinel(), std::invalid_argument);
    REQUIRE_THROWS_WITH(p.sentinel(), "Process.sentinel: process not started");
    p.start();
    const int fd = p.sentinel();
    REQUIRE(fd >= 0);
    REQUIRE((::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    pollfd pfd{fd, POLLIN, 0};
    REQUIRE(::poll(&pfd, 1, 0) == 0);  // still running: not readable
    release.open();
    pfd.revents = 0;
    REQUIRE(::poll(&pfd, 1, 30000) == 1);  // readable once it ended
    REQUIRE(p.exitcode() == 0);
}

TEST_CASE("sentinel: one descriptor per process, readable after the end, also once reaped",
          "[process]") {
    SECTION("asked for while running, then joined") {
        gate release;
        mp::Process p([&release] { release.wait(); });
        p.start();
        const int fd = p.sentinel();
        REQUIRE(p.sentinel() == fd);
        release.open();
        p.join();
        REQUIRE(p.sentinel() == fd);
        pollfd pfd{fd, POLLIN, 0};
        REQUIRE(::poll(&pfd, 1, 0) == 1);
    }
    SECTION("first asked for after join() reaped the child") {
        mp::Process p([] {});
        p.start();
        p.join();
        REQUIRE(p.exitcode() == 0);
        const int fd = p.sentinel();
        REQUIRE(fd >= 0);
        REQUIRE((::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
        REQUIRE(p.sentinel() == fd);
        pollfd pfd{fd, POLLIN, 0};
        REQUIRE(::poll(&pfd, 1, 0) == 1);  // readable at once: the child has ended
        p.close();
        REQUIRE_THROWS_AS(p.sentinel(), std::invalid_argument);
    }
    SECTION("in a child: none for itself nor for its parent's other children") {
        gate release;
        mp::Process sibling([&release] { release.wait(); });
        sibling.start();
        (void)sibling.sentinel();
        mp_test::report_pipe rp;
        mp::Process p([&] {
            for (mp::Process* q : {&mp::current_process(), &sibling}) {
                try {
                    rp.write_line(std::to_string(q->sentinel()));
                } catch (const std::invalid_argument& e) {
                    rp.write_line(e.what());
                }
            }
        });
        p.start();
        rp.close_write();
        p.join();
        release.open();
        sibling.join();
        REQUIRE(p.exitcode() == 0);
        REQUIRE(rp.read_all_lines() ==
                std::vector<std::string>{"Process.sentinel: process not started",
                                         "Process.sentinel: process not started"});
    }
    SECTION("made by a timed join: the same one sentinel() returns") {
        gate release;
        mp::Process p([&release] { release.wait(); });
        p.start();
        p.join(1ms);
        REQUIRE(p.is_alive());
        const int fd = p.sentinel();
        pollfd pfd{fd, POLLIN, 0};
        REQUIRE(::poll(&pfd, 1, 0) == 0);
        release.open();
        REQUIRE(::poll(&pfd, 1, 30000) == 1);
        p.join();
        REQUIRE(p.exitcode() == 0);
    }
}

TEST_CASE("a sentinel made after start() is not inherited by later children", "[process]") {
    gate release;
    mp::Process a([&release] { release.wait(); });
    mp::Process b([&release] { release.wait(); });
    a.start();
    b.start();
    const int fd_a = a.sentinel();
    b.join(1ms);  // makes b's sentinel
    const int fd_b = b.sentinel();
    mp_test::report_pipe rp;
    mp::Process c([&] {
        for (const int fd : {fd_a, fd_b}) {
            char link[256] = {};
            const std::string path = "/proc/self/fd/" + std::to_string(fd);
            const ssize_t n = ::readlink(path.c_str(), link, sizeof link - 1);
            // The number may be reused by a descriptor of this child's own,
            // but never by a pidfd: this child has no children.
            rp.write_line(n > 0 && std::string(link, static_cast<std::size_t>(n)).find("pidfd") !=
                                       std::string::npos
                              ? "inherited"
                              : "not inherited");
        }
    });
    c.start();
    rp.close_write();
    c.join();
    REQUIRE(c.exitcode() == 0);
    REQUIRE(rp.read_all_lines() == std::vector<std::string>{"not inherited", "not inherited"});
    release.open(2);
    a.join();
    b.join();
    REQUIRE(a.exitcode() == 0);
    REQUIRE(b.exitcode() == 0);
}

TEST_CASE("cpu_count() is at least one", "[process]") {
    REQUIRE(mp::cpu_count() >= 1);
    REQUIRE(mp::cpu_count() == static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
}

// ------------------------------------------------------------------ lifecycle

TEST_CASE("is_alive: false before start, true while running, false after", "[process]") {
    gate release;
    mp::Process p([&release] { release.wait(); });
    REQUIRE_FALSE(p.is_alive());
    p.start();
    REQUIRE(p.is_alive());
    REQUIRE_FALSE(p.exitcode());
    release.open();
    p.join();
    REQUIRE_FALSE(p.is_alive());
    REQUIRE(p.exitcode() == 0);
}

TEST_CASE("join(timeout) on a blocked child returns with the child still alive", "[process]") {
    gate release;
    mp::Process p([&release] { release.wait(); });
    p.start();
    const auto t0 = std::chrono::steady_clock::now();
    p.join(200ms);
    const auto waited = std::chrono::steady_clock::now() - t0;
    REQUIRE(waited >= 200ms);
    REQUIRE(p.is_alive());
    REQUIRE_FALSE(p.exitcode());

    p.join(std::chrono::duration<double>(0.01));  // Python's join(0.01)
    p.join(0ms);
    p.join(-5s);  // negative counts as zero
    REQUIRE(p.is_alive());

    release.open();
    p.join(std::chrono::hours(24));  // returns as soon as the child ends
    REQUIRE(p.exitcode() == 0);
    REQUIRE_FALSE(p.is_alive());
}

TEST_CASE("exit codes after each kind of ending", "[process]") {
    default_fatal_signals dfl;
    SECTION("normal return: 0") {
        mp::Process p([] {});
        p.start();
        p.join();
        REQUIRE(p.exitcode() == 0);
    }
    SECTION("sys_exit(n): n") {
        mp::Process p([] { mp::sys_exit(3); });
        p.start();
        p.join();
        REQUIRE(p.exitcode() == 3);
    }
    SECTION("sys_exit() with no code: 0") {
        mp::Process p([] { mp::sys_exit(); });
        p.start();
        p.join();
        REQUIRE(p.exitcode() == 0);
    }
    SECTION("an escaping exception: 1, reported on stderr with the process name") {
        mp_test::report_pipe rp;
        mp::Process p([&rp] {
            ::dup2(rp.write_fd(), 2);
            throw std::runtime_error("boom");
        });
        p.start();
        rp.close_write();
        p.join();
        REQUIRE(p.exitcode() == 1);
        REQUIRE(rp.read_all_lines() ==
                std::vector<std::string>{"Process " + p.name() + ":", "std::runtime_error: boom"});
    }
    SECTION("a non-std exception: 1, reported with its type") {
        mp_test::report_pipe rp;
        mp::Process p([&rp] {
            ::dup2(rp.write_fd(), 2);
            throw 42;
        });
        p.start();
        rp.close_write();
        p.join();
        REQUIRE(p.exitcode() == 1);
        REQUIRE(rp.read_all_lines() ==
                std::vector<std::string>{"Process " + p.name() + ":", "int"});
    }
    SECTION("sys_exit(message): 1, the message on stderr") {
        mp_test::report_pipe rp;
        mp::Process p([&rp] {
            ::dup2(rp.write_fd(), 2);
            mp::sys_exit("bye");
        });
        p.start();
        rp.close_write();
        p.join();
        REQUIRE(p.exitcode() == 1);
        REQUIRE(rp.read_all_lines() == std::vector<std::string>{"bye"});
    }
    SECTION("terminate(): -SIGTERM") {
        gate never;
        mp::Process p([&never] { never.wait(); });
        p.start();
        p.terminate();
        p.join();
        REQUIRE(p.exitcode() == -SIGTERM);
    }
    SECTION("kill(): -SIGKILL") {
        gate never;
        mp::Process p([&never] { never.wait(); });
        p.start();
        p.kill();
        p.join();
        REQUIRE(p.exitcode() == -SIGKILL);
    }
    SECTION("abort(): -SIGABRT") {
        mp::Process p([] {
            no_core_dump();
            std::abort();
        });
        p.start();
        p.join();
        REQUIRE(p.exitcode() == -SIGABRT);
    }
    SECTION("a segmentation fault: -SIGSEGV") {
        mp::Process p([] {
            no_core_dump();
            std::signal(SIGSEGV, SIG_DFL);  // the sanitizers' handler would exit(1)
            std::raise(SIGSEGV);
        });
        p.start();
        p.join();
        REQUIRE(p.exitcode() == -SIGSEGV);
    }
    SECTION("exit code and repr from another program's point of view") {
        const auto r = mp_test::run_program(mp_test::program_path("child_error"));
        INFO(r.output);
        REQUIRE(r.exit_status == 0);
        REQUIRE(r.output.find("Process Process-1:\nstd::runtime_error: boom\n") !=
                std::string::npos);
        REQUIRE(r.output.find("exit code 1\n") != std::string::npos);
        REQUIRE(r.output.find("leaving with a message\n") != std::string::npos);
    }
}

TEST_CASE("terminate() and kill() after the child ended change nothing", "[process]") {
    mp::Process p([] { mp::sys_exit(2); });
    p.start();
    p.join();
    p.terminate();
    p.kill();
    REQUIRE(p.exitcode() == 2);
}

TEST_CASE("a signal sent right after start() is not lost while the child sets up", "[process]") {
    default_fatal_signals dfl;
    for (int i = 0; i < 20; ++i) {
        gate never;
        mp::Process p([&never] { never.wait(); });
        p.start();
        p.terminate();
        p.join();
        REQUIRE(p.exitcode() == -SIGTERM);
    }
}

TEST_CASE("close(): allowed before start and after the end, refused while running", "[process]") {
    SECTION("while running: std::invalid_argument, the process stays usable") {
        gate release;
        mp::Process p([&release] { release.wait(); });
        p.start();
        REQUIRE_THROWS_AS(p.close(), std::invalid_argument);
        REQUIRE_THROWS_WITH(p.close(),
                            "Cannot close a process while it is still running. You should "
                            "first call join() or terminate().");
        release.open();
        p.join();
        REQUIRE(p.exitcode() == 0);
        p.close();
    }
    SECTION("after the end: every use but name/daemon/authkey/repr throws ValueError") {
        mp::Process p([] {});
        p.start();
        p.join();
        const std::string before = p.repr();
        p.close();
        p.close();  // twice is fine
        REQUIRE_THROWS_WITH(p.start(), "process object is closed");
        REQUIRE_THROWS_AS(p.start(), std::invalid_argument);
        REQUIRE_THROWS_AS(p.join(), std::invalid_argument);
        REQUIRE_THROWS_AS(p.join(1ms), std::invalid_argument);
        REQUIRE_THROWS_AS(p.is_alive(), std::invalid_argument);
        REQUIRE_THROWS_AS(p.terminate(), std::invalid_argument);
        REQUIRE_THROWS_AS(p.kill(), std::invalid_argument);
        REQUIRE_THROWS_AS(p.pid(), std::invalid_argument);
        REQUIRE_THROWS_AS(p.ident(), std::invalid_argument);
        REQUIRE_THROWS_AS(p.exitcode(), std::invalid_argument);
        REQUIRE_THROWS_AS(p.sentinel(), std::invalid_argument);
        REQUIRE(starts_with(p.name(), "Process-"));
        REQUIRE_FALSE(p.daemon());
        REQUIRE(p.authkey().size() == 32);
        REQUIRE(p.repr() == "<Process name='" + p.name() +
                                "' parent=" + std::to_string(::getpid()) + " closed>");
        REQUIRE(before != p.repr());
    }
    SECTION("before start: allowed, as in Python; start() then throws") {
        mp::Process p([] {});
        p.close();
        REQUIRE_THROWS_WITH(p.start(), "process object is closed");
    }
}

// ------------------------------------------------------------------- misuse

TEST_CASE("misuse raises Python's errors, in every build", "[process]") {
    SECTION("starting twice") {
        mp::Process p([] {});
        p.start();
        REQUIRE_THROWS_AS(p.start(), mp::ProcessError);
        REQUIRE_THROWS_WITH(p.start(), "Process.start: cannot start a process twice");
        p.join();
        REQUIRE_THROWS_AS(p.start(), mp::ProcessError);
    }
    SECTION("joining before start") {
        mp::Process p([] {});
        REQUIRE_THROWS_AS(p.join(), mp::ProcessError);
        REQUIRE_THROWS_WITH(p.join(), "Process.join: can only join a started process");
        REQUIRE_THROWS_AS(p.join(10ms), mp::ProcessError);
    }
    SECTION("terminating or killing before start") {
        mp::Process p([] {});
        REQUIRE_THROWS_AS(p.terminate(), mp::ProcessError);
        REQUIRE_THROWS_AS(p.kill(), mp::ProcessError);
    }
    SECTION("joining or starting the main process") {
        REQUIRE_THROWS_WITH(mp::current_process().join(),
                            "Process.join: can only join a child process");
        REQUIRE_THROWS_AS(mp::current_process().start(), mp::ProcessError);
        REQUIRE_THROWS_AS(mp::current_process().terminate(), mp::ProcessError);
    }
    SECTION("a daemon creating children") {
        mp_test::report_pipe rp;
        mp::ProcessOptions options;
        options.daemon = true;
        mp::Process p(options, [&rp] {
            mp::Process grandchild([] {});
            try {
                grandchild.start();
                rp.write_line("started");
            } catch (const mp::ProcessError& e) {
                rp.write_line(e.what());
            }
        });
        p.start();
        rp.close_write();
        p.join();
        REQUIRE(p.exitcode() == 0);
        REQUIRE(rp.read_all_lines() ==
                std::vector<std::string>{
                    "Process.start: daemonic processes are not allowed to have children"});
    }
    SECTION("a child using a process object of its parent") {
        gate release;
        mp::Process sibling([&release] { release.wait(); });
        sibling.start();
        mp_test::report_pipe rp;  // made after the sibling started: it holds no write end
        mp::Process p([&] {
            const auto expect = [&rp](const char* what, const std::function<void()>& f) {
                try {
                    f();
                    rp.write_line(std::string(what) + ": no error");
                } catch (const mp::ProcessError& e) {
                    rp.write_line(std::string(what) + ": " + e.what());
                }
            };
            expect("join", [&] { sibling.join(); });
            expect("is_alive", [&] { (void)sibling.is_alive(); });
            expect("terminate", [&] { sibling.terminate(); });
            rp.write_line(sibling.exitcode() ? "exitcode known" : "exitcode None");
            rp.write_line(sibling.repr().find(" unknown") != std::string::npos ? "unknown"
                                                                               : sibling.repr());
        });
        p.start();
        rp.close_write();
        p.join();
        REQUIRE(p.exitcode() == 0);
        REQUIRE(
            rp.read_all_lines() ==
            std::vector<std::string>{"join: Process.join: can only join a child process",
                                     "is_alive: Process.is_alive: can only test a child process",
                                     "terminate: Process.terminate: can only terminate a "
                                     "child process",
                                     "exitcode None", "unknown"});
        REQUIRE(sibling.is_alive());
        release.open();
        sibling.join();
        REQUIRE(sibling.exitcode() == 0);
    }
    SECTION("two threads starting one process: one start, one error") {
        for (int round = 0; round < 10; ++round) {
            mp::Process p([] {});
            std::atomic<int> started{0};
            std::atomic<int> refused{0};
            std::atomic<bool> go{false};
            auto starter = [&] {
                while (!go) {
                    std::this_thread::yield();
                }
                try {
                    p.start();
                    ++started;
                } catch (const mp::ProcessError&) {
                    ++refused;
                }
            };
            std::thread a(starter);
            std::thread b(starter);
            go = true;
            a.join();
            b.join();
            REQUIRE(started == 1);
            REQUIRE(refused == 1);
            p.join();
            REQUIRE(p.exitcode() == 0);
        }
        REQUIRE(zombie_children().empty());
    }
}

// ---------------------------------------------------------------------- repr

TEST_CASE("repr follows Python 3.11: initial, started, stopped, daemon, closed", "[process]") {
    default_fatal_signals dfl;
    const std::string parent = std::to_string(::getpid());
    gate never;
    mp::Process p([&never] { never.wait(); });
    const std::string head = "<Process name='" + p.name() + "'";
    REQUIRE(p.repr() == head + " parent=" + parent + " initial>");
    p.set_daemon(true);
    REQUIRE(p.repr() == head + " parent=" + parent + " initial daemon>");
    p.start();
    const std::string pid = std::to_string(*p.pid());
    REQUIRE(p.repr() == head + " pid=" + pid + " parent=" + parent + " started daemon>");
    p.terminate();
    p.join();
    REQUIRE(p.repr() ==
            head + " pid=" + pid + " parent=" + parent + " stopped exitcode=-SIGTERM daemon>");
    std::ostringstream printed;
    printed << p;
    REQUIRE(printed.str() == p.repr());
    p.close();
    REQUIRE(p.repr() == head + " parent=" + parent + " closed daemon>");

    mp::Process q([] { mp::sys_exit(3); });
    q.start();
    q.join();
    REQUIRE(q.repr() == "<Process name='" + q.name() + "' pid=" + std::to_string(*q.pid()) +
                            " parent=" + parent + " stopped exitcode=3>");
    REQUIRE(mp::current_process().repr() ==
            "<_MainProcess name='MainProcess' parent=None started>");
}

// ------------------------------------------------ current, parent, children

TEST_CASE("current_process() in the main process", "[process]") {
    mp::Process& me = mp::current_process();
    REQUIRE(me.name() == "MainProcess");
    REQUIRE(me.pid() == ::getpid());
    REQUIRE(me.ident() == ::getpid());
    REQUIRE(me.is_alive());
    REQUIRE_FALSE(me.daemon());
    REQUIRE_FALSE(me.exitcode());
    REQUIRE(&me == &mp::current_process());
    REQUIRE(mp::parent_process() == nullptr);
}

TEST_CASE("parent_process() in a child: the parent, alive, join(timeout) returns", "[process]") {
    mp_test::report_pipe rp;
    mp::Process& main_handle = mp::current_process();
    mp::Process p([&] {
        mp::Process* parent = mp::parent_process();
        if (parent == nullptr) {
            rp.write_line("no parent");
            return;
        }
        rp.write_line(parent->name());
        rp.write_line(std::to_string(parent->pid().value_or(-1)));
        rp.write_line(parent->is_alive() ? "alive" : "dead");
        const auto t0 = std::chrono::steady_clock::now();
        parent->join(100ms);
        const bool waited = std::chrono::steady_clock::now() - t0 >= 100ms;
        rp.write_line(waited && parent->is_alive() ? "join timed out, alive" : "join wrong");
        rp.write_line(parent->repr());
        // A reference to current_process() taken before the fork stays usable.
        rp.write_line(main_handle.name());
        rp.write_line(mp::current_process().pid() == ::getpid() ? "own pid" : "wrong pid");
    });
    p.start();
    rp.close_write();
    p.join();
    REQUIRE(p.exitcode() == 0);
    REQUIRE(rp.read_all_lines() ==
            std::vector<std::string>{"MainProcess", std::to_string(::getpid()), "alive",
                                     "join timed out, alive",
                                     "<_ParentProcess name='MainProcess' parent=None unknown>",
                                     "MainProcess", "own pid"});
}

TEST_CASE("parent_process()->join() returns when the parent ends", "[process]") {
    // Orphans come back to this process, to be reaped here.
    REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    mp_test::report_pipe rp;
    mp::Process p([&rp] {
        mp::Process grandchild([&rp] {
            rp.write_line(std::to_string(::getpid()));
            mp::parent_process()->join();
            rp.write_line(mp::parent_process()->is_alive() ? "parent alive" : "parent gone");
        });
        grandchild.start();
        ::_exit(0);  // leave without joining it
    });
    p.start();
    rp.close_write();
    p.join();
    REQUIRE(p.exitcode() == 0);
    const auto grandchild_pid = rp.read_line();
    REQUIRE(grandchild_pid);
    const auto last = rp.read_line();
    int status = -1;
    const pid_t orphan = static_cast<pid_t>(std::stol(*grandchild_pid));
    REQUIRE(::waitpid(orphan, &status, 0) == orphan);  // reparented to us
    REQUIRE(last == std::string("parent gone"));
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
}

TEST_CASE("active_children() lists running children and reaps ended ones", "[process]") {
    REQUIRE(mp::active_children().empty());
    gate release;
    mp::Process running([&release] { release.wait(); });
    running.start();
    // Held until all are started: start() reaps children that have ended.
    gate quick_gate;
    std::vector<std::unique_ptr<mp::Process>> quick;
    for (int i = 0; i < 5; ++i) {
        quick.push_back(std::make_unique<mp::Process>([&quick_gate] { quick_gate.wait(); }));
        quick.back()->start();
    }
    quick_gate.open(5);
    // Wait until the quick ones ended, without reaping them.
    for (auto& q : quick) {
        REQUIRE(wait_ended_not_reaped(*q->pid()));
    }
    REQUIRE(zombie_children().size() == 5);
    auto alive = mp::active_children();
    REQUIRE(alive.size() == 1);
    REQUIRE(alive[0] == running);
    REQUIRE(alive[0].pid() == running.pid());
    REQUIRE(alive[0].name() == running.name());
    REQUIRE(zombie_children().empty());
    for (auto& q : quick) {
        REQUIRE(q->exitcode() == 0);  // the status was kept when reaped
    }
    release.open();
    alive[0].join();  // a handle joins the original's child
    REQUIRE(running.exitcode() == 0);
    REQUIRE(mp::active_children().empty());
}

TEST_CASE("destroying a Process object neither kills nor leaks its child", "[process]") {
    gate release;
    mp_test::report_pipe rp;
    pid_t pid = 0;
    {
        mp::Process p([&] {
            release.wait();
            rp.write_line("still ran to the end");
        });
        p.start();
        pid = *p.pid();
    }
    rp.close_write();
    REQUIRE_FALSE(gone(pid));
    auto alive = mp::active_children();
    REQUIRE(alive.size() == 1);
    REQUIRE(alive[0].pid() == pid);
    release.open();
    REQUIRE(rp.read_line() == std::string("still ran to the end"));
    alive[0].join();
    REQUIRE(alive[0].exitcode() == 0);
    REQUIRE(gone(pid));
    REQUIRE(zombie_children().empty());

    // Ended before its object is destroyed, never joined: reaped by active_children().
    {
        mp::Process q([] {});
        q.start();
        REQUIRE(wait_ended_not_reaped(*q.pid()));
    }
    REQUIRE(zombie_children().size() == 1);
    REQUIRE(mp::active_children().empty());
    REQUIRE(zombie_children().empty());
}

TEST_CASE("no zombies are left after joins", "[process]") {
    std::vector<std::unique_ptr<mp::Process>> ps;
    for (int i = 0; i < 10; ++i) {
        ps.push_back(std::make_unique<mp::Process>([](int v) { mp::sys_exit(v); }, i));
        ps.back()->start();
    }
    for (int i = 0; i < 10; ++i) {
        ps[static_cast<std::size_t>(i)]->join();
        REQUIRE(ps[static_cast<std::size_t>(i)]->exitcode() == i);
    }
    REQUIRE(zombie_children().empty());
    REQUIRE(mp::active_children().empty());
}

TEST_CASE("several threads join one process", "[process]") {
    gate release;
    mp::Process p([&release] { release.wait(); });
    p.start();
    constexpr int n = 6;
    std::atomic<int> joining{0};
    std::vector<std::optional<int>> seen(n);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            ++joining;
            if (i % 2 == 0) {
                p.join();
            } else {
                while (p.exitcode() == std::nullopt) {
                    p.join(5ms);
                }
            }
            seen[static_cast<std::size_t>(i)] = p.exitcode();
        });
    }
    while (joining < n) {
        std::this_thread::yield();
    }
    release.open();
    for (auto& t : threads) {
        t.join();
    }
    for (const auto& code : seen) {
        REQUIRE(code == 0);
    }
    REQUIRE(zombie_children().empty());
}

TEST_CASE("a thread blocked in join() while others poll and signal the child", "[process]") {
    default_fatal_signals dfl;
    gate never;
    mp::Process p([&never] { never.wait(); });
    p.start();
    std::atomic<bool> joined{false};
    std::thread joiner([&] {
        p.join();
        joined = true;
    });
    std::thread poller([&] {
        while (!p.exitcode()) {
            (void)p.is_alive();
            p.join(1ms);
        }
    });
    REQUIRE(p.is_alive());
    REQUIRE_FALSE(p.exitcode());
    p.terminate();
    poller.join();
    joiner.join();
    REQUIRE(joined);
    REQUIRE(p.exitcode() == -SIGTERM);
    REQUIRE_FALSE(p.is_alive());
    p.kill();  // after the end: nothing
    REQUIRE(p.exitcode() == -SIGTERM);
    REQUIRE(zombie_children().empty());
    REQUIRE(mp::active_children().empty());
}

TEST_CASE("join() returns when SIGCHLD is ignored (the exit status is lost)", "[process]") {
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    struct sigaction old {};
    REQUIRE(::sigaction(SIGCHLD, &ign, &old) == 0);
    mp::Process p([] { mp::sys_exit(3); });
    p.start();
    p.join();
    mp::Process q([] { mp::sys_exit(3); });
    q.start();
    while (q.exitcode() == std::nullopt) {
        q.join(5ms);
    }
    ::sigaction(SIGCHLD, &old, nullptr);
    // The kernel reaped them: Python would wait forever; 255 says "unknown".
    REQUIRE(p.exitcode() == 255);
    REQUIRE(q.exitcode() == 255);
    REQUIRE_FALSE(p.is_alive());
}

TEST_CASE("close() from one thread while others join", "[process]") {
    for (int round = 0; round < 20; ++round) {
        mp::Process p([] {});
        p.start();
        std::thread joiner([&p] {
            try {
                p.join();
            } catch (const std::invalid_argument&) {
                // closed before this thread got to it: fine
            }
        });
        p.join();
        p.close();
        joiner.join();
    }
    REQUIRE(zombie_children().empty());
}

TEST_CASE("threads starting processes concurrently", "[process]") {
    constexpr int threads_n = 4;
    constexpr int per_thread = 5;
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < threads_n; ++t) {
        threads.emplace_back([&ok, t] {
            for (int i = 0; i < per_thread; ++i) {
                mp::Process p([](int v) { mp::sys_exit(v); }, t * 10 + i);
                p.start();
                p.join();
                if (p.exitcode() == t * 10 + i) {
                    ++ok;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    REQUIRE(ok == threads_n * per_thread);
    REQUIRE(zombie_children().empty());
}

// ---------------------------------------------------------- beyond Python

TEST_CASE("the child's signal mask is the parent's", "[process]") {
    sigset_t extra;
    sigemptyset(&extra);
    sigaddset(&extra, SIGUSR1);
    sigaddset(&extra, SIGHUP);
    sigset_t saved;
    REQUIRE(::pthread_sigmask(SIG_BLOCK, &extra, &saved) == 0);
    sigset_t expected;
    ::pthread_sigmask(SIG_SETMASK, nullptr, &expected);
    mp_test::report_pipe rp;
    mp::Process p([&] {
        sigset_t now;
        ::pthread_sigmask(SIG_SETMASK, nullptr, &now);
        std::string diff;
        for (int sig = 1; sig < NSIG; ++sig) {
            if (sigismember(&now, sig) != sigismember(&expected, sig)) {
                diff += " " + std::to_string(sig);
            }
        }
        rp.write_line(diff.empty() ? "same" : "differs:" + diff);
    });
    p.start();
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    rp.close_write();
    p.join();
    REQUIRE(p.exitcode() == 0);
    REQUIRE(rp.read_all_lines() == std::vector<std::string>{"same"});
    // And the parent's mask is back as it was before start().
    sigset_t after;
    ::pthread_sigmask(SIG_SETMASK, nullptr, &after);
    REQUIRE(sigismember(&after, SIGUSR1) == sigismember(&saved, SIGUSR1));
}

TEST_CASE("an error in the child before the target is reported, never swallowed", "[process]") {
    mp_test::report_pipe rp;
    const pid_t test_pid = ::getpid();
    int key = 0;
    mp::detail::register_after_fork(&key, [&rp] {
        ::dup2(rp.write_fd(), 2);
        throw std::runtime_error("injected setup failure");
    });
    mp::Process p([&rp] { rp.write_line("target ran"); });
    p.start();
    if (::getpid() != test_pid) {
        ::_exit(99);  // the child came back into the test's code
    }
    mp::detail::unregister_after_fork(&key);
    rp.close_write();
    p.join();
    REQUIRE(p.exitcode() == 1);
    const auto lines = rp.read_all_lines();
    REQUIRE(lines.size() == 1);
    REQUIRE(lines[0].find("failed to set up child process") != std::string::npos);
    REQUIRE(lines[0].find(p.name()) != std::string::npos);
    REQUIRE(lines[0].find("std::runtime_error: injected setup failure") != std::string::npos);

    // Unregistered: the next child runs normally.
    mp::Process q([] { mp::sys_exit(4); });
    q.start();
    q.join();
    REQUIRE(q.exitcode() == 4);
}

TEST_CASE("after-fork functions run in the child before the target", "[process]") {
    mp_test::report_pipe rp;
    int key = 0;
    mp::detail::register_after_fork(&key, [&rp] { rp.write_line("after fork"); });
    mp::Process p([&rp] { rp.write_line("target"); });
    p.start();
    mp::detail::unregister_after_fork(&key);
    rp.close_write();
    p.join();
    REQUIRE(rp.read_all_lines() == std::vector<std::string>{"after fork", "target"});
}

TEST_CASE("a child holds no descriptors of its siblings (50 live children)", "[process][soak]") {
    constexpr int n = 50;
    gate release;
    mp_test::report_pipe rp;
    std::vector<std::unique_ptr<mp::Process>> ps;
    for (int i = 0; i < n; ++i) {
        ps.push_back(std::make_unique<mp::Process>([&] {
            rp.write_line(std::to_string(count_fds()));
            release.wait();
        }));
        ps.back()->start();
    }
    rp.close_write();
    std::vector<int> counts;
    for (int i = 0; i < n; ++i) {
        const auto line = rp.read_line();
        REQUIRE(line);
        counts.push_back(std::stoi(*line));
    }
    release.open(n);
    for (auto& p : ps) {
        p->join();
        REQUIRE(p->exitcode() == 0);
    }
    INFO("descriptor counts in the children: min "
         << *std::min_element(counts.begin(), counts.end()) << ", max "
         << *std::max_element(counts.begin(), counts.end()));
    REQUIRE(*std::min_element(counts.begin(), counts.end()) ==
            *std::max_element(counts.begin(), counts.end()));
}

TEST_CASE("no descriptor leaks in the parent over many starts", "[process][soak]") {
    const int before = count_fds();
    for (int i = 0; i < 100; ++i) {
        mp::Process p([] {});
        p.start();
        p.join();
        if (i % 2 == 0) {
            p.close();
        }
    }
    REQUIRE(count_fds() == before);

    // Under a descriptor limit a little above what is open, a leak would end in EMFILE.
    rlimit old{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &old) == 0);
    rlimit tight = old;
    tight.rlim_cur = static_cast<rlim_t>(before + 16);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
    int ok = 0;
    for (int i = 0; i < 300; ++i) {
        mp::Process p([] {});
        p.start();
        p.join();
        ok += p.exitcode() == 0 ? 1 : 0;
    }
    ::setrlimit(RLIMIT_NOFILE, &old);
    REQUIRE(ok == 300);
    REQUIRE(count_fds() == before);
    REQUIRE(zombie_children().empty());
}

TEST_CASE(
    "a child joins its non-daemon children and terminates its daemon ones before it "
    "leaves",
    "[process]") {
    default_fatal_signals dfl;
    gate release;
    mp_test::report_pipe rp;
    mp::Process p([&] {
        mp::Process worker([&] {
            release.wait();
            rp.write_line("worker done");
        });
        mp::ProcessOptions options;
        options.daemon = true;
        mp::Process daemon(options, [&] {
            gate never;
            never.wait();
        });
        worker.start();
        daemon.start();
        rp.write_line(std::to_string(*daemon.pid()));
        // returns without joining either
    });
    p.start();
    rp.close_write();
    const auto daemon_pid = rp.read_line();
    REQUIRE(daemon_pid);
    p.join(100ms);
    REQUIRE(p.is_alive());  // waiting for its non-daemon child
    release.open();
    p.join();
    REQUIRE(p.exitcode() == 0);
    REQUIRE(rp.read_all_lines() == std::vector<std::string>{"worker done"});
    REQUIRE(gone(static_cast<pid_t>(std::stol(*daemon_pid))));
}

// ------------------------------------------------------ at the program's exit

TEST_CASE("a child's redirected std::cout is flushed before it leaves", "[process]") {
    char path[] = "/tmp/mp_test_redirect_XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    mp::Process p([&path] {
        // Never destroyed: only the exit path can flush it.
        auto* file = new std::filebuf();
        if (!file->open(path, std::ios::out | std::ios::trunc)) {
            mp::sys_exit(3);
        }
        std::cout.rdbuf(file);
        std::cout << "redirected, unflushed";
    });
    p.start();
    p.join();
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ::unlink(path);
    REQUIRE(p.exitcode() == 0);
    REQUIRE(text == "redirected, unflushed");
}

TEST_CASE("main returning waits for a non-daemon child", "[process]") {
    const auto r = mp_test::run_program(mp_test::program_path("exit_nondaemon"));
    INFO(r.output);
    REQUIRE_FALSE(r.timed_out);
    REQUIRE(r.exit_status == 0);
    const auto returned = r.output.find("main returned\n");
    const auto final_line = r.output.find("child: final line\n");
    const auto reaped = r.output.find("after exit: child reaped\n");
    REQUIRE(returned != std::string::npos);
    REQUIRE(final_line != std::string::npos);
    REQUIRE(reaped != std::string::npos);
    REQUIRE(returned < final_line);
    REQUIRE(final_line < reaped);
}

TEST_CASE("main returning terminates a daemon child blocked forever", "[process]") {
    // If the daemon survived its parent, it would be reparented here.
    REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    const auto r = mp_test::run_program(mp_test::program_path("exit_daemon"), {}, 60s);
    INFO(r.output);
    const auto at = r.output.find("daemon pid ");
    REQUIRE(at != std::string::npos);
    const pid_t daemon_pid = static_cast<pid_t>(std::stol(r.output.substr(at + 11)));
    const bool daemon_gone = gone(daemon_pid);
    if (!daemon_gone) {  // clean up before failing
        ::kill(daemon_pid, SIGKILL);
        ::waitpid(daemon_pid, nullptr, 0);
    }
    REQUIRE_FALSE(r.timed_out);
    REQUIRE(r.exit_status == 0);
    REQUIRE(daemon_gone);
    REQUIRE(r.output.find("main returns\n") != std::string::npos);
    REQUIRE(r.output.find("after exit: daemon reaped\n") != std::string::npos);
}

TEST_CASE("streams are flushed around fork and atexit handlers run once", "[process]") {
    const auto r = mp_test::run_program(mp_test::program_path("exit_streams"));
    INFO(r.output);
    REQUIRE_FALSE(r.timed_out);
    REQUIRE(r.exit_status == 0);
    const auto count = [&r](const std::string& what) {
        std::size_t n = 0;
        for (auto at = r.output.find(what); at != std::string::npos;
             at = r.output.find(what, at + 1)) {
            ++n;
        }
        return n;
    };
    REQUIRE(count("buffered before fork; cout too;") == 1);
    REQUIRE(count("unflushed; child cout unflushed;") == 1);
    REQUIRE(count("child exit code 0") == 1);
    REQUIRE(count("atexit handler ran") == 1);
    REQUIRE(count("static destructor ran") == 1);
    // Only in the parent.
    const auto parent_at = r.output.find("parent ");
    REQUIRE(parent_at != std::string::npos);
    const std::string parent_pid =
        r.output.substr(parent_at + 7, r.output.find(' ', parent_at + 7) - parent_at - 7);
    REQUIRE(count("atexit handler ran in " + parent_pid + "\n") == 1);
    REQUIRE(count("static destructor ran in " + parent_pid + "\n") == 1);
}
