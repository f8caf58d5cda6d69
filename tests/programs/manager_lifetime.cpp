// Starts a Manager, uses a proxy, prints the manager's segment name and the
// pid of its /dev/shm watchdog, then ends the way argv[1] says: "normal"
// (return from main, the manager going out of scope), "leak" (a manager
// that is never destroyed, then return: the exit-time clean-up removes it),
// "crash" (SIGKILL itself while the manager runs).
#include <multiprocessing/detail/shm_tracker.hpp>
#include <multiprocessing/managers.hpp>

#include <csignal>
#include <cstdio>
#include <string>

namespace mp = multiprocessing;

// Never destroyed (a global, so that leak checkers see it as still reachable).
mp::SyncManager* g_leaked = nullptr;

int main(int argc, char** argv) {
    const std::string how = argc > 1 ? argv[1] : "normal";
    if (how == "leak") {
        g_leaked = new mp::SyncManager(mp::Manager());
    }
    auto manager = g_leaked != nullptr ? *g_leaked : mp::Manager();
    auto d = manager.dict<std::string, int>();
    d.set("x", 42);
    std::printf("name=%s watchdog=%d value=%d\n", manager.address().c_str(),
                static_cast<int>(mp::detail::shm_watchdog_pid()), d.at("x"));
    std::fflush(stdout);
    if (how == "crash") {
        std::raise(SIGKILL);
    }
    return 0;
}
