// Seed 004-02 (seed 004, "多进程使用, second block"): globals changed in two looping children: each
// counts on its own copy.
//
// The Python original:
//
//     import time
//     from multiprocessing import Process
//
//     """
//     多进程对于全局变量的访问，在每一个全局变量里都会放进程之间独立的变量
//     保证每个进程访问互不干扰
//     """
//     m = 0
//     list = []
//
//
//     def task1(s):
//         global m
//         while True:
//             time.sleep(s)
//             m += 1
//             list.append("task1")
//             print(m, list)
//
//
//     def task2(s):
//         global m
//         while True:
//             time.sleep(s)
//             m += 1
//             list.append("task2")
//             print(m, list)
//
//
//     if __name__ == '__main__':
//         p1 = Process(target=task1, args=[1])
//         p1.start()
//         p2 = Process(target=task2, args=(2,))
//         p2.start()
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace mp = multiprocessing;

// 多进程对于全局变量的访问，在每一个全局变量里都会放进程之间独立的变量
// 保证每个进程访问互不干扰
int m = 0;
std::vector<std::string> list;

// print(m, list): Python's list repr, ['task1', 'task1']
void print_m_list() {
    std::cout << m << " [";
    for (std::size_t i = 0; i < list.size(); ++i) {
        std::cout << (i ? ", " : "") << "'" << list[i] << "'";
    }
    std::cout << "]" << std::endl;
}

void task1(int s) {
    while (true) {
        std::this_thread::sleep_for(std::chrono::seconds(s));
        m += 1;
        list.push_back("task1");
        print_m_list();
    }
}

void task2(int s) {
    while (true) {
        std::this_thread::sleep_for(std::chrono::seconds(s));
        m += 1;
        list.push_back("task2");
        print_m_list();
    }
}

int main(int argc, char* argv[]) {
    mp::Process p1(task1, 1);
    p1.start();
    mp::Process p2(task2, 2);
    p2.start();

    // The children loop forever, as in Python. So that CTest can run this
    // one, the parent lets them run a few seconds (argv[1], default 3.5),
    // then terminates them and joins them.
    const double seconds = argc > 1 ? std::stod(argv[1]) : 3.5;
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    p1.terminate();
    p2.terminate();
    p1.join();
    p2.join();
    // Not in the original: the parent's own m and list were never touched.
    print_m_list();
}
// Each child counts on its own copy: task2's first line is 1 ['task2'],
// although task1 has counted by then; the parent's copy is still 0 [].
// expect: 1 \['task1'\]
// expect: 1 \['task2'\]

// expect: 0 \[\]
