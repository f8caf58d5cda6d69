// A pointer argument would point into the parent's memory: rejected.
// expect: a pointer cannot be sent to a worker process
#include <multiprocessing.hpp>

namespace mp = multiprocessing;

int deref(const int* p) {
    return *p;
}

int main() {
    mp::Pool pool(1);
    int x = 1;
    pool.apply(deref, &x);
}
