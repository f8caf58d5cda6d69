// Tests of seed examples 003-00..003-10 and 004-01..004-03 (SEED-EXAMPLES.md):
// each asserts what its example demonstrates. Sleeps are scaled down;
// concurrency and ordering are proved by events (a child reports through a
// pipe, then waits until the parent closes a "gate" pipe), never by a
// wall-clock bound. Some tests also run the built example and check its output.
#include "support/catch.hpp"
#include "support/helpers.hpp"
#include <multiprocessing.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <map>
#include <poll.h>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace mp = multiprocessing;
using namespace std::chrono_literals;

namespace {

using mp_test::wait_for_release;

/// Waits (at most 30 s) until `fd` is readable: for a sentinel, until the child ended.
bool wait_readable(int fd) {
    pollfd pfd{fd, POLLIN, 0};
    int r;
    do {
        r = ::poll(&pfd, 1, 30000);
    } while (r < 0 && errno == EINTR);
    return r == 1;
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        lines.push_back(line);
    }
    return lines;
}

std::vector<std::string> split_words(const std::string& line) {
    std::vector<std::string> words;
    std::istringstream in(line);
    std::string word;
    while (in >> word) {
        words.push_back(word);
    }
    return words;
}

/// The integer that follows `label` in `text`, or -1.
long number_after(const std::string& text, const std::string& label) {
    const auto at = text.find(label);
    if (at == std::string::npos) {
        return -1;
    }
    try {
        return std::stol(text.substr(at + label.size()));
    } catch (const std::exception&) {
        return -1;
    }
}

/// N in "Process-N", or -1.
int default_name_number(const std::string& name) {
    std::smatch m;
    if (std::regex_match(name, m, std::regex("Process-([0-9]+)"))) {
        return std::stoi(m[1]);
    }
    return -1;
}

std::string pid_string(const mp::Process& p) {
    return std::to_string(p.pid().value());
}

}  // namespace

// ---------------------------------------------------------------- 003-00

TEST_CASE("seed 003-00: name, daemon, pid, exitcode and authkey behave as described",
          "[seed-003-00]") {
    mp_test::report_pipe gate;
    mp_test::report_pipe report;
    const std::string key = mp::current_process().authkey();
    mp::Process p([&gate, &report, key] {
        auto& me = mp::current_process();
        report.write_line(std::to_string(me.pid().value()) + " " + me.name() + " " +
                          (me.daemon() ? "daemon" : "not-daemon") + " " +
                          (me.authkey() == key ? "same-authkey" : "other-authkey"));
        wait_for_release(gate);
    });

    // Before start: not a daemon, a default name, pid and exitcode None.
    CHECK_FALSE(p.daemon());
    CHECK(default_name_number(p.name()) > 0);
    CHECK_FALSE(p.pid().has_value());
    CHECK_FALSE(p.exitcode().has_value());
    // authkey: 32 random bytes of the main process, inherited.
    CHECK(p.authkey().size() == 32);
    CHECK(p.authkey() == key);

    p.set_daemon(true);  // allowed before start()
    CHECK(p.daemon());
    p.start();
    REQUIRE(p.pid().has_value());
    CHECK(*p.pid() != ::getpid());
    // Setting daemon after start is an error; the flag is unchanged.
    CHECK_THROWS_AS(p.set_daemon(false), mp::ProcessError);
    CHECK(p.daemon());

    // The child sees its own pid, name, daemon flag and authkey.
    const auto line = report.read_line();
    REQUIRE(line);
    CHECK(*line == pid_string(p) + " " + p.name() + " daemon same-authkey");

    // exitcode is None while the child runs (it waits on the gate).
    CHECK(p.is_alive());
    CHECK_FALSE(p.exitcode().has_value());
    // -N after signal N.
    p.terminate();
    p.join();
    CHECK(p.exitcode() == -SIGTERM);

    // A child that returns: exit code 0; a name given with name=.
    mp::ProcessOptions options;
    options.name = "ocean";
    mp::Process q(options, [] {});
    CHECK(q.name() == "ocean");
    q.start();
    q.join();
    CHECK(q.exitcode() == 0);
}

