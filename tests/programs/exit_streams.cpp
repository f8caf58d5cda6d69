// Standard streams are flushed before fork() and before a child leaves, and
// the child leaves with _exit(): the parent's atexit handlers and static
// destructors run once, buffered text is printed once. stdout is a pipe when
// the test runs this, so it is fully buffered.
#include <multiprocessing.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <unistd.h>

namespace mp = multiprocessing;

namespace {

struct static_object {
    ~static_object() { std::printf("static destructor ran in %d\n", static_cast<int>(::getpid())); }
};
static_object the_static;

void at_exit() {
    std::printf("atexit handler ran in %d\n", static_cast<int>(::getpid()));
}

}  // namespace

int main() {
    std::atexit(at_exit);
    std::printf("parent %d buffered before fork;", static_cast<int>(::getpid()));
    std::cout << " cout too;";
    mp::Process p([] {
        std::printf("child %d unflushed;", static_cast<int>(::getpid()));
        std::cout << " child cout unflushed;";
    });
    p.start();
    p.join();
    std::printf("\nchild exit code %d\n", *p.exitcode());
    return 0;
}
