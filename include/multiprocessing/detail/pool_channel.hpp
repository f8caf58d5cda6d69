// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// The channel between a Pool and its worker processes, and the pool's
// result thread.
//
// One SOCK_STREAM socketpair per worker. The parent's I/O thread keeps a
// window of outstanding tasks per worker (pipelined, written in batches) and
// reads answers in batches. A worker runs its tasks in order and answers each
// one as soon as it is done, so when a worker dies (its pidfd becomes
// readable, or its socket reaches EOF) the answers it sent are read first,
// and then the oldest unanswered task is the one it was running: that task
// fails with the signal or exit code, the rest of its window goes back to the
// queue, and a replacement worker is forked.
//
// Frames: task  = u32 length, body (trampoline code_ref + payload);
//         answer = u32 length, u8 status (0 ok, 1 exception), payload.
#ifndef MULTIPROCESSING_DETAIL_POOL_CHANNEL_HPP
#define MULTIPROCESSING_DETAIL_POOL_CHANNEL_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/detail/futex.hpp>
#include <multiprocessing/detail/pool_jobs.hpp>
#include <multiprocessing/detail/portable_task.hpp>
#include <multiprocessing/detail/posix.hpp>
#include <multiprocessing/exceptions.hpp>
#include <multiprocessing/process.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <fcntl.h>
#include <functional>
#include <linux/futex.h>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace multiprocessing {

/// Beyond Python: the worker process running a task died (a signal such as
/// SIGSEGV, SIGABRT or SIGKILL, or an exit such as _exit(3)) before answering.
/// Only that task fails; the pool replaces the worker. Python's Pool hangs.
class WorkerLostError : public ProcessError {
public:
    WorkerLostError(const std::string& message, int exitcode, pid_t pid)
        : ProcessError(message), exitcode_(exitcode), pid_(pid) {}
    /// The worker's exit code: -N after signal N, as Process.exitcode.
    int exitcode() const noexcept { return exitcode_; }
    /// The pid of the worker that died.
    pid_t pid() const noexcept { return pid_; }

private:
    int exitcode_;
    pid_t pid_;
};

