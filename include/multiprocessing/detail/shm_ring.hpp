// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// The byte ring behind Queue, SimpleQueue and JoinableQueue (DESIGN.md,
// mechanism 5). Not part of the public API.
//
// Memory: one anonymous MAP_SHARED mapping made by the constructor, so every
// child forked afterwards shares it; nothing is named, nothing is left in
// /dev/shm, and the kernel frees it when the last process mapping it ends.
//
// Roles. Producers take turns through `writer_mtx`, consumers through
// `reader_mtx` (robust, process-shared POSIX mutexes; the uncontended lock
// and unlock are done inline, see robust_mutex.hpp). The holder of a role
// copies bytes without any other lock: the ring is single-producer,
// single-consumer between the two role holders, and multi-producer,
// multi-consumer overall. Each side publishes its progress in one 64-bit
// word (position in 8-byte units, message counter, a flag) with one store,
// so a process killed at any instruction leaves either the old word or the
// new one, never half of each:
//
//   wword = tail (35 bits) | messages completed (28 bits) | open (1 bit)
//   rword = head (35 bits) | messages taken     (28 bits) | mid  (1 bit)
//
// Frames. A message is one or more chunks; each chunk is an 8-byte header
// {u32 length, u32 flags (FIRST, LAST, ABORT)} followed by its bytes, padded
// to 8. A message that fits the ring is one FIRST|LAST chunk. A larger one
// streams: chunks are published as they are written and consumed as they
// arrive; `open` says a message is half-written, `mid` that the reader is
// half-way through one. A writer always leaves one unit free after a
// non-last chunk, so that an ABORT header always fits.
//
// What a death leaves, and who repairs it:
// - a writer killed before its store: the bytes past `tail` are not
//   published; the next writer overwrites them. After its store: the chunk is
//   published, whole.
// - a writer killed between the chunks of a large message (`open` set): the
//   next process to lock writer_mtx gets EOWNERDEAD and appends an ABORT
//   chunk; the reader drops the part it had. The reader waiting for the rest
//   of that message also checks, once its own deadline has passed, whether
//   the writer is still alive (pthread_mutex_trylock gives EOWNERDEAD), and
//   repairs the same way.
// - a reader killed before its store: the next reader reads the same chunk
//   again. After it: the message was taken by the killed process and is gone,
//   as Python's would be. Killed half-way through a large message (`mid`
//   set): the next reader drops the rest of that message.
// Waiting sleeps on futex words (data_seq, space_seq, tasks_seq) with
// FUTEX_WAIT_BITSET and an absolute CLOCK_MONOTONIC deadline, after a spin that
// adapts to whether the other side answers in time (see spin()); the waker
// only makes the system call when someone said it sleeps.
#ifndef MULTIPROCESSING_DETAIL_SHM_RING_HPP
#define MULTIPROCESSING_DETAIL_SHM_RING_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/detail/futex.hpp>
#include <multiprocessing/detail/posix.hpp>
#include <multiprocessing/detail/robust_mutex.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <linux/futex.h>
#include <memory>
#include <new>
#include <optional>
#include <pthread.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <system_error>
#include <type_traits>
#include <unistd.h>

namespace multiprocessing::detail {

// ---------------------------------------------------------------- layout

namespace ring_layout {
inline constexpr std::uint64_t magic = 0x6d70712d72696e67ULL;  // "mpq-ring"
inline constexpr std::uint32_t version = 1;
inline constexpr unsigned pos_bits = 35;
inline constexpr unsigned count_bits = 28;
inline constexpr std::uint64_t pos_mask = (std::uint64_t{1} << pos_bits) - 1;
inline constexpr std::uint64_t count_mask = (std::uint64_t{1} << count_bits) - 1;
inline constexpr std::uint64_t flag_bit = std::uint64_t{1} << 63;
inline constexpr std::uint32_t chunk_first = 1;
inline constexpr std::uint32_t chunk_last = 2;
inline constexpr std::uint32_t chunk_abort = 4;
inline constexpr std::size_t unit = 8;
/// The largest ring: 2^30 bytes keeps positions (mod 2^35 units) unambiguous
/// and the message counters (mod 2^28) larger than any ring's content.
inline constexpr std::size_t max_capacity = std::size_t{1} << 30;
inline constexpr std::size_t min_capacity = 64;
inline constexpr std::size_t data_offset = 4096;  // the ring starts on its own page
}  // namespace ring_layout

/// A side's published progress, unpacked.
struct ring_word {
    std::uint64_t pos = 0;    // in units, mod 2^35
    std::uint64_t count = 0;  // messages, mod 2^28
    bool flag = false;        // writer: a message is half-written; reader: half-read

