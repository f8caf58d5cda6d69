// Seed 003-00 (seed 003, "process模块介绍 … 3.3"): the Process attributes daemon, name, pid,
// exitcode, authkey; daemon cannot be set after start.
//
// The original (prose, no program):
//
// clang-format off
//     # process模块介绍
//
//     `Process([group [, target [, name [, args [, kwargs]]]]])`，由该类实例化得到的对象，表示一个子进程中的任务（尚未启动）
//
//     强调：
//
//     1. 需要使用关键字的方式来指定参数
//     2. args指定的为传给target函数的位置参数，是一个元组形式，必须有逗号
//
//     参数介绍：
//
//     - group参数未使用，值始终为None
//     - target表示调用对象，即子进程要执行的任务
//     - args表示调用对象的位置参数元组，`args=(1,2,'egon',)`
//     - kwargs表示调用对象的字典，`kwargs={'name':'egon','age':18}`
//     - name为子进程的名称
//
//     ## 方法介绍
//
//     - `p.start()`：启动进程，并调用该子进程中的p.run()
//     - `p.run()`：进程启动时运行的方法，正是它去调用target指定的函数，我们自定义类的类中一定要实现该方法
//     - `p.terminate()`：强制终止进程p，不会进行任何清理操作，如果p创建了子进程，该子进程就成了僵尸进程，使用该方法需要特别小心这种情况。如果p还保存了一个锁那么也将不会被释放，进而导致死锁
//     - `p.is_alive()`：如果p仍然运行，返回True
//     - `p.join([timeout])`：主线程等待p终止（强调：是主线程处于等的状态，而p是处于运行的状态）。timeout是可选的超时时间，需要强调的是，p.join只能join住start开启的进程，而不能join住run开启的进程
//
//     ## 3.2 属性介绍
//
//     - `p.daemon`：默认值为False，如果设为True，代表p为后台运行的守护进程，当p的父进程终止时，p也随之终止，并且设定为True后，p不能创建自己的新进程，必须在`p.start()`之前设置
//     - `p.name`：进程的名称
//     - `p.pid`：进程的pid
//     - `p.exitcode`：进程在运行时为None、如果为–N，表示被信号N结束(了解即可)
//     - `p.authkey`：进程的身份验证键,默认是由`os.urandom()`随机生成的32字符的字符串。这个键的用途是为涉及网络连接的底层进程间通信提供安全性，这类连接只有在具有相同的身份验证键时才能成功（了解即可）
//
//     ## 3.3 在windows中使用process模块的注意事项
//
//
//
//     在Windows操作系统中由于没有fork(linux操作系统中创建进程的机制)，在创建子进程的时候会自动 import 启动它的这个文件，而在 import 的时候又执行了整个文件。因此如果将process()直接写在文件中就会无限递归创建子进程报错。所以必须把创建子进程的部分使用if \_\_name\_\_ =='\_\_main\_\_ 判断保护起来，import 的时候，就不会递归运行了。
// clang-format on
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <thread>

namespace mp = multiprocessing;

// The main-module guard (3.3): Python on Windows starts a child by importing
// the main file again, so code that creates processes must sit under
// `if __name__ == '__main__':`. Here children are made by fork(): a child
// starts inside p.start(), runs its target and leaves with _exit(); it never
// runs main() again. In C++, main() is the guard.

void sleeper(int seconds) {
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
}

void grandchild() {}

void try_to_have_a_child() {
    // 3.2: a daemon process may not create processes of its own.
    mp::Process q(grandchild);
    try {
        q.start();
    } catch (const mp::ProcessError& e) {
        std::cout << "守护进程不能创建子进程: " << e.what() << std::endl;
    }
}

const char* py_bool(bool b) {
    return b ? "True" : "False";
}

int main() {
    // p.name: default "Process-N", or name=... ; p.daemon: False by default.
    mp::Process p(sleeper, 10);
    mp::ProcessOptions options;
    options.name = "ocean";
    mp::Process q(options, try_to_have_a_child);
    std::cout << "p.name: " << p.name() << std::endl;
    std::cout << "q.name: " << q.name() << std::endl;
    std::cout << "p.daemon: " << py_bool(p.daemon()) << std::endl;
    // p.pid is None (an empty optional) before start().
    std::cout << "p.pid before start: " << (p.pid() ? "a pid" : "None") << std::endl;

    // p.daemon must be set before p.start().
    q.set_daemon(true);
    std::cout << "q.daemon: " << py_bool(q.daemon()) << std::endl;
    q.start();
    q.join();
    std::cout << "q.exitcode: " << q.exitcode().value() << std::endl;

    p.start();
    std::cout << "p.pid after start: " << (p.pid() ? "a pid" : "None") << std::endl;
    try {
        p.set_daemon(true);
    } catch (const mp::ProcessError& e) {
        std::cout << "p.daemon = True after start: ProcessError: " << e.what() << std::endl;
    }

    // p.exitcode: None while the child runs; -N once signal N ended it.
    std::cout << "p.exitcode while running: " << (p.exitcode() ? "a number" : "None") << std::endl;
    p.terminate();
    p.join();
    std::cout << "p.exitcode after terminate(): " << p.exitcode().value() << " (-SIGTERM)"
              << std::endl;

    // p.authkey: 32 random bytes (os.urandom(32)) in the main process,
    // inherited by every process it creates.
    std::cout << "p.authkey: " << p.authkey().size() << " bytes, same as the main process's: "
              << py_bool(p.authkey() == mp::current_process().authkey()) << std::endl;
}
// expect: p.name: Process-1
// expect: q.name: ocean
// expect: p.daemon: False
// expect: p.pid before start: None
// expect: q.daemon: True
// expect: 守护进程不能创建子进程: .*daemonic processes are not allowed to have children
// expect: q.exitcode: 0
// expect: p.pid after start: a pid
// expect: p.daemon = True after start: ProcessError: .*process has already started
// expect: p.exitcode while running: None
// expect: p.exitcode after terminate..: -15 .-SIGTERM.
// expect: p.authkey: 32 bytes, same as the main process's: True
