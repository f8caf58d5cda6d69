// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// The result side of a Pool, shared by Pool (processes) and ThreadPool
// (threads): what a submitted call, map or imap waits on, and how a chunk's
// results (or its error) reach it. Mirrors pool.py's ApplyResult, MapResult
// and IMapIterator internals.
#ifndef MULTIPROCESSING_DETAIL_POOL_JOBS_HPP
#define MULTIPROCESSING_DETAIL_POOL_JOBS_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/detail/portable_task.hpp>
#include <multiprocessing/detail/posix.hpp>
#include <multiprocessing/exceptions.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace multiprocessing::detail {

/// Seconds as Python prints them in messages: "0.5", "30", "1.25".
inline std::string format_seconds(double seconds) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", seconds);
    return buf;
}

/// A unit of submitted work waiting for the results of its chunks.
struct job_base {
    virtual ~job_base() = default;
    /// A chunk's encoded results arrived from a worker process (result thread).
    virtual void on_answer(std::uint32_t chunk, std::string_view bytes) = 0;
    /// A chunk failed: exception in the task, worker lost, time-out, terminate.
    virtual void on_error(std::uint32_t chunk, std::exception_ptr error) = 0;
    /// Set when the job no longer needs its remaining chunks (map failed fast).
    std::atomic<bool> cancelled{false};
};

/// A job whose chunks produce values of type stored_t<R>.
template <class R>
struct typed_job : job_base {
    using value_type = stored_t<R>;
    /// A chunk's results as values (ThreadPool, or decoded from a worker).
    virtual void deliver(std::uint32_t chunk, std::vector<value_type>&& values) = 0;

    void on_answer(std::uint32_t chunk, std::string_view bytes) override {
        std::vector<value_type> values;
        try {
            wire_reader in(bytes);
            get_items<value_type>(
                in, [&](std::uint32_t, value_type&& v) { values.push_back(std::move(v)); });
        } catch (...) {
            on_error(chunk, std::current_exception());
            return;
        }
        deliver(chunk, std::move(values));
    }
};

/// Runs a user callback on the result thread; an exception escaping it is
/// reported on stderr (it must not take the pool's result thread down).
template <class Fn>
void run_callback(const char* what, Fn&& fn) noexcept {
    try {
        fn();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "multiprocessing.Pool: exception in %s: %s: %s\n", what,
                     current_exception_type_name().c_str(), e.what());
    } catch (...) {
        std::fprintf(stderr, "multiprocessing.Pool: exception in %s: %s\n", what,
                     current_exception_type_name().c_str());
    }
}

/// Calls an error callback with the exception held by `error`.
template <class ECB>
void call_error_callback(const ECB& ecb, const std::exception_ptr& error) {
    if (!ecb) {
        return;
    }
    run_callback("error_callback", [&] {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            ecb(e);
        }
    });
}

/// What an AsyncResult waits on.
template <class T>
struct result_state {
    std::mutex mutex;
    std::condition_variable cv;
    bool ready = false;
    std::optional<T> value;
    std::exception_ptr error;

    void set_value(T&& v) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            value.emplace(std::move(v));
            ready = true;
        }
        cv.notify_all();
    }
    void set_error(std::exception_ptr e) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            error = std::move(e);
            ready = true;
        }
        cv.notify_all();
    }
    bool wait(const deadline& until) {
        std::unique_lock<std::mutex> lock(mutex);
        if (until) {
            return cv.wait_until(lock, *until, [this] { return ready; });
        }
        cv.wait(lock, [this] { return ready; });
        return true;
    }
};

using error_callback_t = std::function<void(const std::exception&)>;

/// apply / apply_async: one chunk, one value.
template <class R>
struct apply_job final : typed_job<R> {
    using value_type = stored_t<R>;
    using callback_t = std::function<void(const value_type&)>;

    std::shared_ptr<result_state<value_type>> state = std::make_shared<result_state<value_type>>();
    callback_t callback;
    error_callback_t error_callback;

    void deliver(std::uint32_t chunk, std::vector<value_type>&& values) override {
        if (values.size() != 1) {
            on_error(chunk, std::make_exception_ptr(std::invalid_argument(
                                "Pool: a task came back with the wrong number of results")));
            return;
        }
        if (callback) {
            run_callback("callback", [&] { callback(values[0]); });
        }
        state->set_value(std::move(values[0]));
    }
    void on_error(std::uint32_t, std::exception_ptr error) override {
        call_error_callback(error_callback, error);
        state->set_error(std::move(error));
    }
};