TEST_CASE("seed 003-00: a daemon may not have children, and ends when its parent exits",
          "[seed-003-00]") {
    mp_test::report_pipe gate;  // never released while the test runs
    mp_test::report_pipe report;
    mp::Process child([&gate, &report] {
        mp_test::report_pipe ready;
        mp::ProcessOptions options;
        options.daemon = true;
        mp::Process daemon_child(options, [&gate, &ready] {
            mp::Process grandchild([] {});
            try {
                grandchild.start();
                ready.write_line("started a child");
            } catch (const mp::ProcessError&) {
                ready.write_line("refused");
            }
            ready.write_line(std::to_string(::getpid()));
            wait_for_release(gate);  // blocks until terminated
        });
        daemon_child.start();
        for (int i = 0; i < 2; ++i) {
            const auto line = ready.read_line();
            report.write_line(line ? *line : "no report");
        }
        // Returning ends this child: it terminates its daemon child first.
    });
    child.start();
    const auto refused = report.read_line();
    const auto daemon_pid = report.read_line();
    REQUIRE(refused);
    REQUIRE(daemon_pid);
    CHECK(*refused == "refused");
    // Had the daemon not been terminated, the child would wait for it forever.
    child.join(30s);
    REQUIRE(child.exitcode() == 0);
    // The daemon has ended (and was reaped by its parent).
    errno = 0;
    CHECK(::kill(static_cast<pid_t>(std::stol(*daemon_pid)), 0) == -1);
    CHECK(errno == ESRCH);
}

TEST_CASE("seed 003-00: the example prints the attributes as described", "[seed-003-00]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_003_00_process_attributes"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    for (const char* expected : {
             "p.name: Process-1\n",
             "q.name: ocean\n",
             "p.daemon: False\n",
             "p.pid before start: None\n",
             "daemonic processes are not allowed to have children\n",
             "p.pid after start: a pid\n",
             "p.daemon = True after start: ProcessError",
             "p.exitcode while running: None\n",
             "p.exitcode after terminate(): -15 (-SIGTERM)\n",
             "p.authkey: 32 bytes, same as the main process's: True\n",
         }) {
        CHECK(r.output.find(expected) != std::string::npos);
    }
}

// ---------------------------------------------------------------- 003-01

TEST_CASE("seed 003-01: join returns at once for a child that has already ended", "[seed-003-01]") {
    mp_test::report_pipe report;
    mp::Process p([&report] {
        report.write_line("process start");
        std::this_thread::sleep_for(50ms);
        report.write_line("process end");
    });
    p.start();
    // The parent does something else until the child has ended (the
    // original sleeps 5 s): wait for the sentinel, without join().
    REQUIRE(wait_readable(p.sentinel()));
    // A zero timeout does not wait: the exit code is there all the same.
    p.join(0s);
    CHECK(p.exitcode() == 0);
    p.join();  // and join() returns
    CHECK_FALSE(p.is_alive());
    report.write_line("主进程");
    report.close_write();
    CHECK(report.read_all_lines() ==
          std::vector<std::string>{"process start", "process end", "主进程"});
}

TEST_CASE("seed 003-01: the example prints the child's lines before the parent's",
          "[seed-003-01]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_003_01_join_after_sleep"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    CHECK(split_lines(r.output) ==
          std::vector<std::string>{"process start", "process end", "主进程"});
}

// ---------------------------------------------------------------- 003-02

TEST_CASE("seed 003-02: three children started then joined run at the same time", "[seed-003-02]") {
    mp_test::report_pipe gate;
    mp_test::report_pipe report;
    auto foo = [&gate, &report](int x) {
        report.write_line("Process start " + std::to_string(x));
        wait_for_release(gate);
        report.write_line("Process end " + std::to_string(x));
    };
    mp::Process p1(foo, 1);
    mp::Process p2(foo, 2);
    mp::Process p3(foo, 3);
    p1.start();
    p2.start();
    p3.start();
    // All three have started while none may finish: they run at once, so
    // the time is the longest one's (3 units), not the sum (6). Run one
    // after another, the second "start" would never come.
    std::set<std::string> started;
    for (int i = 0; i < 3; ++i) {
        const auto line = report.read_line();
        REQUIRE(line);
        started.insert(*line);
    }
    CHECK(started ==
          std::set<std::string>{"Process start 1", "Process start 2", "Process start 3"});
    CHECK(p1.is_alive());
    CHECK(p2.is_alive());
    CHECK(p3.is_alive());
    gate.close_write();
    p1.join();
    p2.join();
    p3.join();
    CHECK(p1.exitcode() == 0);
    CHECK(p2.exitcode() == 0);
    CHECK(p3.exitcode() == 0);
    report.close_write();
    auto ended = report.read_all_lines();
    std::sort(ended.begin(), ended.end());
    CHECK(ended == std::vector<std::string>{"Process end 1", "Process end 2", "Process end 3"});
}

