// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// The shared memory behind a Manager: one named POSIX segment holding a root
// page, then a heap (detail/manager_heap.hpp) where the managed objects
// live. Every process that has a proxy maps the segment (by
// inheritance or by name) and works on the objects directly; offsets, not
// pointers, link them, since the segment may sit at another address in each
// process.
//
// Crash safety: the heap and every object are guarded by POSIX robust
// mutexes. A process killed while holding one never blocks the others: the
// next locker gets EOWNERDEAD, repairs what the dead holder may have left
// half done, and goes on. Objects are changed so that one 8-byte store
// commits each change (see managers.hpp), and so does every allocator call
// (manager_heap.hpp): a death anywhere leaves nothing to repair in the heap.
#ifndef MULTIPROCESSING_DETAIL_MANAGER_SEGMENT_HPP
#define MULTIPROCESSING_DETAIL_MANAGER_SEGMENT_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/detail/manager_heap.hpp>
#include <multiprocessing/detail/posix.hpp>
#include <multiprocessing/detail/robust_mutex.hpp>
#include <multiprocessing/detail/shm_tracker.hpp>
#include <multiprocessing/exceptions.hpp>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <pthread.h>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace multiprocessing::detail::manager {

inline constexpr std::uint64_t segment_magic = 0x6d702d6d616e6167ULL;  // "mp-manag"
inline constexpr std::uint32_t segment_version = 4;
inline constexpr std::size_t root_bytes = 4096;  // the heap starts on the next page
inline constexpr std::size_t min_capacity = std::size_t{1} << 16;

/// getpid(), cached (glibc makes it a system call each time) and re-read
/// after fork.
inline pid_t this_pid() noexcept {
    static std::atomic<pid_t> pid{0};
    static const bool registered = [] {
        ::pthread_atfork(nullptr, nullptr, [] { pid.store(0, std::memory_order_relaxed); });
        return true;
    }();
    (void)registered;
    pid_t p = pid.load(std::memory_order_relaxed);
    if (p == 0) {
        p = ::getpid();
        pid.store(p, std::memory_order_relaxed);
    }
    return p;
}

/// The segment's first page.
struct root_page {
    std::uint64_t magic;
    std::uint32_t version;
    std::uint32_t reserved;
    std::uint64_t size;  // of the whole mapping
    std::int32_t creator;
    std::atomic<std::uint32_t> shut_down{0};
    std::atomic<std::int32_t> heap_holder{0};  // pid holding heap_mutex
    alignas(64) pthread_mutex_t heap_mutex;
    heap_state heap;
};
static_assert(sizeof(root_page) <= root_bytes);

/// The header every managed object starts with.
struct object_header {
    std::uint32_t kind;
    std::uint32_t reserved;
    std::uint64_t type_tag;               // of the element types, 0 if none
    std::atomic<std::int32_t> holder{0};  // pid holding `mutex`
    std::uint64_t extra;                  // per kind (a Barrier's time-out, ...)
    std::atomic<std::int64_t> refs{0};    // proxies (and sent proxies) referring to it
    alignas(64) pthread_mutex_t mutex;
};
inline constexpr std::size_t object_header_bytes = (sizeof(object_header) + 63) / 64 * 64;

/// One process's mapping of a manager segment. Shared by every proxy of
/// that manager in the process; unmapped when the last one goes.
class segment {
public:
    segment(const segment&) = delete;
    segment& operator=(const segment&) = delete;
    ~segment() {
        if (base_ != nullptr) {
            ::munmap(base_, size_);
        }
    }

    /// Makes a new segment of `capacity` bytes, reserved in /dev/shm at once
    /// (so a full /dev/shm fails here, not with SIGBUS later). Mode 0600.
    static std::shared_ptr<segment> create(std::size_t capacity) {
        if (capacity < min_capacity) {
            throw std::invalid_argument("Manager: capacity must be at least " +
                                        std::to_string(min_capacity) + " bytes, got " +
                                        std::to_string(capacity));
        }
        const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
        capacity = (capacity + page - 1) / page * page;
        std::string name;
        int fd = -1;
        for (int attempt = 0; fd < 0; ++attempt) {
            name = new_name();
            fd = ::shm_open(("/" + name).c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
            if (fd < 0 && (errno != EEXIST || attempt > 100)) {
                throw_errno("Manager: shm_open '" + name + "'");
            }
        }
        shm_track(name);
        auto fail = [&](const std::string& what, int err) {
            ::close(fd);
            ::shm_unlink(("/" + name).c_str());
            shm_untrack(name);
            throw_errno(what, err);
        };
        if (int r = ::posix_fallocate(fd, 0, static_cast<off_t>(capacity)); r != 0) {
            fail("Manager: cannot reserve " + std::to_string(capacity) +
                     " bytes of shared memory for '" + name +
                     "' (ManagerOptions::capacity; is /dev/shm full?)",
                 r);
        }
        void* p = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            fail("Manager: mmap '" + name + "'", errno);
        }
        ::close(fd);
        std::shared_ptr<segment> s(new segment(name, static_cast<char*>(p), capacity));
        auto* r = new (s->base_) root_page{};
        r->magic = segment_magic;
        r->version = segment_version;
        r->size = capacity;
        r->creator = ::getpid();
        init_robust_mutex(&r->heap_mutex, "Manager");
        heap::create(r->heap, root_bytes, capacity);
        remember(s);
        return s;
    }

