// The smallest program: start a child process and wait for it.
//
//     from multiprocessing import Process
//
//     def worker(n):
//         print("hello from the child", n)
//
//     if __name__ == "__main__":
//         p = Process(target=worker, args=(2,))
//         p.start()
//         p.join()
//         print("child exit code", p.exitcode)
#include <multiprocessing.hpp>

#include <iostream>

namespace mp = multiprocessing;

void worker(int n) {
    std::cout << "hello from the child " << n << std::endl;
}

int main() {
    mp::Process p(worker, 2);
    p.start();
    p.join();
    std::cout << "child exit code " << p.exitcode().value() << std::endl;
}
// expect: hello from the child 2
// expect: child exit code 0
