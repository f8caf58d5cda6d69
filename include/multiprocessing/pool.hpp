// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// Mirrors CPython's multiprocessing/pool.py: Pool, ThreadPool, AsyncResult
// and the imap iterators.
//
//     int square(int x) { return x * x; }
//     mp::Pool pool(4);                              // with Pool(4) as pool:
//     std::vector<int> r = pool.map(square, v);      //     r = pool.map(square, v)
//     auto a = pool.apply_async(square, 7);          //     a = pool.apply_async(square, (7,))
//     int x = a.get(std::chrono::seconds(1));        //     x = a.get(timeout=1)
//
// A Pool's tasks run in worker processes forked when the pool is made. A
// task travels as a portable task (detail/portable_task.hpp): function
// pointers, captureless lambdas, lambdas capturing trivially copyable values
// and cereal-serializable functors are accepted; anything else is a compile
// error saying what to do. Arguments and results go through reduction.hpp.
//
// Beyond Python: a worker that dies (signal or exit) fails only the task it
// was running (WorkerLostError) and is replaced; an optional per-task
// timeout; map fails fast; chunksize < 1 is rejected; imap reads its input
// ahead only a bounded number of chunks.
#ifndef MULTIPROCESSING_POOL_HPP
#define MULTIPROCESSING_POOL_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/context.hpp>
#include <multiprocessing/detail/pool_channel.hpp>
#include <multiprocessing/detail/pool_jobs.hpp>
#include <multiprocessing/detail/portable_task.hpp>
#include <multiprocessing/detail/posix.hpp>
#include <multiprocessing/exceptions.hpp>

#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace multiprocessing {

/// Python: StopIteration, raised by IMapIterator::next() after the last result.
class StopIteration : public std::exception {
public:
    const char* what() const noexcept override { return "StopIteration"; }
};

/// Python's keyword arguments of Pool(...) and ThreadPool(...).
///
///     mp::Pool pool({.processes = 4, .maxtasksperchild = 100});   // C++20
struct PoolOptions {
    /// Python `processes=`: unset means cpu_count(). Must be at least 1.
    std::optional<int> processes;
    /// Python `initializer=` (with `initargs=` bound in): run by each worker
    /// when it starts. Runs in the forked worker, so any callable will do.
    std::function<void()> initializer;
    /// Python `maxtasksperchild=`: a worker leaves after this many tasks (a
    /// map chunk counts as one) and is replaced; unset means never.
    std::optional<long> maxtasksperchild;
    /// Beyond Python: a task running longer than this is stopped (its worker
    /// killed and replaced) and its result raises TimeoutError. Pool only.
    std::optional<std::chrono::duration<double>> task_timeout;
};

/// Python's `args=(...)` of apply_async, for the form with callbacks:
/// pool.apply_async(f, mp::args(1, 2), callback, error_callback).
template <class... A>
struct args_t {
    std::tuple<A...> values;
};

/// Python: args=(a, b, ...). See args_t.
template <class... A>
args_t<std::decay_t<A>...> args(A&&... a) {
    return {std::tuple<std::decay_t<A>...>(std::forward<A>(a)...)};
}

namespace detail {

template <class T>
struct is_args : std::false_type {};
template <class... A>
struct is_args<args_t<A...>> : std::true_type {};

/// Python's default chunksize for map: ceil(n / (4 * processes)).
inline std::size_t resolve_chunksize(std::optional<std::ptrdiff_t> chunksize, std::size_t n,
                                     int processes, const char* method) {
    if (chunksize) {
        if (*chunksize < 1) {
            throw std::invalid_argument(std::string(method) +
                                        ": chunksize must be 1 or more, got " +
                                        std::to_string(*chunksize));
        }
        return static_cast<std::size_t>(*chunksize);
    }
    const std::size_t per = 4 * static_cast<std::size_t>(processes);
    std::size_t c = n / per;
    if (n % per != 0) {
        ++c;
    }
    return c == 0 ? 1 : c;
}

template <class R>
using decay_result_t = std::conditional_t<std::is_void_v<R>, void, std::decay_t<R>>;

struct no_callback {
    explicit operator bool() const { return false; }
};

}  // namespace detail

template <class Derived>
class PoolApi;
class Pool;
class ThreadPool;

namespace detail {

/// How an argument travels to a backend's task (PoolApi needs it before the
/// backend class is complete).
template <class Backend>
struct pool_arg;

/// Pool: the decayed type; a C string as std::string.
template <>
struct pool_arg<Pool> {
    template <class A>
    using type = std::conditional_t<std::is_same_v<std::decay_t<A>, const char*> ||
                                        std::is_same_v<std::decay_t<A>, char*>,
                                    std::string, std::decay_t<A>>;
};

/// ThreadPool: the decayed type.
template <>
struct pool_arg<ThreadPool> {
    template <class A>
    using type = std::decay_t<A>;
};

}  // namespace detail