    /// The segment called `name`, mapped in this process (once). Throws
    /// std::system_error(EPIPE) when the manager has shut down: its name is
    /// gone, or it is marked so.
    static std::shared_ptr<segment> attach(const std::string& name, std::string_view who_) {
        const std::string who(who_);
        {
            std::lock_guard<std::mutex> g(cache_mutex());
            auto it = cache().find(name);
            if (it != cache().end()) {
                if (auto s = it->second.lock()) {
                    s->check_usable(who);
                    return s;
                }
            }
        }
        const int fd = ::shm_open(("/" + name).c_str(), O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0) {
            if (errno == ENOENT) {
                throw shut_down_error(name, who);
            }
            throw_errno(who + ": shm_open '" + name + "'");
        }
        struct stat st {};
        if (::fstat(fd, &st) != 0) {
            const int err = errno;
            ::close(fd);
            throw_errno(who + ": fstat '" + name + "'", err);
        }
        const auto size = static_cast<std::size_t>(st.st_size);
        if (size < min_capacity) {
            ::close(fd);
            throw std::invalid_argument(who + ": '" + name + "' is not a manager segment");
        }
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        const int err = errno;
        ::close(fd);
        if (p == MAP_FAILED) {
            throw_errno(who + ": mmap '" + name + "'", err);
        }
        std::shared_ptr<segment> s(new segment(name, static_cast<char*>(p), size));
        const root_page& r = s->root();
        if (r.magic != segment_magic || r.version != segment_version || r.size != size) {
            throw std::invalid_argument(who + ": '" + name + "' is not a manager segment");
        }
        s->check_usable(who);
        remember(s);
        return s;
    }

    const std::string& name() const noexcept { return name_; }
    std::size_t size() const noexcept { return size_; }
    root_page& root() const noexcept { return *reinterpret_cast<root_page*>(base_); }

    /// Offsets are what objects store and proxies send: 0 means none.
    std::uint64_t offset_of(const void* p) const noexcept {
        return static_cast<std::uint64_t>(static_cast<const char*>(p) - base_);
    }
    template <class T>
    T* at(std::uint64_t off) const noexcept {
        return reinterpret_cast<T*>(base_ + off);
    }
    /// Whether [off, off + bytes) lies in the heap (for offsets read from outside).
    bool holds(std::uint64_t off, std::size_t bytes) const noexcept {
        return off >= root_bytes && off <= size_ && bytes <= size_ - off;
    }

    /// Throws if the manager was shut down or its heap is damaged.
    bool usable() const noexcept { return root().shut_down.load(std::memory_order_acquire) == 0; }
    void check_usable(std::string_view who) const {
        if (!usable()) {
            throw shut_down_error(name_, who);
        }
    }

    /// `bytes` from the heap, `align`-aligned. Throws std::system_error
    /// (ENOMEM) naming the capacity when the segment is full.
    void* allocate(std::size_t bytes, std::string_view who, std::size_t align = 8) {
        heap_lock g(*this, who);
        heap h(base_, root().heap);
        void* p = h.allocate(bytes, align);
        if (p == nullptr) {
            throw std::system_error(
                ENOMEM, std::generic_category(),
                std::string(who) + ": the Manager's shared memory is full (" +
                    std::to_string(size_) + " bytes; " + std::to_string(h.free_memory()) +
                    " free, " + std::to_string(bytes) +
                    " asked for); make it larger with ManagerOptions::capacity");
        }
        return p;
    }

    /// Gives back what allocate() returned. Throws ProcessError for a
    /// pointer that is not a block of this heap (a corrupted offset).
    void deallocate(void* p, std::string_view who) {
        if (p != nullptr) {
            heap_lock g(*this, who);
            if (!heap(base_, root().heap).deallocate(p)) {
                throw ProcessError(std::string(who) +
                                   ": freeing memory that is not a block of "
                                   "the Manager's heap (" +
                                   name_ + ")");
            }
        }
    }
    void deallocate_at(std::uint64_t off, std::string_view who) {
        if (off != 0) {
            deallocate(base_ + off, who);
        }
    }

