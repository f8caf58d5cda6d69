// main() returns while a daemon child is blocked forever: the program must
// terminate the daemon (Python's _exit_function) and end promptly.
#include <multiprocessing.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

namespace mp = multiprocessing;

namespace {

pid_t child_pid = 0;

// Destroyed after the library's exit handler (constructed before the first start()).
struct check_after_exit {
    ~check_after_exit() {
        const bool gone = ::kill(child_pid, 0) < 0 && errno == ESRCH;
        std::printf("after exit: daemon %s\n", gone ? "reaped" : "NOT reaped");
        std::fflush(stdout);
    }
};

}  // namespace

int main() {
    static check_after_exit checker;
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) < 0) {
        return 2;
    }
    mp::ProcessOptions options;
    options.daemon = true;
    mp::Process p(options, [&] {
        std::printf("daemon pid %d\n", static_cast<int>(::getpid()));
        std::fflush(stdout);
        const char c = 'r';
        (void)!::write(ready[1], &c, 1);
        for (;;) {
            ::pause();
        }
    });
    p.start();
    child_pid = *p.pid();
    char c;
    while (::read(ready[0], &c, 1) < 0 && errno == EINTR) {
    }
    std::printf("main returns\n");
    return 0;
}