/// Python: multiprocessing.pool.AsyncResult (ApplyResult), and MapResult for
/// map_async / starmap_async (R = std::vector<T>). Copies share one result.
template <class R>
class AsyncResult {
public:
    using stored = detail::stored_t<R>;

    explicit AsyncResult(std::shared_ptr<detail::result_state<stored>> state)
        : state_(std::move(state)) {}

    /// Python: get(). Waits, then returns the result or throws the task's
    /// error: RemoteError (an exception in the task: its type and message),
    /// WorkerLostError (the worker died), TimeoutError (task_timeout), or
    /// ProcessError (the pool was terminated first).
    R get() {
        state_->wait(std::nullopt);
        return value();
    }
    /// Python: get(timeout). Throws TimeoutError if not ready in time.
    template <class Rep, class Period>
    R get(std::chrono::duration<Rep, Period> timeout) {
        if (!state_->wait(detail::deadline_after(timeout))) {
            throw TimeoutError(
                "AsyncResult.get: timed out after " +
                detail::format_seconds(std::chrono::duration<double>(timeout).count()) + " s");
        }
        return value();
    }
    /// Python: wait(). Blocks until the result is ready.
    void wait() { state_->wait(std::nullopt); }
    /// Python: wait(timeout). Returns whether the result is ready (Python returns None).
    template <class Rep, class Period>
    bool wait(std::chrono::duration<Rep, Period> timeout) {
        return state_->wait(detail::deadline_after(timeout));
    }
    /// Python: ready().
    bool ready() const {
        std::lock_guard<std::mutex> lock(state_->mutex);
        return state_->ready;
    }
    /// Python: successful(). Throws std::invalid_argument if not ready (Python's ValueError).
    bool successful() const {
        std::lock_guard<std::mutex> lock(state_->mutex);
        if (!state_->ready) {
            throw std::invalid_argument("AsyncResult.successful: result is not ready");
        }
        return !state_->error;
    }

private:
    template <class Derived>
    friend class PoolApi;

    R value() {
        std::lock_guard<std::mutex> lock(state_->mutex);
        if (state_->error) {
            std::rethrow_exception(state_->error);
        }
        if constexpr (!std::is_void_v<R>) {
            return *state_->value;
        }
    }
    /// The value moved out (map(), which owns the only handle).
    R take() {
        state_->wait(std::nullopt);
        std::lock_guard<std::mutex> lock(state_->mutex);
        if (state_->error) {
            std::rethrow_exception(state_->error);
        }
        if constexpr (!std::is_void_v<R>) {
            return std::move(*state_->value);
        }
    }

    std::shared_ptr<detail::result_state<stored>> state_;
};

/// Python: MapResult: the result of map_async / starmap_async of a function
/// returning T (AsyncResult<std::vector<T>>; AsyncResult<void> for void).
template <class T>
using MapResult = AsyncResult<detail::map_value_t<T>>;

namespace detail {

/// What an IMapIterator shares with its feeder.
template <class R>
struct imap_state {
    std::shared_ptr<imap_job<R>> job;
    std::function<bool(std::uint32_t)> feed;  // submits chunk i; false when the input is done
    std::size_t max_ahead = 1;
    std::mutex consume_mutex;  // next() from several threads
    std::uint32_t submitted = 0;
    std::uint32_t consumed = 0;
    std::uint32_t next_chunk = 0;
    bool input_done = false;
    std::vector<stored_t<R>> current;
    std::size_t pos = 0;

    void top_up() {
        while (!input_done && submitted - consumed < max_ahead) {
            if (feed(submitted)) {
                ++submitted;
            } else {
                input_done = true;
                feed = nullptr;  // release the input
            }
        }
    }

    std::optional<R> next(const deadline& until) {
        std::lock_guard<std::mutex> consume(consume_mutex);
        for (;;) {
            if (pos < current.size()) {
                return std::move(current[pos++]);
            }
            top_up();
            typename imap_job<R>::slot s;
            {
                std::unique_lock<std::mutex> lock(job->mutex);
                auto has = [&] {
                    return job->ordered ? job->by_chunk.count(next_chunk) != 0
                                        : !job->by_arrival.empty();
                };
                auto finished = [&] { return input_done && consumed == submitted; };
                auto pred = [&] { return has() || finished(); };
                if (until) {
                    if (!job->cv.wait_until(lock, *until, pred)) {
                        throw TimeoutError("IMapIterator.next: timed out");
                    }
                } else {
                    job->cv.wait(lock, pred);
                }
                if (!has()) {
                    return std::nullopt;
                }
                if (job->ordered) {
                    auto it = job->by_chunk.find(next_chunk);
                    s = std::move(it->second);
                    job->by_chunk.erase(it);
                    ++next_chunk;
                } else {
                    s = std::move(job->by_arrival.front());
                    job->by_arrival.pop_front();
                }
                ++consumed;
            }
            if (s.error) {
                std::rethrow_exception(s.error);
            }
            current = std::move(s.values);
            pos = 0;
        }
    }
};

}  // namespace detail