// ---------------------------------------------------------------- 003-03

TEST_CASE("seed 003-03: a started process prints as Python 3.11's repr", "[seed-003-03]") {
    mp_test::report_pipe gate;
    const std::string parent = std::to_string(::getpid());
    std::vector<mp::Process> p_list;
    for (int i = 1; i < 4; ++i) {
        mp::Process p([&gate](int) { wait_for_release(gate); }, i);
        CHECK(p.repr() == "<Process name='" + p.name() + "' parent=" + parent + " initial>");
        p.start();
        p_list.push_back(std::move(p));
    }
    const int first = default_name_number(p_list[0].name());
    REQUIRE(first > 0);
    for (std::size_t i = 0; i < p_list.size(); ++i) {
        auto& p = p_list[i];
        CHECK(p.name() == "Process-" + std::to_string(first + static_cast<int>(i)));
        const std::string expected = "<Process name='" + p.name() + "' pid=" + pid_string(p) +
                                     " parent=" + parent + " started>";
        CHECK(p.repr() == expected);
        std::ostringstream printed;
        printed << p;  // print(p)
        CHECK(printed.str() == expected);
    }
    gate.close_write();
    for (auto& p : p_list) {
        p.join();
        CHECK(p.repr() == "<Process name='" + p.name() + "' pid=" + pid_string(p) +
                              " parent=" + parent + " stopped exitcode=0>");
    }
}

TEST_CASE("seed 003-03: the example prints the list of processes", "[seed-003-03]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_003_03_process_list_repr"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    const std::regex list(
        "\\[<Process name='Process-1' pid=[0-9]+ parent=([0-9]+) started>, "
        "<Process name='Process-2' pid=[0-9]+ parent=\\1 started>, "
        "<Process name='Process-3' pid=[0-9]+ parent=\\1 started>\\]\n");
    CHECK(std::regex_search(r.output, list));
}

// ---------------------------------------------------------------- 003-04

TEST_CASE("seed 003-04: start then join one after another runs the children in turn",
          "[seed-003-04]") {
    mp_test::report_pipe report;
    auto foo = [&report](int x) {
        report.write_line("process" + std::to_string(x) + ",start");
        std::this_thread::sleep_for(std::chrono::milliseconds(50 * x));
        report.write_line("process" + std::to_string(x) + ",end");
    };
    mp::Process p1(foo, 1);
    mp::Process p2(foo, 2);
    mp::Process p3(foo, 3);
    p1.start();
    p1.join();
    p2.start();
    p2.join();
    p3.start();
    p3.join();
    report.close_write();
    // Child i ended before child i+1 started: the times add up (6 units).
    CHECK(report.read_all_lines() == std::vector<std::string>{"process1,start", "process1,end",
                                                              "process2,start", "process2,end",
                                                              "process3,start", "process3,end"});
}

// ---------------------------------------------------------------- 003-05

TEST_CASE("seed 003-05: the child's pid is p.pid, its parent's pid the parent's", "[seed-003-05]") {
    mp_test::report_pipe report;
    mp::Process p([&report] {
        report.write_line(std::to_string(mp::current_process().pid().value()) + " " +
                          std::to_string(::getpid()) + " " + std::to_string(::getppid()) + " " +
                          std::to_string(mp::parent_process()->pid().value()));
    });
    CHECK_FALSE(p.pid().has_value());  // only after start()
    p.start();
    const auto line = report.read_line();
    REQUIRE(line);
    const auto w = split_words(*line);
    REQUIRE(w.size() == 4);
    CHECK(w[0] == pid_string(p));               // current_process().pid in the child
    CHECK(w[1] == pid_string(p));               // os.getpid() in the child
    CHECK(w[2] == std::to_string(::getpid()));  // os.getppid() in the child
    CHECK(w[3] == std::to_string(::getpid()));  // parent_process().pid
    CHECK(mp::parent_process() == nullptr);     // None in the main process
    p.join();
    CHECK(p.exitcode() == 0);
}