    static ring_word unpack(std::uint64_t w) noexcept {
        return {w & ring_layout::pos_mask, (w >> ring_layout::pos_bits) & ring_layout::count_mask,
                (w & ring_layout::flag_bit) != 0};
    }
    std::uint64_t pack() const noexcept {
        return (pos & ring_layout::pos_mask) |
               ((count & ring_layout::count_mask) << ring_layout::pos_bits) |
               (flag ? ring_layout::flag_bit : 0);
    }
};

/// The shared header at the start of the mapping. Each group sits on its own
/// cache line: the writer's lock, the reader's lock, what the writer
/// publishes (and the reader reads), what the reader publishes.
struct ring_header {
    std::uint64_t magic;
    std::uint32_t version;
    std::uint32_t reserved;
    std::uint64_t capacity_units;
    std::int64_t maxsize;  // <= 0: unbounded

    alignas(64) pthread_mutex_t writer_mtx;
    std::uint64_t writer_gen;  // bumped by each new holder of writer_mtx

    alignas(64) pthread_mutex_t reader_mtx;
    std::uint64_t reader_gen;

    alignas(64) std::atomic<std::uint64_t> wword;
    std::atomic<std::uint32_t> data_seq;      // futex: bumped after a publish, if data_waiting
    std::atomic<std::uint32_t> data_waiting;  // the reader sleeps (or is about to)

    alignas(64) std::atomic<std::uint64_t> rword;
    std::atomic<std::uint32_t> space_seq;      // futex: bumped after a take, if space_waiting
    std::atomic<std::uint32_t> space_waiting;  // the writer sleeps (or is about to)

    alignas(64) std::atomic<std::uint32_t> tasks_done;  // JoinableQueue, mod 2^28
    std::atomic<std::uint32_t> tasks_seq;               // futex: bumped when unfinished hits 0
    std::atomic<std::uint32_t> join_waiters;
};
static_assert(sizeof(ring_header) <= ring_layout::data_offset, "ring header too large");
static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "the queue needs lock-free 32- and 64-bit atomics in shared memory");

/// How a blocking call may wait: not at all, until a deadline, or forever.
struct wait_spec {
    bool block = true;
    deadline until;  // only when block

    static wait_spec nonblocking() { return {false, std::nullopt}; }
    static wait_spec forever() { return {true, std::nullopt}; }
    bool expired() const { return !block || (until && clock::now() >= *until); }
};

/// A message given as two pieces sent back to back (a frame header and its
/// payload), so that a value is copied once, straight into the ring.
struct byte_pieces {
    std::string_view a;
    std::string_view b;

    std::size_t size() const noexcept { return a.size() + b.size(); }
    /// Copies bytes [offset, offset + n) of a + b to `out`.
    void copy(std::size_t offset, std::size_t n, char* out) const noexcept {
        if (offset < a.size()) {
            const std::size_t k = std::min(n, a.size() - offset);
            std::memcpy(out, a.data() + offset, k);
            out += k;
            n -= k;
            offset = a.size();
        }
        if (n != 0) {
            std::memcpy(out, b.data() + (offset - a.size()), n);
        }
    }
};

/// Why put_bytes or get_bytes gave up.
enum class ring_status { ok, timed_out };

