// Run by tests/unit/test_seeds_000_002.cpp ([seed-000-02]): main() returns
// without joining its child, which prints only after main() has returned.
// The program must join the child at exit, before static objects are
// destroyed: "child done" comes before "parent exited". (The child's short
// sleep is its work after main() returned; the order holds whatever its length,
// it only makes a program that forgot to join print in the wrong order.)
#include <multiprocessing.hpp>

#include <chrono>
#include <fcntl.h>
#include <iostream>
#include <thread>
#include <unistd.h>

namespace mp = multiprocessing;

namespace {

// Constructed before main(), so destroyed after the library's exit handler.
struct announce_exit {
    ~announce_exit() { std::cout << "parent exited" << std::endl; }
} announce;

int release[2] = {-1, -1};

}  // namespace

int main() {
    if (::pipe2(release, O_CLOEXEC) < 0) {
        return 2;
    }
    mp::Process p([] {
        ::close(release[1]);  // EOF comes once the parent closes its end too
        char c;
        while (::read(release[0], &c, 1) > 0) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        std::cout << "child done" << std::endl;
    });
    p.start();
    std::cout << "main returns" << std::endl;
    ::close(release[1]);
    return 0;
}
