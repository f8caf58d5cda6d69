// Seed 000-01: Process(target, args), start() and join(): the parent waits
// for the child, so "主进程执行完" comes after both of the child's lines.
//
//     from multiprocessing   import Process
//     from time import sleep
//
//     def worker(interval):
//         print("work start")
//         sleep(interval)
//         print("work end")
//
//     if __name__ == '__main__':
//
//         print("主进程正在运行")
//         p = Process(target=worker,args=(2,))
//         p.start( )
//
//         #希望下面的语句，在进程执行完才输出
//         #sleep(5)
//         #调用join方法，主进程等待调用join的子进程结束
//         p.join()
//         print("主进程执行完")
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <thread>

namespace mp = multiprocessing;

void worker(int interval) {
    std::cout << "work start" << std::endl;
    std::this_thread::sleep_for(std::chrono::seconds(interval));
    std::cout << "work end" << std::endl;
}

int main() {
    std::cout << "主进程正在运行" << std::endl;
    mp::Process p(worker, 2);  // Process(target=worker, args=(2,))
    p.start();

    // 希望下面的语句，在进程执行完才输出
    // 调用join方法，主进程等待调用join的子进程结束
    p.join();
    std::cout << "主进程执行完" << std::endl;
}
// expect: 主进程正在运行
// expect: work start
// expect: work end
// expect: 主进程执行完
