// Tests for multiprocessing/process.hpp.
#include "support/catch.hpp"
#include <multiprocessing/process.hpp>

namespace mp = multiprocessing;

TEST_CASE("a started child runs its target and its exit code is seen", "[process]") {
    mp::Process p([](int code) { mp::sys_exit(code); }, 5);
    p.start();
    p.join();
    REQUIRE(p.exitcode() == 5);
}