/// Python: the iterator returned by imap() and imap_unordered(). Lazy: it
/// reads its input only a bounded number of chunks ahead of what has been
/// consumed. Usable with range-for.
template <class R>
class IMapIterator {
public:
    explicit IMapIterator(std::shared_ptr<detail::imap_state<R>> state)
        : state_(std::move(state)) {}

    /// Python: next(it). Throws StopIteration after the last result, or the
    /// task's error (RemoteError, WorkerLostError, ...) in its place.
    R next() {
        auto v = state_->next(std::nullopt);
        if (!v) {
            throw StopIteration();
        }
        return std::move(*v);
    }
    /// Python: it.next(timeout). Throws TimeoutError if no result in time.
    template <class Rep, class Period>
    R next(std::chrono::duration<Rep, Period> timeout) {
        auto v = state_->next(detail::deadline_after(timeout));
        if (!v) {
            throw StopIteration();
        }
        return std::move(*v);
    }

    /// An input iterator over the remaining results (for range-for).
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = R;
        using difference_type = std::ptrdiff_t;
        using pointer = const R*;
        using reference = const R&;

        iterator() = default;
        explicit iterator(detail::imap_state<R>* st) : st_(st) { ++*this; }
        const R& operator*() const { return *value_; }
        const R* operator->() const { return &*value_; }
        iterator& operator++() {
            value_ = st_->next(std::nullopt);
            if (!value_) {
                st_ = nullptr;
            }
            return *this;
        }
        friend bool operator==(const iterator& a, const iterator& b) { return a.st_ == b.st_; }
        friend bool operator!=(const iterator& a, const iterator& b) { return !(a == b); }

    private:
        detail::imap_state<R>* st_ = nullptr;
        std::optional<R> value_;
    };

    iterator begin() { return iterator(state_.get()); }
    iterator end() { return iterator(); }

private:
    std::shared_ptr<detail::imap_state<R>> state_;
};

/// The API shared by Pool and ThreadPool (Python's Pool methods), written
/// once over a backend: Derived provides the submission of calls and chunks.
template <class Derived>
class PoolApi {
    template <class A>
    using arg_t = typename detail::pool_arg<Derived>::template type<A>;
    template <class F, class... A>
    using call_result_t =
        detail::decay_result_t<std::invoke_result_t<std::decay_t<F>&, arg_t<A>&&...>>;
    template <class F, class Range>
    using map_arg_t = arg_t<decltype(*std::begin(std::declval<Range&>()))>;
    template <class F, class Range>
    using map_result_t = call_result_t<F, decltype(*std::begin(std::declval<Range&>()))>;
    template <class F, class Range>
    using star_result_t = detail::decay_result_t<decltype(std::apply(
        std::declval<std::decay_t<F>&>(),
        std::declval<std::decay_t<decltype(*std::begin(std::declval<Range&>()))>>()))>;

    Derived& self() { return static_cast<Derived&>(*this); }

public:
    /// Python: apply(func, args). Runs f(args...) in a worker and waits for
    /// the result; throws what AsyncResult::get() throws.
    template <class F, class... A,
              std::enable_if_t<!(detail::is_args<std::decay_t<A>>::value || ...), int> = 0>
    call_result_t<F, A...> apply(F f, A&&... a) {
        return apply_async(std::move(f), std::forward<A>(a)...).get();
    }

    /// Python: apply_async(func, args). Returns at once.
    /// Throws std::invalid_argument ("Pool not running") after close()/terminate().
    template <class F, class... A,
              std::enable_if_t<!(detail::is_args<std::decay_t<A>>::value || ...), int> = 0>
    AsyncResult<call_result_t<F, A...>> apply_async(F f, A&&... a) {
        return apply_async(std::move(f),
                           args_t<arg_t<A>...>{std::tuple<arg_t<A>...>(std::forward<A>(a)...)});
    }

    /// Python: apply_async(func, args=(...), callback=..., error_callback=...).
    /// The callbacks run in this process on the pool's result thread (as in
    /// Python): callback(const R&) before get() returns, error_callback(const
    /// std::exception&) on failure. Keep them short: they hold up the results.
    template <class F, class... A, class CB = detail::no_callback, class ECB = detail::no_callback>
    AsyncResult<call_result_t<F, A...>> apply_async(F f, args_t<A...> a, CB callback = {},
                                                    ECB error_callback = {}) {
        using R = call_result_t<F, A...>;
        self().check_running();
        auto job = std::make_shared<detail::apply_job<R>>();
        if constexpr (!std::is_same_v<CB, detail::no_callback>) {
            if constexpr (std::is_void_v<R>) {
                job->callback = [cb = std::move(callback)](const detail::void_result&) { cb(); };
            } else {
                job->callback = std::move(callback);
            }
        }
        if constexpr (!std::is_same_v<ECB, detail::no_callback>) {
            job->error_callback = std::move(error_callback);
        }
        AsyncResult<R> result(job->state);
        self().template submit_call<R>(job, f, std::move(a.values));
        return result;
    }