TEST_CASE("seed 003-05: the example's parent and child agree on the pids", "[seed-003-05]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_003_05_pid_ppid"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    const long child = number_after(r.output, "在主进程中查看子进程的pid> ");
    const long parent = number_after(r.output, "主进程的pid> ");
    CHECK(child > 0);
    CHECK(parent > 0);
    CHECK(number_after(r.output, "在子进程中查询自己的pid> ") == child);
    CHECK(number_after(r.output, "在子进程中查询父进程的pid> ") == parent);
    CHECK(number_after(r.output, "主进程的父进程的pid> ") == static_cast<long>(::getpid()));
    // The parent terminated the child during its 200 s sleep.
    CHECK(r.output.find("子进程end") == std::string::npos);
}

// ---------------------------------------------------------------- 003-06

TEST_CASE("seed 003-06: default and custom names, seen in the children too", "[seed-003-06]") {
    mp_test::report_pipe report;
    auto foo = [&report] { report.write_line(mp::current_process().name()); };
    mp::Process p(foo);
    mp::Process p2(foo);
    mp::ProcessOptions ocean;
    ocean.name = "ocean";
    mp::Process p3(ocean, foo);
    const int first = default_name_number(p.name());
    REQUIRE(first > 0);
    CHECK(p2.name() == "Process-" + std::to_string(first + 1));
    CHECK(p3.name() == "ocean");
    p.start();
    p2.start();
    p3.start();
    p.join();
    p2.join();
    p3.join();
    report.close_write();
    const auto seen = report.read_all_lines();
    CHECK(std::multiset<std::string>(seen.begin(), seen.end()) ==
          std::multiset<std::string>{p.name(), p2.name(), "ocean"});
}

TEST_CASE("seed 003-06: the example shows Process-1, Process-2 and ocean on both sides",
          "[seed-003-06]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_003_06_process_names"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    const std::set<std::string> parent_lines{"Process-1", "Process-2", "ocean", "主进程"};
    std::vector<std::string> from_parent;
    std::multiset<std::string> from_children;
    for (const auto& line : split_lines(r.output)) {
        if (parent_lines.count(line)) {
            from_parent.push_back(line);
        }
        const std::string prefix = "子进程的名字 ";
        if (line.compare(0, prefix.size(), prefix) == 0) {
            from_children.insert(line.substr(prefix.size()));
        }
    }
    CHECK(from_parent == std::vector<std::string>{"Process-1", "Process-2", "ocean", "主进程"});
    CHECK(from_children == std::multiset<std::string>{"Process-1", "Process-2", "ocean"});
}

// ---------------------------------------------------------------- 003-07

TEST_CASE("seed 003-07: is_alive is true while the child runs, false once it ended",
          "[seed-003-07]") {
    mp_test::report_pipe gate;
    mp::Process p([&gate] { wait_for_release(gate); });
    CHECK_FALSE(p.is_alive());  // not started yet
    p.start();
    CHECK(p.is_alive());
    CHECK(p.is_alive());  // still: it waits for the gate
    gate.close_write();
    // Without join(): wait until the child has ended, then ask.
    REQUIRE(wait_readable(p.sentinel()));
    CHECK_FALSE(p.is_alive());
    CHECK(p.exitcode() == 0);
}

// ---------------------------------------------------------------- 003-08

TEST_CASE("seed 003-08: after terminate and join the child is dead with exit code -SIGTERM",
          "[seed-003-08]") {
    mp_test::report_pipe report;
    auto foo = [&report] {
        report.write_line("process start");
        std::this_thread::sleep_for(10s);
        report.write_line("process end");
    };

    SECTION("terminated at once, as in the example") {
        mp::Process p(foo);
        p.start();
        p.terminate();
        p.join();
        CHECK_FALSE(p.is_alive());
        CHECK(p.exitcode() == -SIGTERM);
    }
    SECTION("terminated while it sleeps") {
        mp::Process p(foo);
        p.start();
        const auto line = report.read_line();
        REQUIRE(line);
        CHECK(*line == "process start");
        CHECK(p.is_alive());
        p.terminate();
        p.join();
        CHECK_FALSE(p.is_alive());
        CHECK(p.exitcode() == -SIGTERM);
        report.close_write();
        CHECK(report.read_all_lines().empty());  // never reached "process end"
    }
}

// ---------------------------------------------------------------- 003-09

