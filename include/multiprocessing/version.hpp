// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
#ifndef MULTIPROCESSING_VERSION_HPP
#define MULTIPROCESSING_VERSION_HPP

// The one place the version is written; CMakeLists.txt reads it from here.
#define MULTIPROCESSING_VERSION_MAJOR 0
#define MULTIPROCESSING_VERSION_MINOR 1
#define MULTIPROCESSING_VERSION_PATCH 0

#define MULTIPROCESSING_VERSION                                                    \
    (MULTIPROCESSING_VERSION_MAJOR * 10000 + MULTIPROCESSING_VERSION_MINOR * 100 + \
     MULTIPROCESSING_VERSION_PATCH)

#endif  // MULTIPROCESSING_VERSION_HPP
