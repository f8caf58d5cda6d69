// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// The umbrella header, like `import multiprocessing`:
//
//     #include <multiprocessing.hpp>
//     namespace mp = multiprocessing;
#ifndef MULTIPROCESSING_HPP
#define MULTIPROCESSING_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/connection.hpp>
#include <multiprocessing/context.hpp>
#include <multiprocessing/exceptions.hpp>
#include <multiprocessing/managers.hpp>
#include <multiprocessing/pool.hpp>
#include <multiprocessing/process.hpp>
#include <multiprocessing/queues.hpp>
#include <multiprocessing/reduction.hpp>
#include <multiprocessing/shared_memory.hpp>
#include <multiprocessing/sharedctypes.hpp>
#include <multiprocessing/synchronize.hpp>
#include <multiprocessing/version.hpp>

#endif  // MULTIPROCESSING_HPP
