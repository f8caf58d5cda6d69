// Seed 003-06 (seed 003, "三，查询进程名name"): default names Process-1, Process-2, a custom name,
// and current_process().name() in the child.
//
// The Python original:
//
//     from multiprocessing import Process,current_process
//     import time
//     def foo():
//         print('process start')
//         print('子进程的名字',current_process().name)
//         time.sleep(2)
//         print('process end')
//     if __name__ == '__main__':
//         p = Process(target=foo)
//         p2 = Process(target=foo)
//         p3 = Process(target=foo,name='ocean')
//
//         p.start()
//         p2.start()
//         p3.start()
//         print(p.name)
//         print(p2.name)
//         print(p3.name)
//         print('主进程')
//     ################
//     Process-1
//     Process-2
//     ocean
//     主进程
//     process start
//     子进程的名字 Process-1
//     process start
//     子进程的名字 Process-2
//     process start
//     子进程的名字 ocean
//     process end
//     process end
//     process end
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <thread>

namespace mp = multiprocessing;

void foo() {
    std::cout << "process start" << std::endl;
    std::cout << "子进程的名字 " << mp::current_process().name() << std::endl;
    std::this_thread::sleep_for(std::chrono::seconds(2));
    std::cout << "process end" << std::endl;
}

int main() {
    mp::Process p(foo);
    mp::Process p2(foo);
    mp::ProcessOptions ocean;
    ocean.name = "ocean";  // C++20: mp::Process p3({.name = "ocean"}, foo);
    mp::Process p3(ocean, foo);

    p.start();
    p2.start();
    p3.start();
    std::cout << p.name() << std::endl;
    std::cout << p2.name() << std::endl;
    std::cout << p3.name() << std::endl;
    std::cout << "主进程" << std::endl;
}
// Python joins non-daemon children when the main module ends; so does
// returning from main(). The children's lines may come between the parent's.
// expect: Process-1
// expect: Process-2
// expect: ocean
// expect: 主进程
// expect: process end
