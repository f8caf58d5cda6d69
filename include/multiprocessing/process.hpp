// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// Mirrors CPython's multiprocessing/process.py and popen_fork.py: the Process
// class, current_process(), parent_process() and active_children().
//
//     void worker(int interval);
//     mp::Process p(worker, 2);          // Process(target=worker, args=(2,))
//     p.start();
//     p.join();
//
// How a child is born (DESIGN.md, mechanism 1): fork(). The target and its
// arguments are already in the copied address space, so nothing is
// serialized. Standard streams are flushed before the fork; the child resets
// the per-process state, runs `run()`, joins its own children, flushes and
// leaves with _exit(), so the parent's atexit handlers and static destructors
// never run twice.
#ifndef MULTIPROCESSING_PROCESS_HPP
#define MULTIPROCESSING_PROCESS_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/detail/posix.hpp>
#include <multiprocessing/exceptions.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fcntl.h>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <sys/random.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <unistd.h>
#include <utility>
#include <vector>
#if defined(__GLIBCXX__) && __has_include(<ext/stdio_sync_filebuf.h>)
#    include <ext/stdio_sync_filebuf.h>
#endif

namespace multiprocessing {

class Process;

/// Python's keyword arguments of Process(...): `name=` and `daemon=`.
/// (`target=` and `args=` are the constructor's own arguments; `kwargs=`
/// become ordinary arguments of the target, e.g. a std::map or a struct.)
///
///     mp::Process p({.name = "ocean", .daemon = true}, worker, 2);   // C++20
struct ProcessOptions {
    /// Python `name=`: empty means the default, "Process-N" ("Process-1:2" in a child).
    std::string name;
    /// Python `daemon=`: unset means not a daemon.
    std::optional<bool> daemon;
};

namespace detail {

/// A descriptor the library owns in this process (a child's sentinel), shared
/// by the state and any thread polling it, so close() cannot pull it from
/// under a concurrent join(). Registered in globals().sentinel_owners, so a
/// new child closes it: no child holds its siblings' sentinels.
struct sentinel_fd {
    int fd = -1;
    sentinel_fd() = default;
    sentinel_fd(const sentinel_fd&) = delete;
    sentinel_fd& operator=(const sentinel_fd&) = delete;
    /// Takes globals().mutex: never let the last reference go while holding it.
    ~sentinel_fd();
};

/// Everything known about one process, shared by the Process object, the
/// registry of children, and any handle returned by active_children().
/// A Process object may die before its child does; this outlives both.
/// Lock order: globals().mutex before a state's mutex.
struct process_state {
    enum class role { child, main, parent };

    std::mutex mutex;  // guards everything below that changes after construction
    role kind = role::child;
    std::vector<int> identity;  // (1,) for Process-1, (1, 2) for Process-1:2
    std::string name;           // empty until asked for: the default depends on the class
    std::string class_name;     // type(self).__name__, fixed by start() for handles
    bool daemon = false;
    std::string authkey;
    pid_t parent_pid = 0;  // the process that created (and may start) this object
    pid_t pid = 0;         // 0 until started
    bool started = false;
    bool closed = false;
    std::optional<int> exitcode;            // set once the child has been reaped
    std::shared_ptr<sentinel_fd> sentinel;  // made on first use (make_sentinel), or the
                                            // pipe read end where pidfd_open is missing
    // A thread blocks in waitid(WNOWAIT) for this child (an untimed join):
    // while set, only that thread reaps, so the pid stays the child's for
    // everyone holding `mutex` (kill, pidfd_open). It reaps under `mutex`,
    // then clears the flag and notifies `reaped`.
    bool waiter = false;
    std::condition_variable reaped;

    process_state() = default;
    process_state(const process_state&) = delete;
    process_state& operator=(const process_state&) = delete;

    /// Non-blocking waitpid; records the exit code. Caller holds `mutex`
    /// through `lock`. Only the creating process may reap: anywhere else (a
    /// copy inherited by a child) it reports what is known. While another
    /// thread is the waiter, it only looks; if the child has ended, it
    /// waits (briefly: the waiter is awake) for the waiter to record it.
    std::optional<int> poll_locked(std::unique_lock<std::mutex>& lock) {
        if (exitcode || !started || kind != role::child || parent_pid != ::getpid()) {
            return exitcode;
        }
        if (waiter) {
            siginfo_t info{};
            int r;
            do {
                r = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
            } while (r < 0 && errno == EINTR);
            if (r == 0 && info.si_pid == 0) {
                return std::nullopt;  // still running
            }
            reaped.wait(lock, [this] { return exitcode.has_value() || !waiter; });
            if (exitcode) {
                return exitcode;
            }
        }
        int status = 0;
        pid_t r;
        do {
            r = ::waitpid(pid, &status, WNOHANG);
        } while (r < 0 && errno == EINTR);
        if (r == pid) {
            exitcode = exitcode_from_status(status);
        } else if (r < 0 && errno == ECHILD) {
            // Someone else reaped it (SIGCHLD set to SIG_IGN, or a stray
            // waitpid(-1)): the exit status is lost. Python would report the
            // child alive forever; 255 lets join() return.
            exitcode = 255;
        }
        return exitcode;
    }

