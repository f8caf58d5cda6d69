// Tests of the seed examples 000-01..06, 001-01/02/04, 002-01/02
// (SEED-EXAMPLES.md): each asserts what its example demonstrates, through the
// library directly (children report through pipes) and by running the built
// example and checking the order of its output lines.
//
// "Started at the same time" is proved by events, never by the clock: every
// child reports "started" and then blocks until the parent releases it (closes
// the write end of a release pipe). Children run one after another would never
// all report, and the parent's read_line would time out.
#include "support/catch.hpp"
#include "support/helpers.hpp"
#include <multiprocessing.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

namespace mp = multiprocessing;
using namespace std::chrono_literals;

namespace {

using mp_test::wait_for_release;

/// Reads `n` lines, each within `timeout`; fewer if one does not come.
std::vector<std::string> read_lines(mp_test::report_pipe& pipe, std::size_t n,
                                    std::chrono::milliseconds timeout = 20s) {
    std::vector<std::string> lines;
    while (lines.size() < n) {
        auto line = pipe.read_line(timeout);
        if (!line) {
            break;
        }
        lines.push_back(*line);
    }
    return lines;
}

/// A line already written (the writer has ended): no real waiting.
std::optional<std::string> line_already_there(mp_test::report_pipe& pipe) {
    return pipe.read_line(50ms);
}

/// Byte offset of `needle` in an example's output (npos if absent).
std::size_t at(const mp_test::program_result& r, const std::string& needle) {
    return mp_test::find(r.output, needle);
}

constexpr auto npos = std::string::npos;

std::string dict_repr(const std::map<std::string, int>& d) {
    std::string s = "{";
    for (const auto& [k, v] : d) {
        s += (s.size() > 1 ? ", '" : "'") + k + "': " + std::to_string(v);
    }
    return s + "}";
}

/// The number N of a default name "Process-N".
int name_number(const std::string& name, const std::string& prefix = "Process-") {
    REQUIRE(name.rfind(prefix, 0) == 0);
    return std::stoi(name.substr(prefix.size()));
}

}  // namespace

// ---------------------------------------------------------------- 000-01

TEST_CASE("seed 000-01: the example prints both child lines before the parent's last",
          "[seed-000-01]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_000_01_start_join"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    const auto first = at(r, "主进程正在运行");
    const auto start = at(r, "work start");
    const auto end = at(r, "work end");
    const auto last = at(r, "主进程执行完");
    REQUIRE(first != npos);
    REQUIRE(start != npos);
    REQUIRE(end != npos);
    REQUIRE(last != npos);
    CHECK(first < start);
    CHECK(start < end);
    CHECK(end < last);
}

TEST_CASE("seed 000-01: join waits for the child's last line", "[seed-000-01]") {
    mp_test::report_pipe report;
    mp_test::report_pipe release;
    mp::Process p(
        [&](int interval) {
            report.write_line("work start " + std::to_string(interval));
            wait_for_release(release);  // sleep(interval), until the parent says so
            report.write_line("work end");
        },
        2);
    p.start();
    REQUIRE(report.read_line() == "work start 2");
    release.close_write();
    p.join();
    report.write_line("主进程执行完");  // the parent's last line, after join()
    REQUIRE(read_lines(report, 2) == std::vector<std::string>{"work end", "主进程执行完"});
    CHECK(p.exitcode() == 0);
}

// ---------------------------------------------------------------- 000-02

TEST_CASE("seed 000-02: the example's child line appears without join", "[seed-000-02]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_000_02_no_join"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    REQUIRE(at(r, "主进程开始") != npos);
    REQUIRE(at(r, "主进程执行结束") != npos);
    REQUIRE(at(r, "我是绑定给子进程的一组任务") != npos);
    CHECK(at(r, "主进程开始") < at(r, "我是绑定给子进程的一组任务"));
}

