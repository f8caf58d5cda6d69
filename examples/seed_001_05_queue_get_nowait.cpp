// Seed 001-05 ("Queue消息队列"): a writer process puts 1, 2, 3 on a Queue; a
// reader process takes them with get(block=False) until the queue is empty.
//
//     from multiprocessing import Process, Queue
//
//     def write(q):
//         for i in [1, 2, 3]:
//             q.put(i)
//         print('写入消息完毕')
//
//     def read(q):
//         while True:
//             try:
//                 # block=False: raise at once (queue.Empty) when the queue is empty
//                 msg = q.get(block=False)
//                 print('读取到消息：',msg)
//             except:
//                 print('读取消息完毕')
//                 break
//
//     if __name__=='__main__':
//         q = Queue()
//         pw = Process(target=write, args=(q, ))
//         pr = Process(target=read, args=(q, ))
//         pw.start()
//         pr.start()
//         pw.join()
//         # print(q.qsize()) # the number of messages in the queue
//         print(q.full())    # is the queue full?
//         print(q.empty())   # is the queue empty?
//         print('执行主进程')
//
// Shows: Queue shared with children made after it, get(false) raising
// mp::Empty. (write/read are named writer/reader here: C has read() and
// write() already. The reader starts once the writer is done, so the output is
// always the one the tutorial shows; in Python the reader may run first
// and find the queue empty.)
#include <multiprocessing.hpp>

#include <iostream>

namespace mp = multiprocessing;

void writer(mp::Queue<int> q) {
    for (int i : {1, 2, 3}) {
        q.put(i);
    }
    std::cout << "写入消息完毕" << std::endl;
}

void reader(mp::Queue<int> q) {
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
    mp::Queue<int> q;
    mp::Process pw(writer, q);
    mp::Process pr(reader, q);

    pw.start();
    pw.join();
    pr.start();
    pr.join();
    std::cout << std::boolalpha;
    // std::cout << q.qsize() << std::endl;  // exact here, on every platform
    std::cout << q.full() << std::endl;   // false: no maxsize
    std::cout << q.empty() << std::endl;  // true: the reader took all three
    std::cout << "执行主进程" << std::endl;
}
// expect: 写入消息完毕
// expect: 读取到消息： 1
// expect: 读取到消息： 2
// expect: 读取到消息： 3
// expect: 读取消息完毕
// expect: false
// expect: true
// expect: 执行主进程
