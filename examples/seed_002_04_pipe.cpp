// Seed 002-04 ("2.2 通过管道"): two children share one end of a Pipe; the
// parent sends each a greeting and receives one reply from each.
//
//     from multiprocessing import Process, Pipe
//
//     class myprocess(Process):
//         def __init__(self, cnn):
//             Process.__init__(self)
//             self.cnn = cnn
//
//         def run(self):
//             print(self.cnn.recv())
//             self.cnn.send('hello,i am subprocess:%s' % id(self))
//             self.cnn.close()
//
//     if __name__ == '__main__':
//         parant_cnn, child_cnn = Pipe()  # 创建管道
//         p = myprocess(child_cnn)        # 创建子进程
//         p1 = myprocess(child_cnn)       # 创建子进程1
//         p.start()
//         p1.start()
//         # 主进程发送数据,子进程接收,再发送
//         parant_cnn.send('nice to meet you,i am the main process')
//         parant_cnn.send('nice to meet you,i am the main process')
//         print(parant_cnn.recv())
//         print(parant_cnn.recv())
//
// Shows: Pipe(), send/recv both ways, a Connection used by child processes.
// (id(self) becomes the child's pid: an address means nothing across processes.)
#include <multiprocessing.hpp>

#include <iostream>
#include <string>

namespace mp = multiprocessing;

class myprocess : public mp::Process {
public:
    explicit myprocess(mp::Connection& cnn) : cnn_(cnn) {}

    void run() override {
        std::cout << cnn_.recv<std::string>() << std::endl;
        cnn_.send("hello,i am subprocess:" + std::to_string(mp::current_process().pid().value()));
        cnn_.close();
    }

private:
    mp::Connection& cnn_;
};

int main() {
    auto [parant_cnn, child_cnn] = mp::Pipe();  // 创建管道
    myprocess p(child_cnn);                     // 创建子进程
    myprocess p1(child_cnn);                    // 创建子进程1
    p.start();
    p1.start();
    // 主进程发送数据,子进程接收,再发送
    parant_cnn.send("nice to meet you,i am the main process");
    parant_cnn.send("nice to meet you,i am the main process");
    std::cout << parant_cnn.recv<std::string>() << std::endl;
    std::cout << parant_cnn.recv<std::string>() << std::endl;
    p.join();
    p1.join();
}
// expect: nice to meet you,i am the main process
// expect: hello,i am subprocess:[0-9]+
// expect: hello,i am subprocess:[0-9]+