    /// Waits for the child to end, until `until` at most. Returns its exit
    /// code, or nothing on time-out. Several threads may join one process.
    inline std::optional<int> wait(const deadline& until);

private:
    inline std::optional<int> wait_blocking();
};

/// Python's util.register_after_fork: functions run in every new child
/// before its target (in registration order). One that throws ends the
/// child with exit code 1 after a report on stderr.
struct after_fork_entry {
    const void* key;
    std::function<void()> fn;
};

/// The per-process state of the module (Python's module globals in process.py).
struct process_globals {
    std::mutex mutex;  // held across fork(), so the child finds it consistent
    std::shared_ptr<process_state> current;
    std::shared_ptr<process_state> parent;  // the creating process's own state, in a child
    // The handles current_process() and parent_process() return. A child
    // makes them on first use (make_handles), not in its set-up: most
    // children never ask, and every page a child touches costs a fault.
    std::atomic<bool> handles_ready{false};
    std::unique_ptr<Process> current_handle;
    std::unique_ptr<Process> parent_handle;             // empty in the main process
    int counter = 0;                                    // Python's _process_counter
    std::set<std::shared_ptr<process_state>> children;  // started, not yet known to have ended
    std::set<sentinel_fd*> sentinel_owners;  // descriptors of this process: closed in new children
    std::vector<int> private_fds;            // this process's own descriptors, closed in children
    std::vector<after_fork_entry> after_fork;
    bool atexit_registered = false;
};

/// Never destroyed: it must outlive every static Process and the atexit handler.
inline process_globals& globals();

inline sentinel_fd::~sentinel_fd() {
    if (fd >= 0) {
        {
            std::lock_guard<std::mutex> lock(globals().mutex);
            globals().sentinel_owners.erase(this);
        }
        close_fd(fd);
    }
}

/// Python: multiprocessing.util.register_after_fork(obj, func). `key`
/// identifies the registration for unregister_after_fork().
inline void register_after_fork(const void* key, std::function<void()> fn);
/// Removes the functions registered under `key`.
inline void unregister_after_fork(const void* key);

/// The target and its arguments, stored like std::thread stores them.
struct target_base {
    virtual ~target_base() = default;
    virtual void call() = 0;
};

template <class F, class... Args>
struct target_impl final : target_base {
    template <class G, class... A>
    explicit target_impl(G&& g, A&&... a) : fn(std::forward<G>(g)), args(std::forward<A>(a)...) {}
    void call() override {
        std::apply([this](auto&... a) { std::invoke(fn, a...); }, args);
    }
    F fn;
    std::tuple<Args...> args;
};

struct handle_tag {};

/// Flush C and C++ standard streams, so text buffered before fork() is
/// printed once, and text written by a child is out before it _exit()s.
/// A child runs this once on its way out: it skips what fflush() does
/// anyway, as each page of code or data it touches costs a fault there.
inline void flush_std_streams() noexcept {
    const auto flush = [](std::ostream& os) {
#if defined(__GLIBCXX__) && __has_include(<ext/stdio_sync_filebuf.h>)
        // With sync_with_stdio(true), the default, a standard stream writes
        // straight through to C's stdio: its flush() is fflush(), done below.
        const std::streambuf* buf = os.rdbuf();
        if (buf && typeid(*buf) == typeid(__gnu_cxx::stdio_sync_filebuf<char>)) {
            return;
        }
#endif
        os.flush();
    };
    try {
        flush(std::cout);
        flush(std::cerr);
        flush(std::clog);
    } catch (...) {  // a stream with exceptions() enabled: nothing more to do
    }
    std::fflush(nullptr);
}

inline std::string random_authkey() {
    std::string key(32, '\0');
    std::size_t got = 0;
    while (got < key.size()) {
        const ssize_t r = ::getrandom(key.data() + got, key.size() - got, 0);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_errno("getrandom");
        }
        got += static_cast<std::size_t>(r);
    }
    return key;
}

template <class T>
inline constexpr bool is_process_like_v =
    std::is_base_of_v<Process, std::decay_t<T>> ||
    std::is_same_v<std::decay_t<T>, ProcessOptions> || std::is_same_v<std::decay_t<T>, handle_tag>;

/// What start() hands to the child side of fork().
struct child_launch {
    sigset_t mask;                // the signal mask to restore once the child is set up
    int close_fds[2] = {-1, -1};  // start()'s descriptors the child must not keep
    int keep_fd = -1;             // the fallback sentinel pipe's write end: the child's own
};

[[noreturn]] inline void child_main(Process& self, const child_launch& launch) noexcept;
inline void exit_function() noexcept;
inline void make_handles();

}  // namespace detail

/// Python: multiprocessing.Process. A process that runs a target (or an
/// overridden run()) in a child created by fork().
///
/// Two ways to use it, as in Python:
///
///     mp::Process p(worker, 2);                 // a target and its arguments
///
///     class Clock : public mp::Process {         // a subclass overriding run()
///         void run() override { ... }
///     };
///
/// Destroying a Process neither kills nor leaks its child: a running child is
/// left to the registry, which reaps it (active_children(), the next start(),
/// or at exit, where non-daemon children are joined and daemon children
/// terminated). Methods are safe to call from several threads at once.
class Process {
public:
    /// Python: Process(). run() does nothing unless a subclass overrides it.
    Process() : Process(ProcessOptions{}) {}