namespace detail {

inline constexpr std::uint8_t answer_ok = 0;
inline constexpr std::uint8_t answer_exception = 1;

/// Where a worker writes its answers: a byte ring in memory shared with the
/// parent (mapped before the fork). An answer is there the instant the
/// worker publishes it, so nothing it answered is lost if it dies next, and
/// while the parent is busy reading, answering costs the worker no system
/// call. The socket carries a wake-up byte only when the parent sleeps.
struct answer_ring {
    static constexpr std::size_t capacity = std::size_t{1} << 20;
    alignas(64) std::atomic<std::uint64_t> head{0};  // bytes published by the worker
    alignas(64) std::atomic<std::uint64_t> tail{0};  // bytes consumed by the parent
    alignas(64) std::atomic<std::uint32_t> parent_waiting{0};
    std::atomic<std::uint32_t> worker_waiting{0};
    std::atomic<std::uint32_t> space_seq{0};  // futex word: bumped when the parent frees space
    char data[capacity];
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "the answer ring needs lock-free atomics in shared memory");

/// An answer_ring in MAP_SHARED memory, unmapped on destruction.
class answer_ring_mapping {
public:
    answer_ring_mapping() = default;
    static answer_ring_mapping create() {
        void* p = ::mmap(nullptr, sizeof(answer_ring), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            throw_errno("Pool: mmap");
        }
        answer_ring_mapping m;
        m.ring_ = new (p) answer_ring();
        return m;
    }
    answer_ring_mapping(answer_ring_mapping&& o) noexcept
        : ring_(std::exchange(o.ring_, nullptr)) {}
    answer_ring_mapping& operator=(answer_ring_mapping&& o) noexcept {
        if (this != &o) {
            reset();
            ring_ = std::exchange(o.ring_, nullptr);
        }
        return *this;
    }
    answer_ring_mapping(const answer_ring_mapping&) = delete;
    answer_ring_mapping& operator=(const answer_ring_mapping&) = delete;
    ~answer_ring_mapping() { reset(); }
    void reset() noexcept {
        if (ring_) {
            ::munmap(static_cast<void*>(ring_), sizeof(answer_ring));
            ring_ = nullptr;
        }
    }
    answer_ring* get() const noexcept { return ring_; }

private:
    answer_ring* ring_ = nullptr;
};

/// Worker side: wakes the parent if it sleeps (one byte on the socket).
inline void ring_wake_parent(answer_ring& r, int fd) noexcept {
    if (r.parent_waiting.load() != 0 && r.parent_waiting.exchange(0) != 0) {
        const char byte = 1;
        (void)::send(fd, &byte, 1, MSG_NOSIGNAL);
    }
}

/// Worker side: appends one answer and publishes it. False if the parent is gone.
inline bool ring_write(answer_ring& r, int fd, pid_t parent, const char* p, std::size_t n) {
    std::uint64_t head = r.head.load(std::memory_order_relaxed);
    while (n > 0) {
        const std::uint64_t tail = r.tail.load(std::memory_order_acquire);
        const std::size_t space = answer_ring::capacity - static_cast<std::size_t>(head - tail);
        if (space == 0) {
            // Full: publish what is there and wait for the parent to take it.
            r.head.store(head);
            ring_wake_parent(r, fd);
            const std::uint32_t seq = r.space_seq.load();
            r.worker_waiting.store(1);
            if (r.tail.load() == tail) {
                // Wake every 100 ms to notice a parent that died meanwhile.
                try {
                    futex_wait(r.space_seq, seq, clock::now() + std::chrono::milliseconds(100));
                } catch (const std::system_error&) {
                }
            }
            r.worker_waiting.store(0);
            if (::getppid() != parent) {
                return false;
            }
            continue;
        }
        const std::size_t off = static_cast<std::size_t>(head % answer_ring::capacity);
        const std::size_t len = std::min({n, space, answer_ring::capacity - off});
        std::memcpy(r.data + off, p, len);
        p += len;
        n -= len;
        head += len;
    }
    r.head.store(head);
    ring_wake_parent(r, fd);
    return true;
}

/// The worker process's loop: read tasks, run each, publish each answer at
/// once. Returns on EOF (the pool closed the channel) or after `maxtasks`
/// tasks. Uses nothing but its socket and its ring, so it is safe in a child
/// forked from any thread.
inline void worker_loop(int fd, answer_ring* ring, pid_t parent, std::size_t maxtasks) {
    std::string in;
    std::size_t off = 0;
    std::string out;
    std::size_t done = 0;
    in.resize(1 << 16);
    std::size_t end = 0;
    for (;;) {
        // Run every complete frame in the buffer.
        while (end - off >= 4) {
            std::uint32_t len;
            std::memcpy(&len, in.data() + off, 4);
            if (end - off - 4 < len) {
                break;
            }
            const std::string_view body(in.data() + off + 4, len);
            off += 4 + std::size_t{len};
            out.reserve(std::size_t{len} + 64);
            out.assign(5, '\0');
            std::uint8_t status = answer_ok;
            try {
                run_task(body, out);
            } catch (...) {
                status = answer_exception;
                out.resize(5);
                std::string type = current_exception_type_name();
                std::string message;
                try {
                    throw;
                } catch (const std::exception& e) {
                    message = e.what();
                } catch (...) {
                }
                put_u32(out, static_cast<std::uint32_t>(type.size()));
                out += type;
                put_u32(out, static_cast<std::uint32_t>(message.size()));
                out += message;
            }
            const auto n = static_cast<std::uint32_t>(out.size() - 4);
            std::memcpy(&out[0], &n, 4);
            out[4] = static_cast<char>(status);
            if (!ring_write(*ring, fd, parent, out.data(), out.size())) {
                return;
            }
            if (maxtasks != 0 && ++done >= maxtasks) {
                return;
            }
        }
        // Keep the partial frame at the front, make room, read more.
        if (off > 0) {
            std::memmove(in.data(), in.data() + off, end - off);
            end -= off;
            off = 0;
        }
        if (end >= 4) {
            std::uint32_t len;
            std::memcpy(&len, in.data(), 4);
            if (in.size() < std::size_t{len} + 4) {
                in.resize(std::size_t{len} + 4);
            }
        }
        if (end == in.size()) {
            in.resize(in.size() * 2);
        }
        const ssize_t n = ::recv(fd, in.data() + end, in.size() - end, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        end += static_cast<std::size_t>(n);
    }
}

/// A task as the pool keeps it: its job, its chunk index, its frame.
struct wire_task {
    std::shared_ptr<job_base> job;
    std::uint32_t chunk = 0;
    std::string frame;       // u32 length + body
    std::uint64_t kind = 0;  // which function (and state) it runs: timed per kind
};

/// The kind of a task: a hash of its trampoline and its callable's state
/// (the frame's bytes from after the length to `end`), so each function gets
/// its own timing.
inline std::uint64_t task_kind(const std::string& frame, std::size_t end) {
    std::uint64_t h = 1469598103934665603ULL;
    end = std::min(end, frame.size());
    for (std::size_t i = 4; i < end; ++i) {
        h = (h ^ static_cast<unsigned char>(frame[i])) * 1099511628211ULL;
    }
    return h;
}

/// Starts a frame: reserves the length prefix. finish_frame() fills it in.
inline std::string start_frame() {
    std::string f;
    f.reserve(64);
    f.append(4, '\0');
    return f;
}
inline void finish_frame(std::string& f) {
    const auto n = static_cast<std::uint32_t>(f.size() - 4);
    std::memcpy(&f[0], &n, 4);
}

/// What a Pool is configured with (see PoolOptions in pool.hpp).
struct process_core_options {
    int processes = 1;
    std::function<void()> initializer;
    std::size_t maxtasksperchild = 0;  // 0: unlimited
    std::optional<std::chrono::nanoseconds> task_timeout;
};

/// The worker processes of a Pool and the thread that talks to them.
class process_core {
public:
    enum class pool_state { run, close, terminate };

    explicit process_core(process_core_options options)
        : options_(std::move(options)), owner_(::getpid()) {
        wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (wake_fd_ < 0) {
            throw_errno("Pool: eventfd");
        }
        add_private_fd(wake_fd_);
        workers_.resize(static_cast<std::size_t>(options_.processes));
        try {
            for (auto& w : workers_) {
                spawn(w);
            }
        } catch (...) {
            for (auto& w : workers_) {
                kill_and_reap(w, SIGKILL);
            }
            remove_private_fd(wake_fd_);
            close_fd(wake_fd_);
            throw;
        }
        io_ = std::make_unique<std::thread>([this] { io_main(); });
    }

    process_core(const process_core&) = delete;
    process_core& operator=(const process_core&) = delete;

    ~process_core() {
        if (::getpid() != owner_) {
            // A forked child's copy: the thread and workers are not ours.
            (void)io_.release();
            return;
        }
        terminate();
        join_thread();
        remove_private_fd(wake_fd_);
        close_fd(wake_fd_);
    }

    int processes() const noexcept { return options_.processes; }

    /// Throws unless submitting is allowed (Python: ValueError "Pool not running").
    void check_running(bool allow_closed = false) {
        if (::getpid() != owner_) {
            throw ProcessError("Pool: a pool can only be used by the process that created it");
        }
        std::lock_guard<std::mutex> lock(mutex_);
        if (state_ == pool_state::terminate || (state_ == pool_state::close && !allow_closed)) {
            throw std::invalid_argument("Pool not running");
        }
    }

    /// Queues tasks. `allow_closed`: an imap already running may go on after close().
    void submit(std::vector<wire_task>&& tasks, bool allow_closed = false) {
        if (tasks.empty()) {
            return;
        }
        bool wake;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (::getpid() != owner_) {
                throw ProcessError("Pool: a pool can only be used by the process that created it");
            }
            if (state_ == pool_state::terminate || (state_ == pool_state::close && !allow_closed) ||
                io_done_) {
                throw std::invalid_argument("Pool not running");
            }
            for (auto& t : tasks) {
                incoming_.push_back(std::move(t));
            }
            wake = sleeping_ && !wake_sent_;
            if (wake) {
                wake_sent_ = true;
            }
        }
        if (wake) {
            wake_up();
        }
    }

    /// Python: close().
    void close() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (state_ == pool_state::run) {
            state_ = pool_state::close;
        }
        wake_locked();
    }

