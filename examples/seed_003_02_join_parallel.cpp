// Seed 003-02 (seed 003, "1.2join用法2"): three children started, then joined:
// they run at once (≈3 s, not 6).
//
// The Python original:
//
//     from multiprocessing import Process
//     import time
//     def foo(x):
//         print('Process start')
//         time.sleep(x)
//         print('Process end')
//     if __name__ == '__main__':
//         p1 = Process(target=foo,args=(1,)) #进程传参的固定模式
//         p2 = Process(target=foo,args=(2,))
//         p3 = Process(target=foo,args=(3,))
//         start = time.time()
//         p1.start()
//         p2.start()
//         p3.start()
//         p1.join()
//         p2.join()
//         p3.join()
//         end = time.time()
//         print(end-start)
//         print('主进程')
//     #进程是同时开启的，不确定是哪一个先开启，并且创建子进程需要时间，因此是3秒多
//     Process start
//     Process start
//     Process start
//     Process end
//     Process end
//     Process end
//     3.136319160461426
//     主进程
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <thread>

namespace mp = multiprocessing;

void foo(int x) {
    std::cout << "Process start" << std::endl;
    std::this_thread::sleep_for(std::chrono::seconds(x));
    std::cout << "Process end" << std::endl;
}

int main() {
    mp::Process p1(foo, 1);  // 进程传参的固定模式
    mp::Process p2(foo, 2);
    mp::Process p3(foo, 3);
    const auto start = std::chrono::steady_clock::now();
    p1.start();
    p2.start();
    p3.start();
    p1.join();
    p2.join();
    p3.join();
    const auto end = std::chrono::steady_clock::now();
    std::cout << std::chrono::duration<double>(end - start).count() << std::endl;
    std::cout << "主进程" << std::endl;
}
// The three run at once: about 3 seconds (the longest), not 1 + 2 + 3 = 6.
// expect: Process start
// expect: Process start
// expect: Process start
// expect: Process end
// expect: Process end
// expect: Process end
// expect: 3\.[0-9]+
// expect: 主进程
