// Seed 000-07 (tutorial 000, "进程池"): a pool of 3 workers runs 5 tasks,
// never more than 3 at once.
//
//     import multiprocessing
//     import time
//
//     def func(msg):
//         print("start:", msg)
//         time.sleep(3)
//         print("end :", msg)
//
//     if __name__ == '__main__':
//         pool = multiprocessing.Pool(3)
//         for i in range(1, 6):
//             msg = "任务%d" % i
//             pool.apply_async(func, (msg,))
//         pool.close()
//         pool.join()
//
// Shows: Pool(3), apply_async, close, join. The tasks return their lines and
// the parent prints them in task order, so the output is deterministic.
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace mp = multiprocessing;

std::string func(std::string msg) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // time.sleep(3), shortened
    return "start: " + msg + "\nend : " + msg;
}

int main() {
    mp::Pool pool(3);  // a pool of 3 worker processes
    std::vector<mp::AsyncResult<std::string>> results;
    for (int i = 1; i <= 5; ++i) {
        const std::string msg = "任务" + std::to_string(i);
        results.push_back(pool.apply_async(func, msg));
    }
    pool.close();  // no more tasks
    pool.join();   // wait for the workers to finish
    for (auto& r : results) {
        std::cout << r.get() << "\n";
    }
}
// expect: start: 任务1
// expect: end : 任务5
