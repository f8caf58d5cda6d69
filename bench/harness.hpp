// multiprocessing-cpp benchmarks: a small self-contained harness.
// SPDX-License-Identifier: MIT
//
// A benchmark program registers workloads, each with one or more
// implementations ("ours", "raw_fork", ...):
//
//     BENCH_WORKLOAD("process_start_join", "ours", "mp::Process start+join",
//                    [](std::size_t n) {
//                        return bench::time_it([&] { for (...) { ... } });
//                    });
//
// The function runs `n` iterations and returns the seconds they took (so
// set-up can be kept out of the measurement). A throughput workload also
// says what one iteration moves, so the output reads as a rate:
//
//     BENCH_WORKLOAD("queue_small", "ours", "mp::Queue<int64_t>, 1 -> 1", 1000000,
//                    ours_small, bench::rate{1, "messages"});
//     BENCH_WORKLOAD("queue_large", "ours", "1 MiB messages", 512, ours_large,
//                    bench::rate{1 << 20, "bytes"});
//
// The program's main() is
// bench::main(); it prints one line per measurement, or JSON lines with
// --json, which bench/run.py reads to compare with Python side by side.
//
//     bench_process --list
//     bench_process [--workload NAME] [--impl NAME] [--iterations N]
//                   [--repeat R] [--warmup W] [--interleave K] [--json]
//
// No timing is ever asserted here: the numbers are for reading.
#ifndef MULTIPROCESSING_BENCH_HARNESS_HPP
#define MULTIPROCESSING_BENCH_HARNESS_HPP

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <string>
#include <sys/resource.h>
#include <vector>

namespace bench {

/// What one iteration of a throughput workload moves: `per_iteration`
/// units (e.g. 1 "messages", 1048576 "bytes"). An empty unit: a plain
/// per-iteration time.
struct rate {
    double per_iteration = 1;
    std::string unit;
};

/// One implementation of one workload.
struct entry {
    std::string workload;     // e.g. "process_start_join"
    std::string impl;         // e.g. "ours", "raw_fork"
    std::string description;  // one line, for --list
    std::size_t default_iterations;
    std::function<double(std::size_t)> run;  // runs n iterations, returns seconds
    rate per;                                // what an iteration moves, if anything
};

inline std::vector<entry>& registry() {
    static std::vector<entry> all;
    return all;
}

/// Registers an entry at static-initialisation time (see BENCH_WORKLOAD).
struct registrar {
    registrar(const char* workload, const char* impl, const char* description,
              std::size_t default_iterations, std::function<double(std::size_t)> run,
              rate per = {}) {
        registry().push_back(
            {workload, impl, description, default_iterations, std::move(run), std::move(per)});
    }
};

/// Seconds taken by f(), on the steady clock.
template <class F>
double time_it(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const auto t1 = std::chrono::steady_clock::now();
    return std::chrono::duration<double>(t1 - t0).count();
}

/// CPU seconds used so far by this process and its reaped children
/// (getrusage: self plus children). The children's share counts once they
/// have been waited for, which every workload does before it returns.
inline double cpu_seconds() {
    auto total = [](int who) {
        rusage ru{};
        ::getrusage(who, &ru);
        return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
    };
    return total(RUSAGE_SELF) + total(RUSAGE_CHILDREN);
}

/// Keeps the optimiser from discarding a value.
template <class T>
inline void do_not_optimize(const T& value) {
    __asm__ __volatile__("" : : "r,m"(value) : "memory");
}

#define BENCH_CONCAT_INNER(a, b) a##b
#define BENCH_CONCAT(a, b) BENCH_CONCAT_INNER(a, b)
/// BENCH_WORKLOAD(workload, impl, description, default_iterations, fn [, bench::rate])
#define BENCH_WORKLOAD(...) \
    static const ::bench::registrar BENCH_CONCAT(bench_registrar_, __LINE__)(__VA_ARGS__)

namespace detail {

inline void usage(const char* argv0) {
    std::printf(
        "usage: %s [--list] [--workload NAME] [--impl NAME] [--iterations N]\n"
        "          [--repeat R] [--warmup W] [--interleave K] [--json]\n"
        "  --list        list workloads and implementations, then exit\n"
        "  --workload    run only this workload (may be repeated)\n"
        "  --impl        run only this implementation (may be repeated)\n"
        "  --iterations  iterations per measurement (default: the workload's own)\n"
        "  --repeat      measurements per implementation (default 1)\n"
        "  --warmup      untimed iterations before the first measurement (default 3)\n"
        "  --interleave  implementations of a workload take turns, K iterations each\n"
        "  --json        one JSON object per measurement\n",
        argv0);
}

inline bool parse_count(const char* text, std::size_t& out) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0') {
        return false;
    }
    out = static_cast<std::size_t>(v);
    return true;
}

