// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// Mirrors CPython's multiprocessing/queues.py: Queue, SimpleQueue and
// JoinableQueue.
//
//     mp::Queue<int> q;                     // q = Queue()
//     mp::Process p([](mp::Queue<int> q) { q.put(42); }, q);
//     p.start();
//     int v = q.get();                      // 42
//     p.join();
//
// Python's Queue is a pipe plus a feeder thread; these are rings in shared
// memory (an anonymous MAP_SHARED mapping made by the constructor), so a
// queue made before start() is shared with the child, and only with
// processes forked after it was made. put() is synchronous: the value is
// serialized (reduction.hpp) and in the ring when put() returns, so a value
// that cannot be serialized fails at the call site, and qsize(), empty() and
// full() are exact the moment put() returns. Processes killed at any point
// of put() or get() leave the queue usable; see detail/shm_ring.hpp.
#ifndef MULTIPROCESSING_QUEUES_HPP
#define MULTIPROCESSING_QUEUES_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/detail/posix.hpp>
#include <multiprocessing/detail/shm_ring.hpp>
#include <multiprocessing/exceptions.hpp>
#include <multiprocessing/reduction.hpp>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace multiprocessing {

/// Python's keyword arguments of Queue(...) and JoinableQueue(...), plus the
/// ring's size in bytes (Python's pipe has a fixed buffer instead).
///
///     mp::Queue<int> q({.maxsize = 5, .capacity = 1 << 16});   // C++20
struct QueueOptions {
    /// Python `maxsize`: the most messages the queue holds; <= 0 means no limit.
    int maxsize = 0;
    /// Bytes of shared memory for the ring (64 B to 1 GiB, rounded up to 8).
    /// Independent of maxsize: a message larger than the ring still goes
    /// through, in chunks; a put() blocks while the ring has no room.
    std::size_t capacity = std::size_t{1} << 20;
};

namespace detail {

template <class>
inline constexpr bool queue_dependent_false = false;

inline std::string seconds_text(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", s);
    return buf;
}

/// What Queue and SimpleQueue share: the ring handle and the codec calls.
template <class T>
class queue_base {
public:
    explicit queue_base(const QueueOptions& options)
        : ring_(options.capacity, static_cast<std::int64_t>(options.maxsize)) {}
    /// Over a ring placed elsewhere (a Manager's queues).
    explicit queue_base(shm_ring ring) : ring_(std::move(ring)) {}

    /// Passing a queue through serialization (a Pool task, a Pipe) is an
    /// error, as in Python; a fork child inherits it instead.
    template <class Archive>
    void serialize(Archive&) {
        static_assert(queue_dependent_false<Archive>,
                      "Queue objects should only be shared between processes through "
                      "inheritance: pass the queue to mp::Process (fork), not through "
                      "serialization (a Pool task, a Pipe, another Queue)");
    }

protected:
    // Fast paths for the types reduction.hpp sends as raw bytes: the same
    // frame (header and payload), built here and copied once, into the ring;
    // read back in place. Anything unexpected goes through reduction::loads,
    // which raises the same errors as always.
    static constexpr bool raw_v = std::is_same_v<reduction::wire_type_t<T>, T> &&
                                  !std::is_pointer_v<T> && !std::is_member_pointer_v<T> &&
                                  !std::is_array_v<T>;
    static constexpr bool bytes_v =
        raw_v && reduction::kind_of_v<T> == reduction::frame_kind::bytes;
    static constexpr bool contiguous_v =
        raw_v && reduction::kind_of_v<T> == reduction::frame_kind::contiguous;

    /// The frame header of a T with `payload` bytes.
    static std::string_view header_of(char (&buf)[reduction::header_size], std::size_t payload) {
        reduction::write_header<T>(buf, payload);
        return std::string_view(buf, reduction::header_size);
    }

    /// The header every frame of a T has (bytes: all of it; contiguous: the
    /// first 16 bytes, without the payload length).
    static const char* expected_header() {
        static const auto h = [] {
            struct holder {
                char b[reduction::header_size];
            } x{};
            reduction::write_header<T>(x.b, bytes_v ? sizeof(T) : 0);
            return x;
        }();
        return h.b;
    }

    static std::uint64_t le64(const char* p) noexcept {
        std::uint64_t v = 0;
        for (int i = 7; i >= 0; --i) {
            v = (v << 8) | static_cast<unsigned char>(p[i]);
        }
        return v;
    }

