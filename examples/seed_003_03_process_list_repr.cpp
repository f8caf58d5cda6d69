// Seed 003-03 (seed 003, "join用法2，优化"): a list of started processes, printed with their repr.
//
// The Python original:
//
//
//     from multiprocessing import Process
//
//     import time
//     def foo(x):
//         print(f'process{x},start')
//         time.sleep(x)
//         print(f'process{x},end')
//     if __name__ == '__main__':
//         strart = time.time()
//         p_list = []
//         for i in range(1,4):
//             p=Process(target=foo,args=(i,))
//             p.start()
//             p_list.append(p)
//         print(p_list)
//         for p in p_list:
//             p.join()
//         end = time.time()
//         print(end-strart)
//         print('主进程')
//
//        #
//     [<Process(Process-1, started)>, <Process(Process-2, started)>, <Process(Process-3, started)>]
//     process1,start
//     process2,start
//     process3,start
//     process1,end
//     process2,end
//     process3,end
//     3.1335043907165527
//     主进程
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

namespace mp = multiprocessing;

void foo(int x) {
    std::cout << "process" << x << ",start" << std::endl;
    std::this_thread::sleep_for(std::chrono::seconds(x));
    std::cout << "process" << x << ",end" << std::endl;
}

int main() {
    const auto strart = std::chrono::steady_clock::now();
    std::vector<mp::Process> p_list;
    for (int i = 1; i < 4; ++i) {
        mp::Process p(foo, i);
        p.start();
        p_list.push_back(std::move(p));
    }
    // print(p_list): Python 3.11's repr, <Process name='Process-1' pid=... parent=... started>
    std::cout << '[';
    for (std::size_t i = 0; i < p_list.size(); ++i) {
        std::cout << (i ? ", " : "") << p_list[i];
    }
    std::cout << ']' << std::endl;
    for (auto& p : p_list) {
        p.join();
    }
    const auto end = std::chrono::steady_clock::now();
    std::cout << std::chrono::duration<double>(end - strart).count() << std::endl;
    std::cout << "主进程" << std::endl;
}
// clang-format off
// expect: \[<Process name='Process-1' pid=[0-9]+ parent=[0-9]+ started>, <Process name='Process-2' pid=[0-9]+ parent=[0-9]+ started>, <Process name='Process-3' pid=[0-9]+ parent=[0-9]+ started>\]
// clang-format on
// expect: process3,end
// expect: 3\.[0-9]+
// expect: 主进程