/// The mapping, shared by every handle of one queue in this process (and, by
/// inheritance, in its children). Unmapped when the last handle goes.
class ring_mapping {
public:
    ring_mapping(std::size_t capacity, std::int64_t maxsize) {
        size_ = bytes_for(capacity);
        void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            throw_errno("Queue: mmap");
        }
        base_ = static_cast<char*>(p);
        owned_ = true;
        init(capacity, maxsize);
    }

    /// A ring in memory someone else owns (a Manager's segment): `memory`
    /// holds bytes_for(capacity) bytes, 64-byte aligned, and stays mapped
    /// while `keepalive` lives. `create`: initialise it; else attach to the
    /// ring already there (throws std::invalid_argument if there is none).
    ring_mapping(void* memory, std::shared_ptr<void> keepalive, bool create, std::size_t capacity,
                 std::int64_t maxsize)
        : base_(static_cast<char*>(memory)), keepalive_(std::move(keepalive)) {
        if (create) {
            size_ = bytes_for(capacity);
            init(capacity, maxsize);
        } else if (header()->magic != ring_layout::magic ||
                   header()->version != ring_layout::version) {
            throw std::invalid_argument("Queue: no queue ring at this address");
        }
    }

    /// The bytes a ring of `capacity` bytes takes (header page included).
    /// Throws std::invalid_argument for a capacity out of range.
    static std::size_t bytes_for(std::size_t capacity) {
        using namespace ring_layout;
        if (capacity < min_capacity || capacity > max_capacity) {
            throw std::invalid_argument(
                "Queue: capacity must be between " + std::to_string(min_capacity) + " and " +
                std::to_string(max_capacity) + " bytes, got " + std::to_string(capacity));
        }
        return data_offset + (capacity + unit - 1) / unit * unit;
    }

    ~ring_mapping() {
        if (owned_ && base_ != nullptr) {
            ::munmap(base_, size_);
        }
    }
    ring_mapping(const ring_mapping&) = delete;
    ring_mapping& operator=(const ring_mapping&) = delete;

    ring_header* header() const noexcept { return reinterpret_cast<ring_header*>(base_); }
    char* data() const noexcept { return base_ + ring_layout::data_offset; }

private:
    void init(std::size_t capacity, std::int64_t maxsize) {
        using namespace ring_layout;
        capacity = (capacity + unit - 1) / unit * unit;
        auto* h = new (base_) ring_header{};
        h->magic = magic;
        h->version = version;
        h->capacity_units = capacity / unit;
        h->maxsize = maxsize;
        init_robust(&h->writer_mtx);
        init_robust(&h->reader_mtx);
    }

    void init_robust(pthread_mutex_t* m) {
        try {
            init_robust_mutex(m, "Queue");
        } catch (...) {
            if (owned_) {
                ::munmap(base_, size_);
            }
            base_ = nullptr;
            throw;
        }
    }

    char* base_ = nullptr;
    std::size_t size_ = 0;
    bool owned_ = false;
    std::shared_ptr<void> keepalive_;
};

/// A handle on a ring: what one Queue object in one process uses. Holds
/// per-handle caches (the other side's last seen position) that are trusted
/// only while no other handle took the same role since (the role's `gen`).
class shm_ring {
public:
    shm_ring(std::size_t capacity, std::int64_t maxsize)
        : map_(std::make_shared<ring_mapping>(capacity, maxsize)) {}

    /// A handle on a ring placed by the caller (see ring_mapping).
    explicit shm_ring(std::shared_ptr<ring_mapping> map) : map_(std::move(map)) {}

    shm_ring(const shm_ring& other) : map_(other.map_) {}
    shm_ring& operator=(const shm_ring& other) {
        if (this != &other) {
            map_ = other.map_;
            wcache_ = {};
            rcache_ = {};
        }
        return *this;
    }

    std::size_t capacity() const noexcept { return hdr()->capacity_units * ring_layout::unit; }
    std::int64_t maxsize() const noexcept { return hdr()->maxsize; }

    /// Messages completely put and not yet taken: exact once put/get returned.
    std::size_t qsize() const noexcept {
        // Reader first: `taken` can only be older (smaller) than `completed`.
        const auto r = ring_word::unpack(hdr()->rword.load(std::memory_order_acquire));
        const auto w = ring_word::unpack(hdr()->wword.load(std::memory_order_acquire));
        return static_cast<std::size_t>((w.count - r.count) & ring_layout::count_mask);
    }