    /// Serializes `obj` and appends it; false when the wait ran out.
    bool put_value(const T& obj, const wait_spec& wait) {
        if constexpr (bytes_v) {
            char frame[reduction::header_size + sizeof(T)];
            std::memcpy(frame, expected_header(), reduction::header_size);
            std::memcpy(frame + reduction::header_size, static_cast<const void*>(&obj), sizeof(T));
            return ring_.put_bytes(std::string_view(frame, sizeof frame), wait) == ring_status::ok;
        } else if constexpr (contiguous_v) {
            const std::size_t n = obj.size() * sizeof(typename T::value_type);
            char head[reduction::header_size];
            const byte_pieces pieces{
                header_of(head, n), std::string_view(reinterpret_cast<const char*>(obj.data()), n)};
            return ring_.put_bytes(pieces, wait) == ring_status::ok;
        } else {
            // A per-thread buffer keeps its capacity from one put to the next.
            thread_local std::string buffer;
            std::string bytes;
            bytes.swap(buffer);
            bytes.clear();
            struct give_back {
                std::string& bytes;
                ~give_back() { bytes.swap(buffer); }
            } restore{bytes};
            reduction::dumps_into(obj, bytes);
            return ring_.put_bytes(bytes, wait) == ring_status::ok;
        }
    }

    /// Decodes a frame given as two parts (a wrapped message), as
    /// reduction::loads<T>(a + b) would.
    static T decode(std::string_view a, std::string_view b) {
        constexpr std::size_t hs = reduction::header_size;
        if constexpr (bytes_v && !std::is_same_v<T, bool>) {
            if (b.empty() && a.size() == hs + sizeof(T) &&
                std::memcmp(a.data(), expected_header(), hs) == 0 &&
                sizeof(T) <= reduction::max_frame_size()) {
                T value;
                std::memcpy(static_cast<void*>(&value), a.data() + hs, sizeof(T));
                return value;
            }
        } else if constexpr (contiguous_v) {
            using E = typename T::value_type;
            const std::size_t total = a.size() + b.size();
            if (a.size() >= hs && std::memcmp(a.data(), expected_header(), 16) == 0 &&
                le64(a.data() + 16) == total - hs && total - hs <= reduction::max_frame_size() &&
                (total - hs) % sizeof(E) == 0) {
                const std::string_view p1 = a.substr(hs);
                T value;
                if constexpr (std::is_same_v<T, std::string>) {
                    value.reserve(total - hs);
                    value.append(p1).append(b);
                } else {
                    value.resize((total - hs) / sizeof(E));
                    char* out = reinterpret_cast<char*>(value.data());
                    if (!p1.empty()) {
                        std::memcpy(out, p1.data(), p1.size());
                    }
                    if (!b.empty()) {
                        std::memcpy(out + p1.size(), b.data(), b.size());
                    }
                }
                return value;
            }
        }
        if (b.empty()) {
            return reduction::loads<T>(a);
        }
        std::string joined;
        joined.reserve(a.size() + b.size());
        joined.append(a).append(b);
        return reduction::loads<T>(joined);
    }

    /// Takes and decodes one value; empty when the wait ran out.
    std::optional<T> get_value(const wait_spec& wait) {
        std::optional<T> out;
        const auto status = ring_.get_bytes(
            [&](std::string_view a, std::string_view b) { out.emplace(decode(a, b)); }, wait);
        if (status != ring_status::ok) {
            return std::nullopt;
        }
        return out;
    }

    template <class Rep, class Period>
    static wait_spec wait_for(bool block, std::chrono::duration<Rep, Period> timeout) {
        if (!block) {
            return wait_spec::nonblocking();
        }
        return {true, deadline_after(timeout)};
    }

    shm_ring ring_;
};

}  // namespace detail

/// Python: multiprocessing.Queue(maxsize=0). A FIFO of T between processes,
/// many producers and many consumers, in shared memory. Copies of a Queue
/// (and the copies a child inherits) are handles on the same queue.
///
/// Thread safety: one Queue object may be used from several threads at once.
/// Waiting: blocking put/get sleep in the kernel (futex) after a short spin.
template <class T>
class Queue : public detail::queue_base<T> {
    using base = detail::queue_base<T>;

public:
    /// Python: Queue(maxsize=0); maxsize <= 0 means no limit on the number of
    /// messages (put() still waits while the ring's bytes are all in use).
    /// Throws std::system_error if the shared memory cannot be mapped.
    explicit Queue(int maxsize = 0) : Queue(QueueOptions{maxsize}) {}

