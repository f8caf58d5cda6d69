// Seed 003-10 (seed 003, "七、进程间的数据隔离问题"): a global changed in the child stays unchanged
// in the parent.
//
// The Python original:
//
//
//     from multiprocessing import Process
//     def work():
//         global n
//         n = 0
//         print('子进程内：',n)
//     if __name__ == '__main__':
//         n = 100
//         p = Process(target=work)
//         p.start()
//         print('主进程内：',n)
//     ##############
//     主进程内： 100
//     子进程内： 0
#include <multiprocessing.hpp>

#include <iostream>

namespace mp = multiprocessing;

int n;  // Python: the module global n

void work() {
    n = 0;  // the child's own copy of n
    std::cout << "子进程内： " << n << std::endl;
}

int main() {
    n = 100;
    mp::Process p(work);
    p.start();
    std::cout << "主进程内： " << n << std::endl;
}
// The parent's n stays 100 whatever the child does (the two lines may come
// in either order).
// expect: (主进程内： 100[^\r]*子进程内： 0|子进程内： 0[^\r]*主进程内： 100)
