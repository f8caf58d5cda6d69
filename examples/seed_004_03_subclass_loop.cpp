// Seed 004-03 (seed 004, "自定义进程"): a Process subclass named in its constructor, looping
// forever in run().
//
// The Python original:
//
//     import time
//     from multiprocessing import Process
//
//
//     class MyProcess(Process):
//         def __init__(self, name):
//             # 先使用父类的初始化
//             super(MyProcess, self).__init__()
//             # 再传自己想要传的
//             self.name = name
//
//         # 实现进程 需要重写 run 方法
//         def run(self):
//             n = 1
//             while True:
//                 print('{}自定义进程 n:{}'.format(n, self.name), end='\n')
//                 n += 1
//                 time.sleep(1)
//
//
//     if __name__ == '__main__':
//         p1 = MyProcess("小明")
//         p1.start()
//         p2 = MyProcess("小红")
//         p2.start()
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>

namespace mp = multiprocessing;

class MyProcess : public mp::Process {
public:
    explicit MyProcess(std::string name)
        // 先使用父类的初始化
        : mp::Process() {
        // 再传自己想要传的
        set_name(std::move(name));
    }

    // 实现进程 需要重写 run 方法
    void run() override {
        int n = 1;
        while (true) {
            std::cout << n << "自定义进程 n:" << name() << '\n' << std::flush;
            n += 1;
            std::this_thread::sleep_for(std::chrono::seconds(1));
        }
    }
};

int main(int argc, char* argv[]) {
    MyProcess p1("小明");
    p1.start();
    MyProcess p2("小红");
    p2.start();

    // run() loops forever, as in Python. So that CTest can run this one, the
    // parent lets the children run a few seconds (argv[1], default 2.5),
    // then terminates them and joins them.
    const double seconds = argc > 1 ? std::stod(argv[1]) : 2.5;
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    p1.terminate();
    p2.terminate();
    p1.join();
    p2.join();
}
// The name given to the constructor is the one run() sees, in the child.
// ('{}自定义进程 n:{}'.format(n, self.name) puts the count first, as in Python.)
// expect: (1自定义进程 n:小明|1自定义进程 n:小红)
// expect: (2自定义进程 n:小明|2自定义进程 n:小红)
