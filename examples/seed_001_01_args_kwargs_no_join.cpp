// Seed 001-01: positional and keyword arguments, no join(). The child prints
// its arguments; the parent does not wait, so its "执行主进程" may come first.
// (The original's `print('kwargs:', kwar` line is cut short; it prints kwargs.)
//
//     from multiprocessing import Process
//     from time import sleep
//
//     def run_demo(name, age, **kwargs):
//         print('子进程执行中，参数 name：%s, age：%d' % (name, age))
//         print('kwargs:', kwar
//         sleep(0.5)
//
//
//     if __name__=='__main__':
//         # 创建子进程 target接收子进程执行的任务
//         p = Process(target=run_demo, args=('kurong', 18), kwargs={'abc': 123})
//         # 调用子进程
//         p.start()
//         print('执行主进程')
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <map>
#include <string>
#include <thread>

namespace mp = multiprocessing;

// Prints a dict the way Python does: {'abc': 123}
std::string dict_repr(const std::map<std::string, int>& d) {
    std::string s = "{";
    for (const auto& [k, v] : d) {
        s += (s.size() > 1 ? ", '" : "'") + k + "': " + std::to_string(v);
    }
    return s + "}";
}

void run_demo(const std::string& name, int age, const std::map<std::string, int>& kwargs) {
    std::cout << "子进程执行中，参数 name：" << name << ", age：" << age << std::endl;
    std::cout << "kwargs: " << dict_repr(kwargs) << std::endl;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
}

int main() {
    // 创建子进程 target接收子进程执行的任务
    mp::Process p(run_demo, std::string("kurong"), 18, std::map<std::string, int>{{"abc", 123}});
    // 调用子进程
    p.start();
    std::cout << "执行主进程" << std::endl;
}
// expect: 子进程执行中，参数 name：kurong, age：18
// expect: kwargs: \{'abc': 123\}