    /// Queue(maxsize=...) with the ring's capacity in bytes as well. Throws
    /// std::invalid_argument for a capacity out of range.
    explicit Queue(const QueueOptions& options) : base(options) {}

    /// Python: put(obj). Blocks while the queue is full (maxsize) or the ring
    /// has no room. Throws std::invalid_argument if this handle was closed
    /// (Python's ValueError), and whatever serializing `obj` throws.
    void put(const T& obj) { put_impl(obj, detail::wait_spec::forever(), 0.0); }

    /// Python: put(obj, timeout=t). Throws Full if no room came in time.
    template <class Rep, class Period>
    void put(const T& obj, std::chrono::duration<Rep, Period> timeout) {
        put(obj, true, timeout);
    }

    /// Python: put(obj, block). put(obj, false) is put_nowait(obj).
    void put(const T& obj, bool block) {
        put_impl(obj, block ? detail::wait_spec::forever() : detail::wait_spec::nonblocking(), 0.0);
    }

    /// Python: put(obj, block, timeout). The timeout counts only when block.
    template <class Rep, class Period>
    void put(const T& obj, bool block, std::chrono::duration<Rep, Period> timeout) {
        put_impl(obj, base::wait_for(block, timeout),
                 block ? std::chrono::duration<double>(timeout).count() : 0.0);
    }

    /// Python: put_nowait(obj). Throws Full at once if there is no room.
    void put_nowait(const T& obj) { put(obj, false); }

    /// Python: get(). Blocks until a message comes. Throws
    /// std::invalid_argument if this handle was closed, and whatever
    /// decoding throws (the undecodable message is consumed).
    T get() { return get_impl(detail::wait_spec::forever(), 0.0); }

    /// Python: get(timeout=t). Throws Empty if nothing came in time.
    template <class Rep, class Period>
    T get(std::chrono::duration<Rep, Period> timeout) {
        return get(true, timeout);
    }

    /// Python: get(block). get(false) is get_nowait().
    T get(bool block) {
        return get_impl(block ? detail::wait_spec::forever() : detail::wait_spec::nonblocking(),
                        0.0);
    }

    /// Python: get(block, timeout). The timeout counts only when block.
    template <class Rep, class Period>
    T get(bool block, std::chrono::duration<Rep, Period> timeout) {
        return get_impl(base::wait_for(block, timeout),
                        block ? std::chrono::duration<double>(timeout).count() : 0.0);
    }

    /// Python: get_nowait(). Throws Empty at once if there is no message.
    T get_nowait() { return get(false); }

    /// Python: qsize(). Exact (messages whose put() returned, minus those
    /// whose get() took them), on every platform.
    std::size_t qsize() const noexcept { return this->ring_.qsize(); }

    /// Python: empty(). Exact, as qsize() is.
    bool empty() const noexcept { return qsize() == 0; }

    /// Python: full(). True when maxsize > 0 and qsize() >= maxsize.
    bool full() const noexcept { return this->ring_.full(); }

    /// Python: close(). This handle will not put or get any more (both then
    /// throw std::invalid_argument); other handles and processes go on.
    /// Nothing is buffered, so nothing is lost.
    void close() noexcept { closed_ = true; }

    /// Python: join_thread(). There is no feeder thread (put is synchronous),
    /// so it returns at once; like Python, it throws ProcessError unless
    /// close() was called first.
    void join_thread() const {
        if (!closed_) {
            throw ProcessError("Queue not closed");
        }
    }

    /// Python: cancel_join_thread(). Nothing to cancel (no feeder thread, no
    /// data left behind in a buffer at exit).
    void cancel_join_thread() noexcept {}

    /// The maxsize given to the constructor (<= 0: no limit).
    int maxsize() const noexcept { return static_cast<int>(this->ring_.maxsize()); }

    /// The ring's capacity in bytes.
    std::size_t capacity() const noexcept { return this->ring_.capacity(); }

protected:
    /// Over a ring placed elsewhere (a Manager's queues).
    explicit Queue(detail::shm_ring ring) : base(std::move(ring)) {}

