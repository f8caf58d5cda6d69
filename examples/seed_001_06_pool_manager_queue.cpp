// Seed 001-06 (seed 001, "Pool进程间通信"): 001-05's writer and reader run
// as tasks of a Pool(2), through a manager Queue.
//
// Pool和Queue不能够共用，因此Pool进程间通信使用multiprocessing 模块的Manager类，
// 在Manager类下有一个Queue对象能实现Pool进程间通行。
//
//     def write(q):                          # from 001-05
//         for i in [1, 2, 3]:
//             q.put(i)
//         print('写入消息完毕')
//
//     def read(q):                           # from 001-05
//         while True:
//             try:
//                 msg = q.get(block=False)
//                 print('读取到消息：',msg)
//             except:
//                 print('读取消息完毕')
//                 break
//
//     if __name__=='__main__':
//         q = Manager().Queue()
//         pool = Pool(2)
//         # apply方法：向进程池添加进程，并且并发执行
//         pool.apply(write,args=(q,))
//         pool.apply(read, args=(q,))
//         pool.close()
//         pool.join()
//
//         print('执行主进程')
//
// Shows: a manager Queue as a Pool.apply task argument (a plain mp::Queue,
// like Python's, is shared by inheritance only). apply() blocks until its
// task is done (the tutorial's comment says the tasks run concurrently; with
// apply they do not: apply_async would), so the reader finds 1, 2, 3, then
// the queue empty: get(false) throws mp::Empty. (write/read are named
// writer/reader here: C has read() and write() already.)
#include <multiprocessing.hpp>

#include <iostream>

namespace mp = multiprocessing;

void writer(mp::managers::QueueProxy<int> q) {
    for (int i : {1, 2, 3}) {
        q.put(i);
    }
    std::cout << "写入消息完毕" << std::endl;
}

void reader(mp::managers::QueueProxy<int> q) {
    for (;;) {
        try {
            // get(false): throw mp::Empty at once when the queue is empty
            int msg = q.get(false);
            std::cout << "读取到消息： " << msg << std::endl;
        } catch (const mp::Empty&) {
            std::cout << "读取消息完毕" << std::endl;
            break;
        }
    }
}

int main() {
    auto q = mp::Manager().Queue<int>();
    mp::Pool pool(2);
    // apply: run the task in the pool and wait for it
    pool.apply(writer, q);
    pool.apply(reader, q);
    pool.close();
    pool.join();

    std::cout << "执行主进程" << std::endl;
}
// expect: 写入消息完毕
// expect: 读取到消息： 1
// expect: 读取到消息： 2
// expect: 读取到消息： 3
// expect: 读取消息完毕
// expect: 执行主进程
