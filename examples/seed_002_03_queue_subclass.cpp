// Seed 002-03 ("2.1 通过队列"): three Process subclasses each put one list on
// a Queue shared with the parent, which gets the three.
//
//     from multiprocessing import Process,Queue
//     import time
//     class Myprocess(Process):
//         def __init__(self,q,n):
//             super(Myprocess,self).__init__()
//             self.q = q
//             self.n = n
//
//         def run(self):
//             time.sleep(2)
//             self.q.put(['hello',self.n,id(self.q)])
//
//     if __name__ == '__main__':
//         list = []
//         q = Queue()
//         print('main_id:',id(q))
//         for i in range(3):
//             m = Myprocess(q,i)
//             list.append(m)
//             m.start()
//         print(q.get())
//         print(q.get())
//         print(q.get())
//         for a in list:
//             a.join()
//
// Shows: a Process subclass holding a Queue member; any type with a cereal
// `serialize` function travels through a queue. (Python prints id(q), which
// differs in every process; here each child sends its pid instead. The three
// children finish in any order, so the parent sorts what it got by n.)
#include <multiprocessing.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace mp = multiprocessing;

// ['hello', n, id(q)] as a struct.
struct Greeting {
    std::string word;
    int n = 0;
    long pid = 0;

    template <class Archive>
    void serialize(Archive& ar) {
        ar(word, n, pid);
    }
};

class Myprocess : public mp::Process {
public:
    Myprocess(mp::Queue<Greeting> q, int n) : q_(std::move(q)), n_(n) {}

    void run() override {
        std::this_thread::sleep_for(std::chrono::seconds(2));
        q_.put(Greeting{"hello", n_, static_cast<long>(::getpid())});
    }

private:
    mp::Queue<Greeting> q_;
    int n_;
};

int main() {
    std::vector<std::unique_ptr<Myprocess>> list;
    mp::Queue<Greeting> q;
    for (int i = 0; i < 3; ++i) {
        list.push_back(std::make_unique<Myprocess>(q, i));
        list.back()->start();
    }
    std::vector<Greeting> got;
    got.push_back(q.get());
    got.push_back(q.get());
    got.push_back(q.get());
    std::sort(got.begin(), got.end(),
              [](const Greeting& a, const Greeting& b) { return a.n < b.n; });
    for (const auto& g : got) {
        std::cout << "['" << g.word << "', " << g.n << ", pid " << (g.pid > 0 ? "ok" : "?") << "]"
                  << std::endl;
    }
    for (auto& a : list) {
        a->join();
    }
}
// expect: \['hello', 0, pid ok\]
// expect: \['hello', 1, pid ok\]
// expect: \['hello', 2, pid ok\]
