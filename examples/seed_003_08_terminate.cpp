// Seed 003-08 (seed 003, "五、杀死进程terminate()"): terminate() then join(): the child is dead,
// its exit code -SIGTERM.
//
// The Python original:
//
//
//     from multiprocessing import Process
//     import time
//     def foo():
//         print('process start')
//         time.sleep(10)
//         print('process end')
//     if __name__ == '__main__':
//         p = Process(target=foo)
//         p.start()
//         p.terminate()#给操作系统发送一个请求，杀死进程的请求
//         print(p.is_alive())
//         p.join()
//         print(p.is_alive())
//         print('主进程')
//     ###############
//     True
//     False
//     主进程
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <thread>

namespace mp = multiprocessing;

void foo() {
    std::cout << "process start" << std::endl;
    std::this_thread::sleep_for(std::chrono::seconds(10));
    std::cout << "process end" << std::endl;
}

const char* py_bool(bool b) {
    return b ? "True" : "False";
}

int main() {
    mp::Process p(foo);
    p.start();
    p.terminate();  // 给操作系统发送一个请求，杀死进程的请求
    // Usually True: the signal is sent, the child has not died yet.
    std::cout << py_bool(p.is_alive()) << std::endl;
    p.join();
    std::cout << py_bool(p.is_alive()) << std::endl;
    // Not in the original: the exit code says which signal ended the child.
    std::cout << "p.exitcode: " << p.exitcode().value() << std::endl;
    std::cout << "主进程" << std::endl;
}
// expect: False
// expect: p.exitcode: -15
// expect: 主进程
