// A std::function holds its target behind a pointer: it cannot travel.
// expect: this callable cannot be sent to a pool worker process
#include <multiprocessing.hpp>

#include <functional>

namespace mp = multiprocessing;

int main() {
    mp::Pool pool(1);
    std::function<int(int)> f = [](int x) { return x; };
    pool.map(f, std::vector<int>{1, 2});
}