    /// Python: Process(name=..., daemon=...), for subclasses that override run().
    explicit Process(ProcessOptions options) : state_(std::make_shared<detail::process_state>()) {
        auto& g = detail::globals();
        std::lock_guard<std::mutex> lock(g.mutex);
        state_->identity = g.current->identity;
        state_->identity.push_back(++g.counter);
        state_->authkey = g.current->authkey;
        state_->parent_pid = ::getpid();
        state_->name = std::move(options.name);
        state_->daemon = options.daemon.value_or(false);
    }

    /// Python: Process(target=f, args=(a, b)). Like std::thread, the target and
    /// the arguments are copied (or moved) into the object; wrap an argument in
    /// std::ref to pass a reference (which, after fork, is the child's copy).
    template <class F, class... Args, std::enable_if_t<!detail::is_process_like_v<F>, int> = 0>
    explicit Process(F&& target, Args&&... args)
        : Process(ProcessOptions{}, std::forward<F>(target), std::forward<Args>(args)...) {}

    /// Python: Process(target=f, args=(...), name=..., daemon=...).
    template <class F, class... Args>
    Process(ProcessOptions options, F&& target, Args&&... args) : Process(std::move(options)) {
        static_assert(std::is_invocable_v<std::decay_t<F>&, std::decay_t<Args>&...>,
                      "multiprocessing::Process: the target cannot be called with these "
                      "arguments (check their number and types)");
        target_ = std::make_unique<detail::target_impl<std::decay_t<F>, std::decay_t<Args>...>>(
            std::forward<F>(target), std::forward<Args>(args)...);
    }

    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    Process(Process&&) noexcept = default;
    Process& operator=(Process&&) noexcept = default;
    /// Does not kill, join or leak the child (see the class comment).
    virtual ~Process() = default;

    /// Python: run(). What the child does: calls the target with its arguments.
    /// Override it in a subclass; calling it directly runs it in this process.
    virtual void run() {
        if (target_) {
            target_->call();
        }
    }

    /// Python: start(). Forks the child, which calls run(). Throws
    /// ProcessError when started twice (also when two threads race to start
    /// it: one wins), when this object was created by another process, or
    /// from a daemon process (which may not have children);
    /// std::invalid_argument once closed; std::system_error if fork() (or the
    /// descriptor for the sentinel) fails, with no child left behind.
    void start();

    /// Python: join(). Blocks until the child ends. Throws ProcessError if the
    /// process was not started or is not a child of this process.
    void join() { join_until(std::nullopt); }

    /// Python: join(timeout). Returns when the child ends or the time is up,
    /// whichever comes first; check exitcode() or is_alive() to tell which.
    template <class Rep, class Period>
    void join(std::chrono::duration<Rep, Period> timeout) {
        join_until(detail::deadline_after(timeout));
    }

    /// Python: is_alive(). True from start() until the child ends (it reaps
    /// the child when it has ended).
    bool is_alive();

    /// Python: terminate(). Sends SIGTERM; nothing if the child already
    /// ended. Throws ProcessError before start() or when this process is not
    /// the child's parent; std::invalid_argument once closed.
    void terminate() { send_signal(SIGTERM, "terminate"); }

    /// Python: kill(). Sends SIGKILL; otherwise as terminate().
    void kill() { send_signal(SIGKILL, "kill"); }

    /// Python: close(). Releases the sentinel descriptor; afterwards all but
    /// name(), daemon(), authkey() and repr() throw std::invalid_argument
    /// ("process object is closed"). Allowed before start(), as in Python;
    /// throws std::invalid_argument while the child is still running.
    void close();

    /// Python: name. "Process-1", "Process-2", ... counted per creating
    /// process ("Process-1:1" for a child's child); a subclass Foo gets
    /// "Foo-1", as type(self).__name__ gives in Python.
    std::string name() const;
    /// Python: name = ... (allowed at any time, as in Python).
    void set_name(std::string name) {
        check_handle();
        std::lock_guard<std::mutex> lock(state_->mutex);
        state_->name = std::move(name);
    }

    /// Python: daemon. A daemon child is terminated when its parent exits,
    /// and may not have children of its own.
    bool daemon() const {
        check_handle();
        std::lock_guard<std::mutex> lock(state_->mutex);
        return state_->daemon;
    }
    /// Python: daemon = flag. Throws ProcessError once started.
    void set_daemon(bool daemonic) {
        check_handle();
        std::lock_guard<std::mutex> lock(state_->mutex);
        if (state_->started) {
            throw ProcessError("Process.daemon: process has already started");
        }
        state_->daemon = daemonic;
    }

    /// Python: pid. Empty before start() (Python's None).
    std::optional<pid_t> pid() const;
    /// Python: ident (the same as pid).
    std::optional<pid_t> ident() const { return pid(); }

    /// Python: exitcode. Empty while running or before start; the exit code
    /// once ended; -N if the child was ended by signal N.
    std::optional<int> exitcode();

    /// Python: authkey. Bytes inherited from the creating process (random in
    /// the main process); used by Listener/Client authentication.
    std::string authkey() const {
        check_handle();
        std::lock_guard<std::mutex> lock(state_->mutex);
        return state_->authkey;
    }
    /// Python: authkey = bytes.
    void set_authkey(std::string key) {
        check_handle();
        std::lock_guard<std::mutex> lock(state_->mutex);
        state_->authkey = std::move(key);
    }

