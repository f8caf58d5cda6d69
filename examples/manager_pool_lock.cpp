// Manager proxies as Pool task arguments: a counter (manager.Value) that four
// tasks increment under a manager Lock, and a dict where each task records
// how much it added, with a Pool started before the manager.
//
//     from multiprocessing import Pool, Manager
//
//     def add(counter, lock, done, task, n):
//         for _ in range(n):
//             with lock:
//                 counter.value += 1
//         done[task] = n
//
//     if __name__ == '__main__':
//         with Pool(2) as pool:
//             with Manager() as manager:
//                 counter = manager.Value('i', 0)
//                 lock = manager.Lock()
//                 done = manager.dict()
//                 results = [pool.apply_async(add, (counter, lock, done, t, 1000))
//                            for t in range(4)]
//                 for r in results:
//                     r.get()
//                 print(counter.value)
//                 print(sorted(done.items()))
//
// prints
//
//     4000
//     [(0, 1000), (1, 1000), (2, 1000), (3, 1000)]
//
// Shows: proxies sent to Pool workers that were forked before the manager
// existed (a worker maps the manager's segment by name when a proxy
// arrives), and a manager Lock making `counter.value += 1` (a read, then a
// write: not atomic on its own) safe across processes.
#include <multiprocessing.hpp>

#include <iostream>
#include <map>
#include <mutex>
#include <vector>

namespace mp = multiprocessing;

void add(mp::managers::ValueProxy<int> counter, mp::managers::LockProxy lock,
         mp::managers::DictProxy<int, int> done, int task, int n) {
    for (int i = 0; i < n; ++i) {
        std::lock_guard<mp::managers::LockProxy> with(lock);  // with lock:
        counter.set(counter.get() + 1);                       //     counter.value += 1
    }
    done[task] = n;
}

int main() {
    mp::Pool pool(2);  // its workers start before the manager exists
    {
        auto manager = mp::Manager();
        auto counter = manager.Value<int>(0);
        auto lock = manager.Lock();
        auto done = manager.dict<int, int>();
        std::vector<mp::AsyncResult<void>> results;
        for (int t = 0; t < 4; ++t) {
            results.push_back(pool.apply_async(add, counter, lock, done, t, 1000));
        }
        for (auto& r : results) {
            r.get();
        }
        std::cout << counter.get() << std::endl;

        std::cout << "[";
        const char* sep = "";
        for (const auto& [task, n] : done.copy()) {  // sorted(done.items())
            std::cout << sep << "(" << task << ", " << n << ")";
            sep = ", ";
        }
        std::cout << "]" << std::endl;
    }
    pool.close();
    pool.join();
}
// expect: 4000
// expect: \[\(0, 1000\), \(1, 1000\), \(2, 1000\), \(3, 1000\)\]