    /// Python: map(func, iterable, chunksize=None). Returns the results in
    /// order (nothing for a function returning void). chunksize unset: Python's ceil(n / (4 *
    /// processes)); below 1: std::invalid_argument. Fails fast: the first failed chunk is thrown
    /// (chunks not yet started are dropped) without waiting for the rest.
    template <class F, class Range>
    detail::map_value_t<map_result_t<F, Range>> map(F f, const Range& iterable,
                                                    std::optional<std::ptrdiff_t> chunksize = {}) {
        return map_async(std::move(f), iterable, chunksize).take();
    }
    /// Python: map(func, [a, b, c]).
    template <class F, class T>
    detail::map_value_t<map_result_t<F, std::initializer_list<T>>> map(
        F f, std::initializer_list<T> iterable, std::optional<std::ptrdiff_t> chunksize = {}) {
        return map_async(std::move(f), iterable, chunksize).take();
    }

    /// Python: map_async(func, iterable, chunksize=None, callback=None,
    /// error_callback=None). callback(const std::vector<R>&) on the result thread.
    template <class F, class Range, class CB = detail::no_callback, class ECB = detail::no_callback>
    MapResult<map_result_t<F, Range>> map_async(F f, const Range& iterable,
                                                std::optional<std::ptrdiff_t> chunksize = {},
                                                CB callback = {}, ECB error_callback = {}) {
        return map_impl<false, map_result_t<F, Range>>(std::move(f), iterable, chunksize,
                                                       std::move(callback),
                                                       std::move(error_callback), "Pool.map");
    }

    /// Python: starmap(func, iterable_of_tuples, chunksize=None): f(*args) for
    /// each tuple (std::tuple, std::pair or std::array).
    template <class F, class Range>
    detail::map_value_t<star_result_t<F, Range>> starmap(
        F f, const Range& iterable, std::optional<std::ptrdiff_t> chunksize = {}) {
        return starmap_async(std::move(f), iterable, chunksize).take();
    }

    /// Python: starmap_async(func, iterable, chunksize=None, callback=None, error_callback=None).
    template <class F, class Range, class CB = detail::no_callback, class ECB = detail::no_callback>
    MapResult<star_result_t<F, Range>> starmap_async(F f, const Range& iterable,
                                                     std::optional<std::ptrdiff_t> chunksize = {},
                                                     CB callback = {}, ECB error_callback = {}) {
        return map_impl<true, star_result_t<F, Range>>(std::move(f), iterable, chunksize,
                                                       std::move(callback),
                                                       std::move(error_callback), "Pool.starmap");
    }

    /// Python: imap(func, iterable, chunksize=1). Results in order, lazily:
    /// at most `max_ahead` chunks (0: 8 per worker, at least 32) are read from
    /// the input and submitted beyond what has been consumed. An lvalue input
    /// must outlive the iterator; an rvalue input is moved into it.
    template <class F, class Range>
    IMapIterator<map_result_t<F, Range>> imap(F f, Range&& iterable, std::ptrdiff_t chunksize = 1,
                                              std::size_t max_ahead = 0) {
        return imap_impl(std::move(f), std::forward<Range>(iterable), chunksize, max_ahead, true,
                         "Pool.imap");
    }

    /// Python: imap_unordered(func, iterable, chunksize=1). Results as they come.
    template <class F, class Range>
    IMapIterator<map_result_t<F, Range>> imap_unordered(F f, Range&& iterable,
                                                        std::ptrdiff_t chunksize = 1,
                                                        std::size_t max_ahead = 0) {
        return imap_impl(std::move(f), std::forward<Range>(iterable), chunksize, max_ahead, false,
                         "Pool.imap_unordered");
    }

private:
    template <bool Star, class R, class F, class Range, class CB, class ECB>
    MapResult<R> map_impl(F f, const Range& iterable, std::optional<std::ptrdiff_t> chunksize,
                          CB callback, ECB error_callback, const char* method) {
        self().check_running();
        auto job = std::make_shared<detail::map_job<R>>();
        if constexpr (!std::is_same_v<CB, detail::no_callback>) {
            job->callback = std::move(callback);
        }
        if constexpr (!std::is_same_v<ECB, detail::no_callback>) {
            job->error_callback = std::move(error_callback);
        }
        MapResult<R> result(job->state);
        const auto n =
            static_cast<std::size_t>(std::distance(std::begin(iterable), std::end(iterable)));
        const std::size_t cs = detail::resolve_chunksize(chunksize, n, self().processes(), method);
        job->start(n, cs);
        if (n > 0) {
            Derived::template submit_chunks<R, Star>(self().core(), job, f, std::begin(iterable), n,
                                                     cs, 0, false);
        }
        return result;
    }