    /// Python: sentinel. A close-on-exec descriptor that becomes readable
    /// when the child ends (for poll/select or connection::wait): a pidfd
    /// made on the first call (/dev/null, readable at once, if the child was
    /// already reaped), or a pipe made by start() where pidfd_open is
    /// missing. Owned by this object: the same descriptor until close().
    /// Throws std::invalid_argument before start() or once closed;
    /// std::system_error if no descriptor is left (EMFILE) on the first call.
    int sentinel() const;

    /// Python: repr(p), e.g. <Process name='Process-1' pid=1234 parent=1233 started>.
    std::string repr() const;

    /// Two handles are equal when they stand for the same process.
    friend bool operator==(const Process& a, const Process& b) { return a.state_ == b.state_; }
    friend bool operator!=(const Process& a, const Process& b) { return !(a == b); }

protected:
    /// The class name Python would show (type(self).__name__).
    std::string type_name() const;

private:
    friend detail::process_globals& detail::globals();
    friend std::vector<Process> active_children();
    friend void detail::child_main(Process& self, const detail::child_launch& launch) noexcept;
    friend void detail::exit_function() noexcept;
    friend void detail::make_handles();

    /// A handle to an existing process (active_children(), current_process()).
    Process(detail::handle_tag, std::shared_ptr<detail::process_state> state)
        : state_(std::move(state)) {}

    void check_handle() const {
        if (!state_) {
            throw std::invalid_argument("Process: this object was moved from");
        }
    }
    void check_not_closed() const {
        check_handle();
        std::lock_guard<std::mutex> lock(state_->mutex);
        if (state_->closed) {
            throw std::invalid_argument("process object is closed");
        }
    }
    /// Python's "can only join a child process" / "can only test a child process".
    void check_child(const char* method, const char* verb) const {
        if (state_->kind == detail::process_state::role::child &&
            state_->parent_pid != ::getpid()) {
            throw ProcessError(std::string("Process.") + method + ": can only " + verb +
                               " a child process");
        }
    }
    void join_until(const detail::deadline& until);
    void send_signal(int sig, const char* what);

    std::shared_ptr<detail::process_state> state_;
    std::unique_ptr<detail::target_base> target_;
};

/// Python: print(p) / str(p).
inline std::ostream& operator<<(std::ostream& os, const Process& p) {
    return os << p.repr();
}

namespace detail {

inline process_globals& globals() {
    static process_globals* g = [] {
        auto* made = new process_globals();
        made->current = std::make_shared<process_state>();
        made->current->kind = process_state::role::main;
        made->current->name = "MainProcess";
        made->current->pid = ::getpid();
        made->current->started = true;
        made->current->authkey = random_authkey();
        made->current_handle.reset(new Process(handle_tag{}, made->current));
        made->handles_ready.store(true, std::memory_order_release);
        return made;
    }();
    return *g;
}

/// Reaps children known to have ended (Python's _cleanup()): no zombies pile
/// up while a program starts many processes it never joins.
inline void cleanup_children() {
    auto& g = globals();
    // Destroyed after the lock is released: a state's destructor takes it.
    std::vector<std::shared_ptr<process_state>> ended;
    std::lock_guard<std::mutex> lock(g.mutex);
    for (auto it = g.children.begin(); it != g.children.end();) {
        bool done;
        {
            std::unique_lock<std::mutex> state_lock((*it)->mutex);
            done = (*it)->poll_locked(state_lock).has_value();
        }
        if (done) {
            ended.push_back(*it);
            it = g.children.erase(it);
        } else {
            ++it;
        }
    }
}

/// Makes the handles of current_process() and parent_process() in a child,
/// on first use. The previous ones (the parent's) stay alive, never freed:
/// code of the parent may hold a reference to current_process() and use it
/// in the child. Not async-signal-safe the first time in a child (it
/// allocates under the globals lock); after that, a load and a dereference.
inline void make_handles() {
    auto& g = globals();
    std::lock_guard<std::mutex> lock(g.mutex);
    if (g.handles_ready.load(std::memory_order_relaxed)) {
        return;
    }
    auto parent = std::make_shared<process_state>();
    parent->kind = process_state::role::parent;
    {
        std::lock_guard<std::mutex> parent_lock(g.parent->mutex);
        parent->name = g.parent->name;  // Python: _ParentProcess(name=_current_process.name)
        parent->authkey = g.parent->authkey;
    }
    parent->class_name = "_ParentProcess";
    parent->pid = g.current->parent_pid;
    parent->started = true;
    auto parent_handle = std::unique_ptr<Process>(new Process(handle_tag{}, std::move(parent)));
    auto current_handle = std::unique_ptr<Process>(new Process(handle_tag{}, g.current));
    (void)g.current_handle.release();
    (void)g.parent_handle.release();
    g.current_handle = std::move(current_handle);
    g.parent_handle = std::move(parent_handle);
    g.handles_ready.store(true, std::memory_order_release);
}

/// The sentinel of `s`, made now if it has none: a pidfd of the child, or,
/// once the child has been reaped, /dev/null (always readable). Made under
/// the globals lock and registered in sentinel_owners, so a child forked by
/// another thread never keeps it. A pidfd made late still names our child:
/// only this process reaps it, under the state's lock, held here. Returns
/// null if not started or closed. Throws std::system_error (naming `what`)
/// if no descriptor can be made.
inline std::shared_ptr<sentinel_fd> make_sentinel(process_state& s, const char* what) {
    {
        std::lock_guard<std::mutex> lock(s.mutex);
        if (s.sentinel || !s.started || s.closed) {
            return s.sentinel;
        }
    }
    // Allocated before the locks; destroyed after them if unused (fd -1: no lock taken).
    auto fresh = std::make_shared<sentinel_fd>();
    std::set<sentinel_fd*> owner_slot{fresh.get()};
    auto& g = globals();
    std::lock_guard<std::mutex> lock(g.mutex);
    std::lock_guard<std::mutex> state_lock(s.mutex);
    if (s.sentinel || !s.started || s.closed || s.parent_pid != ::getpid()) {
        return s.sentinel;
    }
    int fd = -1;
    if (!s.exitcode) {
        fd = pidfd_open(s.pid);
        if (fd < 0 && errno == EMFILE) {
            throw_errno(std::string(what) + ": pidfd_open");
        }
    }
    if (fd < 0) {
        // Reaped already, or pidfd_open refused: a descriptor that is
        // always readable (join() then polls waitpid).
        fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            throw_errno(std::string(what) + ": open");
        }
    }
    fresh->fd = fd;
    g.sentinel_owners.insert(owner_slot.extract(owner_slot.begin()));
    s.sentinel = std::move(fresh);
    return s.sentinel;
}

