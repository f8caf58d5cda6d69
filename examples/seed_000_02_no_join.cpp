// Seed 000-02: start() without join(). The parent's last line may come before
// or after the child's, but the child's line always appears: when main()
// returns, the program joins its non-daemon children (as Python does).
//
//     from multiprocessing import Process
//     def func():
//         print("我是绑定给子进程的一组任务")
//
//     if __name__ == "__main__":
//         print("主进程开始")
//         p =Process(target = func)
//         p.start()
//         print("主进程执行结束")
#include <multiprocessing.hpp>

#include <iostream>

namespace mp = multiprocessing;

void func() {
    std::cout << "我是绑定给子进程的一组任务" << std::endl;
}

int main() {
    std::cout << "主进程开始" << std::endl;
    mp::Process p(func);  // Process(target=func)
    p.start();
    std::cout << "主进程执行结束" << std::endl;
}  // no join: the child is joined here, as the program exits
// expect: 主进程开始
// expect: (主进程执行结束[^\r]*我是绑定给子进程的一组任务|我是绑定给子进程的一组任务[^\r]*执行结束)
