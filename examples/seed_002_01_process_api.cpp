// Seed 002-01: the parameters and methods of Process, which the original
// describes in prose: the constructor forms, start(), run(), terminate(),
// is_alive() and join(timeout), each shown once.
//
//     Process([group[,target[,name[,args[,kwargs]]]]]) ,由该实例化得到的对象,
//     表示一个子进程的任务(尚未启动)
//
//         注意(参数介绍):
//             1.需要使用关键字参数的方式来指定参数
//             2.args指定的为传给target函数的位置参数,是一个元组形式,必须有逗号
//             3.group参数为使用,值始终未None
//             4.target表示调用对象,即子进程要执行的任务
//             5.args表示调用对象的字典,kwargs={"name_":"json","age":19}
//             6.name为子进程的名字
//     方法介绍:
//         1.p.start():启动进程,并调用该子进程中的p.run()方法
//         2.p.run():进程启动时运行的方法,正是它去调用target指定的函数,
//                 我们自定义类的类中一定要实现该方法
//         3.p.terminate():强制终止进程p,不会进行任何清理操作
//         4.p.is_alive():如果仍然运行,返回True
//         5.p.join(timeout):主进程等待p终止(注意:主进程处于等的状态,而p
//             是处于运行的状态)timeout是可选的超出时间,需要强调的是p.join只能join
//             主start开启的进程,而不能join住run开启的进程.
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <unistd.h>

namespace mp = multiprocessing;

// kwargs={"age": 19} becomes an ordinary argument
void task(const std::string& name, const std::map<std::string, int>& kwargs) {
    std::cout << "子进程 " << mp::current_process().name() << ": name=" << name
              << " age=" << kwargs.at("age") << std::endl;
}

void forever() {
    for (;;) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
}

int main() {
    const pid_t main_pid = ::getpid();

    // Process(target=task, args=("json",), kwargs={"age": 19}, name="子进程1")
    mp::ProcessOptions options;
    options.name = "子进程1";
    mp::Process p(options, task, std::string("json"), std::map<std::string, int>{{"age", 19}});
    std::cout << "创建后(尚未启动) is_alive(): " << std::boolalpha << p.is_alive() << std::endl;

    // 1. p.start(): 启动进程, 并调用该子进程中的 p.run() 方法
    p.start();
    p.join();
    std::cout << "p.start() 后 join(): exitcode=" << p.exitcode().value()
              << ", 子进程 pid 与主进程不同: " << (p.pid().value() != main_pid) << std::endl;

    // 2. p.run(): 直接调用, 就在当前(主)进程中执行 target
    mp::Process q(task, std::string("run"), std::map<std::string, int>{{"age", 20}});
    q.run();
    // p.join 只能 join 主 start 开启的进程, 而不能 join 住 run 开启的进程
    try {
        q.join();
    } catch (const mp::ProcessError& e) {
        std::cout << "q.run() 后 q.join(): ProcessError: " << e.what() << std::endl;
    }

    // 3-5. join(timeout), is_alive(), terminate()
    mp::Process r(forever);
    r.start();
    r.join(std::chrono::seconds(1));  // 超时后返回, r 仍在运行
    std::cout << "r.join(1秒) 后 is_alive(): " << r.is_alive() << std::endl;
    r.terminate();  // 强制终止进程 r (SIGTERM)
    r.join();
    std::cout << "r.terminate() 后 is_alive(): " << r.is_alive()
              << ", exitcode=" << r.exitcode().value() << std::endl;
}
// expect: 创建后\(尚未启动\) is_alive\(\): false
// expect: 子进程 子进程1: name=json age=19
// expect: p\.start\(\) 后 join\(\): exitcode=0, 子进程 pid 与主进程不同: true
// expect: 子进程 MainProcess: name=run age=20
// expect: q\.run\(\) 后 q\.join\(\): ProcessError:
// expect: r\.join\(1秒\) 后 is_alive\(\): true
// expect: r\.terminate\(\) 后 is_alive\(\): false, exitcode=-15
