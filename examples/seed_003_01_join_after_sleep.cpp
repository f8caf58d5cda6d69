// Seed 003-01 (seed 003, "1.1 jion用法1"): join() on a child that has already ended returns at
// once.
//
// The Python original:
//
//     from multiprocessing import Process
//
//     import time
//
//     def foo():
//         print('process start')
//         time.sleep(2)
//         print('process end')
//
//     if __name__ == '__main__':
//         p = Process(target=foo) #创建子进程
//         p.start()#给操作系统发指令，开启子进程
//         time.sleep(5)
//         p.join()#阻塞住主进程再等待子进程结束，然后再往下执行，（了解的是：内部会待用wait（））
//         print('主进程')
//
//
//     #
//     process start
//     process end
//     主进程
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <thread>

namespace mp = multiprocessing;

void foo() {
    std::cout << "process start" << std::endl;
    std::this_thread::sleep_for(std::chrono::seconds(2));
    std::cout << "process end" << std::endl;
}

int main() {
    mp::Process p(foo);  // 创建子进程
    p.start();           // 给操作系统发指令，开启子进程
    std::this_thread::sleep_for(std::chrono::seconds(5));
    // 阻塞住主进程再等待子进程结束，然后再往下执行 (here the child has ended
    // already: join() reaps it and returns at once)
    p.join();
    std::cout << "主进程" << std::endl;
}
// expect: process start
// expect: process end
// expect: 主进程