    template <class F, class Range>
    IMapIterator<map_result_t<F, Range>> imap_impl(F f, Range&& iterable, std::ptrdiff_t chunksize,
                                                   std::size_t max_ahead, bool ordered,
                                                   const char* method) {
        using R = map_result_t<F, Range>;
        static_assert(!std::is_void_v<R>,
                      "multiprocessing::Pool::imap: the function returns void; use a function "
                      "that returns a value (or apply_async)");
        using T = std::decay_t<decltype(*std::begin(iterable))>;
        if (chunksize < 1) {
            throw std::invalid_argument(std::string(method) +
                                        ": chunksize must be 1 or more, got " +
                                        std::to_string(chunksize));
        }
        self().check_running();
        // The input: moved in if an rvalue, referred to if an lvalue.
        using holder_t = std::conditional_t<std::is_lvalue_reference_v<Range>,
                                            std::remove_reference_t<Range>*, std::decay_t<Range>>;
        struct source {
            holder_t range;
            decltype(std::begin(std::declval<std::remove_reference_t<Range>&>())) it;
            decltype(std::end(std::declval<std::remove_reference_t<Range>&>())) end;
        };
        std::shared_ptr<source> src;
        if constexpr (std::is_lvalue_reference_v<Range>) {
            src = std::make_shared<source>(
                source{&iterable, std::begin(iterable), std::end(iterable)});
        } else {
            src = std::shared_ptr<source>(new source{std::move(iterable), {}, {}});
            src->it = std::begin(src->range);
            src->end = std::end(src->range);
        }
        auto st = std::make_shared<detail::imap_state<R>>();
        st->job = std::make_shared<detail::imap_job<R>>(ordered);
        st->max_ahead = max_ahead != 0 ? max_ahead
                                       : std::max<std::size_t>(
                                             32, 8 * static_cast<std::size_t>(self().processes()));
        const auto cs = static_cast<std::size_t>(chunksize);
        std::weak_ptr<detail::imap_job<R>> weak_job = st->job;
        st->feed = [src, cs, f, weak_job, core = self().core()](std::uint32_t chunk) mutable {
            std::vector<T> items;
            items.reserve(cs);
            while (items.size() < cs && src->it != src->end) {
                items.push_back(*src->it);
                ++src->it;
            }
            if (items.empty()) {
                return false;
            }
            auto job = weak_job.lock();
            Derived::template submit_chunks<R, false>(core, job, f, items.begin(), items.size(),
                                                      items.size(), chunk, true);
            return true;
        };
        st->top_up();
        return IMapIterator<R>(std::move(st));
    }
};

/// Python: multiprocessing.Pool. Worker processes, forked when the pool is
/// made, run the tasks given to them. Leaving the pool's scope terminates it
/// (Python's `with Pool() as pool:`); call close() then join() to wait for
/// the work instead.
///
/// Beyond Python: a worker that dies while running a task (segfault, abort,
/// kill -9, _exit) fails only that task, with WorkerLostError naming the
/// signal or exit code; the pool replaces the worker and every other task
/// completes. No call hangs because a worker died.
///
/// Thread safety: every method may be called from any thread of the process
/// that made the pool; a forked child may not use its parent's pool
/// (ProcessError).
class Pool : public PoolApi<Pool> {
public:
    /// How an argument travels: as its decayed type; a C string as std::string.
    template <class A>
    using arg_type = detail::pool_arg<Pool>::type<A>;

    /// Python: Pool() — cpu_count() workers.
    Pool() : Pool(PoolOptions{}) {}

    /// Python: Pool(processes). Throws std::invalid_argument if processes < 1.
    explicit Pool(int processes) : Pool(make_options(processes)) {}

    /// Python: Pool(processes, initializer, initargs).
    template <class I, class... A>
    Pool(int processes, I initializer, A&&... initargs)
        : Pool(make_options(processes, std::move(initializer), std::forward<A>(initargs)...)) {}

    /// Python: Pool(processes=..., initializer=..., maxtasksperchild=...).
    /// Throws std::invalid_argument for processes < 1 or maxtasksperchild < 1,
    /// std::system_error if a worker cannot be started.
    explicit Pool(PoolOptions options) : core_(make_core(std::move(options))) {}

    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    /// Python: __exit__ of `with Pool()`: terminate(). Never throws.
    ~Pool() = default;

    /// Python: close(). No more tasks may be submitted; workers leave once
    /// the submitted work is done.
    void close() { core_->close(); }

    /// Python: terminate(). Stops the workers at once (SIGTERM); tasks not
    /// finished fail with ProcessError. Returns once everything is stopped.
    void terminate() { core_->terminate(); }

    /// Python: join(). Waits for the workers to leave. Throws
    /// std::invalid_argument ("Pool is still running") before close() or terminate().
    void join() { core_->join(); }

    /// The number of worker processes (Python: pool._processes).
    int processes() const noexcept { return core_->processes(); }

    /// Beyond Python: the pids of the current workers.
    std::vector<pid_t> worker_pids() { return core_->worker_pids(); }