inline bool selected(const std::vector<std::string>& wanted, const std::string& name) {
    return wanted.empty() || std::find(wanted.begin(), wanted.end(), name) != wanted.end();
}

/// "97.1 ns", "12.3 us", "0.264 ms", "1.52 s": a duration with a unit that
/// keeps three or four significant digits.
inline std::string format_seconds(double s) {
    char buf[32];
    const double a = s < 0 ? -s : s;
    if (a < 1e-6) {
        std::snprintf(buf, sizeof buf, "%.1f ns", s * 1e9);
    } else if (a < 1e-3) {
        std::snprintf(buf, sizeof buf, "%.2f us", s * 1e6);
    } else if (a < 1) {
        std::snprintf(buf, sizeof buf, "%.3f ms", s * 1e3);
    } else {
        std::snprintf(buf, sizeof buf, "%.3f s", s);
    }
    return buf;
}

/// "10.3 M messages/s", "1.52 GB/s": units per second, with an SI prefix.
inline std::string format_rate(double per_second, const std::string& unit) {
    char buf[64];
    const bool bytes = unit == "bytes";
    const char* prefix = "";
    double v = per_second;
    if (v >= 1e9) {
        v /= 1e9;
        prefix = "G";
    } else if (v >= 1e6) {
        v /= 1e6;
        prefix = "M";
    } else if (v >= 1e3) {
        v /= 1e3;
        prefix = "k";
    }
    if (bytes) {
        std::snprintf(buf, sizeof buf, "%.3g %sB/s", v, prefix);
    } else {
        std::snprintf(buf, sizeof buf, "%.3g %s%s%s/s", v, prefix, *prefix ? " " : "",
                      unit.c_str());
    }
    return buf;
}

inline void report(const entry& e, std::size_t n, double seconds, double cpu, bool json) {
    const double per = seconds / static_cast<double>(n);
    if (json) {
        std::printf(
            "{\"workload\": \"%s\", \"impl\": \"%s\", \"iterations\": %zu, "
            "\"seconds\": %.9g, \"cpu_seconds\": %.9g, \"unit\": \"%s\", "
            "\"per_iteration\": %.9g}\n",
            e.workload.c_str(), e.impl.c_str(), n, seconds, cpu, e.per.unit.c_str(),
            e.per.per_iteration);
    } else {
        std::string throughput;
        if (!e.per.unit.empty() && per > 0) {
            throughput = "  " + format_rate(e.per.per_iteration / per, e.per.unit);
        }
        std::printf("%-24s %-16s %8zu iterations  %9.4f s  %12s/iteration  (cpu %s)%s\n",
                    e.workload.c_str(), e.impl.c_str(), n, seconds, format_seconds(per).c_str(),
                    format_seconds(cpu / static_cast<double>(n)).c_str(), throughput.c_str());
    }
    std::fflush(stdout);
}

}  // namespace detail

