// The umbrella header in a first translation unit (see odr_b.cpp).
#include <multiprocessing.hpp>

#include <iostream>

int odr_b_cpu_count();

int main() {
    const int a = multiprocessing::cpu_count();
    if (a != odr_b_cpu_count()) {
        return 1;
    }
    std::cout << "odr ok\n";
    return 0;
}