    /// Bytes free in the heap.
    std::size_t free_memory() {
        heap_lock g(*this, "Manager");
        return static_cast<std::size_t>(heap(base_, root().heap).free_memory());
    }

    /// Marks the manager shut down and removes its name (creator only).
    void shut_down() noexcept {
        root().shut_down.store(1, std::memory_order_release);
        ::shm_unlink(("/" + name_).c_str());
        shm_untrack(name_);
    }

    static std::system_error shut_down_error(const std::string& name, std::string_view who) {
        return std::system_error(EPIPE, std::generic_category(),
                                 std::string(who) + ": the Manager (" + name +
                                     ") has been shut down; its objects are gone");
    }

private:
    segment(std::string name, char* base, std::size_t size)
        : name_(std::move(name)), base_(base), size_(size) {}

    /// Holds the heap's robust mutex. A dead holder left nothing to repair
    /// (every heap change is one store): the mutex is only made consistent.
    class heap_lock {
    public:
        heap_lock(segment& s, std::string_view who) : s_(s) {
            root_page& r = s.root();
            s.check_usable(who);
            const int rc = ::pthread_mutex_lock(&r.heap_mutex);
            if (rc == EOWNERDEAD) {
                ::pthread_mutex_consistent(&r.heap_mutex);
            } else if (rc != 0) {
                throw_errno(std::string(who) + ": pthread_mutex_lock", rc);
            }
            r.heap_holder.store(this_pid(), std::memory_order_relaxed);
        }
        ~heap_lock() {
            s_.root().heap_holder.store(0, std::memory_order_relaxed);
            ::pthread_mutex_unlock(&s_.root().heap_mutex);
        }
        heap_lock(const heap_lock&) = delete;
        heap_lock& operator=(const heap_lock&) = delete;

    private:
        segment& s_;
    };

    static std::string new_name() {
        static std::atomic<unsigned> counter{0};
        std::random_device rd;
        char buf[64];
        std::snprintf(buf, sizeof buf, "mp-manager-%d-%u-%08x", static_cast<int>(::getpid()),
                      counter.fetch_add(1), rd());
        return buf;
    }

    // The mappings of this process, by name. A fork child inherits them
    // (the mappings are inherited too); the mutex is re-made in the child.
    static std::mutex& cache_mutex() {
        static std::mutex* m = [] {
            ::pthread_atfork(nullptr, nullptr, [] { new (&cache_mutex()) std::mutex(); });
            return new std::mutex();
        }();
        return *m;
    }
    static std::map<std::string, std::weak_ptr<segment>>& cache() {
        static auto* c = new std::map<std::string, std::weak_ptr<segment>>();
        return *c;
    }
    static void remember(const std::shared_ptr<segment>& s) {
        std::lock_guard<std::mutex> g(cache_mutex());
        for (auto it = cache().begin(); it != cache().end();) {
            it = it->second.expired() ? cache().erase(it) : std::next(it);
        }
        cache()[s->name_] = s;
    }

    std::string name_;
    char* base_ = nullptr;
    std::size_t size_ = 0;
};

/// Holds an object's robust mutex. If its holder died, `repair` runs first
/// (with the lock held), then the mutex is marked consistent.
class object_lock {
public:
    template <class Repair>
    object_lock(object_header& h, std::string_view who, Repair&& repair) : h_(h) {
        const int rc = ::pthread_mutex_lock(&h.mutex);
        if (rc == EOWNERDEAD) {
            try {
                repair();
            } catch (...) {
                ::pthread_mutex_consistent(&h.mutex);
                ::pthread_mutex_unlock(&h.mutex);
                throw;
            }
            ::pthread_mutex_consistent(&h.mutex);
        } else if (rc != 0) {
            throw_errno(std::string(who) + ": pthread_mutex_lock", rc);
        }
        h.holder.store(this_pid(), std::memory_order_relaxed);
    }
    object_lock(object_header& h, std::string_view who) : object_lock(h, who, [] {}) {}
    ~object_lock() {
        h_.holder.store(0, std::memory_order_relaxed);
        ::pthread_mutex_unlock(&h_.mutex);
    }
    object_lock(const object_lock&) = delete;
    object_lock& operator=(const object_lock&) = delete;

private:
    object_header& h_;
};

}  // namespace multiprocessing::detail::manager

#endif  // MULTIPROCESSING_DETAIL_MANAGER_SEGMENT_HPP
