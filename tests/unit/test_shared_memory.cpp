// Tests for multiprocessing/shared_memory.hpp.
#include "support/catch.hpp"
#include "support/helpers.hpp"
#include <multiprocessing/detail/shm_tracker.hpp>
#include <multiprocessing/process.hpp>
#include <multiprocessing/shared_memory.hpp>

#include <chrono>
#include <cstdlib>
#include <poll.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace mp = multiprocessing;
using namespace std::chrono_literals;

namespace {

using mp_test::join_bounded;

bool in_dev_shm(const std::string& name) {
    return ::access(("/dev/shm/" + name).c_str(), F_OK) == 0;
}

/// Waits (bounded) until process `pid` has ended; true if it did.
bool wait_gone(pid_t pid, std::chrono::milliseconds limit = 60s) {
    const int fd = mp::detail::pidfd_open(pid);
    if (fd < 0) {
        return errno == ESRCH;
    }
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(limit.count()));
    ::close(fd);
    return r == 1;
}

/// "name=psm_x watchdog=123" -> {"psm_x", 123}
std::pair<std::string, pid_t> parse(const std::string& out) {
    const auto n = out.find("name=");
    const auto w = out.find(" watchdog=");
    if (n == std::string::npos || w == std::string::npos) {
        return {"", 0};
    }
    return {out.substr(n + 5, w - n - 5), static_cast<pid_t>(std::atoi(out.c_str() + w + 10))};
}

}  // namespace

TEST_CASE("SharedMemory: create, attach by name from another process, close, unlink",
          "[shared_memory]") {
    mp::SharedMemory shm(std::nullopt, true, 100);
    REQUIRE(shm.name().rfind("psm_", 0) == 0);
    REQUIRE(shm.size() == 100);
    REQUIRE(in_dev_shm(shm.name()));
    struct stat st {};
    REQUIRE(::stat(("/dev/shm/" + shm.name()).c_str(), &st) == 0);
    REQUIRE((st.st_mode & 0777) == 0600);
    shm.buf()[0] = 7;
    REQUIRE(shm.repr() == "SharedMemory('" + shm.name() + "', size=100)");

    const std::string name = shm.name();
    mp::Process child([name] {
        mp::SharedMemory other(name);  // attach: not an owner
        if (other.size() != 100 || other.buf()[0] != 7) {
            mp::sys_exit(2);
        }
        other.buf()[1] = 8;
        other.close();
    });
    child.start();
    REQUIRE(join_bounded(child) == 0);
    REQUIRE(shm.buf()[1] == 8);
    REQUIRE(in_dev_shm(name));  // the attacher's end removed nothing

    shm.close();
    shm.close();  // idempotent
    REQUIRE_THROWS_AS(shm.buf(), std::invalid_argument);
    shm.unlink();
    REQUIRE_FALSE(in_dev_shm(name));
    REQUIRE_THROWS_AS(shm.unlink(), std::system_error);
}

TEST_CASE("SharedMemory: Python's errors", "[shared_memory]") {
    REQUIRE_THROWS_AS(mp::SharedMemory(std::nullopt, false), std::invalid_argument);
    REQUIRE_THROWS_AS(mp::SharedMemory(std::nullopt, true, 0), std::invalid_argument);
    const std::string name = "mp_test_" + std::to_string(::getpid()) + "_missing";
    try {
        mp::SharedMemory missing(name);
        FAIL("attached to a missing segment");
    } catch (const std::system_error& e) {
        REQUIRE(e.code().value() == ENOENT);  // Python: FileNotFoundError
    }
    mp::SharedMemory a(name, true, 10);
    try {
        mp::SharedMemory again(name, true, 10);
        FAIL("created an existing segment");
    } catch (const std::system_error& e) {
        REQUIRE(e.code().value() == EEXIST);  // Python: FileExistsError
    }
    REQUIRE_THROWS_AS(mp::SharedMemory("a/b", true, 10), std::invalid_argument);
    a.unlink();
}

TEST_CASE("SharedMemory: a segment made in a child is removed when the child ends",
          "[shared_memory]") {
    mp_test::report_pipe report;
    mp::Process child([&report] {
        mp::SharedMemory shm(std::nullopt, true, 64);
        report.write_line(shm.name() + " " + std::to_string(mp::detail::shm_watchdog_pid()));
        // mp children leave with _exit(): the watchdog does the clean-up.
    });
    child.start();
    auto line = report.read_line(60s);
    REQUIRE(line.has_value());
    REQUIRE(join_bounded(child) == 0);
    const auto sp = line->find(' ');
    const std::string name = line->substr(0, sp);
    const auto watchdog = static_cast<pid_t>(std::atoi(line->c_str() + sp + 1));
    REQUIRE(watchdog > 0);
    REQUIRE(wait_gone(watchdog));
    REQUIRE_FALSE(in_dev_shm(name));
}

