// Seed 000-08 (tutorial 000, "进程池中进程间通信"): a writer task and a reader
// task run in a Pool and talk through a manager Queue.
//
//     import time
//     from multiprocessing import Process,Queue,Pool,Manager
//
//     from time import  sleep
//
//     def write(q):
//         a = ['a','b','c','d']
//         for i in a:
//             print("开始写入的值，",i)
//             q.put(i)
//             sleep(1)
//     def read(q):
//         #for i  in range(q.qsize()):
//         while not q.empty():
//             print("正在读取的值：",q.get())
//             time.sleep(1)
//
//     if __name__ == '__main__':
//
//         q =Manager().Queue()
//
//         pool = Pool(3)
//         pool.apply(write,(q,))
//         pool.apply(read,(q,))
//
//         pool.close()
//         pool.join()
//
// Shows: Manager().Queue() given to Pool.apply as a task argument (a plain
// mp::Queue is shared by inheritance only, like Python's, so it cannot be a
// task argument; a manager Queue can). apply() waits for its task, so the
// writer has put all four items before the reader starts, and the reader
// gets them in order. (write/read are named writer/reader here: C has read()
// and write() already. sleep(1) is shortened to 100 ms.)
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>

namespace mp = multiprocessing;

void writer(mp::managers::QueueProxy<std::string> q) {
    for (const std::string i : {"a", "b", "c", "d"}) {
        std::cout << "开始写入的值， " << i << std::endl;
        q.put(i);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // sleep(1), shortened
    }
}

void reader(mp::managers::QueueProxy<std::string> q) {
    // for (std::size_t i = 0; i < q.qsize(); ++i)
    while (!q.empty()) {
        std::cout << "正在读取的值： " << q.get() << std::endl;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // time.sleep(1), shortened
    }
}

int main() {
    auto q = mp::Manager().Queue<std::string>();

    mp::Pool pool(3);
    pool.apply(writer, q);
    pool.apply(reader, q);

    pool.close();
    pool.join();
}
// expect: 开始写入的值， a
// expect: 开始写入的值， b
// expect: 开始写入的值， c
// expect: 开始写入的值， d
// expect: 正在读取的值： a
// expect: 正在读取的值： b
// expect: 正在读取的值： c
// expect: 正在读取的值： d
