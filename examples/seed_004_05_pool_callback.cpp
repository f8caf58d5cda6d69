// Seed 004-05 (tutorial 004, "进程池", second block): apply_async with a
// callback that receives each task's return value, in the parent.
//
//     def task(task_name):
//         print("开始做任务了", task_name, '进程id为', os.getpid())
//         start = time.time()
//         time.sleep(random() * 2)
//         end = time.time()
//         return f"已完成 {task_name} 任务，用时: {end - start}"
//
//     def callback_func(n):
//         print(n)
//
//     if __name__ == "__main__":
//         pool = Pool(5)
//         tasks = ['听音乐', '吃饭', '打游戏', '散步', '睡觉', '学习', '打球']
//         for t in tasks:
//             pool.apply_async(task, args=(t,), callback=callback_func)
//         pool.close()
//         pool.join()
//         print("over!!!")
//
// Shows: apply_async(f, mp::args(...), callback). The callback runs in the
// parent, on the pool's result thread; here it collects the values, which
// are printed sorted once the pool is joined.
#include <multiprocessing.hpp>

#include <algorithm>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

namespace mp = multiprocessing;

std::string task(std::string task_name) {
    return "已完成 " + task_name + " 任务";
}

int main() {
    std::mutex mutex;
    std::vector<std::string> received;
    auto callback_func = [&](const std::string& n) {
        std::lock_guard<std::mutex> lock(mutex);
        received.push_back(n);
    };
    mp::Pool pool(5);
    const std::vector<std::string> tasks{"听音乐", "吃饭", "打游戏", "散步",
                                         "睡觉",   "学习", "打球"};
    for (const auto& t : tasks) {
        pool.apply_async(task, mp::args(t), callback_func);
    }
    pool.close();
    pool.join();
    std::sort(received.begin(), received.end());
    for (const auto& n : received) {
        std::cout << n << "\n";
    }
    std::cout << "callback got " << received.size() << " values\n";
    std::cout << "over!!!\n";
}
// expect: callback got 7 values
// expect: over!!!
