// Seed 001-04: a child gets a copy of the parent's memory. It changes its own
// copy of `age` (23); the parent's stays 22. The order of the lines may vary.
//
//     from multiprocessing import Process
//
//     age = 22
//
//     def demo():
//         global age
//         age += 1
//         print('子进程age:',age)
//
//
//     if __name__=='__main__':
//         p = Process(target=demo)
//         p.start()
//         print('主进程age:', age)
//         print('执行主进程')
//
//     # 执行结果：
//     主进程age: 22
//     执行主进程
//     子进程age: 23
#include <multiprocessing.hpp>

#include <iostream>

namespace mp = multiprocessing;

int age = 22;

void demo() {
    age += 1;
    std::cout << "子进程age: " << age << std::endl;
}

int main() {
    mp::Process p(demo);
    p.start();
    std::cout << "主进程age: " << age << std::endl;
    std::cout << "执行主进程" << std::endl;
}
// expect: (主进程age: 22[^\r]*子进程age: 23|子进程age: 23[^\r]*主进程age: 22)