inline std::optional<int> process_state::wait_blocking() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
        if (exitcode || !started || kind != role::child || parent_pid != ::getpid()) {
            return exitcode;
        }
        if (waiter) {
            // Another thread waits in waitid: it records the end for all.
            reaped.wait(lock, [this] { return exitcode.has_value() || !waiter; });
            continue;
        }
        // One blocking waitid, as a bare waitpid() would; WNOWAIT leaves the
        // reaping to be done under the lock, so the pid never stops being
        // the child's while anyone holding the lock may use it.
        waiter = true;
        const pid_t target = pid;
        lock.unlock();
        siginfo_t info{};
        int r;
        do {
            r = ::waitid(P_PID, static_cast<id_t>(target), &info, WEXITED | WNOWAIT);
        } while (r < 0 && errno == EINTR);
        lock.lock();
        waiter = false;
        const auto code = poll_locked(lock);
        reaped.notify_all();
        if (code) {
            return code;
        }
        if (r < 0) {
            // waitid failed other than ECHILD (which poll_locked turns into 255):
            // poll, as the fallback sentinel does.
            lock.unlock();
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            lock.lock();
        }
    }
}

inline std::optional<int> process_state::wait(const deadline& until) {
    if (!until) {
        return wait_blocking();
    }
    std::shared_ptr<sentinel_fd> held;  // keeps the descriptor open while polling it
    {
        std::unique_lock<std::mutex> lock(mutex);
        if (auto code = poll_locked(lock)) {
            return code;
        }
        held = sentinel;
    }
    if (!held) {
        try {
            held = make_sentinel(*this, "Process.join");
        } catch (const std::system_error&) {
            // Out of descriptors: poll instead.
        }
    }
    const int fd = held ? held->fd : -1;
    for (;;) {
        if (fd >= 0 && !wait_readable(fd, until)) {
            std::unique_lock<std::mutex> lock(mutex);
            return poll_locked(lock);
        }
        {
            std::unique_lock<std::mutex> lock(mutex);
            if (auto code = poll_locked(lock)) {
                return code;
            }
        }
        // No usable sentinel (the /dev/null fallback, or the pipe
        // fallback signalling early when the child exec()s): poll the
        // child until it really ends or the deadline passes.
        if (until && clock::now() >= *until) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

}  // namespace detail

/// Python: active_children(). The children of this process still running;
/// reaps those that have ended. The returned objects are handles: they share
/// state with the original Process objects (name, pid, join, terminate...).
inline std::vector<Process> active_children() {
    detail::cleanup_children();
    auto& g = detail::globals();
    std::lock_guard<std::mutex> lock(g.mutex);
    std::vector<Process> alive;
    alive.reserve(g.children.size());
    for (const auto& state : g.children) {
        alive.push_back(Process(detail::handle_tag{}, state));
    }
    return alive;
}

/// Python: current_process(). The Process object of the running process:
/// "MainProcess" in the main program, the child's own Process in a child.
inline Process& current_process() {
    auto& g = detail::globals();
    if (!g.handles_ready.load(std::memory_order_acquire)) {
        detail::make_handles();
    }
    return *g.current_handle;
}

/// Python: parent_process(). The parent of this process, or nullptr in the
/// main process (Python's None). Its is_alive() and join(timeout) work even
/// though the parent is not our child.
inline Process* parent_process() {
    auto& g = detail::globals();
    if (!g.handles_ready.load(std::memory_order_acquire)) {
        detail::make_handles();
    }
    return g.parent_handle.get();
}

namespace detail {

inline void register_after_fork(const void* key, std::function<void()> fn) {
    auto& g = globals();
    std::lock_guard<std::mutex> lock(g.mutex);
    g.after_fork.push_back(after_fork_entry{key, std::move(fn)});
}

inline void unregister_after_fork(const void* key) {
    std::vector<after_fork_entry> removed;  // destroyed after the lock is released
    auto& g = globals();
    std::lock_guard<std::mutex> lock(g.mutex);
    for (auto it = g.after_fork.begin(); it != g.after_fork.end();) {
        if (it->key == key) {
            removed.push_back(std::move(*it));
            it = g.after_fork.erase(it);
        } else {
            ++it;
        }
    }
}

/// Python's util._exit_function(): at the end of a process, terminate daemon
/// children, then join every child still running.
inline void exit_function() noexcept {
    flush_std_streams();  // what this process printed comes before what its children print now
    try {
        for (auto& p : active_children()) {
            if (p.daemon()) {
                p.terminate();
            }
        }
        for (auto& p : active_children()) {
            p.join();
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "multiprocessing: error while joining children at exit: %s\n",
                     e.what());
    } catch (...) {
        std::fprintf(stderr, "multiprocessing: error while joining children at exit\n");
    }
    flush_std_streams();
}

/// Writes `head` then "Type: message" about the exception being handled to
/// stderr, after what this process printed so far. Never throws: it runs
/// where nothing may escape.
inline void report_current_exception(const char* head) noexcept {
    flush_std_streams();
    std::fputs(head, stderr);
    try {
        std::string type = current_exception_type_name();
        std::string message;
        try {
            throw;
        } catch (const std::exception& e) {
            message = e.what();
        } catch (...) {
        }
        std::fprintf(stderr, "%s%s%s\n", type.c_str(), message.empty() ? "" : ": ",
                     message.c_str());
    } catch (...) {
        std::fputs("(exception)\n", stderr);
    }
    std::fflush(stderr);
}

/// "<prefix><name><suffix>" without allocating (it runs in catch handlers).
inline void format_head(char (&out)[512], const char* prefix, const std::string& name,
                        const char* suffix) noexcept {
    std::snprintf(out, sizeof out, "%s%s%s", prefix, name.c_str(), suffix);
}

/// The child side of start(): set up the per-process state, run, report, leave.
/// Entered with globals().mutex and the state's mutex held and every signal
/// blocked (as they were across fork()). Never returns into the parent's
/// code, whatever happens: an error before the target runs is reported on
/// stderr and ends the child with exit code 1.
[[noreturn]] inline void child_main(Process& self, const child_launch& launch) noexcept {
    auto& g = globals();
    const auto& state = self.state_;
    std::vector<after_fork_entry> hooks;
    try {
        close_fd(launch.close_fds[0]);
        close_fd(launch.close_fds[1]);
        // Descriptors of the parent's other children (and the parent's own
        // private ones) are not ours: close them, so no child holds its
        // siblings' sentinels. Their owners, copied into this process, now
        // hold -1 and close nothing.
        for (sentinel_fd* s : g.sentinel_owners) {
            close_fd(s->fd);
            s->fd = -1;
        }
        g.sentinel_owners.clear();
        for (int fd : g.private_fds) {
            close_fd(fd);
        }
        g.private_fds.clear();
        if (launch.keep_fd >= 0) {
            g.private_fds.push_back(launch.keep_fd);
        }
        // Another thread of the parent may have held a sibling's lock at the
        // fork: that thread does not exist here, so the lock is made anew.
        // The same for a condition variable a thread waited on (a process
        // never waits on its own state's: only a parent joins).
        new (&g.current->mutex) std::mutex();
        for (const auto& sibling : g.children) {
            if (sibling != state) {
                new (&sibling->mutex) std::mutex();
                new (&sibling->reaped) std::condition_variable();
            }
        }
        g.children.clear();
        g.counter = 0;

        if (!g.after_fork.empty()) {
            hooks = g.after_fork;
        }

        state->pid = ::getpid();
        state->started = true;
        state->sentinel.reset();
        // The handles of current_process() and parent_process() are made on
        // first use, from these (make_handles).
        g.parent = std::move(g.current);
        g.current = state;
        g.handles_ready.store(false, std::memory_order_relaxed);
        g.atexit_registered = false;  // atexit handlers of the parent do not run here
    } catch (...) {
        char head[512];
        std::snprintf(head, sizeof head, "multiprocessing: failed to set up child process %d: ",
                      static_cast<int>(::getpid()));
        report_current_exception(head);
        ::_exit(1);
    }
    state->mutex.unlock();  // both locked by the parent across fork()
    g.mutex.unlock();
    ::pthread_sigmask(SIG_SETMASK, &launch.mask, nullptr);

    int code = 1;
    try {
        for (auto& hook : hooks) {
            hook.fn();
        }
    } catch (...) {
        char head[512];
        format_head(head, "multiprocessing: failed to set up child process ", state->name,
                    " (an after-fork function failed): ");
        report_current_exception(head);
        ::_exit(1);
    }

    try {
        self.run();
        code = 0;
    } catch (const SystemExit& e) {
        code = e.code();
        if (!e.message().empty()) {
            std::fprintf(stderr, "%s\n", e.message().c_str());
        }
    } catch (...) {
        // Python: "Process Process-1:" then the traceback.
        code = 1;
        char head[512];
        format_head(head, "Process ", state->name, ":\n");
        report_current_exception(head);
    }
    // Python's util._exit_function(), flushing once: most children have no
    // children of their own, and each flush touches pages.
    bool has_children;
    {
        std::lock_guard<std::mutex> lock(g.mutex);
        has_children = !g.children.empty();
    }
    if (has_children) {
        exit_function();  // flushes before and after joining them
    } else {
        flush_std_streams();
    }
    ::_exit(code);
}

}  // namespace detail

inline void Process::start() {
    check_not_closed();
    auto& g = detail::globals();
    if (state_->kind != detail::process_state::role::child) {
        throw ProcessError("Process.start: cannot start a process twice");
    }
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        if (state_->started) {
            throw ProcessError("Process.start: cannot start a process twice");
        }
    }
    if (state_->parent_pid != ::getpid()) {
        throw ProcessError(
            "Process.start: can only start a process object created by current process");
    }
    if (current_process().daemon()) {
        throw ProcessError("Process.start: daemonic processes are not allowed to have children");
    }
    detail::cleanup_children();
    const bool use_pidfd = detail::have_pidfd();
    // Fix the default name and the class name now, while the dynamic type is known.
    const std::string cls = type_name();
    (void)name();
    // Everything the parent must record after fork() is allocated before it,
    // so nothing after fork() can fail and leave a child nobody knows about.
    // With pidfd, the sentinel is made on first use (sentinel(), a timed
    // join): most programs never ask, and join() waits without it.
    std::shared_ptr<detail::sentinel_fd> sentinel;
    std::set<detail::sentinel_fd*> owner_slot;
    if (!use_pidfd) {
        sentinel = std::make_shared<detail::sentinel_fd>();
        owner_slot.insert(sentinel.get());
    }
    std::set<std::shared_ptr<detail::process_state>> child_slot{state_};
    detail::flush_std_streams();

    detail::signal_block blocked;
    std::unique_lock<std::mutex> lock(g.mutex);
    std::unique_lock<std::mutex> state_lock(state_->mutex);
    if (state_->started) {  // another thread won the race to start it
        throw ProcessError("Process.start: cannot start a process twice");
    }
    state_->class_name = cls;
    if (!g.atexit_registered) {
        if (std::atexit([] { detail::exit_function(); }) == 0) {
            g.atexit_registered = true;
        }
    }
    // Without pidfd, the sentinel is a pipe whose write end only the child
    // holds, made under the lock so a child forked by another thread cannot
    // inherit it.
    detail::child_launch launch;
    launch.mask = blocked.saved();
    int pipe_fds[2] = {-1, -1};
    if (!use_pidfd) {
        if (::pipe2(pipe_fds, O_CLOEXEC) < 0) {
            detail::throw_errno("Process.start: pipe2");
        }
        launch.close_fds[0] = pipe_fds[0];
        launch.keep_fd = pipe_fds[1];
    }

    const pid_t pid = ::fork();
    if (pid == 0) {
        detail::child_main(*this, launch);  // never returns
    }
    if (pid < 0) {
        const int fork_errno = errno;
        detail::close_fd(pipe_fds[0]);
        detail::close_fd(pipe_fds[1]);
        detail::throw_errno("Process.start: fork", fork_errno);
    }
    if (sentinel) {
        detail::close_fd(pipe_fds[1]);
        sentinel->fd = pipe_fds[0];
        state_->sentinel = sentinel;
        g.sentinel_owners.insert(owner_slot.extract(owner_slot.begin()));
    }
    state_->pid = pid;
    state_->started = true;
    state_lock.unlock();
    g.children.insert(child_slot.extract(child_slot.begin()));
    lock.unlock();
    blocked.restore();
}

