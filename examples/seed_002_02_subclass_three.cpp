// Seed 002-02: a subclass of Process, three instances started, then joined.
// Each prints its own default name (Myprocess-1, -2, -3); they sleep at the
// same time, so the whole takes about 2 s, not 6.
//
//     from multiprocessing import Process,Queue
//     import time
//
//     class Myprocess(Process):
//         def __init__(self):
//             super(Myprocess,self).__init__()
//
//         def run(self):
//             time.sleep(2)
//             print(self.name,time.ctime())
//     if __name__ == '__main__':
//         list = []
//         for i in range(3):
//             m = Myprocess()
//             list.append(m)
//             m.start()
//         for a in list:
//
//             a.join()
#include <multiprocessing.hpp>

#include <chrono>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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

class Myprocess : public mp::Process {
public:
    void run() override {
        std::this_thread::sleep_for(std::chrono::seconds(2));
        std::cout << name() << " " << ctime_now() << std::endl;
    }
};

int main() {
    std::vector<std::unique_ptr<Myprocess>> list;
    for (int i = 0; i < 3; ++i) {
        auto m = std::make_unique<Myprocess>();
        m->start();
        list.push_back(std::move(m));
    }
    for (auto& a : list) {
        a->join();
    }
}
// expect: Myprocess-[123] [A-Z][a-z][a-z]
// expect: Myprocess-[123] [A-Z][a-z][a-z]
// expect: Myprocess-[123] [A-Z][a-z][a-z]
