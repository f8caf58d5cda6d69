// Seed 004-01 (seed 004, "多进程使用"): two named children looping forever, printing their pid and
// their parent's pid.
//
// The Python original:
//
//     import time
//     from multiprocessing import Process
//     import os
//
//     """
//     Process
//         target 传入可调用函数
//         args 传入可调用的函数的参数 可迭代的 列表、元组都可
//         name 为进程起名
//
//     p = Process(target= ,args= ,name= ,)
//     p.start()    启动子进程
//     p.run()      仅在当前进程启动任务
//     os.getppid() 打印当前父进程id
//     os.getpid()  打印当前进程id
//     """
//
//
//     def task1(s):
//         while True:
//             time.sleep(s)
//             print('这是任务1...', os.getpid(), '---', os.getppid())
//
//
//     def task2(s):
//         while True:
//             time.sleep(s)
//             print('这是任务2...', os.getpid(), '---', os.getppid())
//         # os.getppid() 打印父进程id
//
//
//     if __name__ == '__main__':
//         print(os.getpid())  # 打印进程id
//         # 创建子进程1
//         p1 = Process(target=task1, args=[1], name='任务1')
//         # 开启一个子进程
//         p1.start()
//         print(p1.name)
//         # 创建子进程2
//         p2 = Process(target=task2, args=(2,), name='任务2')
//         # 开启一个子的进程
//         p2.start()
//         print(p2.name)
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <unistd.h>

namespace mp = multiprocessing;

// Process
//     target 传入可调用函数                  -> the first argument (any callable)
//     args 传入可调用的函数的参数            -> the arguments after it
//     name 为进程起名                        -> mp::ProcessOptions::name
// p.start()    启动子进程
// p.run()      仅在当前进程启动任务
// getppid()    打印当前父进程id
// getpid()     打印当前进程id

void task1(int s) {
    while (true) {
        std::this_thread::sleep_for(std::chrono::seconds(s));
        std::cout << "这是任务1... " << getpid() << " --- " << getppid() << std::endl;
    }
}

void task2(int s) {
    while (true) {
        std::this_thread::sleep_for(std::chrono::seconds(s));
        std::cout << "这是任务2... " << getpid() << " --- " << getppid() << std::endl;
    }
    // getppid() 打印父进程id
}

int main(int argc, char* argv[]) {
    std::cout << getpid() << std::endl;  // 打印进程id
    // 创建子进程1
    mp::ProcessOptions name1;
    name1.name = "任务1";  // C++20: mp::Process p1({.name = "任务1"}, task1, 1);
    mp::Process p1(name1, task1, 1);
    // 开启一个子进程
    p1.start();
    std::cout << p1.name() << std::endl;
    // 创建子进程2
    mp::ProcessOptions name2;
    name2.name = "任务2";
    mp::Process p2(name2, task2, 2);
    // 开启一个子的进程
    p2.start();
    std::cout << p2.name() << std::endl;

    // The children loop forever, as in Python (where Ctrl-C stops them). So
    // that CTest can run this one, the parent lets them run a few seconds
    // (argv[1], default 3.5), then terminates them and joins them.
    const double seconds = argc > 1 ? std::stod(argv[1]) : 3.5;
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    p1.terminate();
    p2.terminate();
    p1.join();
    p2.join();
}
// Each child prints its own pid, then its parent's: the first line printed.
// expect: [0-9]+
// expect: 任务1
// expect: 任务2
// expect: 这是任务1\.\.\. [0-9]+ --- [0-9]+
// expect: 这是任务2\.\.\. [0-9]+ --- [0-9]+
