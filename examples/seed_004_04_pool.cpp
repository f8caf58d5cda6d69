// Seed 004-04 (tutorial 004, "进程池", first block): Pool(5) runs 7 tasks of
// random length; "over!!!" comes after all of them.
//
//     def task(task_name):
//         print("开始做任务了", task_name, '进程id为', os.getpid())
//         start = time.time()
//         time.sleep(random() * 2)
//         end = time.time()
//         print("已完成", task_name, "任务，用时:", (end - start))
//
//     if __name__ == "__main__":
//         pool = Pool(5)
//         tasks = ['听音乐', '吃饭', '打游戏', '散步', '睡觉', '学习', '打球']
//         for t in tasks:
//             pool.apply_async(task, args=(t,))
//         pool.close()
//         pool.join()
//         print("over!!!")
//
// Shows: at most 5 worker processes serve the 7 tasks. Each task returns its
// worker's pid; the parent prints how many distinct workers there were.
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace mp = multiprocessing;

int task(std::string task_name) {
    std::mt19937 rng(std::random_device{}());
    std::this_thread::sleep_for(
        std::chrono::milliseconds(rng() % 200));  // random() * 2 s, shortened
    (void)task_name;
    return static_cast<int>(::getpid());
}

int main() {
    mp::Pool pool(5);
    const std::vector<std::string> tasks{"听音乐", "吃饭", "打游戏", "散步",
                                         "睡觉",   "学习", "打球"};
    std::vector<mp::AsyncResult<int>> results;
    for (const auto& t : tasks) {
        results.push_back(pool.apply_async(task, t));
    }
    pool.close();
    pool.join();
    std::set<int> pids;
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        pids.insert(results[i].get());
        std::cout << "已完成 " << tasks[i] << " 任务\n";
    }
    std::cout << "worker processes used: " << (pids.size() <= 5 ? "at most 5" : "more than 5")
              << "\n";
    std::cout << "over!!!" << std::endl;
}
// expect: 已完成 听音乐 任务
// expect: worker processes used: at most 5
// expect: over!!!
