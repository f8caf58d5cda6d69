// A lambda capturing a std::string cannot travel to a worker process.
// expect: this callable cannot be sent to a pool worker process
#include <multiprocessing.hpp>

#include <string>

namespace mp = multiprocessing;

int main() {
    mp::Pool pool(1);
    std::string suffix = "!";
    pool.apply([suffix](int x) { return std::to_string(x) + suffix; }, 1);
}