    /// Bytes published and not yet taken (chunk headers included).
    std::size_t used_bytes() const noexcept {
        const auto r = ring_word::unpack(hdr()->rword.load(std::memory_order_acquire));
        const auto w = ring_word::unpack(hdr()->wword.load(std::memory_order_acquire));
        return static_cast<std::size_t>(((w.pos - r.pos) & ring_layout::pos_mask) *
                                        ring_layout::unit);
    }

    bool full() const noexcept {
        const auto m = hdr()->maxsize;
        return m > 0 && qsize() >= static_cast<std::size_t>(m);
    }

    /// Appends one message. Returns timed_out if the role, a free slot under
    /// maxsize, or room in the ring did not come in time (nothing was
    /// delivered then: a half-streamed message is aborted).
    ring_status put_bytes(std::string_view bytes, const wait_spec& wait) {
        return put_bytes(byte_pieces{bytes, {}}, wait);
    }

    /// put_bytes of the message a + b (copied once, into the ring).
    ring_status put_bytes(const byte_pieces& bytes, const wait_spec& wait) {
        using namespace ring_layout;
        ring_header* h = hdr();
        if (!acquire(&h->writer_mtx, wait, /*writer=*/true)) {
            return ring_status::timed_out;
        }
        role_guard guard{&h->writer_mtx};
        const std::uint64_t cap = h->capacity_units;
        ring_word w = ring_word::unpack(h->wword.load(std::memory_order_relaxed));
        // maxsize: wait until fewer than maxsize messages are in the queue.
        if (h->maxsize > 0) {
            for (;;) {
                const auto r = ring_word::unpack(h->rword.load(std::memory_order_acquire));
                wcache_.head = r.pos;
                if (static_cast<std::int64_t>((w.count - r.count) & count_mask) < h->maxsize) {
                    break;
                }
                if (!wait_for_space(w, 0, wait)) {
                    return ring_status::timed_out;
                }
            }
        }
        const std::uint64_t units = 1 + (bytes.size() + unit - 1) / unit;
        if (units <= cap) {
            if (free_units(w) < units && !wait_for_space(w, units, wait)) {
                return ring_status::timed_out;
            }
            write_chunk(w.pos, bytes, 0, bytes.size(), chunk_first | chunk_last);
            publish({w.pos + units, w.count + 1, false});
            return ring_status::ok;
        }
        // Larger than the ring: stream it, leaving one unit for an ABORT header.
        std::size_t offset = 0;
        bool first = true;
        const std::uint64_t min_chunk = std::max<std::uint64_t>(3, cap / 4);
        for (;;) {
            const std::size_t rest = bytes.size() - offset;
            const std::uint64_t rest_units = 1 + (rest + unit - 1) / unit;
            std::uint64_t avail = free_units(w);
            if (avail < rest_units && avail < min_chunk) {
                if (!wait_for_space(w, std::min(rest_units, min_chunk), wait)) {
                    if (!first) {
                        abort_open(w);
                    }
                    return ring_status::timed_out;
                }
                avail = free_units(w);
            }
            const std::uint32_t f = first ? chunk_first : 0;
            if (avail >= rest_units) {
                write_chunk(w.pos, bytes, offset, rest, f | chunk_last);
                publish({w.pos + rest_units, w.count + 1, false});
                return ring_status::ok;
            }
            const std::size_t n = static_cast<std::size_t>(avail - 2) * unit;
            write_chunk(w.pos, bytes, offset, n, f);
            w = {w.pos + 1 + n / unit, w.count, true};
            publish(w);
            offset += n;
            first = false;
        }
    }

