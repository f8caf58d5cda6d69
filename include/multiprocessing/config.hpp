// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// Feature checks shared by every header. Included first by each of them.
#ifndef MULTIPROCESSING_CONFIG_HPP
#define MULTIPROCESSING_CONFIG_HPP

#include <multiprocessing/version.hpp>

#if __cplusplus < 201703L
#    error "multiprocessing-cpp needs C++17 or later (compile with -std=c++17)."
#endif

// Exceptions are the API, as they are in Python: there is no error-code twin.
#if !defined(__cpp_exceptions) && !defined(__EXCEPTIONS)
#    error \
        "multiprocessing-cpp reports errors with exceptions; do not compile with -fno-exceptions."
#endif

// fork(), waitpid() and friends: POSIX only (Linux first).
#if !defined(__unix__) && !defined(__APPLE__)
#    error "multiprocessing-cpp needs a POSIX system (fork, waitpid, socketpair)."
#endif

#endif  // MULTIPROCESSING_CONFIG_HPP