    /// Python: terminate(): every unfinished task fails, workers are stopped.
    void terminate() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            state_ = pool_state::terminate;
            wake_locked();
        }
        join_thread();
    }

    /// Python: join(). Throws std::invalid_argument while running.
    void join() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (state_ == pool_state::run) {
                throw std::invalid_argument("Pool is still running");
            }
        }
        join_thread();
    }

    /// The pids of the current workers (for tests and diagnostics).
    std::vector<pid_t> worker_pids() {
        std::lock_guard<std::mutex> lock(pids_mutex_);
        return pids_;
    }

    /// The id of the result thread (callbacks run there).
    std::thread::id result_thread_id() const { return io_ ? io_->get_id() : std::thread::id{}; }

private:
    /// Bytes read from a worker: received in place, parsed, compacted.
    struct read_buffer {
        std::unique_ptr<char[]> data;
        std::size_t cap = 0;
        std::size_t begin = 0;
        std::size_t end = 0;
        std::size_t size() const { return end - begin; }
        const char* head() const { return data.get() + begin; }
        /// Makes room for `room` more bytes after the unparsed ones.
        void reserve_room(std::size_t room) {
            if (cap - end >= room) {
                return;
            }
            if (begin > 0) {
                if (end > begin) {
                    std::memmove(data.get(), data.get() + begin, end - begin);
                }
                end -= begin;
                begin = 0;
            }
            const std::size_t need = end + room;
            if (need > cap) {
                std::size_t c = cap ? cap : (1 << 16);
                while (c < need) {
                    c *= 2;
                }
                std::unique_ptr<char[]> bigger(new char[c]);
                if (end > begin) {
                    std::memcpy(bigger.get(), data.get() + begin, end - begin);
                }
                end -= begin;
                begin = 0;
                data = std::move(bigger);
                cap = c;
            }
        }
    };

    struct worker {
        std::unique_ptr<Process> proc;
        int fd = -1;
        int pidfd = -1;
        pid_t pid = 0;
        std::string name;
        std::deque<wire_task> window;  // given to it, not yet answered, oldest first
        std::size_t unsent = 0;        // window[unsent] is the first frame not fully written
        std::size_t unsent_off = 0;    // how much of window[unsent] is written
        read_buffer in;                // answers taken from the ring, not yet parsed
        answer_ring_mapping ring;      // where the worker writes its answers
        std::size_t sent = 0;          // tasks given to it in its life
        clock::time_point head_since{};
        bool dead = false;
        bool timed_out = false;
        const job_base* victim_job = nullptr;  // the task that ran over its time
        std::uint32_t victim_chunk = 0;
    };

    static void add_private_fd(int fd) {
        auto& g = globals();
        std::lock_guard<std::mutex> lock(g.mutex);
        g.private_fds.push_back(fd);
    }
    static void remove_private_fd(int fd) {
        auto& g = globals();
        std::lock_guard<std::mutex> lock(g.mutex);
        g.private_fds.erase(std::remove(g.private_fds.begin(), g.private_fds.end(), fd),
                            g.private_fds.end());
    }

    void wake_up() noexcept {
        const std::uint64_t one = 1;
        ssize_t r;
        do {
            r = ::write(wake_fd_, &one, sizeof one);
        } while (r < 0 && errno == EINTR);
    }
    void wake_locked() {
        if (!wake_sent_) {
            wake_sent_ = true;
            wake_up();
        }
    }

    void join_thread() {
        std::lock_guard<std::mutex> lock(join_mutex_);
        if (io_ && io_->joinable()) {
            io_->join();
        }
    }

    /// Forks a worker into `w`: a daemon Process named ForkPoolWorker-N.
    void spawn(worker& w) {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            throw_errno("Pool: socketpair");
        }
        const int big = 1 << 20;
        ::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        ::setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
        add_private_fd(sv[0]);  // closed in every child, this worker included
        const int child_fd = sv[1];
        answer_ring_mapping ring;
        try {
            ring = answer_ring_mapping::create();
        } catch (...) {
            remove_private_fd(sv[0]);
            close_fd(sv[0]);
            close_fd(sv[1]);
            throw;
        }
        answer_ring* ring_ptr = ring.get();
        const pid_t parent = ::getpid();
        const std::size_t maxtasks = options_.maxtasksperchild;
        const std::function<void()>* init = options_.initializer ? &options_.initializer : nullptr;
        ProcessOptions po;
        po.name = "ForkPoolWorker-" + std::to_string(++counter_);
        po.daemon = true;
        auto proc = std::make_unique<Process>(po, [child_fd, ring_ptr, parent, maxtasks, init] {
            // terminate() must stop a worker whatever SIGTERM handler the
            // parent had installed (the initializer may install its own).
            std::signal(SIGTERM, SIG_DFL);
            if (init) {
                (*init)();
            }
            worker_loop(child_fd, ring_ptr, parent, maxtasks);
        });
        try {
            proc->start();
        } catch (...) {
            remove_private_fd(sv[0]);
            close_fd(sv[0]);
            close_fd(sv[1]);
            throw;
        }
        close_fd(sv[1]);
        ::fcntl(sv[0], F_SETFL, ::fcntl(sv[0], F_GETFL) | O_NONBLOCK);
        w = worker{};
        w.fd = sv[0];
        w.pid = proc->pid().value_or(0);
        w.pidfd = proc->sentinel();
        w.name = po.name;
        w.proc = std::move(proc);
        w.ring = std::move(ring);
        publish_pids();
    }

    void publish_pids() {
        std::vector<pid_t> pids;
        for (const auto& w : workers_) {
            if (w.proc) {
                pids.push_back(w.pid);
            }
        }
        std::lock_guard<std::mutex> lock(pids_mutex_);
        pids_ = std::move(pids);
    }

    /// Stops a worker with `sig` (0: just close its channel and let it
    /// leave), reaps it, and releases its descriptors.
    void kill_and_reap(worker& w, int sig) noexcept {
        if (!w.proc) {
            return;
        }
        try {
            if (sig == SIGTERM) {
                w.proc->terminate();
            } else if (sig != 0) {
                w.proc->kill();
            }
            if (w.fd >= 0) {
                remove_private_fd(w.fd);
                close_fd(w.fd);
                w.fd = -1;
            }
            w.proc->join(std::chrono::seconds(5));
            if (!w.proc->exitcode()) {
                w.proc->kill();
                w.proc->join();
            }
            w.proc->close();
        } catch (...) {
        }
        w.proc.reset();
    }

    /// How many tasks of a kind a worker may hold: 2 until that kind has been
    /// timed (so a new, maybe long, function is spread evenly), many for
    /// short tasks (pipelining), 1 for tasks of a millisecond or more.
    std::size_t window_limit(std::uint64_t kind) const {
        const auto it = ema_ns_.find(kind);
        if (it == ema_ns_.end()) {
            return 2;
        }
        if (it->second < 50e3) {
            return 64;
        }
        const double n = 1e6 / it->second;
        return n < 1 ? 1 : static_cast<std::size_t>(n);
    }

    /// Hands queued tasks to workers with room in their window: each task to
    /// the worker holding the fewest, round robin among equals.
    void dispatch() {
        const auto now = clock::now();
        const std::size_t n = workers_.size();
        while (!pending_.empty()) {
            if (pending_.front().job->cancelled) {
                pending_.pop_front();
                ++completed_;
                continue;
            }
            const std::size_t limit = window_limit(pending_.front().kind);
            worker* best = nullptr;
            std::size_t best_index = 0;
            for (std::size_t k = 0; k < n; ++k) {
                const std::size_t i = (next_worker_ + k) % n;
                worker& w = workers_[i];
                if (!w.proc || w.dead || w.fd < 0 || w.window.size() >= limit ||
                    (options_.maxtasksperchild != 0 && w.sent >= options_.maxtasksperchild)) {
                    continue;
                }
                if (!best || w.window.size() < best->window.size()) {
                    best = &w;
                    best_index = i;
                }
            }
            if (!best) {
                return;
            }
            next_worker_ = (best_index + 1) % n;
            if (best->window.empty()) {
                best->head_since = now;
            }
            // The window keeps the frame: it is sent again if the worker dies.
            best->window.push_back(std::move(pending_.front()));
            pending_.pop_front();
            ++best->sent;
        }
    }

    /// Writes the window's unsent frames, as many as the socket takes.
    void flush(worker& w) {
        while (w.unsent < w.window.size()) {
            iovec iov[64];
            int count = 0;
            for (std::size_t k = w.unsent; k < w.window.size() && count < 64; ++k, ++count) {
                const std::string& f = w.window[k].frame;
                const std::size_t skip = k == w.unsent ? w.unsent_off : 0;
                iov[count].iov_base = const_cast<char*>(f.data() + skip);
                iov[count].iov_len = f.size() - skip;
            }
            msghdr msg{};
            msg.msg_iov = iov;
            msg.msg_iovlen = static_cast<std::size_t>(count);
            const ssize_t n = ::sendmsg(w.fd, &msg, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                if (errno != EAGAIN && errno != EWOULDBLOCK) {
                    w.dead = true;  // EPIPE: the worker is gone
                }
                return;
            }
            auto left = static_cast<std::size_t>(n);
            while (left > 0) {
                const std::size_t rest = w.window[w.unsent].frame.size() - w.unsent_off;
                if (left >= rest) {
                    left -= rest;
                    ++w.unsent;
                    w.unsent_off = 0;
                } else {
                    w.unsent_off += left;
                    left = 0;
                }
            }
        }
    }

    /// Reads the wake-up bytes the worker sent; false on EOF or error.
    static bool read_some(worker& w) {
        char buf[256];
        for (;;) {
            const ssize_t n = ::recv(w.fd, buf, sizeof buf, 0);
            if (n > 0) {
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        }
    }

    /// Takes the answers published in the worker's ring; true if there were any.
    static bool drain_ring(worker& w) {
        answer_ring* r = w.ring.get();
        if (!r) {
            return false;
        }
        const std::uint64_t head = r->head.load(std::memory_order_acquire);
        const std::uint64_t tail = r->tail.load(std::memory_order_relaxed);
        if (head == tail) {
            return false;
        }
        const auto n = static_cast<std::size_t>(head - tail);
        w.in.reserve_room(n);
        const auto off = static_cast<std::size_t>(tail % answer_ring::capacity);
        const std::size_t first = std::min(n, answer_ring::capacity - off);
        std::memcpy(w.in.data.get() + w.in.end, r->data + off, first);
        if (n > first) {
            std::memcpy(w.in.data.get() + w.in.end + first, r->data, n - first);
        }
        w.in.end += n;
        r->tail.store(head);
        r->space_seq.fetch_add(1);
        if (r->worker_waiting.load() != 0) {
            futex_wake_all(r->space_seq);
        }
        return true;
    }

    /// Answers in the ring to the results they belong to.
    void take_answers(worker& w) {
        while (drain_ring(w)) {
            parse_answers(w);
        }
    }

    void parse_answers(worker& w) {
        const auto now = clock::now();
        while (w.in.size() >= 4) {
            std::uint32_t len;
            std::memcpy(&len, w.in.head(), 4);
            if (w.in.size() - 4 < len) {
                break;
            }
            const std::string_view frame(w.in.head() + 4, len);
            w.in.begin += 4 + std::size_t{len};
            if (w.window.empty() || w.unsent == 0 || frame.empty()) {
                continue;  // cannot happen with a well-behaved worker
            }
            wire_task t = std::move(w.window.front());
            w.window.pop_front();
            --w.unsent;
            const double service =
                static_cast<double>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(now - w.head_since)
                        .count()) +
                1.0;
            if (ema_ns_.size() > 4096) {
                ema_ns_.clear();  // many kinds of task: start measuring afresh
            }
            const auto [it, fresh] = ema_ns_.try_emplace(t.kind, service);
            if (!fresh) {
                it->second = 0.8 * it->second + 0.2 * service;
            }
            w.head_since = now;
            const auto status = static_cast<std::uint8_t>(frame[0]);
            const std::string_view payload = frame.substr(1);
            if (status == answer_ok) {
                t.job->on_answer(t.chunk, payload);
            } else {
                std::exception_ptr error;
                try {
                    wire_reader in(payload);
                    const std::string type(in.take(in.u32()));
                    const std::string message(in.take(in.u32()));
                    error = std::make_exception_ptr(RemoteError(type, message, w.pid, w.name));
                } catch (...) {
                    error = std::current_exception();
                }
                t.job->on_error(t.chunk, error);
            }
            ++completed_;
        }
        if (w.in.begin == w.in.end) {
            w.in.begin = w.in.end = 0;
        }
    }

    /// A worker ended (or was stopped): fail the task it was running, requeue
    /// the rest of its window, reap it, start a replacement.
    void bury(worker& w) {
        take_answers(w);  // what it answered before it ended is all in the ring
        remove_private_fd(w.fd);
        close_fd(w.fd);
        w.fd = -1;
        int code = 0;
        if (w.proc) {
            w.proc->join(std::chrono::seconds(5));
            if (!w.proc->exitcode()) {
                w.proc->kill();
                w.proc->join();
            }
            code = w.proc->exitcode().value_or(0);
        }
        const bool victim_answered =
            w.timed_out && (w.window.empty() || w.window.front().job.get() != w.victim_job ||
                            w.window.front().chunk != w.victim_chunk);
        if (!w.window.empty() && !victim_answered) {
            wire_task t = std::move(w.window.front());
            w.window.pop_front();
            std::exception_ptr error;
            if (w.timed_out) {
                const double secs = std::chrono::duration<double>(*options_.task_timeout).count();
                error = std::make_exception_ptr(TimeoutError(
                    "Pool: task timed out after " + format_seconds(secs) + " s; worker " + w.name +
                    " (pid " + std::to_string(w.pid) + ") was killed and replaced"));
            } else {
                std::string how;
                if (code < 0) {
                    const std::string sig = signal_name(-code);
                    how = "killed by signal " + std::to_string(-code) +
                          (sig.empty() ? std::string() : " (" + sig + ")");
                } else {
                    how = "exited with code " + std::to_string(code);
                }
                error = std::make_exception_ptr(
                    WorkerLostError("Pool: worker " + w.name + " (pid " + std::to_string(w.pid) +
                                        ") died while running this task: " + how,
                                    code, w.pid));
            }
            t.job->on_error(t.chunk, error);
            ++completed_;
        }
        while (!w.window.empty()) {
            pending_.push_front(std::move(w.window.back()));
            w.window.pop_back();
        }
        try {
            if (w.proc) {
                w.proc->close();
            }
        } catch (...) {
        }
        w.proc.reset();
        w = worker{};
        try {
            spawn(w);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "multiprocessing.Pool: cannot start a worker: %s\n", e.what());
        }
        publish_pids();
    }

    void fail_all(std::deque<wire_task>& tasks, const std::exception_ptr& error) {
        for (auto& t : tasks) {
            if (!t.job->cancelled) {
                t.job->on_error(t.chunk, error);
            }
        }
        tasks.clear();
    }

    void io_main() {
        std::vector<pollfd> pfds;
        for (;;) {
            pool_state st;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                sleeping_ = false;
                st = state_;
                while (!incoming_.empty()) {
                    pending_.push_back(std::move(incoming_.front()));
                    incoming_.pop_front();
                }
            }
            if (st == pool_state::terminate) {
                break;
            }
            for (auto& w : workers_) {
                take_answers(w);
            }
            dispatch();
            bool busy = !pending_.empty();
            for (auto& w : workers_) {
                if (w.proc && w.unsent < w.window.size()) {
                    flush(w);
                }
                busy = busy || !w.window.empty();
            }
            if (st == pool_state::close && !busy) {
                break;  // close() and everything done: let the workers go
            }

            // Wait for answers, deaths, submissions or the next task deadline.
            pfds.clear();
            pfds.push_back({wake_fd_, POLLIN, 0});
            int timeout_ms = -1;
            const auto now = clock::now();
            for (auto& w : workers_) {
                if (!w.proc) {
                    continue;
                }
                pfds.push_back(
                    {w.fd, static_cast<short>(POLLIN | (w.unsent < w.window.size() ? POLLOUT : 0)),
                     0});
                pfds.push_back({w.pidfd, POLLIN, 0});
                if (options_.task_timeout && !w.window.empty() && !w.timed_out) {
                    const auto left = w.head_since + *options_.task_timeout - now;
                    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
                    const int m = ms < 0 ? 0 : static_cast<int>(std::min<long long>(ms, 1 << 30));
                    timeout_ms = timeout_ms < 0 ? m : std::min(timeout_ms, m);
                }
            }
            // Ask the workers for a wake-up byte, then look at the rings once
            // more: an answer published before they saw the request is seen here.
            for (auto& w : workers_) {
                if (w.ring.get()) {
                    w.ring.get()->parent_waiting.store(1);
                }
            }
            for (auto& w : workers_) {
                if (w.ring.get() && w.ring.get()->head.load() != w.ring.get()->tail.load()) {
                    timeout_ms = 0;
                }
            }
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (!incoming_.empty() || state_ != st) {
                    timeout_ms = 0;
                } else {
                    sleeping_ = true;
                    wake_sent_ = false;
                }
            }
            const int r = ::poll(pfds.data(), pfds.size(), timeout_ms);
            for (auto& w : workers_) {
                if (w.ring.get()) {
                    w.ring.get()->parent_waiting.store(0);
                }
            }
            if (r < 0 && errno != EINTR) {
                std::fprintf(stderr, "multiprocessing.Pool: poll failed: %s\n",
                             std::strerror(errno));
                break;
            }
            if (pfds[0].revents & POLLIN) {
                std::uint64_t v;
                while (::read(wake_fd_, &v, sizeof v) > 0) {
                }
            }
            std::size_t k = 1;
            for (auto& w : workers_) {
                if (!w.proc) {
                    continue;
                }
                const short sock = r > 0 ? pfds[k].revents : 0;
                const short pid_ev = r > 0 ? pfds[k + 1].revents : 0;
                k += 2;
                if (sock & (POLLIN | POLLHUP | POLLERR)) {
                    if (!read_some(w)) {
                        w.dead = true;
                    }
                }
                take_answers(w);
                if (pid_ev & (POLLIN | POLLHUP)) {
                    w.dead = true;
                }
                if (!w.dead && (sock & POLLOUT)) {
                    flush(w);
                }
            }
            // Per-task time-outs: kill the worker; bury() fails the task.
            if (options_.task_timeout) {
                const auto t = clock::now();
                for (auto& w : workers_) {
                    if (w.proc && !w.dead && !w.timed_out && !w.window.empty() &&
                        t - w.head_since >= *options_.task_timeout) {
                        w.timed_out = true;
                        w.victim_job = w.window.front().job.get();
                        w.victim_chunk = w.window.front().chunk;
                        try {
                            w.proc->kill();
                        } catch (...) {
                        }
                    }
                }
            }
            for (auto& w : workers_) {
                if (w.proc && w.dead) {
                    bury(w);
                }
            }
        }

        // Leaving: close() + done, or terminate().
        pool_state st;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            st = state_;
            io_done_ = true;
            while (!incoming_.empty()) {
                pending_.push_back(std::move(incoming_.front()));
                incoming_.pop_front();
            }
        }
        const auto terminated =
            std::make_exception_ptr(ProcessError("Pool: terminated before the task finished"));
        for (auto& w : workers_) {
            kill_and_reap(w, st == pool_state::terminate ? SIGTERM : 0);
            fail_all(w.window, terminated);
        }
        fail_all(pending_, terminated);
        publish_pids();
    }

    process_core_options options_;
    pid_t owner_;
    int wake_fd_ = -1;
    int counter_ = 0;
    std::vector<worker> workers_;    // the I/O thread's (the constructor's before it starts)
    std::deque<wire_task> pending_;  // the I/O thread's: queued, not yet sent
    std::size_t completed_ = 0;      // the I/O thread's
    std::unordered_map<std::uint64_t, double> ema_ns_;  // the I/O thread's: service time per kind
    std::size_t next_worker_ = 0;                       // the I/O thread's: round robin
    std::unique_ptr<std::thread> io_;                   // the result thread
    std::mutex join_mutex_;

    std::mutex mutex_;  // guards what follows
    pool_state state_ = pool_state::run;
    std::deque<wire_task> incoming_;
    bool sleeping_ = false;
    bool wake_sent_ = false;
    bool io_done_ = false;

    std::mutex pids_mutex_;
    std::vector<pid_t> pids_;
};

}  // namespace detail
}  // namespace multiprocessing

#endif  // MULTIPROCESSING_DETAIL_POOL_CHANNEL_HPP