TEST_CASE("seed 000-02: when main returns the program joins its child before exiting",
          "[seed-000-02]") {
    // The child prints only after main() has returned; a static object's
    // destructor prints after the library's exit handler has run.
    const auto r = mp_test::run_program(mp_test::program_path("seed_000_02_exit_joins"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    const auto returned = at(r, "main returns");
    const auto child = at(r, "child done");
    const auto exited = at(r, "parent exited");
    REQUIRE(returned != npos);
    REQUIRE(child != npos);
    REQUIRE(exited != npos);
    CHECK(returned < child);
    CHECK(child < exited);
}

TEST_CASE("seed 000-02: a child that returns without joining waits for its own child",
          "[seed-000-02]") {
    mp_test::report_pipe report;
    mp_test::report_pipe release;
    mp::Process parent([&] {
        release.close_write();
        mp::Process p([&] {
            report.write_line("我是绑定给子进程的一组任务");
            wait_for_release(release);
            report.write_line("grandchild done");
        });
        p.start();
        report.write_line("主进程执行结束");
    });  // run() returns without p.join()
    parent.start();
    std::set<std::string> seen;
    for (const auto& line : read_lines(report, 2)) {
        seen.insert(line);
    }
    REQUIRE(seen == std::set<std::string>{"我是绑定给子进程的一组任务", "主进程执行结束"});
    // Its run() has returned, but it must still be waiting for its child.
    parent.join(300ms);
    CHECK(parent.is_alive());
    release.close_write();
    parent.join();
    CHECK(parent.exitcode() == 0);
    CHECK(line_already_there(report) == "grandchild done");
}

// ---------------------------------------------------------------- 000-03

TEST_CASE("seed 000-03: three children run at the same time and join waits for all",
          "[seed-000-03]") {
    mp_test::report_pipe report;
    mp_test::report_pipe release;
    auto work = [&](const std::string& name, int interval) {
        report.write_line(name + " start " + std::to_string(interval));
        wait_for_release(release);
        report.write_line("end " + name);
    };
    mp::Process p1(work, std::string("work1"), 4);
    mp::Process p2(work, std::string("work2"), 3);
    mp::Process p3(work, std::string("work3"), 2);
    p1.start();
    p2.start();
    p3.start();
    // All three are running before any may end: the time is the longest
    // sleep, not the sum.
    std::set<std::string> started;
    for (const auto& line : read_lines(report, 3)) {
        started.insert(line);
    }
    REQUIRE(started == std::set<std::string>{"work1 start 4", "work2 start 3", "work3 start 2"});
    CHECK(p1.is_alive());
    CHECK(p2.is_alive());
    CHECK(p3.is_alive());
    release.close_write();
    p1.join();
    p2.join();
    p3.join();
    CHECK(p1.exitcode() == 0);
    CHECK(p2.exitcode() == 0);
    CHECK(p3.exitcode() == 0);
    std::set<std::string> ended;
    for (const auto& line : read_lines(report, 3, 50ms)) {
        ended.insert(line);
    }
    CHECK(ended == std::set<std::string>{"end work1", "end work2", "end work3"});
    // Default names, numbered in creation order: "Process-1" in a fresh program.
    const int n = name_number(p1.name());
    CHECK(p2.name() == "Process-" + std::to_string(n + 1));
    CHECK(p3.name() == "Process-" + std::to_string(n + 2));
}

TEST_CASE("seed 000-03: the example's first process is named Process-1", "[seed-000-03]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_000_03_three_processes"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    CHECK(at(r, "p1.name Process-1\n") != npos);
    // Every child ran to its end before the name was printed, after the joins.
    for (const char* s : {"work1 start", "work2 start", "work3 start"}) {
        CHECK(at(r, s) != npos);
    }
    for (const char* s : {"end work1", "end work2", "end work3"}) {
        REQUIRE(at(r, s) != npos);
        CHECK(at(r, s) < at(r, "p1.name"));
    }
}

// ---------------------------------------------------------------- 000-04

TEST_CASE("seed 000-04: the child sees the positional value and the keyword pairs",
          "[seed-000-04]") {
    mp_test::report_pipe report;
    mp::Process p(
        [&](const std::string& name, const std::map<std::string, int>& kwargs) {
            report.write_line("name " + name);
            report.write_line("kwargs " + dict_repr(kwargs));
        },
        std::string("test"), std::map<std::string, int>{{"key", 12}});
    p.start();
    p.join();
    REQUIRE(p.exitcode() == 0);
    CHECK(read_lines(report, 2) == std::vector<std::string>{"name test", "kwargs {'key': 12}"});
}

TEST_CASE("seed 000-04: the example prints the name and the dict", "[seed-000-04]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_000_04_kwargs"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    CHECK(at(r, "子进程 正在运行，name的值：test\n") != npos);
    CHECK(at(r, "字典kwargs {'key': 12}\n") != npos);
}

// ---------------------------------------------------------------- 000-05

namespace {

class ClockProcess : public mp::Process {
public:
    ClockProcess(int interval, mp_test::report_pipe& report, mp_test::report_pipe& release)
        : interval_(interval), report_(report), release_(release) {}

    void run() override {
        report_.write_line("start " + std::to_string(::getpid()) + " " + std::to_string(interval_));
        wait_for_release(release_);
        report_.write_line("end");
    }

private:
    int interval_;
    mp_test::report_pipe& report_;
    mp_test::report_pipe& release_;
};

}  // namespace

TEST_CASE("seed 000-05: an overridden run() runs in the child and join waits for it",
          "[seed-000-05]") {
    mp_test::report_pipe report;
    mp_test::report_pipe release;
    ClockProcess p(3, report, release);
    p.start();
    const auto line = report.read_line();
    REQUIRE(line);
    REQUIRE(line->rfind("start ", 0) == 0);
    CHECK(line->substr(line->size() - 2) == " 3");  // the constructor's argument
    const pid_t child_pid = std::stoi(line->substr(6));
    CHECK(child_pid != ::getpid());
    CHECK(p.pid() == child_pid);
    p.join(100ms);  // the child is blocked: join(timeout) returns, it still runs
    CHECK(p.is_alive());
    release.close_write();
    p.join();
    CHECK_FALSE(p.is_alive());
    CHECK(p.exitcode() == 0);
    CHECK(line_already_there(report) == "end");
    CHECK(name_number(p.name(), "ClockProcess-") >= 1);
}

TEST_CASE("seed 000-05: the example's parent line comes after the child's", "[seed-000-05]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_000_05_subclass_run"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    const auto start = at(r, "子进程开始的时间，");
    const auto end = at(r, "子进程结束时间；");
    const auto last = at(r, "主进程执行完");
    REQUIRE(start != npos);
    REQUIRE(end != npos);
    REQUIRE(last != npos);
    CHECK(start < end);
    CHECK(end < last);
}

// ---------------------------------------------------------------- 000-06

TEST_CASE("seed 000-06: three unjoined children run at once and end before their parent",
          "[seed-000-06]") {
    mp_test::report_pipe report;
    mp_test::report_pipe release;
    // `parent` plays the example's main program: a loop of start(), no join.
    mp::Process parent([&] {
        release.close_write();
        for (const std::string url : {"www.1.com", "www.2.com", "www.3.com"}) {
            mp::Process p(
                [&](const std::string& u) {
                    report.write_line("正在请求网址的数据： " + u);
                    wait_for_release(release);
                    report.write_line("请求结束: " + u);
                },
                url);
            p.start();
        }
        report.write_line("loop done");
    });
    parent.start();
    std::set<std::string> seen;
    for (const auto& line : read_lines(report, 4)) {
        seen.insert(line);
    }
    // All three are running at the same time (none can end before release).
    REQUIRE(seen == std::set<std::string>{"正在请求网址的数据： www.1.com",
                                          "正在请求网址的数据： www.2.com",
                                          "正在请求网址的数据： www.3.com", "loop done"});
    parent.join(300ms);
    CHECK(parent.is_alive());  // its run() is over, but it waits for its children
    release.close_write();
    parent.join();
    CHECK(parent.exitcode() == 0);
    std::set<std::string> ended;
    for (int i = 0; i < 3; ++i) {
        if (auto line = line_already_there(report)) {
            ended.insert(*line);
        }
    }
    CHECK(ended == std::set<std::string>{"请求结束: www.1.com", "请求结束: www.2.com",
                                         "请求结束: www.3.com"});
}

TEST_CASE("seed 000-06: the example's three requests all end", "[seed-000-06]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_000_06_async_loop"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    for (const char* url : {"www.1.com", "www.2.com", "www.3.com"}) {
        const auto start = at(r, std::string("正在请求网址的数据： ") + url + "\n");
        const auto end = at(r, std::string("请求结束: ") + url + "\n");
        REQUIRE(start != npos);
        REQUIRE(end != npos);
        CHECK(start < end);
    }
}

// ---------------------------------------------------------------- 001-01

TEST_CASE("seed 001-01: without join the parent's line may come before the child's",
          "[seed-001-01]") {
    mp_test::report_pipe report;
    mp_test::report_pipe release;
    mp::Process p(
        [&](const std::string& name, int age, const std::map<std::string, int>& kwargs) {
            wait_for_release(release);  // the child is slow to get going
            report.write_line("子进程执行中，参数 name：" + name + ", age：" + std::to_string(age));
            report.write_line("kwargs: " + dict_repr(kwargs));
        },
        std::string("kurong"), 18, std::map<std::string, int>{{"abc", 123}});
    p.start();  // returns at once: it does not wait for the child's run()
    report.write_line("执行主进程");
    release.close_write();
    CHECK(read_lines(report, 3) ==
          std::vector<std::string>{"执行主进程", "子进程执行中，参数 name：kurong, age：18",
                                   "kwargs: {'abc': 123}"});
    p.join();
    CHECK(p.exitcode() == 0);
}

TEST_CASE("seed 001-01: the example's child prints its arguments", "[seed-001-01]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_001_01_args_kwargs_no_join"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    const auto args = at(r, "子进程执行中，参数 name：kurong, age：18\n");
    const auto kwargs = at(r, "kwargs: {'abc': 123}\n");
    REQUIRE(args != npos);
    REQUIRE(kwargs != npos);
    CHECK(args < kwargs);
    CHECK(at(r, "执行主进程\n") != npos);
}

// ---------------------------------------------------------------- 001-02

TEST_CASE("seed 001-02: with join the parent's line comes after the child's", "[seed-001-02]") {
    mp_test::report_pipe report;
    mp_test::report_pipe release;
    mp::Process p(
        [&](const std::string& name, int age, const std::map<std::string, int>& kwargs) {
            wait_for_release(release);
            report.write_line("子进程执行中，参数 name：" + name + ", age：" + std::to_string(age));
            report.write_line("kwargs: " + dict_repr(kwargs));
        },
        std::string("kurong"), 18, std::map<std::string, int>{{"abc", 123}});
    p.start();
    release.close_write();
    p.join();
    report.write_line("执行主进程");
    CHECK(read_lines(report, 3) ==
          std::vector<std::string>{"子进程执行中，参数 name：kurong, age：18",
                                   "kwargs: {'abc': 123}", "执行主进程"});
}

TEST_CASE("seed 001-02: the example prints the parent's line last", "[seed-001-02]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_001_02_join"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    const auto args = at(r, "子进程执行中，参数 name：kurong, age：18\n");
    const auto kwargs = at(r, "kwargs: {'abc': 123}\n");
    const auto last = at(r, "执行主进程\n");
    REQUIRE(args != npos);
    REQUIRE(kwargs != npos);
    REQUIRE(last != npos);
    CHECK(args < kwargs);
    CHECK(kwargs < last);
}

// ---------------------------------------------------------------- 001-04

namespace {
int age = 22;
}  // namespace

TEST_CASE("seed 001-04: a global changed in the child stays unchanged in the parent",
          "[seed-001-04]") {
    age = 22;
    mp_test::report_pipe report;
    mp::Process p([&] {
        age += 1;
        report.write_line("子进程age: " + std::to_string(age));
    });
    p.start();
    p.join();
    REQUIRE(p.exitcode() == 0);
    CHECK(report.read_line() == "子进程age: 23");
    CHECK(age == 22);
}

TEST_CASE("seed 001-04: the example's parent sees 22 and its child 23", "[seed-001-04]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_001_04_global_isolation"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    CHECK(at(r, "主进程age: 22\n") != npos);
    CHECK(at(r, "子进程age: 23\n") != npos);
    CHECK(at(r, "执行主进程\n") != npos);
}

// ---------------------------------------------------------------- 002-01

TEST_CASE("seed 002-01: the constructor forms", "[seed-002-01]") {
    SECTION("Process(): run() does nothing, the child exits with 0") {
        mp::Process p;
        CHECK_FALSE(p.pid().has_value());
        CHECK_FALSE(p.daemon());
        name_number(p.name());
        p.start();
        p.join();
        CHECK(p.exitcode() == 0);
    }
    SECTION("Process(target): no arguments") {
        mp_test::report_pipe report;
        mp::Process p([&] { report.write_line("called"); });
        p.start();
        p.join();
        CHECK(p.exitcode() == 0);
        CHECK(report.read_line() == "called");
    }
    SECTION("Process(target, args..., kwargs as an ordinary argument)") {
        mp_test::report_pipe report;
        mp::Process p(
            [&](const std::string& name, const std::map<std::string, int>& kwargs) {
                report.write_line(name + " " + std::to_string(kwargs.at("age")));
            },
            std::string("json"), std::map<std::string, int>{{"age", 19}});
        p.start();
        p.join();
        CHECK(p.exitcode() == 0);
        CHECK(report.read_line() == "json 19");
    }
    SECTION("Process(options with name and daemon, target, args...)") {
        mp_test::report_pipe report;
        mp::ProcessOptions options;
        options.name = "子进程1";
        options.daemon = true;
        mp::Process p(
            options,
            [&](int n) {
                report.write_line(mp::current_process().name() + " " + std::to_string(n) + " " +
                                  (mp::current_process().daemon() ? "daemon" : "not daemon"));
            },
            7);
        CHECK(p.name() == "子进程1");
        CHECK(p.daemon());
        p.start();
        p.join();
        CHECK(p.exitcode() == 0);
        CHECK(report.read_line() == "子进程1 7 daemon");
    }
}

TEST_CASE("seed 002-01: run() called directly runs in the current process", "[seed-002-01]") {
    pid_t ran_in = 0;
    int calls = 0;
    mp::Process p(
        [&](int n) {
            ran_in = ::getpid();
            calls += n;
        },
        1);
    p.run();
    CHECK(ran_in == ::getpid());
    CHECK(calls == 1);
    // Not started: no pid, not alive, and join() refuses (only start() makes a child).
    CHECK_FALSE(p.pid().has_value());
    CHECK_FALSE(p.is_alive());
    CHECK_THROWS_AS(p.join(), mp::ProcessError);
    CHECK_THROWS_AS(p.join(10ms), mp::ProcessError);
}

TEST_CASE("seed 002-01: start() calls run() in a new child process", "[seed-002-01]") {
    mp_test::report_pipe report;
    mp::Process p([&] { report.write_line(std::to_string(::getpid())); });
    CHECK_FALSE(p.is_alive());
    p.start();
    const auto line = report.read_line();
    REQUIRE(line);
    const pid_t child = std::stoi(*line);
    CHECK(child != ::getpid());
    CHECK(p.pid() == child);
    p.join();
    CHECK(p.exitcode() == 0);
    CHECK_FALSE(p.is_alive());
    CHECK_THROWS_AS(p.start(), mp::ProcessError);  // a process starts once
}

TEST_CASE("seed 002-01: join(timeout) returns while the child still runs", "[seed-002-01]") {
    mp_test::report_pipe report;
    mp_test::report_pipe release;
    mp::Process p([&] {
        report.write_line("running");
        wait_for_release(release);
    });
    p.start();
    REQUIRE(report.read_line() == "running");
    p.join(100ms);
    CHECK(p.is_alive());
    CHECK_FALSE(p.exitcode().has_value());
    p.join(0ms);
    CHECK(p.is_alive());
    release.close_write();
    p.join();
    CHECK_FALSE(p.is_alive());
    CHECK(p.exitcode() == 0);
}

TEST_CASE("seed 002-01: terminate() ends a running child with -SIGTERM", "[seed-002-01]") {
    mp_test::report_pipe report;
    mp_test::report_pipe release;
    mp::Process p([&] {
        report.write_line("running");
        wait_for_release(release);  // would block until the test ends
    });
    p.start();
    REQUIRE(report.read_line() == "running");
    CHECK(p.is_alive());
    p.terminate();
    p.join();
    CHECK_FALSE(p.is_alive());
    CHECK(p.exitcode() == -SIGTERM);
    p.terminate();  // no-op once ended
    CHECK(p.exitcode() == -SIGTERM);
}

TEST_CASE("seed 002-01: the example shows each method's effect", "[seed-002-01]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_002_01_process_api"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    CHECK(at(r, "创建后(尚未启动) is_alive(): false\n") != npos);
    CHECK(at(r, "子进程 子进程1: name=json age=19\n") != npos);
    CHECK(at(r, "exitcode=0, 子进程 pid 与主进程不同: true\n") != npos);
    CHECK(at(r, "子进程 MainProcess: name=run age=20\n") != npos);
    CHECK(at(r, "ProcessError: Process.join: can only join a started process\n") != npos);
    CHECK(at(r, "r.join(1秒) 后 is_alive(): true\n") != npos);
    CHECK(at(r, "r.terminate() 后 is_alive(): false, exitcode=-15\n") != npos);
}

// ---------------------------------------------------------------- 002-02

namespace {

class Myprocess : public mp::Process {
public:
    Myprocess(mp_test::report_pipe& report, mp_test::report_pipe& release)
        : report_(report), release_(release) {}

    void run() override {
        report_.write_line(name());  // print(self.name, ...), sent before the "sleep"
        wait_for_release(release_);
    }

private:
    mp_test::report_pipe& report_;
    mp_test::report_pipe& release_;
};

}  // namespace

TEST_CASE("seed 002-02: three subclass instances run at once, with distinct names",
          "[seed-002-02]") {
    mp_test::report_pipe report;
    mp_test::report_pipe release;
    std::vector<std::unique_ptr<Myprocess>> list;
    for (int i = 0; i < 3; ++i) {
        list.push_back(std::make_unique<Myprocess>(report, release));
        list.back()->start();
    }
    // All three report before any is released: the time is one sleep, not three.
    const auto names = read_lines(report, 3);
    REQUIRE(names.size() == 3);
    const std::set<std::string> distinct(names.begin(), names.end());
    CHECK(distinct.size() == 3);
    std::set<std::string> parent_side;
    for (const auto& m : list) {
        CHECK(m->is_alive());
        parent_side.insert(m->name());
        name_number(m->name(), "Myprocess-");
    }
    CHECK(parent_side == distinct);
    release.close_write();
    for (const auto& a : list) {
        a->join();
        CHECK(a->exitcode() == 0);
    }
}

TEST_CASE("seed 002-02: the example prints Myprocess-1, -2 and -3", "[seed-002-02]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_002_02_subclass_three"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    const std::regex line("^Myprocess-([0-9]+) [A-Z][a-z]{2} [A-Z][a-z]{2} .*$");
    std::set<std::string> names;
    std::size_t pos = 0;
    while (pos < r.output.size()) {
        const auto nl = r.output.find('\n', pos);
        const std::string l = r.output.substr(pos, nl == npos ? npos : nl - pos);
        std::smatch m;
        if (std::regex_match(l, m, line)) {
            names.insert(m[1]);
        }
        pos = nl == npos ? r.output.size() : nl + 1;
    }
    CHECK(names == std::set<std::string>{"1", "2", "3"});
}
