// Seed 001-03 (tutorial 001, "进程池"): Pool(3) runs 10 tasks, at most 3 at
// a time; close() then join() waits for all of them.
//
//     if __name__=='__main__':
//         pool = Pool(3)  # at most 3 child processes at the same time
//         for i in range(10):
//             pool.apply_async(run_demo, args=('kurong', 18), kwds={'abc': 123})
//         pool.close()  # no more tasks can be added
//         pool.join()   # block the main process until the children finish
//         print('执行主进程')
//
// Shows: apply_async with several arguments (Python's kwds become ordinary
// arguments), close, join.
#include <multiprocessing.hpp>

#include <iostream>
#include <string>
#include <vector>

namespace mp = multiprocessing;

std::string run_demo(std::string name, int age, int abc) {
    return name + " " + std::to_string(age) + " abc=" + std::to_string(abc);
}

int main() {
    mp::Pool pool(3);
    std::vector<mp::AsyncResult<std::string>> results;
    for (int i = 0; i < 10; ++i) {
        results.push_back(pool.apply_async(run_demo, "kurong", 18, 123));
    }
    pool.close();
    pool.join();
    for (auto& r : results) {
        std::cout << r.get() << "\n";
    }
    std::cout << "执行主进程\n";
}
// expect: kurong 18 abc=123
// expect: 执行主进程