    /// Takes one message and hands its bytes to `sink(std::string_view)`
    /// (before the take is published when the message is one chunk, so a
    /// consumer killed while decoding leaves the message in place). A sink
    /// that takes two string_views gets a message that wraps around the end
    /// of the ring as its two parts, in place (else the second is empty).
    template <class Sink>
    ring_status get_bytes(Sink&& sink, const wait_spec& wait) {
        using namespace ring_layout;
        constexpr bool two_parts = std::is_invocable_v<Sink&, std::string_view, std::string_view>;
        ring_header* h = hdr();
        if (!acquire(&h->reader_mtx, wait, /*writer=*/false)) {
            return ring_status::timed_out;
        }
        role_guard guard{&h->reader_mtx};
        ring_word r = ring_word::unpack(h->rword.load(std::memory_order_relaxed));
        // `mid` on entry: the previous reader died half-way through a message,
        // which went with it. Drop the rest of it.
        bool discarding = r.flag;
        std::string& partial = scratch_;
        partial.clear();
        for (;;) {
            if (available_units(r) == 0 && !wait_for_data(r, wait)) {
                return ring_status::timed_out;
            }
            const char* base = map_->data();
            const std::uint64_t at = (r.pos % h->capacity_units) * unit;
            std::uint32_t head[2];
            std::memcpy(head, base + at, sizeof head);
            const std::uint32_t len = head[0];
            const std::uint32_t flags = head[1];
            const std::uint64_t units = 1 + (std::uint64_t{len} + unit - 1) / unit;
            if ((flags & chunk_abort) != 0) {
                // The writer of the half-read message died or gave up.
                partial.clear();
                discarding = false;
                r = {r.pos + 1, r.count, false};
                take(r);
                continue;
            }
            if ((flags & chunk_first) != 0) {
                partial.clear();  // (a FIRST while mid-message cannot happen; start afresh)
                discarding = false;
            } else if (!r.flag) {
                discarding = true;  // a tail without its head: not ours to deliver
            }
            const bool last = (flags & chunk_last) != 0;
            const std::uint64_t payload_at = ((r.pos + 1) % h->capacity_units) * unit;
            const std::size_t cap_bytes = static_cast<std::size_t>(h->capacity_units) * unit;
            const bool contiguous = payload_at + len <= cap_bytes;
            if (last && (flags & chunk_first) != 0 && (contiguous || two_parts) && !discarding) {
                // The common case: decode in place, then publish the take.
                const ring_word next{r.pos + units, r.count + 1, false};
                try {
                    if constexpr (two_parts) {
                        const std::size_t n1 = std::min<std::size_t>(
                            len, cap_bytes - static_cast<std::size_t>(payload_at));
                        sink(std::string_view(base + payload_at, n1),
                             std::string_view(base, len - n1));
                    } else {
                        sink(std::string_view(base + payload_at, len));
                    }
                } catch (...) {
                    take(next);  // an undecodable message is consumed, not retried forever
                    throw;
                }
                take(next);
                return ring_status::ok;
            }
            if (!discarding) {
                const std::size_t old = partial.size();
                partial.resize(old + len);
                const std::size_t first_part =
                    std::min<std::size_t>(len, cap_bytes - static_cast<std::size_t>(payload_at));
                if (first_part != 0) {
                    std::memcpy(&partial[old], base + payload_at, first_part);
                }
                if (len > first_part) {
                    std::memcpy(&partial[old + first_part], base, len - first_part);
                }
            }
            if (last) {
                take({r.pos + units, r.count + 1, false});
                if (discarding) {
                    partial.clear();
                    discarding = false;
                    r = {r.pos + units, r.count + 1, false};
                    continue;
                }
                if constexpr (two_parts) {
                    sink(std::string_view(partial), std::string_view());
                } else {
                    sink(std::string_view(partial));
                }
                return ring_status::ok;
            }
            r = {r.pos + units, r.count, true};
            take(r);
        }
    }

    // ---- JoinableQueue: unfinished = completed puts - task_done calls.

    /// Python: task_done(). False if it was called too many times.
    bool task_done() noexcept {
        ring_header* h = hdr();
        std::uint32_t done = h->tasks_done.load(std::memory_order_seq_cst);
        for (;;) {
            const auto w = ring_word::unpack(h->wword.load(std::memory_order_seq_cst));
            const std::uint64_t unfinished = (w.count - done) & ring_layout::count_mask;
            if (unfinished == 0) {
                return false;
            }
            const auto next =
                static_cast<std::uint32_t>((std::uint64_t{done} + 1) & ring_layout::count_mask);
            if (h->tasks_done.compare_exchange_weak(done, next, std::memory_order_seq_cst)) {
                if (unfinished == 1) {
                    h->tasks_seq.fetch_add(1, std::memory_order_seq_cst);
                    if (h->join_waiters.load(std::memory_order_seq_cst) != 0) {
                        futex_wake_all(h->tasks_seq);
                    }
                }
                return true;
            }
        }
    }

