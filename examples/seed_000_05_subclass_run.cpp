// Seed 000-05: a subclass of Process overriding run(). run() runs in the
// child; join() waits for it, so "主进程执行完" comes last.
//
//     import time
//     from multiprocessing import Process
//
//
//     class ClockProcess(Process):
//         def __init__(self, interval):
//             Process.__init__(self)
//             self.interval = interval
//
//         def run(self):
//             print("子进程开始的时间，{}".format(time.ctime()))
//             time.sleep(self.interval)
//             print("子进程结束时间；{}".format(time.ctime()))
//
//
//     if __name__ == '__main__':
//         p = ClockProcess(3)
//         p.start()
//         p.join()
//         print("主进程执行完")
#include <multiprocessing.hpp>

#include <chrono>
#include <ctime>
#include <iostream>
#include <string>
#include <thread>

namespace mp = multiprocessing;

// Python's time.ctime(): "Sun Feb 20 21:08:00 2022"
std::string ctime_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tm);
    return buf;
}

class ClockProcess : public mp::Process {
public:
    explicit ClockProcess(int interval) : interval_(interval) {}

    void run() override {
        std::cout << "子进程开始的时间，" << ctime_now() << std::endl;
        std::this_thread::sleep_for(std::chrono::seconds(interval_));
        std::cout << "子进程结束时间；" << ctime_now() << std::endl;
    }

private:
    int interval_;
};

int main() {
    ClockProcess p(3);
    p.start();
    p.join();
    std::cout << "主进程执行完" << std::endl;
}
// expect: 子进程开始的时间，[A-Z][a-z][a-z] [A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]+ [0-9]+
// expect: 子进程结束时间；[A-Z][a-z][a-z] [A-Z][a-z][a-z]
// expect: 主进程执行完