inline void Process::join_until(const detail::deadline& until) {
    check_not_closed();
    using role = detail::process_state::role;
    if (state_->kind == role::main) {
        throw ProcessError("Process.join: can only join a child process");
    }
    if (state_->kind == role::parent) {
        // Not our child: wait for it through a pidfd; getppid() tells when it ended.
        const pid_t ppid = state_->pid;
        const int fd = detail::pidfd_open(ppid);
        if (fd >= 0) {
            try {
                if (::getppid() == ppid) {
                    detail::wait_readable(fd, until);
                }
            } catch (...) {
                detail::close_fd(fd);
                throw;
            }
            detail::close_fd(fd);
            return;
        }
        while (::getppid() == ppid && (!until || detail::clock::now() < *until)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return;
    }
    check_child("join", "join");
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        if (!state_->started) {
            throw ProcessError("Process.join: can only join a started process");
        }
    }
    if (state_->wait(until)) {
        auto& g = detail::globals();
        std::lock_guard<std::mutex> lock(g.mutex);
        g.children.erase(state_);  // *this still holds the state: nothing destroyed here
    }
}

inline bool Process::is_alive() {
    check_not_closed();
    using role = detail::process_state::role;
    if (state_ == detail::globals().current || state_->kind == role::main) {
        return true;
    }
    if (state_->kind == role::parent) {
        return ::getppid() == state_->pid;
    }
    check_child("is_alive", "test");
    std::optional<int> code;
    {
        std::unique_lock<std::mutex> lock(state_->mutex);
        if (!state_->started) {
            return false;
        }
        code = state_->poll_locked(lock);
    }
    if (!code) {
        return true;
    }
    auto& g = detail::globals();
    std::lock_guard<std::mutex> lock(g.mutex);
    g.children.erase(state_);
    return false;
}

