// Seed 003-09 (seed 003, "六、通过继承Process类开启进程"): a Process subclass taking its name in
// its constructor; each child prints its pid and name.
//
// The Python original:
//
//
//     import os
//     from multiprocessing import Process
//
//
//     class MyProcess(Process):
//         def __init__(self,name):
//             # super(MyProcess,self).__init__()
//             super().__init__()
//             self.name=name
//         def run(self):
//             print(os.getpid())
//             print('%s 正在和女主播聊天' %self.name)
//     if __name__ == '__main__':
//
//             p1=MyProcess('wupeiqi')
//             p2=MyProcess('yuanhao')
//             p3=MyProcess('nezha')
//
//             p1.start() # start会自动调用run
//             p2.start()
//             # p2.run()
//             p3.start()
//
//
//             p1.join()
//             p2.join()
//             p3.join()
//
//             print('主线程')
//
//     ####################
//     1516
//     wupeiqi 正在和女主播聊天
//     4864
//     yuanhao 正在和女主播聊天
//     18228
//     nezha 正在和女主播聊天
//     主线程
#include <multiprocessing.hpp>

#include <iostream>
#include <string>
#include <unistd.h>

namespace mp = multiprocessing;

class MyProcess : public mp::Process {
public:
    explicit MyProcess(std::string name) {
        // super().__init__() is the base's default constructor; then self.name = name
        set_name(std::move(name));
    }
    void run() override {
        std::cout << getpid() << std::endl;
        std::cout << name() << " 正在和女主播聊天" << std::endl;
    }
};

int main() {
    MyProcess p1("wupeiqi");
    MyProcess p2("yuanhao");
    MyProcess p3("nezha");

    p1.start();  // start会自动调用run
    p2.start();
    // p2.run();
    p3.start();

    p1.join();
    p2.join();
    p3.join();

    std::cout << "主线程" << std::endl;
}
// The three children run at once: their lines may come in any order.
// expect: [0-9]+
// expect: (wupeiqi|yuanhao|nezha) 正在和女主播聊天
// expect: 主线程
