// Seed 000-03: three processes started, then joined. They sleep at the same
// time, so the whole takes about 4 s (the longest sleep), not 4+3+2 = 9 s;
// p1's default name is "Process-1".
//
//     from time import sleep
//     from multiprocessing import Process
//
//     def work1(interval):
//         print("work1 start")
//         sleep(interval)
//         print("end work1")
//
//     def work2(interval):
//         print("work2 start")
//         sleep(interval)
//         print("end work2")
//
//     def work3(interval):
//         print("work3 start")
//         sleep(interval)
//         print("end work3")
//
//     if __name__ == '__main__':
//         print("主进程开始运行")
//         p1 = Process(target=work1,args=(4,))
//         p2 = Process(target=work2, args=(3,))
//         p3 = Process(target=work3, args=(2,))
//         p1.start()
//         p2.start()
//         p3.start()
//         p1.join()
//         p2.join()
//         p3.join()
//         print("p1.name",p1.name)
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <thread>

namespace mp = multiprocessing;

void work1(int interval) {
    std::cout << "work1 start" << std::endl;
    std::this_thread::sleep_for(std::chrono::seconds(interval));
    std::cout << "end work1" << std::endl;
}

void work2(int interval) {
    std::cout << "work2 start" << std::endl;
    std::this_thread::sleep_for(std::chrono::seconds(interval));
    std::cout << "end work2" << std::endl;
}

void work3(int interval) {
    std::cout << "work3 start" << std::endl;
    std::this_thread::sleep_for(std::chrono::seconds(interval));
    std::cout << "end work3" << std::endl;
}

int main() {
    std::cout << "主进程开始运行" << std::endl;
    mp::Process p1(work1, 4);
    mp::Process p2(work2, 3);
    mp::Process p3(work3, 2);
    p1.start();
    p2.start();
    p3.start();
    p1.join();
    p2.join();
    p3.join();
    std::cout << "p1.name " << p1.name() << std::endl;
}
// expect: 主进程开始运行
// expect: end work3
// expect: end work2
// expect: end work1
// expect: p1.name Process-1