/// The benchmark program's main(): parses the options, runs what is selected.
inline int main(int argc, char** argv) {
    std::vector<std::string> workloads;
    std::vector<std::string> impls;
    std::size_t iterations = 0;  // 0: each workload's default
    std::size_t repeat = 1;
    std::size_t warmup = 3;
    std::size_t interleave = 0;  // 0: each implementation runs its iterations in one go
    bool json = false;
    bool list = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--list") {
            list = true;
        } else if (arg == "--json") {
            json = true;
        } else if (arg == "--workload" && has_value) {
            workloads.emplace_back(argv[++i]);
        } else if (arg == "--impl" && has_value) {
            impls.emplace_back(argv[++i]);
        } else if (arg == "--iterations" && has_value &&
                   detail::parse_count(argv[i + 1], iterations) && iterations > 0) {
            ++i;
        } else if (arg == "--repeat" && has_value && detail::parse_count(argv[i + 1], repeat) &&
                   repeat > 0) {
            ++i;
        } else if (arg == "--warmup" && has_value && detail::parse_count(argv[i + 1], warmup)) {
            ++i;
        } else if (arg == "--interleave" && has_value &&
                   detail::parse_count(argv[i + 1], interleave)) {
            ++i;
        } else if (arg == "--help" || arg == "-h") {
            detail::usage(argv[0]);
            return 0;
        } else {
            std::fprintf(stderr, "%s: bad argument '%s'\n", argv[0], arg.c_str());
            detail::usage(argv[0]);
            return 2;
        }
    }

    if (list) {
        for (const auto& e : registry()) {
            std::printf("%-24s %-16s %8zu  %s\n", e.workload.c_str(), e.impl.c_str(),
                        e.default_iterations, e.description.c_str());
        }
        return 0;
    }

    // Group the selected entries by workload, in registration order.
    std::vector<std::vector<const entry*>> groups;
    for (const auto& e : registry()) {
        if (!detail::selected(workloads, e.workload) || !detail::selected(impls, e.impl)) {
            continue;
        }
        auto g = std::find_if(groups.begin(), groups.end(),
                              [&](const auto& v) { return v.front()->workload == e.workload; });
        if (g == groups.end()) {
            groups.push_back({&e});
        } else {
            g->push_back(&e);
        }
    }
    if (groups.empty()) {
        std::fprintf(stderr, "%s: nothing selected (see --list)\n", argv[0]);
        return 2;
    }

    for (const auto& group : groups) {
        const std::size_t n = iterations ? iterations : group.front()->default_iterations;
        // Without --interleave, each implementation runs its n iterations in
        // one go; with it, the implementations take turns, `chunk` iterations
        // at a time, so a burst of load on the machine hits them alike.
        const std::size_t chunk = interleave ? interleave : n;
        const entry* current = nullptr;
        try {
            for (const entry* e : group) {
                current = e;
                if (warmup) {
                    e->run(warmup);
                }
            }
            for (std::size_t r = 0; r < repeat; ++r) {
                std::vector<double> seconds(group.size(), 0.0);
                std::vector<double> cpu(group.size(), 0.0);
                if (interleave) {
                    for (std::size_t done = 0; done < n; done += chunk) {
                        const std::size_t k = std::min(chunk, n - done);
                        for (std::size_t i = 0; i < group.size(); ++i) {
                            current = group[i];
                            const double c0 = cpu_seconds();
                            seconds[i] += group[i]->run(k);
                            cpu[i] += cpu_seconds() - c0;
                        }
                    }
                } else {
                    for (std::size_t i = 0; i < group.size(); ++i) {
                        current = group[i];
                        const double c0 = cpu_seconds();
                        seconds[i] = group[i]->run(n);
                        cpu[i] = cpu_seconds() - c0;
                    }
                }
                for (std::size_t i = 0; i < group.size(); ++i) {
                    detail::report(*group[i], n, seconds[i], cpu[i], json);
                }
            }
        } catch (const std::exception& ex) {
            std::fprintf(stderr, "%s/%s failed: %s\n", current->workload.c_str(),
                         current->impl.c_str(), ex.what());
            return 1;
        }
    }
    return 0;
}

}  // namespace bench

#endif  // MULTIPROCESSING_BENCH_HARNESS_HPP