TEST_CASE("SharedMemory: no /dev/shm entry is left after the creating program ends normally",
          "[shared_memory]") {
    const auto r = mp_test::run_program(mp_test::program_path("shm_lifetime"), {"normal"});
    REQUIRE(r.exit_status == 0);
    const auto [name, watchdog] = parse(r.output);
    REQUIRE_FALSE(name.empty());
    REQUIRE_FALSE(in_dev_shm(name));  // unlinked at exit, before the program ended
    REQUIRE(wait_gone(watchdog));
}

TEST_CASE("SharedMemory: no /dev/shm entry is left after the creating program is killed",
          "[shared_memory][crash]") {
    const auto r = mp_test::run_program(mp_test::program_path("shm_lifetime"), {"crash"});
    REQUIRE(r.exit_status == -SIGKILL);
    const auto [name, watchdog] = parse(r.output);
    REQUIRE_FALSE(name.empty());
    REQUIRE(watchdog > 0);
    REQUIRE(wait_gone(watchdog));
    REQUIRE_FALSE(in_dev_shm(name));
}

TEST_CASE("SharedMemory: track = false keeps the segment after the program ends",
          "[shared_memory]") {
    const auto r = mp_test::run_program(mp_test::program_path("shm_lifetime"), {"keep"});
    REQUIRE(r.exit_status == 0);
    const auto [name, watchdog] = parse(r.output);
    REQUIRE_FALSE(name.empty());
    REQUIRE(watchdog == 0);  // nothing tracked: no watchdog started
    REQUIRE(in_dev_shm(name));
    mp::SharedMemory kept(name);
    REQUIRE(kept.buf()[0] == 42);
    kept.unlink();  // an explicit unlink from any process removes it
    REQUIRE_FALSE(in_dev_shm(name));
}

TEST_CASE("ShareableList: items, assignment rules and errors", "[shared_memory]") {
    mp::ShareableList sl{std::int64_t{1}, 2.5, true, std::string("howdy"), mp::None, -7};
    REQUIRE(sl.size() == 6);
    REQUIRE(sl.format() == "qdxxxxxxx?8sxxxxxx?xq");
    REQUIRE(std::get<std::int64_t>(sl[0]) == 1);
    REQUIRE(std::get<double>(sl[1]) == 2.5);
    REQUIRE(std::get<bool>(sl[2]) == true);
    REQUIRE(std::get<std::string>(sl[3]) == "howdy");
    REQUIRE(std::holds_alternative<mp::NoneType>(sl[4]));
    REQUIRE(std::get<std::int64_t>(sl[-1]) == -7);
    REQUIRE_THROWS_AS(sl[6], std::out_of_range);
    REQUIRE_THROWS_AS(sl[-7], std::out_of_range);

    sl.set(0, 3.25);  // an int slot may take a float, as in Python
    REQUIRE(std::get<double>(sl[0]) == 3.25);
    sl.set(3, std::string("1234567"));  // fits the 8 bytes of "howdy"
    REQUIRE(std::get<std::string>(sl[3]) == "1234567");
    REQUIRE_THROWS_AS(sl.set(3, std::string("123456789")), std::invalid_argument);
    REQUIRE_THROWS_AS(sl.set(9, std::int64_t{1}), std::out_of_range);
    REQUIRE(sl.count(std::int64_t{-7}) == 1);
    REQUIRE(sl.index(mp::None) == 4);
    REQUIRE_THROWS_AS(sl.index(std::string("absent")), std::invalid_argument);

    // Another process attaches by name and changes an item.
    const std::string name = sl.shm().name();
    mp::Process child([name] {
        auto other = mp::ShareableList::attach(name);
        if (std::get<bool>(other[2]) != true) {
            mp::sys_exit(2);
        }
        other.set(2, false);
    });
    child.start();
    REQUIRE(join_bounded(child) == 0);
    REQUIRE(std::get<bool>(sl[2]) == false);
    sl.shm().close();
    sl.shm().unlink();
}

TEST_CASE("ShareableList: the layout is Python's (Python reads what C++ wrote)",
          "[shared_memory]") {
    if (std::system("python3 -c 'import multiprocessing.shared_memory' >/dev/null 2>&1") != 0) {
        SUCCEED("python3 not available");
        return;
    }
    mp::ShareableList sl{std::int64_t{42}, 1.5, false, std::string("hi"), mp::None};
    const std::string name = sl.shm().name();
    const std::string py =
        "python3 -c \"import sys\n"
        "from multiprocessing import shared_memory, resource_tracker\n"
        "sl = shared_memory.ShareableList(name='" +
        name +
        "')\n"
        "resource_tracker.unregister(sl.shm._name, 'shared_memory')\n"
        "ok = list(sl) == [42, 1.5, False, 'hi', None]\n"
        "sl[0] = 7; sl[3] = 'yo'\n"
        "sys.exit(0 if ok else 3)\"";
    REQUIRE(std::system(py.c_str()) == 0);
    REQUIRE(std::get<std::int64_t>(sl[0]) == 7);
    REQUIRE(std::get<std::string>(sl[3]) == "yo");
    sl.shm().unlink();
}
