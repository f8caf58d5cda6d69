// A consumer of the installed package: start one child, join it.
#include <multiprocessing.hpp>

#include <iostream>

namespace mp = multiprocessing;

void worker(int code) {
    mp::sys_exit(code);
}

int main() {
    mp::Process p(worker, 7);
    p.start();
    p.join();
    std::cout << "consumer ok: child exit code " << p.exitcode().value_or(-1) << '\n';
    return p.exitcode() == 7 ? 0 : 1;
}
