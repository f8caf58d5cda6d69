// An exception escaping a child's target is reported on stderr with the
// process name and gives exit code 1; sys_exit("message") prints the message.
#include <multiprocessing.hpp>

#include <iostream>
#include <stdexcept>

namespace mp = multiprocessing;

int main() {
    mp::Process p([] { throw std::runtime_error("boom"); });
    p.start();
    p.join();
    std::cout << "exit code " << *p.exitcode() << std::endl;
    mp::Process q([] { mp::sys_exit("leaving with a message"); });
    q.start();
    q.join();
    std::cout << "exit code " << *q.exitcode() << std::endl;
    return 0;
}
