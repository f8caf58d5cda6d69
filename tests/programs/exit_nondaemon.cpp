// main() returns while a non-daemon child still runs: the program must wait
// for the child (Python's _exit_function joins it) before it ends.
//
// Order of events, proved by the output:
//   "main returned"            a static destroyed before the library's exit handler
//   "child: final line"        the child, released only after main returned
//   "after exit: child reaped" a static destroyed after the exit handler
#include <multiprocessing.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

namespace mp = multiprocessing;

namespace {

int release_fds[2] = {-1, -1};
pid_t child_pid = 0;

// Destroyed after the library's exit handler (constructed before the first start()).
struct check_after_exit {
    ~check_after_exit() {
        const bool gone = ::kill(child_pid, 0) < 0 && errno == ESRCH;
        std::printf("after exit: child %s\n", gone ? "reaped" : "NOT reaped");
        std::fflush(stdout);
    }
};

// Destroyed before the library's exit handler (constructed after the first start()).
struct release_on_exit {
    ~release_on_exit() {
        std::printf("main returned\n");
        std::fflush(stdout);
        const char c = 'x';
        (void)!::write(release_fds[1], &c, 1);
    }
};

void worker() {
    char c;
    while (::read(release_fds[0], &c, 1) < 0 && errno == EINTR) {
    }
    std::printf("child: final line\n");
}

}  // namespace

int main() {
    static check_after_exit checker;
    if (::pipe2(release_fds, O_CLOEXEC) < 0) {
        return 2;
    }
    {
        mp::Process p(worker);  // destroyed before main returns: the child must survive it
        p.start();
        child_pid = *p.pid();
    }
    static release_on_exit releaser;
    std::printf("main returns with child %d running\n", static_cast<int>(child_pid));
    return 0;
}