    /// Beyond Python: the id of the pool's result thread, where callbacks run.
    std::thread::id result_thread_id() const { return core_->result_thread_id(); }

private:
    // The backend PoolApi submits through.
    template <class Derived>
    friend class PoolApi;

    void check_running() { core_->check_running(); }
    const std::shared_ptr<detail::process_core>& core() const { return core_; }

    template <class R, class F, class... A>
    void submit_call(const std::shared_ptr<detail::typed_job<R>>& job, const F& f,
                     std::tuple<A...>&& args) {
        detail::check_portable_callable<F>();
        check_args<A...>();
        std::string frame = detail::start_frame();
        detail::put_code_ref(frame, detail::trampoline_ref<&detail::call_trampoline<F, R, A...>>());
        detail::put_callable(frame, f);
        const std::uint64_t kind = detail::task_kind(frame, frame.size());
        std::apply([&](const auto&... a) { (detail::put_value(frame, a), ...); }, args);
        detail::finish_frame(frame);
        std::vector<detail::wire_task> tasks;
        tasks.push_back(detail::wire_task{job, 0, std::move(frame), kind});
        core_->submit(std::move(tasks));
    }

    template <class R, bool Star, class F, class It>
    static void submit_chunks(const std::shared_ptr<detail::process_core>& core,
                              const std::shared_ptr<detail::typed_job<R>>& job, const F& f,
                              It first, std::size_t n, std::size_t chunksize,
                              std::uint32_t first_chunk, bool allow_closed) {
        detail::check_portable_callable<F>();
        using item_t = std::decay_t<decltype(*first)>;
        using T = std::conditional_t<Star, item_t, arg_type<item_t>>;
        if constexpr (!Star) {
            check_args<T>();
        }
        const detail::code_ref& tramp =
            detail::trampoline_ref<&detail::chunk_trampoline<F, R, T, Star>>();
        std::string callable;
        detail::put_callable(callable, f);
        std::vector<detail::wire_task> tasks;
        tasks.reserve((n + chunksize - 1) / chunksize);
        std::uint32_t chunk = first_chunk;
        std::size_t batch_bytes = 0;
        for (std::size_t done = 0; done < n; ++chunk) {
            const std::size_t len = std::min(chunksize, n - done);
            std::string frame = detail::start_frame();
            if constexpr (!Star && std::is_trivially_copyable_v<T>) {
                frame.reserve(64 + callable.size() + len * (8 + sizeof(T)));
            }
            detail::put_code_ref(frame, tramp);
            frame += callable;
            const std::uint64_t kind = detail::task_kind(frame, frame.size());
            detail::put_items<T, Star>(frame, first, static_cast<std::uint32_t>(len));
            std::advance(first, static_cast<std::ptrdiff_t>(len));
            detail::finish_frame(frame);
            batch_bytes += frame.size();
            tasks.push_back(detail::wire_task{job, chunk, std::move(frame), kind});
            done += len;
            // Big chunks go at once, so workers start while the rest is encoded;
            // small ones in batches, to take the lock once for many.
            if (batch_bytes >= (std::size_t{1} << 16) && done < n) {
                core->submit(std::move(tasks), allow_closed);
                tasks.clear();
                batch_bytes = 0;
            }
        }
        core->submit(std::move(tasks), allow_closed);
    }

private:
    template <class... A>
    static constexpr void check_args() {
        static_assert(!(std::is_pointer_v<A> || ...),
                      "multiprocessing::Pool: a pointer cannot be sent to a worker process as a "
                      "task argument; pass the value itself (a std::string, a std::vector, ...)");
    }

    template <class I, class... A>
    static PoolOptions make_options(int processes, I initializer, A&&... initargs) {
        PoolOptions o;
        o.processes = processes;
        o.initializer = [init = std::move(initializer),
                         tup = std::make_tuple(std::forward<A>(initargs)...)]() mutable {
            std::apply(init, tup);
        };
        return o;
    }
    static PoolOptions make_options(int processes) {
        PoolOptions o;
        o.processes = processes;
        return o;
    }

    static std::shared_ptr<detail::process_core> make_core(PoolOptions options) {
        detail::process_core_options o;
        o.processes = options.processes ? *options.processes : cpu_count();
        if (o.processes < 1) {
            throw std::invalid_argument("Number of processes must be at least 1");
        }
        if (options.maxtasksperchild) {
            if (*options.maxtasksperchild < 1) {
                throw std::invalid_argument("maxtasksperchild must be a positive int or None");
            }
            o.maxtasksperchild = static_cast<std::size_t>(*options.maxtasksperchild);
        }
        if (options.task_timeout) {
            if (options.task_timeout->count() <= 0) {
                throw std::invalid_argument("task_timeout must be positive");
            }
            o.task_timeout =
                std::chrono::duration_cast<std::chrono::nanoseconds>(*options.task_timeout);
        }
        o.initializer = std::move(options.initializer);
        return std::make_shared<detail::process_core>(std::move(o));
    }

