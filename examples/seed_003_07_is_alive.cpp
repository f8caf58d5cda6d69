// Seed 003-07 (seed 003, "四、判断进程的生死is_alive()"): is_alive() is true while the child runs,
// false once it ended.
//
// The Python original:
//
//
//     from multiprocessing import Process
//     import time
//     def foo():
//         print('process start')
//         time.sleep(2)
//         print('process end')
//     if __name__ == '__main__':
//         p = Process(target=foo)
//         p.start()
//         print(p.is_alive())#True,进程开启，进程或者
//         time.sleep(5)
//         print(p.is_alive())#False 代码运行完毕，进程死亡（系统判定，实际情况在具体分析）
//         print('主进程')
//
//
//     ##############
//     True
//     process start
//     process end
//     False
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

const char* py_bool(bool b) {
    return b ? "True" : "False";
}

int main() {
    mp::Process p(foo);
    p.start();
    std::cout << py_bool(p.is_alive()) << std::endl;  // True,进程开启，进程或者
    std::this_thread::sleep_for(std::chrono::seconds(5));
    // False 代码运行完毕，进程死亡（系统判定，实际情况在具体分析）
    std::cout << py_bool(p.is_alive()) << std::endl;
    std::cout << "主进程" << std::endl;
}
// expect: True
// expect: process end
// expect: False
// expect: 主进程
