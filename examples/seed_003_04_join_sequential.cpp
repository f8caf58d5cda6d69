// Seed 003-04 (seed 003, "1.3 join用法3"): start then join, one after another:
// the times add up (≈6 s).
//
// The Python original:
//
//     from multiprocessing import Process
//     import time
//     def foo(x):
//         print(f'process{x},start')
//         time.sleep(x)
//         print(f'process{x},end')
//
//     if __name__ == '__main__':
//         p1 = Process(target=foo,args=(1,))
//         p2 = Process(target=foo,args=(2,))
//         p3 = Process(target=foo,args=(3,))
//         start = time.time()
//         p1.start()
//         p1.join()
//         p2.start()
//         p2.join()
//         p3.start()
//         p3.join()
//         end = time.time()
//         print(end-start)
//         print('主进程结束')
//     #由于每一个进程都是在执行完后才会执行下一个进程，因此，时间是多余6s,创建子进程空间是需要时间的
//     process1,start
//     process1,end
//     process2,start
//     process2,end
//     process3,start
//     process3,end
//     6.339004039764404
//     主进程结束
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <thread>

namespace mp = multiprocessing;

void foo(int x) {
    std::cout << "process" << x << ",start" << std::endl;
    std::this_thread::sleep_for(std::chrono::seconds(x));
    std::cout << "process" << x << ",end" << std::endl;
}

int main() {
    mp::Process p1(foo, 1);
    mp::Process p2(foo, 2);
    mp::Process p3(foo, 3);
    const auto start = std::chrono::steady_clock::now();
    p1.start();
    p1.join();
    p2.start();
    p2.join();
    p3.start();
    p3.join();
    const auto end = std::chrono::steady_clock::now();
    std::cout << std::chrono::duration<double>(end - start).count() << std::endl;
    std::cout << "主进程结束" << std::endl;
}
// One after another: about 1 + 2 + 3 = 6 seconds.
// expect: process1,start
// expect: process1,end
// expect: process2,start
// expect: process2,end
// expect: process3,start
// expect: process3,end
// expect: 6\.[0-9]+
// expect: 主进程结束