inline void Process::send_signal(int sig, const char* what) {
    check_not_closed();
    if (state_->kind != detail::process_state::role::child) {
        throw ProcessError(std::string("Process.") + what + ": can only signal a child process");
    }
    check_child(what, what);
    std::unique_lock<std::mutex> lock(state_->mutex);
    if (!state_->started) {
        throw ProcessError(std::string("Process.") + what + ": process has not been started");
    }
    // Only while the child is not yet reaped: its pid cannot have been reused.
    if (!state_->poll_locked(lock) && ::kill(state_->pid, sig) < 0 && errno != ESRCH) {
        detail::throw_errno(std::string("Process.") + what + ": kill");
    }
}

inline void Process::close() {
    check_handle();
    if (state_->kind != detail::process_state::role::child) {
        throw ProcessError("Process.close: can only close a child process object");
    }
    // Released after both locks: the last reference closes the descriptor,
    // which takes the globals lock.
    std::shared_ptr<detail::sentinel_fd> doomed;
    auto& g = detail::globals();
    std::lock_guard<std::mutex> lock(g.mutex);
    std::unique_lock<std::mutex> state_lock(state_->mutex);
    if (state_->closed) {
        return;
    }
    if (state_->started && !state_->poll_locked(state_lock)) {
        throw std::invalid_argument(
            "Cannot close a process while it is still running. You should first call "
            "join() or terminate().");
    }
    g.children.erase(state_);
    doomed = std::move(state_->sentinel);
    state_->closed = true;
}

