// The umbrella header in a second translation unit of the same program.
#include <multiprocessing.hpp>

int odr_b_cpu_count() {
    return multiprocessing::cpu_count();
}
