// Tests of the seed examples 000-08 and 001-06 (SEED-EXAMPLES.md), where a
// writer task and a reader task of a Pool talk through Manager().Queue(), and
// of the manager tutorials (manager_dict_list, manager_pool_lock). Each runs
// the example's logic through the library, with the tasks reporting back
// what they did (their results: what they read, and their pid), and runs the
// built example to check the order of its output lines.
//
// Ordering is by construction, never by the clock: Pool.apply returns only
// when its task is done, so the writer has put everything before the reader
// starts.
#include "support/catch.hpp"
#include "support/helpers.hpp"
#include <multiprocessing.hpp>

#include <string>
#include <sys/types.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace mp = multiprocessing;

namespace {

using StrQueue = mp::managers::QueueProxy<std::string>;
using IntQueue = mp::managers::QueueProxy<int>;

// ------------------------------------------------------------ 000-08 tasks

/// 000-08's write(q): puts 'a'..'d'; returns the worker's pid.
pid_t write_letters(StrQueue q) {
    for (const std::string i : {"a", "b", "c", "d"}) {
        q.put(i);
    }
    return ::getpid();
}

/// 000-08's read(q): `while not q.empty(): q.get()`; returns the worker's pid
/// and what it read, in order.
std::pair<pid_t, std::vector<std::string>> read_until_empty(StrQueue q) {
    std::vector<std::string> got;
    while (!q.empty()) {
        got.push_back(q.get(std::chrono::seconds(10)));
    }
    return {::getpid(), got};
}

// ------------------------------------------------------------ 001-06 tasks

/// 001-05's write(q): puts 1, 2, 3.
pid_t write_numbers(IntQueue q) {
    for (int i : {1, 2, 3}) {
        q.put(i);
    }
    return ::getpid();
}

/// 001-05's read(q): get(block=False) until it raises Empty. Returns the
/// worker's pid, what it read and whether the loop ended on mp::Empty.
std::pair<pid_t, std::vector<std::string>> read_nowait(IntQueue q) {
    std::vector<std::string> got;
    for (;;) {
        try {
            got.push_back(std::to_string(q.get(false)));
        } catch (const mp::Empty&) {
            got.push_back("Empty");
            break;
        }
    }
    return {::getpid(), got};
}

}  // namespace

// ---------------------------------------------------------------- 000-08

TEST_CASE(
    "seed 000-08: a reader task gets the writer task's items in order through a "
    "manager Queue given to Pool.apply",
    "[managers][seed-000-08]") {
    auto q = mp::Manager().Queue<std::string>();  // q = Manager().Queue()
    mp::Pool pool(3);

    const pid_t writer = pool.apply(write_letters, q);
    REQUIRE(writer != ::getpid());  // the writer ran in a worker
    // What a worker put is in the parent's view of the queue too.
    REQUIRE(q.qsize() == 4);

    const auto [reader, got] = pool.apply(read_until_empty, q);
    REQUIRE(reader != ::getpid());  // the reader ran in a worker
    REQUIRE(got == std::vector<std::string>{"a", "b", "c", "d"});
    REQUIRE(q.empty());  // the reader took them all

    pool.close();
    pool.join();
}

TEST_CASE("seed 000-08: the manager Queue reaches workers started before the manager",
          "[managers][seed-000-08]") {
    mp::Pool pool(3);  // the workers do not inherit the manager's segment
    auto manager = mp::Manager();
    auto q = manager.Queue<std::string>();
    REQUIRE(pool.apply(write_letters, q) != ::getpid());
    REQUIRE(q.qsize() == 4);
    const auto [reader, got] = pool.apply(read_until_empty, q);
    REQUIRE(reader != ::getpid());
    REQUIRE(got == std::vector<std::string>{"a", "b", "c", "d"});
    REQUIRE(q.empty());
    pool.close();
    pool.join();
}

TEST_CASE("seed 000-08: the example prints the four writes, then the four reads in order",
          "[managers][seed-000-08]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_000_08_manager_queue_pool"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    REQUIRE(r.output ==
            "开始写入的值， a\n开始写入的值， b\n开始写入的值， c\n开始写入的值， d\n"
            "正在读取的值： a\n正在读取的值： b\n正在读取的值： c\n正在读取的值： d\n");
}

// ---------------------------------------------------------------- 001-06

TEST_CASE("seed 001-06: Pool(2).apply reader gets 1, 2, 3 then Empty from the writer task",
          "[managers][seed-001-06]") {
    auto q = mp::Manager().Queue<int>();
    mp::Pool pool(2);

    const pid_t writer = pool.apply(write_numbers, q);
    REQUIRE(writer != ::getpid());
    REQUIRE(q.qsize() == 3);

    const auto [reader, got] = pool.apply(read_nowait, q);
    REQUIRE(reader != ::getpid());
    REQUIRE(got == std::vector<std::string>{"1", "2", "3", "Empty"});
    REQUIRE(q.empty());
    REQUIRE_FALSE(q.full());

    pool.close();
    pool.join();
}

TEST_CASE(
    "seed 001-06: the example prints the writer's line, 1 2 3, the end, then the "
    "parent's line",
    "[managers][seed-001-06]") {
    const auto r = mp_test::run_program(mp_test::example_path("seed_001_06_pool_manager_queue"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    REQUIRE(r.output ==
            "写入消息完毕\n读取到消息： 1\n读取到消息： 2\n读取到消息： 3\n"
            "读取消息完毕\n执行主进程\n");
}

// ---------------------------------------------------------------- tutorials

TEST_CASE("manager tutorial: a child's dict and list changes are seen by the parent",
          "[managers][tutorial]") {
    const auto r = mp_test::run_program(mp_test::example_path("manager_dict_list"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    REQUIRE(r.output == "{1: '1', '2': 2, 0.25: None}\n[9, 8, 7, 6, 5, 4, 3, 2, 1, 0]\n");
}

TEST_CASE("manager tutorial: Pool tasks count under a manager Lock without losing increments",
          "[managers][tutorial]") {
    const auto r = mp_test::run_program(mp_test::example_path("manager_pool_lock"));
    INFO(r.output);
    REQUIRE(r.exit_status == 0);
    REQUIRE(r.output == "4000\n[(0, 1000), (1, 1000), (2, 1000), (3, 1000)]\n");
}