namespace {

class MyProcess : public mp::Process {
public:
    MyProcess(std::string name, mp_test::report_pipe& report) : report_(&report) {
        set_name(std::move(name));  // self.name = name
    }
    void run() override { report_->write_line(std::to_string(::getpid()) + " " + name()); }

private:
    mp_test::report_pipe* report_;
};

}  // namespace

TEST_CASE("seed 003-09: each child of a Process subclass has its own pid and name",
          "[seed-003-09]") {
    mp_test::report_pipe report;
    MyProcess p1("wupeiqi", report);
    MyProcess p2("yuanhao", report);
    MyProcess p3("nezha", report);
    p1.start();
    p2.start();
    p3.start();
    p1.join();
    p2.join();
    p3.join();
    report.close_write();
    std::map<std::string, std::string> pid_of;  // name -> pid reported by run()
    for (const auto& line : report.read_all_lines()) {
        const auto w = split_words(line);
        REQUIRE(w.size() == 2);
        pid_of[w[1]] = w[0];
    }
    CHECK(pid_of == std::map<std::string, std::string>{{"wupeiqi", pid_string(p1)},
                                                       {"yuanhao", pid_string(p2)},
                                                       {"nezha", pid_string(p3)}});
    CHECK(std::set<std::string>{pid_string(p1), pid_string(p2), pid_string(p3)}.size() == 3);
}

// ---------------------------------------------------------------- 003-10

namespace {
int seed_003_10_n;  // Python's module global n
}

TEST_CASE("seed 003-10: a global set in the child keeps its value in the parent", "[seed-003-10]") {
    mp_test::report_pipe report;
    seed_003_10_n = 100;
    mp::Process p([&report] {
        report.write_line("子进程看到： " + std::to_string(seed_003_10_n));
        seed_003_10_n = 0;
        report.write_line("子进程内： " + std::to_string(seed_003_10_n));
    });
    p.start();
    p.join();
    CHECK(p.exitcode() == 0);
    CHECK(seed_003_10_n == 100);  // 主进程内： 100
    report.close_write();
    CHECK(report.read_all_lines() == std::vector<std::string>{"子进程看到： 100", "子进程内： 0"});
}

// ---------------------------------------------------------------- 004-01

TEST_CASE("seed 004-01: named looping children report the parent's pid until terminated",
          "[seed-004-01]") {
    mp_test::report_pipe report;
    auto task = [&report](int s) {
        for (;;) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20 * s));
            report.write_line(mp::current_process().name() + " " + std::to_string(::getpid()) +
                              " " + std::to_string(::getppid()));
        }
    };
    mp::ProcessOptions name1;
    name1.name = "任务1";
    mp::Process p1(name1, task, 1);
    p1.start();
    mp::ProcessOptions name2;
    name2.name = "任务2";
    mp::Process p2(name2, task, 2);
    p2.start();
    CHECK(p1.name() == "任务1");
    CHECK(p2.name() == "任务2");

    std::map<std::string, int> reports;
    while (reports["任务1"] < 3 || reports["任务2"] < 3) {
        const auto line = report.read_line();
        REQUIRE(line);
        const auto w = split_words(*line);
        REQUIRE(w.size() == 3);
        REQUIRE((w[0] == "任务1" || w[0] == "任务2"));
        CHECK(w[1] == pid_string(w[0] == "任务1" ? p1 : p2));
        CHECK(w[2] == std::to_string(::getpid()));
        ++reports[w[0]];
    }
    // The loops never end by themselves: terminate() stops them.
    CHECK(p1.is_alive());
    CHECK(p2.is_alive());
    p1.terminate();
    p2.terminate();
    p1.join();
    p2.join();
    CHECK_FALSE(p1.is_alive());
    CHECK_FALSE(p2.is_alive());
    CHECK(p1.exitcode() == -SIGTERM);
    CHECK(p2.exitcode() == -SIGTERM);
}

TEST_CASE("seed 004-01: the example's children print the parent's pid", "[seed-004-01]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_004_01_named_loops"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    const auto lines = split_lines(r.output);
    REQUIRE(lines.size() >= 5);
    const std::string parent = lines[0];  // print(os.getpid())
    CHECK(lines[1] == "任务1");
    CHECK(lines[2] == "任务2");
    std::set<std::string> tasks;
    for (std::size_t i = 3; i < lines.size(); ++i) {
        const auto w = split_words(lines[i]);
        REQUIRE(w.size() == 4);
        CHECK(w[1] != parent);
        CHECK(w[2] == "---");
        CHECK(w[3] == parent);
        tasks.insert(w[0]);
    }
    CHECK(tasks == std::set<std::string>{"这是任务1...", "这是任务2..."});
}