    void check_open() const {
        if (closed_) {
            throw std::invalid_argument("Queue is closed");
        }
    }

private:
    // `timeout`: the seconds waited, for the message (0: did not wait).
    void put_impl(const T& obj, const detail::wait_spec& wait, double timeout) {
        check_open();
        if (!this->put_value(obj, wait)) {
            throw Full(timeout > 0
                           ? "Queue.put: timed out after " + detail::seconds_text(timeout) + " s"
                           : std::string("Queue.put: full"));
        }
    }

    T get_impl(const detail::wait_spec& wait, double timeout) {
        check_open();
        auto value = this->get_value(wait);
        if (!value) {
            throw Empty(timeout > 0
                            ? "Queue.get: timed out after " + detail::seconds_text(timeout) + " s"
                            : std::string("Queue.get: empty"));
        }
        return std::move(*value);
    }

    bool closed_ = false;
};

/// Python: multiprocessing.JoinableQueue(maxsize=0): a Queue whose consumers
/// call task_done() for each message, and join() waits until all are done.
template <class T>
class JoinableQueue : public Queue<T> {
public:
    /// Python: JoinableQueue(maxsize=0).
    explicit JoinableQueue(int maxsize = 0) : Queue<T>(maxsize) {}
    /// JoinableQueue(maxsize=...) with the ring's capacity in bytes.
    explicit JoinableQueue(const QueueOptions& options) : Queue<T>(options) {}

    /// Python: task_done(). Throws std::invalid_argument("task_done() called
    /// too many times") when there is no unfinished task, as Python's ValueError.
    void task_done() {
        if (!this->ring_.task_done()) {
            throw std::invalid_argument("task_done() called too many times");
        }
    }

    /// Python: join(). Blocks until every message put so far had its task_done().
    void join() { this->ring_.join_tasks(std::nullopt); }

    /// join() giving up after `timeout` (Python's has no timeout). Returns
    /// true if all tasks were done, false if the time ran out.
    template <class Rep, class Period>
    bool join(std::chrono::duration<Rep, Period> timeout) {
        return this->ring_.join_tasks(detail::deadline_after(timeout));
    }

protected:
    /// Over a ring placed elsewhere (a Manager's queues).
    explicit JoinableQueue(detail::shm_ring ring) : Queue<T>(std::move(ring)) {}
};

/// Python: multiprocessing.SimpleQueue(): put, get, empty and close only.
/// No maxsize; put() waits only while the ring has no room (Python's waits
/// while the pipe is full).
template <class T>
class SimpleQueue : public detail::queue_base<T> {
    using base = detail::queue_base<T>;

public:
    /// Python: SimpleQueue().
    SimpleQueue() : base(QueueOptions{}) {}
    /// SimpleQueue with the ring's capacity in bytes (`maxsize` is ignored).
    explicit SimpleQueue(const QueueOptions& options) : base(QueueOptions{0, options.capacity}) {}

    /// Python: put(obj). Throws std::system_error(EBADF) after close()
    /// (Python's OSError "handle is closed").
    void put(const T& obj) {
        check_open("put");
        this->put_value(obj, detail::wait_spec::forever());
    }

    /// Python: get(). Blocks until a message comes. Throws
    /// std::system_error(EBADF) after close().
    T get() {
        check_open("get");
        return std::move(*this->get_value(detail::wait_spec::forever()));
    }

    /// get() giving up after `timeout` with Empty (Python's has no timeout).
    template <class Rep, class Period>
    T get(std::chrono::duration<Rep, Period> timeout) {
        check_open("get");
        auto value = this->get_value(base::wait_for(true, timeout));
        if (!value) {
            throw Empty("SimpleQueue.get: timed out after " +
                        detail::seconds_text(std::chrono::duration<double>(timeout).count()) +
                        " s");
        }
        return std::move(*value);
    }

    /// Python: empty(). Throws std::system_error(EBADF) after close().
    bool empty() const {
        check_open("empty");
        return this->ring_.qsize() == 0;
    }

    /// Python: close(). This handle must not be used afterwards: put, get and
    /// empty throw std::system_error(EBADF, "... handle is closed").
    void close() noexcept { closed_ = true; }

private:
    void check_open(const char* method) const {
        if (closed_) {
            throw std::system_error(EBADF, std::generic_category(),
                                    std::string("SimpleQueue.") + method + ": handle is closed");
        }
    }

    bool closed_ = false;
};

}  // namespace multiprocessing

#endif  // MULTIPROCESSING_QUEUES_HPP