    std::shared_ptr<detail::process_core> core_;
};

namespace detail {

/// The threads of a ThreadPool: workers run tasks; one result thread runs
/// what completes them (setting results, callbacks), as in Python.
class thread_core {
public:
    enum class pool_state { run, close, terminate };
    /// A task: runs the work, returns what completes it on the result thread.
    struct task {
        std::shared_ptr<job_base> job;
        std::uint32_t chunk = 0;
        std::function<std::function<void()>()> run;
    };

    thread_core(int processes, std::function<void()> initializer)
        : processes_(processes), initializer_(std::move(initializer)), owner_(::getpid()) {
        try {
            for (int i = 0; i < processes; ++i) {
                workers_.emplace_back([this] { worker_main(); });
            }
            result_ = std::thread([this] { result_main(); });
        } catch (...) {
            terminate();
            throw;
        }
    }
    thread_core(const thread_core&) = delete;
    thread_core& operator=(const thread_core&) = delete;
    ~thread_core() {
        if (::getpid() != owner_) {
            for (auto& t : workers_) {
                new (&t) std::thread();  // a forked child's copy: forget the threads
            }
            new (&result_) std::thread();
            return;
        }
        terminate();
    }

    int processes() const noexcept { return processes_; }

    void check_running() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (state_ != pool_state::run) {
            throw std::invalid_argument("Pool not running");
        }
    }

    void submit(std::vector<task>&& tasks, bool allow_closed) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (state_ == pool_state::terminate || (state_ == pool_state::close && !allow_closed) ||
                workers_left_ == 0) {
                throw std::invalid_argument("Pool not running");
            }
            for (auto& t : tasks) {
                tasks_.push_back(std::move(t));
            }
        }
        task_cv_.notify_all();
    }

    void close() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (state_ == pool_state::run) {
                state_ = pool_state::close;
            }
        }
        task_cv_.notify_all();
    }

    void terminate() {
        std::deque<task> dropped;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            state_ = pool_state::terminate;
            dropped.swap(tasks_);
        }
        task_cv_.notify_all();
        const auto error =
            std::make_exception_ptr(ProcessError("Pool: terminated before the task finished"));
        {
            std::lock_guard<std::mutex> lock(mutex_);
            for (auto& t : dropped) {
                if (!t.job->cancelled) {
                    completions_.push_back(
                        [job = t.job, chunk = t.chunk, error] { job->on_error(chunk, error); });
                }
            }
        }
        result_cv_.notify_all();
        join_threads();
    }

    void join() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (state_ == pool_state::run) {
                throw std::invalid_argument("Pool is still running");
            }
        }
        join_threads();
    }

    std::thread::id result_thread_id() const { return result_.get_id(); }

private:
    void join_threads() {
        std::lock_guard<std::mutex> lock(join_mutex_);
        for (auto& t : workers_) {
            if (t.joinable()) {
                t.join();
            }
        }
        if (result_.joinable()) {
            result_.join();
        }
    }

    void worker_main() {
        if (initializer_) {
            run_callback("initializer", initializer_);
        }
        for (;;) {
            task t;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                task_cv_.wait(lock,
                              [this] { return !tasks_.empty() || state_ != pool_state::run; });
                if (tasks_.empty() || state_ == pool_state::terminate) {
                    if (--workers_left_ == 0) {
                        result_cv_.notify_all();
                    }
                    return;
                }
                t = std::move(tasks_.front());
                tasks_.pop_front();
            }
            if (t.job->cancelled) {
                continue;
            }
            auto done = t.run();
            {
                std::lock_guard<std::mutex> lock(mutex_);
                completions_.push_back(std::move(done));
            }
            result_cv_.notify_one();
        }
    }

    void result_main() {
        for (;;) {
            std::deque<std::function<void()>> batch;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                result_cv_.wait(lock,
                                [this] { return !completions_.empty() || workers_left_ == 0; });
                if (completions_.empty()) {
                    return;
                }
                batch.swap(completions_);
            }
            for (auto& c : batch) {
                c();
            }
        }
    }

    int processes_;
    std::function<void()> initializer_;
    pid_t owner_;
    std::mutex mutex_;
    std::condition_variable task_cv_;
    std::condition_variable result_cv_;
    pool_state state_ = pool_state::run;
    std::deque<task> tasks_;
    std::deque<std::function<void()>> completions_;
    int workers_left_ = processes_;
    std::vector<std::thread> workers_;
    std::thread result_;
    std::mutex join_mutex_;
};

}  // namespace detail