// ---------------------------------------------------------------- 004-02

namespace {
int m = 0;
std::vector<std::string> list;
}  // namespace

TEST_CASE("seed 004-02: each looping child counts on its own copy of the globals",
          "[seed-004-02]") {
    mp_test::report_pipe report;
    auto task = [&report](int s, const std::string& tag) {
        for (;;) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20 * s));
            m += 1;
            list.push_back(tag);
            const auto own = std::count(list.begin(), list.end(), tag);
            report.write_line(tag + " " + std::to_string(m) + " " + std::to_string(list.size()) +
                              " " + std::to_string(own));
        }
    };
    mp::Process p1(task, 1, std::string("task1"));
    p1.start();
    mp::Process p2(task, 2, std::string("task2"));
    p2.start();

    std::map<std::string, int> count;  // reports seen per child
    while (count["task1"] < 4 || count["task2"] < 2) {
        const auto line = report.read_line();
        REQUIRE(line);
        const auto w = split_words(*line);
        REQUIRE(w.size() == 4);
        const int k = ++count[w[0]];
        // The k-th report of a child: m == k and its list holds k of its own
        // entries, none of the other child's, although both count at once.
        CHECK(w[1] == std::to_string(k));
        CHECK(w[2] == std::to_string(k));
        CHECK(w[3] == std::to_string(k));
    }
    p1.terminate();
    p2.terminate();
    p1.join();
    p2.join();
    CHECK(p1.exitcode() == -SIGTERM);
    CHECK(p2.exitcode() == -SIGTERM);
    // The parent's copy is unchanged.
    CHECK(m == 0);
    CHECK(list.empty());
}

TEST_CASE("seed 004-02: the example's children count separately, the parent not at all",
          "[seed-004-02]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_004_02_globals_isolated"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    const auto lines = split_lines(r.output);
    CHECK(std::count(lines.begin(), lines.end(), "1 ['task1']") == 1);
    CHECK(std::count(lines.begin(), lines.end(), "1 ['task2']") == 1);
    REQUIRE_FALSE(lines.empty());
    CHECK(lines.back() == "0 []");
}

// ---------------------------------------------------------------- 004-03

namespace {

class LoopProcess : public mp::Process {
public:
    LoopProcess(std::string name, mp_test::report_pipe& report) : report_(&report) {
        set_name(std::move(name));
    }
    void run() override {
        int n = 1;
        for (;;) {
            report_->write_line(std::to_string(n) + " " + name());
            n += 1;
            std::this_thread::sleep_for(20ms);
        }
    }

private:
    mp_test::report_pipe* report_;
};

}  // namespace

TEST_CASE("seed 004-03: the name set in the constructor is the one run() sees", "[seed-004-03]") {
    mp_test::report_pipe report;
    LoopProcess p1("小明", report);
    p1.start();
    LoopProcess p2("小红", report);
    p2.start();
    CHECK(p1.name() == "小明");
    CHECK(p2.name() == "小红");

    std::map<std::string, int> count;
    while (count["小明"] < 3 || count["小红"] < 3) {
        const auto line = report.read_line();
        REQUIRE(line);
        const auto w = split_words(*line);
        REQUIRE(w.size() == 2);
        REQUIRE((w[1] == "小明" || w[1] == "小红"));
        CHECK(w[0] == std::to_string(++count[w[1]]));
    }
    p1.terminate();
    p2.terminate();
    p1.join();
    p2.join();
    CHECK(p1.exitcode() == -SIGTERM);
    CHECK(p2.exitcode() == -SIGTERM);
}

TEST_CASE("seed 004-03: the example's children print their names", "[seed-004-03]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_004_03_subclass_loop"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    const auto lines = split_lines(r.output);
    CHECK(std::count(lines.begin(), lines.end(), "1自定义进程 n:小明") == 1);
    CHECK(std::count(lines.begin(), lines.end(), "1自定义进程 n:小红") == 1);
    CHECK(std::count(lines.begin(), lines.end(), "2自定义进程 n:小明") == 1);
    CHECK(std::count(lines.begin(), lines.end(), "2自定义进程 n:小红") == 1);
}
