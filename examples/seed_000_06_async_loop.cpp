// Seed 000-06: three processes started in a loop and never joined. They run at
// the same time (about 2 s in all, not 6), and all three finish before the
// program exits: main() returning joins its non-daemon children.
//
//     import time
//     from multiprocessing import Process
//     def get_request(url):
//         print('正在请求网址的数据：',url)
//         time.sleep(2)
//         print('请求结束:',url)
//
//     if __name__ == "__main__":
//         urls = ['www.1.com','www.2.com','www.3.com']
//         for url in urls:
//             #创建了三个进程，表示三组任务
//             p = Process(target=get_request,args=(url,))
//             p.start()
#include <multiprocessing.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace mp = multiprocessing;

void get_request(const std::string& url) {
    std::cout << "正在请求网址的数据： " << url << std::endl;
    std::this_thread::sleep_for(std::chrono::seconds(2));
    std::cout << "请求结束: " << url << std::endl;
}

int main() {
    const std::vector<std::string> urls = {"www.1.com", "www.2.com", "www.3.com"};
    for (const auto& url : urls) {
        // 创建了三个进程，表示三组任务
        mp::Process p(get_request, url);
        p.start();
    }  // destroying p neither kills nor detaches the child
}
// expect: 正在请求网址的数据： www\.[123]\.com
// expect: 请求结束: www\.[123]\.com
// expect: 请求结束: www\.[123]\.com
// expect: 请求结束: www\.[123]\.com
