// Shared state instead of copies: a Value counter and an Array, changed by
// four processes under the Value's lock, then read by the parent.
//
//     from multiprocessing import Process, Value, Array
//
//     def work(counter, squares, i):
//         for _ in range(1000):
//             with counter.get_lock():
//                 counter.value += 1
//         squares[i] = i * i
//
//     if __name__ == "__main__":
//         counter = Value('i', 0)
//         squares = Array('i', 4)
//         ps = [Process(target=work, args=(counter, squares, i)) for i in range(4)]
//         for p in ps: p.start()
//         for p in ps: p.join()
//         print("counter", counter.value)
//         print("squares", squares[:])
#include <multiprocessing.hpp>

#include <iostream>
#include <mutex>
#include <vector>

namespace mp = multiprocessing;

void work(mp::Value<int> counter, mp::Array<int> squares, int i) {
    for (int k = 0; k < 1000; ++k) {
        std::lock_guard<mp::RLock> with(counter.get_lock());  // with counter.get_lock():
        counter.set_value(counter.value() + 1);               //     counter.value += 1
    }
    squares[i] = i * i;
}

int main() {
    mp::Value<int> counter(0);
    mp::Array<int> squares(4);
    std::vector<mp::Process> ps;
    for (int i = 0; i < 4; ++i) {
        ps.emplace_back(work, counter, squares, i);
    }
    for (auto& p : ps) {
        p.start();
    }
    for (auto& p : ps) {
        p.join();
    }
    std::cout << "counter " << counter.value() << "\n";
    std::cout << "squares";
    for (int x : squares.slice()) {
        std::cout << " " << x;
    }
    std::cout << std::endl;
}
// expect: counter 4000
// expect: squares 0 1 4 9