    /// Python: join(). Returns false if the deadline passed first.
    bool join_tasks(const deadline& until) {
        ring_header* h = hdr();
        h->join_waiters.fetch_add(1, std::memory_order_seq_cst);
        struct leave {
            ring_header* h;
            ~leave() { h->join_waiters.fetch_sub(1, std::memory_order_seq_cst); }
        } leaving{h};
        for (;;) {
            const std::uint32_t seq = h->tasks_seq.load(std::memory_order_seq_cst);
            if (unfinished_tasks() == 0) {
                return true;
            }
            if (!futex_wait(h->tasks_seq, seq, until) && unfinished_tasks() != 0) {
                return false;
            }
        }
    }

    std::uint64_t unfinished_tasks() const noexcept {
        const ring_header* h = hdr();
        const std::uint32_t done = h->tasks_done.load(std::memory_order_seq_cst);
        const auto w = ring_word::unpack(h->wword.load(std::memory_order_seq_cst));
        return (w.count - done) & ring_layout::count_mask;
    }

private:
    /// Unlocks a role mutex at scope exit.
    struct role_guard {
        pthread_mutex_t* m;
        ~role_guard() { robust_unlock(m); }
    };

    ring_header* hdr() const noexcept { return map_->header(); }

    /// Takes a role (writer_mtx or reader_mtx), repairing after a dead holder.
    bool acquire(pthread_mutex_t* m, const wait_spec& wait, bool writer) {
        int err = robust_trylock(m);
        if (err == EBUSY) {
            if (!wait.block) {
                // Another process is in the middle of a put/get: give it a
                // moment (a short critical section), as Python's lock would.
                for (int i = 0; i < 2000 && err == EBUSY; ++i) {
                    cpu_relax();
                    err = robust_trylock(m);
                }
                if (err == EBUSY) {
                    return false;
                }
            } else if (wait.until) {
                const timespec ts = monotonic_timespec(*wait.until);
                do {
                    err = ::pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &ts);
                } while (err == EINTR);
                if (err == ETIMEDOUT) {
                    return false;
                }
            } else {
                err = ::pthread_mutex_lock(m);
            }
        }
        if (err == EOWNERDEAD) {
            if (writer) {
                repair_writer();
            } else {
                hdr()->data_waiting.store(0, std::memory_order_relaxed);
            }
            ::pthread_mutex_consistent(m);
        } else if (err != 0) {
            throw_errno(writer ? "Queue.put: pthread_mutex_lock" : "Queue.get: pthread_mutex_lock",
                        err);
        }
        // Caches are only trusted if nobody else held the role since we did.
        ring_header* h = hdr();
        if (writer) {
            if (wcache_.gen == 0 || wcache_.gen != h->writer_gen) {
                wcache_.head = ring_word::unpack(h->rword.load(std::memory_order_acquire)).pos;
            }
            wcache_.gen = ++h->writer_gen;
        } else {
            if (rcache_.gen == 0 || rcache_.gen != h->reader_gen) {
                rcache_.tail = ring_word::unpack(h->wword.load(std::memory_order_acquire)).pos;
            }
            rcache_.gen = ++h->reader_gen;
        }
        return true;
    }

    /// After a writer died holding the role: close its half-written message.
    void repair_writer() {
        ring_header* h = hdr();
        h->space_waiting.store(0, std::memory_order_relaxed);
        ring_word w = ring_word::unpack(h->wword.load(std::memory_order_relaxed));
        if (w.flag) {
            abort_open(w);
        }
    }

    /// Publishes an ABORT chunk after a half-written message (the unit it
    /// needs was left free by the last chunk).
    void abort_open(ring_word w) {
        write_chunk(w.pos, byte_pieces{}, 0, 0, ring_layout::chunk_abort);
        publish({w.pos + 1, w.count, false});
    }

    std::uint64_t free_units(const ring_word& w) const noexcept {
        return hdr()->capacity_units - ((w.pos - wcache_.head) & ring_layout::pos_mask);
    }
    std::uint64_t available_units(const ring_word& r) const noexcept {
        return (rcache_.tail - r.pos) & ring_layout::pos_mask;
    }

    /// Copies a chunk at position `pos`, wrapping around: its header, then
    /// bytes [offset, offset + n) of the message.
    void write_chunk(std::uint64_t pos, const byte_pieces& bytes, std::size_t offset, std::size_t n,
                     std::uint32_t flags) noexcept {
        const std::uint64_t cap = hdr()->capacity_units;
        char* base = map_->data();
        const std::uint32_t head[2] = {static_cast<std::uint32_t>(n), flags};
        std::memcpy(base + (pos % cap) * ring_layout::unit, head, sizeof head);
        const std::size_t at = static_cast<std::size_t>(((pos + 1) % cap) * ring_layout::unit);
        const std::size_t cap_bytes = static_cast<std::size_t>(cap) * ring_layout::unit;
        const std::size_t first = std::min(n, cap_bytes - at);
        bytes.copy(offset, first, base + at);
        if (n > first) {
            bytes.copy(offset + first, n - first, base);
        }
    }

    /// The writer's one store that makes a chunk visible; wakes a sleeping reader.
    void publish(const ring_word& w) noexcept {
        ring_header* h = hdr();
        h->wword.store(w.pack(), std::memory_order_seq_cst);
        // One wake per sleep: the flag is cleared by whoever wakes the sleeper.
        if (h->data_waiting.load(std::memory_order_seq_cst) != 0 &&
            h->data_waiting.exchange(0, std::memory_order_seq_cst) != 0) {
            h->data_seq.fetch_add(1, std::memory_order_seq_cst);
            futex_wake_all(h->data_seq);
        }
    }

    /// The reader's one store that frees a chunk; wakes a sleeping writer.
    void take(const ring_word& r) noexcept {
        ring_header* h = hdr();
        h->rword.store(r.pack(), std::memory_order_seq_cst);
        if (h->space_waiting.load(std::memory_order_seq_cst) != 0 &&
            h->space_waiting.exchange(0, std::memory_order_seq_cst) != 0) {
            h->space_seq.fetch_add(1, std::memory_order_seq_cst);
            futex_wake_all(h->space_seq);
        }
    }

    // Before it sleeps, a waiter spins, for an adaptive number of rounds per
    // handle and side (a round is one cpu_relax(), some 10 to 30 ns). A wait
    // that ends while spinning raises the budget to four times what it took
    // (at most twice the rounds it had), if that is more; an answer in time
    // never lowers it. While the other side runs on another core, the budget
    // thus stays well above its usual answer time, and a late answer (an
    // interrupt, a page fault) does not cost a futex sleep and wake, which
    // take microseconds (tens of them when a virtual machine must wake an
    // idle CPU). A spin that ends in sleep halves the budget, down to
    // min_spin (under a microsecond): the other side was not running (a busy
    // machine, or it was idle itself), and spinning only takes the core it
    // may need. Every probe_every-th wait at the floor spins the most
    // (max_spin, some 25 us) again, to find out when the other side runs
    // once more.
    static constexpr unsigned min_spin = 16;
    static constexpr unsigned max_spin = 1000;
    static constexpr unsigned probe_every = 32;

    struct spin_state {
        unsigned budget = max_spin;
        unsigned at_floor = 0;
    };

    template <class Ready>
    static bool spin(spin_state& st, Ready&& ready) {
        unsigned rounds = st.budget;
        if (rounds <= min_spin && ++st.at_floor % probe_every == 0) {
            rounds = max_spin;
        }
        for (unsigned i = 0; i < rounds; ++i) {
            cpu_relax();
            if (ready()) {
                const unsigned need = std::clamp(4 * i, min_spin, std::min(max_spin, 2 * rounds));
                st.budget = std::max(need, st.budget);
                return true;
            }
        }
        st.budget = std::max(min_spin, st.budget / 2);
        return false;
    }

    /// Writer: waits until `units` are free (0: until the reader takes
    /// anything, for maxsize). Refreshes the cached head. False on time-out.
    bool wait_for_space(const ring_word& w, std::uint64_t units, const wait_spec& wait) {
        ring_header* h = hdr();
        const std::uint64_t start_taken =
            ring_word::unpack(h->rword.load(std::memory_order_acquire)).count;
        auto ready = [&] {
            const auto r = ring_word::unpack(h->rword.load(std::memory_order_acquire));
            wcache_.head = r.pos;
            return units == 0 ? r.count != start_taken : free_units(w) >= units;
        };
        if (ready()) {
            return true;
        }
        if (!wait.block) {
            return false;
        }
        if (spin(space_spin_, ready)) {
            return true;
        }
        for (;;) {
            h->space_waiting.store(1, std::memory_order_seq_cst);
            const std::uint32_t seq = h->space_seq.load(std::memory_order_seq_cst);
            if (ready()) {
                h->space_waiting.store(0, std::memory_order_relaxed);
                return true;
            }
            const bool woke = futex_wait(h->space_seq, seq, wait.until);
            h->space_waiting.store(0, std::memory_order_relaxed);
            if (ready()) {
                return true;
            }
            if (!woke) {
                return false;
            }
        }
    }

    /// Reader: waits for at least one published unit. Refreshes the cached
    /// tail. False on time-out, except half-way through a message, where it
    /// waits on as long as that message's writer lives (see the file comment).
    bool wait_for_data(const ring_word& r, const wait_spec& wait) {
        ring_header* h = hdr();
        auto ready = [&] {
            rcache_.tail = ring_word::unpack(h->wword.load(std::memory_order_acquire)).pos;
            return available_units(r) != 0;
        };
        if (ready()) {
            return true;
        }
        if (wait.block) {
            if (spin(data_spin_, ready)) {
                return true;
            }
        } else if (!r.flag) {
            return false;
        }
        deadline until = wait.block ? wait.until : deadline(clock::now());
        for (;;) {
            h->data_waiting.store(1, std::memory_order_seq_cst);
            const std::uint32_t seq = h->data_seq.load(std::memory_order_seq_cst);
            if (ready()) {
                h->data_waiting.store(0, std::memory_order_relaxed);
                return true;
            }
            const bool woke = futex_wait(h->data_seq, seq, until);
            h->data_waiting.store(0, std::memory_order_relaxed);
            if (ready()) {
                return true;
            }
            if (woke) {
                continue;
            }
            if (!r.flag) {
                return false;
            }
            // Past the deadline half-way through a message: a live writer
            // will finish or abort it; a dead one is found here.
            if (!writer_alive_or_repair()) {
                continue;  // an ABORT chunk is there now
            }
            until = clock::now() + std::chrono::milliseconds(10);
        }
    }

    /// Reader, half-way through a message: true if a live process holds the
    /// writer role; otherwise repairs (ABORT) and returns false.
    bool writer_alive_or_repair() {
        ring_header* h = hdr();
        const int err = ::pthread_mutex_trylock(&h->writer_mtx);
        if (err == EBUSY) {
            return true;
        }
        if (err == EOWNERDEAD) {
            repair_writer();
            ::pthread_mutex_consistent(&h->writer_mtx);
        } else if (err != 0) {
            throw_errno("Queue.get: pthread_mutex_trylock", err);
        }
        ++h->writer_gen;
        ::pthread_mutex_unlock(&h->writer_mtx);
        return false;
    }

    std::shared_ptr<ring_mapping> map_;
    struct {
        std::uint64_t gen = 0;
        std::uint64_t head = 0;
    } wcache_;
    struct {
        std::uint64_t gen = 0;
        std::uint64_t tail = 0;
    } rcache_;
    std::string scratch_;
    spin_state data_spin_;
    spin_state space_spin_;
};

}  // namespace multiprocessing::detail

#endif  // MULTIPROCESSING_DETAIL_SHM_RING_HPP
