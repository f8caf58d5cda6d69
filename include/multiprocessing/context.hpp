// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// Mirrors CPython's multiprocessing/context.py: cpu_count() and the start
// methods. Only "fork" exists so far; "spawn" and "forkserver" need tasks that
// travel without the parent's memory (DESIGN.md, mechanism 3).
#ifndef MULTIPROCESSING_CONTEXT_HPP
#define MULTIPROCESSING_CONTEXT_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/exceptions.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace multiprocessing {

/// Python: cpu_count(). The number of online CPUs (os.cpu_count()). Throws
/// ProcessError when it cannot be determined (Python's NotImplementedError).
inline int cpu_count() {
    const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) {
        throw ProcessError("cpu_count: cannot determine number of cpus");
    }
    return static_cast<int>(n);
}

/// Python: get_all_start_methods().
inline std::vector<std::string> get_all_start_methods() {
    return {"fork"};
}

/// Python: get_start_method(allow_none=False). Always "fork" for now.
inline std::string get_start_method(bool allow_none = false) {
    (void)allow_none;
    return "fork";
}

/// Python: set_start_method(method, force=False). Accepts "fork"; any other
/// method throws std::invalid_argument naming it.
inline void set_start_method(const std::string& method, bool force = false) {
    (void)force;
    if (method != "fork") {
        throw std::invalid_argument("set_start_method: cannot find context for '" + method +
                                    "' (supported: fork)");
    }
}

/// Python: freeze_support(). Nothing to do for a native program; here so
/// that code ported line by line compiles.
inline void freeze_support() noexcept {}

}  // namespace multiprocessing

#endif  // MULTIPROCESSING_CONTEXT_HPP
