// Creates a SharedMemory segment, prints its name and its watchdog's pid,
// then ends the way argv[1] says: "normal" (return from main), "crash"
// (SIGKILL itself), "keep" (a segment made with track = false, then return).
#include <multiprocessing/detail/shm_tracker.hpp>
#include <multiprocessing/shared_memory.hpp>

#include <csignal>
#include <cstdio>
#include <string>

namespace mp = multiprocessing;

int main(int argc, char** argv) {
    const std::string how = argc > 1 ? argv[1] : "normal";
    mp::SharedMemoryOptions o;
    o.create = true;
    o.size = 4096;
    o.track = how != "keep";
    mp::SharedMemory shm(o);
    shm.buf()[0] = 42;
    std::printf("name=%s watchdog=%d\n", shm.name().c_str(),
                static_cast<int>(mp::detail::shm_watchdog_pid()));
    std::fflush(stdout);
    if (how == "crash") {
        std::raise(SIGKILL);
    }
    return 0;
}