inline std::string Process::type_name() const {
    using role = detail::process_state::role;
    if (state_ && state_->kind == role::main) {
        return "_MainProcess";
    }
    if (state_ && state_->kind == role::parent) {
        return "_ParentProcess";
    }
    if (state_) {
        std::lock_guard<std::mutex> lock(state_->mutex);
        if (!state_->class_name.empty()) {
            return state_->class_name;  // a handle: the class of the original object
        }
    }
    if (typeid(*this) == typeid(Process)) {
        return "Process";  // the common case, without demangling
    }
    std::string full = detail::demangle(typeid(*this).name());
    // Python's type(self).__name__ has no namespace: keep the last component
    // (outside any template argument list).
    int depth = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i < full.size(); ++i) {
        const char c = full[i];
        if (c == '<' || c == '(') {
            ++depth;
        } else if (c == '>' || c == ')') {
            --depth;
        } else if (c == ':' && depth == 0 && i + 1 < full.size() && full[i + 1] == ':') {
            start = i + 2;
        }
    }
    return full.substr(start);
}

inline std::string Process::name() const {
    check_handle();
    std::string cls;
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        if (!state_->name.empty()) {
            return state_->name;
        }
    }
    cls = type_name();
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->name.empty()) {
        std::string n = cls + "-";
        for (std::size_t i = 0; i < state_->identity.size(); ++i) {
            n += (i ? ":" : "") + std::to_string(state_->identity[i]);
        }
        state_->name = std::move(n);
    }
    return state_->name;
}

inline std::optional<pid_t> Process::pid() const {
    check_not_closed();
    if (state_ == detail::globals().current) {
        return ::getpid();
    }
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (!state_->started) {
        return std::nullopt;
    }
    return state_->pid;
}

inline std::optional<int> Process::exitcode() {
    check_not_closed();
    std::unique_lock<std::mutex> lock(state_->mutex);
    return state_->poll_locked(lock);
}

inline int Process::sentinel() const {
    check_not_closed();
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        // Not started here: a child asking about itself (as in Python) or
        // about an object of its parent (whose sentinel it does not hold).
        if (!state_->started || state_->kind != detail::process_state::role::child ||
            state_->parent_pid != ::getpid()) {
            throw std::invalid_argument("Process.sentinel: process not started");
        }
        if (state_->sentinel) {
            return state_->sentinel->fd;
        }
    }
    const auto made = detail::make_sentinel(*state_, "Process.sentinel");
    if (!made) {  // closed meanwhile by another thread
        throw std::invalid_argument("process object is closed");
    }
    return made->fd;
}

inline std::string Process::repr() const {
    if (!state_) {
        return "<Process moved-from>";
    }
    using role = detail::process_state::role;
    std::optional<int> code;
    std::string status;
    const bool is_current = state_ == detail::globals().current;
    const std::string cls = type_name();
    const std::string nm = name();
    std::ostringstream out;
    out << '<' << cls << " name='" << nm << "'";
    std::unique_lock<std::mutex> lock(state_->mutex);
    if (is_current) {
        status = "started";
    } else if (state_->closed) {
        status = "closed";
    } else if (state_->kind != role::child || state_->parent_pid != ::getpid()) {
        status = "unknown";
    } else if (!state_->started) {
        status = "initial";
    } else {
        code = state_->poll_locked(lock);
        status = code ? "stopped" : "started";
    }
    // Python prints pid= while a Popen object exists: started here, not closed.
    if (state_->kind == role::child && state_->started && !is_current && !state_->closed) {
        out << " pid=" << state_->pid;
    }
    if (state_->kind == role::child) {
        out << " parent=" << state_->parent_pid;
    } else {
        out << " parent=None";
    }
    out << ' ' << status;
    if (code) {
        out << " exitcode=" << detail::exitcode_name(*code);
    }
    if (state_->daemon) {
        out << " daemon";
    }
    out << '>';
    return out.str();
}

}  // namespace multiprocessing

#endif  // MULTIPROCESSING_PROCESS_HPP
