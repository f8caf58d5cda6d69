// Seed 004-06 ("进程之间的通信"): a downloader puts four file names on a
// bounded Queue(5); a saver gets them with get(timeout=3) until it times out.
//
//     import time
//     from multiprocessing import Process, Queue
//
//     def download(q):
//         images = ["1.png", "2.png", "3.png", "4.png"]
//         for image in images:
//             print("正在下载", image)
//             time.sleep(0.5)
//             q.put(image)
//
//     def getfile(q):
//         while True:
//             try:
//                 file = q.get(timeout=3)
//                 print(file, "保存成功")
//             except:
//                 break
//
//     if __name__ == "__main__":
//         q = Queue(5)
//         p1 = Process(target=download, args=(q,))
//         p2 = Process(target=getfile, args=(q,))
//         p1.start()
//         p2.start()
//         p1.join()  # wait for p1 before going on
//         p2.join()  # wait for p2 before going on
//         print("over!!!!")
//
// Shows: Queue(maxsize), get with a timeout ending on mp::Empty.
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>

namespace mp = multiprocessing;
using namespace std::chrono_literals;

void download(mp::Queue<std::string> q) {
    for (const char* image : {"1.png", "2.png", "3.png", "4.png"}) {
        std::cout << "正在下载 " << image << std::endl;
        std::this_thread::sleep_for(500ms);
        q.put(image);
    }
}

void getfile(mp::Queue<std::string> q) {
    for (;;) {
        try {
            std::string file = q.get(3s);
            std::cout << file << " 保存成功" << std::endl;
        } catch (const mp::Empty&) {
            break;
        }
    }
}

int main() {
    mp::Queue<std::string> q(5);
    mp::Process p1(download, q);
    mp::Process p2(getfile, q);
    p1.start();
    p2.start();
    p1.join();
    p2.join();
    std::cout << "over!!!!" << std::endl;
}
// expect: 1.png 保存成功
// expect: 2.png 保存成功
// expect: 3.png 保存成功
// expect: 4.png 保存成功
// expect: over!!!!