/// What map() returns for a function returning R: std::vector<R>, or
/// nothing for a void function (Python's list of None).
template <class R>
using map_value_t = std::conditional_t<std::is_void_v<R>, void, std::vector<R>>;

/// map / map_async / starmap: chunks of `chunksize` items; fails fast on the
/// first failed chunk (its remaining chunks are dropped, not run).
template <class R>
struct map_job final : typed_job<R> {
    using value_type = stored_t<R>;
    using list_type = stored_t<map_value_t<R>>;  // std::vector<R>, or void_result
    using callback_t = std::conditional_t<std::is_void_v<R>, std::function<void()>,
                                          std::function<void(const list_type&)>>;

    std::shared_ptr<result_state<list_type>> state = std::make_shared<result_state<list_type>>();
    callback_t callback;
    error_callback_t error_callback;
    list_type values{};
    std::size_t size = 0;
    std::size_t chunksize = 1;
    std::size_t chunks_left = 0;
    bool failed = false;

    void start(std::size_t n, std::size_t chunk_size) {
        if constexpr (!std::is_void_v<R>) {
            values.resize(n);
        }
        size = n;
        chunksize = chunk_size;
        chunks_left = (n + chunk_size - 1) / chunk_size;
        if (chunks_left == 0) {
            finish();
        }
    }
    void finish() {
        if (callback) {
            if constexpr (std::is_void_v<R>) {
                run_callback("callback", [&] { callback(); });
            } else {
                run_callback("callback", [&] { callback(values); });
            }
        }
        state->set_value(std::move(values));
    }
    /// Decodes a chunk straight into place.
    void on_answer(std::uint32_t chunk, std::string_view bytes) override {
        if (failed) {
            return;
        }
        try {
            wire_reader in(bytes);
            const std::size_t at = chunk * chunksize;
            get_items<value_type>(in, [&](std::uint32_t i, value_type&& v) {
                if (at + i >= size) {
                    throw std::invalid_argument("Pool: a chunk came back with too many results");
                }
                if constexpr (!std::is_void_v<R>) {
                    values[at + i] = std::move(v);
                } else {
                    (void)v;
                }
            });
        } catch (...) {
            on_error(chunk, std::current_exception());
            return;
        }
        if (--chunks_left == 0) {
            finish();
        }
    }
    void deliver(std::uint32_t chunk, std::vector<value_type>&& got) override {
        if (failed) {
            return;
        }
        const std::size_t at = chunk * chunksize;
        if (at + got.size() > size) {
            on_error(chunk, std::make_exception_ptr(std::invalid_argument(
                                "Pool: a chunk came back with too many results")));
            return;
        }
        if constexpr (!std::is_void_v<R>) {
            for (std::size_t i = 0; i < got.size(); ++i) {
                values[at + i] = std::move(got[i]);
            }
        }
        if (--chunks_left == 0) {
            finish();
        }
    }
    void on_error(std::uint32_t, std::exception_ptr error) override {
        if (failed) {
            return;
        }
        failed = true;
        this->cancelled = true;
        call_error_callback(error_callback, error);
        state->set_error(std::move(error));
    }
};

/// imap / imap_unordered: chunks arrive in any order; the consumer reads
/// them in submission order (imap) or arrival order (imap_unordered).
template <class R>
struct imap_job final : typed_job<R> {
    using value_type = stored_t<R>;
    struct slot {
        std::vector<value_type> values;
        std::exception_ptr error;
    };

    explicit imap_job(bool is_ordered) : ordered(is_ordered) {}

    const bool ordered;
    std::mutex mutex;
    std::condition_variable cv;
    std::map<std::uint32_t, slot> by_chunk;  // imap
    std::deque<slot> by_arrival;             // imap_unordered

    void put(std::uint32_t chunk, slot s) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (ordered) {
                by_chunk.emplace(chunk, std::move(s));
            } else {
                by_arrival.push_back(std::move(s));
            }
        }
        cv.notify_all();
    }
    void deliver(std::uint32_t chunk, std::vector<value_type>&& values) override {
        put(chunk, slot{std::move(values), nullptr});
    }
    void on_error(std::uint32_t chunk, std::exception_ptr error) override {
        put(chunk, slot{{}, std::move(error)});
    }
};

}  // namespace multiprocessing::detail

#endif  // MULTIPROCESSING_DETAIL_POOL_JOBS_HPP