/// Python: multiprocessing.pool.ThreadPool. The same API as Pool, on
/// threads of this process: any callable and any argument type will do
/// (nothing is serialized), and a task's exception is rethrown from get()
/// as itself. Callbacks run on the pool's result thread. Leaving the scope
/// terminates it (running tasks are finished first: threads cannot be killed).
/// task_timeout does not apply; maxtasksperchild is accepted and ignored.
class ThreadPool : public PoolApi<ThreadPool> {
public:
    /// Python: ThreadPool() — cpu_count() threads.
    ThreadPool() : ThreadPool(PoolOptions{}) {}
    /// Python: ThreadPool(processes).
    explicit ThreadPool(int processes) : ThreadPool(with_processes(processes)) {}
    /// Python: ThreadPool(processes, initializer, initargs).
    template <class I, class... A>
    ThreadPool(int processes, I initializer, A&&... initargs)
        : ThreadPool(with_init(processes, std::move(initializer), std::forward<A>(initargs)...)) {}
    /// Python: ThreadPool(processes=..., initializer=...). Throws
    /// std::invalid_argument if processes < 1.
    explicit ThreadPool(PoolOptions options) {
        const int n = options.processes ? *options.processes : cpu_count();
        if (n < 1) {
            throw std::invalid_argument("Number of processes must be at least 1");
        }
        core_ = std::make_shared<detail::thread_core>(n, std::move(options.initializer));
    }
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;
    /// terminate(), as Python's `with ThreadPool()`.
    ~ThreadPool() = default;

    /// Python: close().
    void close() { core_->close(); }
    /// Python: terminate(). Queued tasks fail with ProcessError; running ones finish.
    void terminate() { core_->terminate(); }
    /// Python: join(). Throws std::invalid_argument before close()/terminate().
    void join() { core_->join(); }
    /// The number of worker threads.
    int processes() const noexcept { return core_->processes(); }
    /// The id of the pool's result thread, where callbacks run.
    std::thread::id result_thread_id() const { return core_->result_thread_id(); }

private:
    // The backend PoolApi submits through.
    template <class Derived>
    friend class PoolApi;

    void check_running() { core_->check_running(); }
    const std::shared_ptr<detail::thread_core>& core() const { return core_; }

    template <class R, class F, class... A>
    void submit_call(const std::shared_ptr<detail::typed_job<R>>& job, const F& f,
                     std::tuple<A...>&& args) {
        std::vector<detail::thread_core::task> tasks;
        tasks.push_back(detail::thread_core::task{
            job, 0,
            [job, f,
             a = std::make_shared<std::tuple<A...>>(std::move(args))]() -> std::function<void()> {
                try {
                    auto values = std::make_shared<std::vector<detail::stored_t<R>>>();
                    F fn = f;
                    values->push_back(detail::invoke_stored<R>(fn, std::move(*a)));
                    return [job, values] { job->deliver(0, std::move(*values)); };
                } catch (...) {
                    auto e = std::current_exception();
                    return [job, e] { job->on_error(0, e); };
                }
            }});
        core_->submit(std::move(tasks), false);
    }

    template <class R, bool Star, class F, class It>
    static void submit_chunks(const std::shared_ptr<detail::thread_core>& core,
                              const std::shared_ptr<detail::typed_job<R>>& job, const F& f,
                              It first, std::size_t n, std::size_t chunksize,
                              std::uint32_t first_chunk, bool allow_closed) {
        using T = std::decay_t<decltype(*first)>;
        std::vector<detail::thread_core::task> tasks;
        std::uint32_t chunk = first_chunk;
        for (std::size_t done = 0; done < n; ++chunk) {
            const std::size_t len = std::min(chunksize, n - done);
            auto items = std::make_shared<std::vector<T>>();
            items->reserve(len);
            for (std::size_t i = 0; i < len; ++i, ++first) {
                items->push_back(*first);
            }
            tasks.push_back(detail::thread_core::task{
                job, chunk, [job, chunk, f, items]() -> std::function<void()> {
                    try {
                        auto values = std::make_shared<std::vector<detail::stored_t<R>>>();
                        values->reserve(items->size());
                        F fn = f;
                        for (auto& item : *items) {
                            if constexpr (Star) {
                                values->push_back(detail::invoke_stored<R>(fn, std::move(item)));
                            } else {
                                values->push_back(detail::invoke_stored<R>(
                                    fn, std::forward_as_tuple(std::move(item))));
                            }
                        }
                        return [job, chunk, values] { job->deliver(chunk, std::move(*values)); };
                    } catch (...) {
                        auto e = std::current_exception();
                        return [job, chunk, e] { job->on_error(chunk, e); };
                    }
                }});
            done += len;
        }
        core->submit(std::move(tasks), allow_closed);
    }

private:
    static PoolOptions with_processes(int processes) {
        PoolOptions o;
        o.processes = processes;
        return o;
    }
    template <class I, class... A>
    static PoolOptions with_init(int processes, I initializer, A&&... initargs) {
        PoolOptions o;
        o.processes = processes;
        o.initializer = [init = std::move(initializer),
                         tup = std::make_tuple(std::forward<A>(initargs)...)]() mutable {
            std::apply(init, tup);
        };
        return o;
    }

    std::shared_ptr<detail::thread_core> core_;
};

}  // namespace multiprocessing

#endif  // MULTIPROCESSING_POOL_HPP
