// Seed 003-05 (seed 003, "二、查询进程的pid"): the child's pid seen from both sides, and its
// parent's pid.
//
// The Python original:
//
//     from multiprocessing import Process,current_process
//     import os
//     import time
//
//     def task():
//         print('子进程 start')
//         print('在子进程中查询自己的pid>',current_process().pid)
//         print('在子进程中查询父进程的pid>',os.getppid())
//         time.sleep(200)
//         print('子进程end')
//     if __name__ == '__main__':
//         p = Process(target=task)
//         p.start()
//         print('在主进程中查看子进程的pid>',p.pid)#一定要写在start之后，在给操作系统发送开启子进程之后
//         print('主进程的pid>',os.getpid())
//         print('主进程的父进程的pid>',os.getppid())
//         print('主进程')
//
//     ###
//     在主进程中查看子进程的pid> 11112
//     主进程的pid> 7320
//     主进程的父进程的pid> 2464
//     主进程
//     子进程 start
//     在子进程中查询自己的pid> 11112
//     在子进程中查询父进程的pid> 7320
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <unistd.h>

namespace mp = multiprocessing;

void task() {
    std::cout << "子进程 start" << std::endl;
    std::cout << "在子进程中查询自己的pid> " << mp::current_process().pid().value() << std::endl;
    std::cout << "在子进程中查询父进程的pid> " << getppid() << std::endl;
    std::this_thread::sleep_for(std::chrono::seconds(200));
    std::cout << "子进程end" << std::endl;
}

int main(int argc, char* argv[]) {
    mp::Process p(task);
    p.start();
    // 一定要写在start之后，在给操作系统发送开启子进程之后 (before start(), p.pid() is empty)
    std::cout << "在主进程中查看子进程的pid> " << p.pid().value() << std::endl;
    std::cout << "主进程的pid> " << getpid() << std::endl;
    std::cout << "主进程的父进程的pid> " << getppid() << std::endl;
    std::cout << "主进程" << std::endl;

    // Python's program now waits for the child's 200 s sleep. So that CTest
    // can run this one, the parent gives the child a few seconds (argv[1],
    // default 3), then terminates it: "子进程end" is never printed.
    const double seconds = argc > 1 ? std::stod(argv[1]) : 3.0;
    p.join(std::chrono::duration<double>(seconds));
    p.terminate();
    p.join();
}
// The child's own pid is the p.pid the parent printed; its parent's pid is
// the parent's getpid(). (The parent's and the child's lines may interleave.)
// expect: 子进程 start
// expect: 在子进程中查询自己的pid> [0-9]+
// expect: 在子进程中查询父进程的pid> [0-9]+
