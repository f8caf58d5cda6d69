// multiprocessing-cpp benchmarks: starting and joining processes.
// SPDX-License-Identifier: MIT
//
// process_start_join: start a process with an empty target and join it,
// one after the other. Python's equivalent (bench/py_workloads.py):
//
//     for _ in range(n):
//         p = ctx.Process(target=empty)
//         p.start()
//         p.join()
//
// Implementations: "ours" (mp::Process) and "raw_fork", the floor: fork(),
// _exit(0) in the child, waitpid() in the parent.
#include "harness.hpp"
#include <multiprocessing.hpp>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mp = multiprocessing;

namespace {

void empty_target() {}

double ours_start_join(std::size_t n) {
    return bench::time_it([n] {
        for (std::size_t i = 0; i < n; ++i) {
            mp::Process p(empty_target);
            p.start();
            p.join();
            if (p.exitcode() != 0) {
                throw std::runtime_error("child failed");
            }
        }
    });
}

double raw_fork_waitpid(std::size_t n) {
    return bench::time_it([n] {
        for (std::size_t i = 0; i < n; ++i) {
            const pid_t pid = ::fork();
            if (pid < 0) {
                throw std::runtime_error("fork failed");
            }
            if (pid == 0) {
                ::_exit(0);
            }
            int status = 0;
            while (::waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR) {
                    throw std::runtime_error("waitpid failed");
                }
            }
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                throw std::runtime_error("child failed");
            }
        }
    });
}

BENCH_WORKLOAD("process_start_join", "ours", "mp::Process(empty).start(); join()", 300,
               ours_start_join);
BENCH_WORKLOAD("process_start_join", "raw_fork", "fork(); _exit(0) / waitpid() (the floor)", 300,
               raw_fork_waitpid);

}  // namespace

int main(int argc, char** argv) {
    return bench::main(argc, argv);
}
