// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// Mirrors CPython's multiprocessing/managers.py: Manager() / SyncManager and
// the proxies of its objects (dict, list, Value, Array, Namespace, Queue,
// JoinableQueue, Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event,
// Barrier).
//
//     auto manager = mp::Manager();                  // with Manager() as manager:
//     auto d = manager.dict<std::string, int>();     //     d = manager.dict()
//     auto q = manager.Queue<std::string>();         //     q = manager.Queue()
//     pool.apply(worker, d, q);                      //     pool.apply(worker, (d, q))
//
// Design. Python's manager is a server process; every proxy call is a round
// trip to it over a socket (~19,000 dict operations per second). Here the
// objects live in one shared-memory segment that the manager creates
// (detail/manager_segment.hpp), and a proxy works on its object directly
// under the object's robust lock: no server, no round trip (see README,
// "Manager: why shared memory"). A proxy is a small handle: copying it, giving
// it to a Process, or sending it (a Pool task, a Queue, a Pipe) gives another
// handle on the same object; a process that did not inherit the segment maps
// it by name when it receives the proxy.
//
// Crash safety: every change to a dict, list, Value, Array or Namespace is
// committed by one 8-byte store, after the new data is in place; a process
// killed at any instruction leaves the object as it was before or after the
// change (a dict's hash index is rebuilt by the next user), leaking at most
// the memory of the change. Queues and locks keep their own guarantees
// (queues.hpp, synchronize.hpp). The heap's allocator commits each call with
// one store too (detail/manager_heap.hpp).
#ifndef MULTIPROCESSING_MANAGERS_HPP
#define MULTIPROCESSING_MANAGERS_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/detail/manager_segment.hpp>
#include <multiprocessing/detail/posix.hpp>
#include <multiprocessing/detail/shm_ring.hpp>
#include <multiprocessing/detail/sync_core.hpp>
#include <multiprocessing/exceptions.hpp>
#include <multiprocessing/queues.hpp>
#include <multiprocessing/reduction.hpp>
#include <multiprocessing/synchronize.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace multiprocessing {

/// Python: KeyError (a missing dict key). A std::out_of_range, as Python's
/// KeyError is a LookupError like IndexError.
class KeyError : public std::out_of_range {
public:
    using std::out_of_range::out_of_range;
};

/// Python: AttributeError (a missing Namespace attribute).
class AttributeError : public std::out_of_range {
public:
    using std::out_of_range::out_of_range;
};

/// Settings of a manager (Python's have none: its server grows as needed).
struct ManagerOptions {
    /// Bytes of shared memory for all the manager's objects, reserved in
    /// /dev/shm when the manager starts. A manager Queue takes its ring's
    /// capacity (1 MiB by default) from it.
    std::size_t capacity = std::size_t{32} << 20;
};

namespace detail {

/// Builds the synchronize.hpp primitives over state in a manager's segment.
struct sync_access {
    using lock_state = lock_core;
    using sem_state = sem_core;
    using condition_state = Condition::shared_state;
    using event_state = Event::state;
    using barrier_state = Barrier::state;

    static Lock lock(std::shared_ptr<lock_core> c) { return Lock(std::move(c)); }
    static RLock rlock(std::shared_ptr<lock_core> c) { return RLock(std::move(c)); }
    static Semaphore semaphore(std::shared_ptr<sem_core> c) {
        return Semaphore(std::move(c), "Semaphore");
    }
    static BoundedSemaphore bounded_semaphore(std::shared_ptr<sem_core> c) {
        return BoundedSemaphore(std::move(c));
    }
    static Condition condition(std::shared_ptr<lock_core> lock,
                               std::shared_ptr<condition_state> state) {
        return Condition(std::move(lock), std::move(state));
    }
    static Event event(std::shared_ptr<event_state> s) { return Event(std::move(s)); }
    static Barrier barrier(std::shared_ptr<barrier_state> s,
                           std::optional<clock::duration> timeout) {
        Barrier b(std::move(s));
        b.timeout_ = timeout;
        return b;
    }
};

namespace manager {

/// What a segment object is; checked when a proxy arrives in a process.
enum class kind : std::uint32_t {
    dict = 0x6d640001,
    list,
    value,
    array,
    namespace_,
    queue,
    lock,
    rlock,
    semaphore,
    bounded_semaphore,
    condition,
    event,
    barrier,
};

inline const char* kind_name(kind k) noexcept {
    switch (k) {
        case kind::dict: return "dict";
        case kind::list: return "list";
        case kind::value: return "Value";
        case kind::array: return "Array";
        case kind::namespace_: return "Namespace";
        case kind::queue: return "Queue";
        case kind::lock: return "Lock";
        case kind::rlock: return "RLock";
        case kind::semaphore: return "Semaphore";
        case kind::bounded_semaphore: return "BoundedSemaphore";
        case kind::condition: return "Condition";
        case kind::event: return "Event";
        case kind::barrier: return "Barrier";
    }
    return "object";
}

/// The manager as its creating process sees it: shuts the manager down when
/// the last SyncManager handle and proxy made there goes (Python: the
/// manager's finalizer), never in another process.
struct manager_state {
    std::shared_ptr<segment> seg;
    pid_t creator = ::getpid();
    bool owner = true;
    std::atomic<bool> shut{false};

    void shutdown() noexcept {
        if (seg && owner && ::getpid() == creator && !shut.exchange(true)) {
            seg->shut_down();
        }
    }
    ~manager_state() { shutdown(); }
};

// ------------------------------------------------------------------ bytes

/// An immutable byte string in the heap: its length, then the bytes.
struct blob {
    std::uint64_t size;
    const char* bytes() const noexcept { return reinterpret_cast<const char*>(this + 1); }
    char* bytes() noexcept { return reinterpret_cast<char*>(this + 1); }
};

inline std::uint64_t make_blob(segment& s, std::string_view bytes, std::string_view who) {
    auto* b = static_cast<blob*>(s.allocate(sizeof(blob) + bytes.size(), who));
    b->size = bytes.size();
    if (!bytes.empty()) {
        std::memcpy(b->bytes(), bytes.data(), bytes.size());
    }
    return s.offset_of(b);
}

inline std::string_view blob_view(const segment& s, std::uint64_t off) noexcept {
    const blob* b = s.at<blob>(off);
    return std::string_view(b->bytes(), static_cast<std::size_t>(b->size));
}

/// A seeded 64-bit hash of a key's bytes (the same in every process).
inline std::uint64_t hash_bytes(std::string_view s) noexcept {
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ s.size();
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, s.data() + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    std::uint64_t w = 0;
    if (i < s.size()) {
        std::memcpy(&w, s.data() + i, s.size() - i);
    }
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 29);
}

/// A value serialized for the heap, in a buffer reused from call to call.
class encoded {
public:
    template <class T>
    explicit encoded(const T& value) {
        auto& spare = spares();
        if (!spare.empty()) {
            bytes_.swap(spare.back());
            spare.pop_back();
            bytes_.clear();
        }
        reduction::dumps_into(value, bytes_);
    }
    ~encoded() {
        try {
            auto& spare = spares();
            if (spare.size() < 4) {
                spare.push_back(std::move(bytes_));
            }
        } catch (...) {
        }
    }
    encoded(const encoded&) = delete;
    encoded& operator=(const encoded&) = delete;
    std::string_view view() const noexcept { return bytes_; }

private:
    static std::vector<std::string>& spares() {
        thread_local std::vector<std::string> v;
        return v;
    }
    std::string bytes_;
};

/// Allocates an object of `bytes` bytes starting with an object_header.
inline std::uint64_t make_object(segment& s, kind k, std::uint64_t tag, std::size_t bytes,
                                 std::string_view who) {
    void* p = s.allocate(bytes, who, 64);
    std::memset(p, 0, bytes);
    auto* h = new (p) object_header{};
    h->refs.store(1);  // the factory's proxy
    h->kind = static_cast<std::uint32_t>(k);
    h->type_tag = tag;
    try {
        init_robust_mutex(&h->mutex, "Manager");
    } catch (...) {
        s.deallocate(p, who);
        throw;
    }
    return s.offset_of(p);
}

// ------------------------------------------------------------------ dict

struct dict_entry {
    std::atomic<std::uint64_t> key;    // blob offset; 0: deleted
    std::atomic<std::uint64_t> value;  // blob offset
    std::uint64_t hash;
};

/// Entries in insertion order (as Python's dict keeps them), then an open
/// addressing index of entry numbers + 1 (0: empty slot). Only the entries
/// are the truth; the index and `live` are rebuilt after a crash.
struct dict_table {
    std::uint64_t capacity;
    std::uint64_t index_mask;
    std::atomic<std::uint64_t> used;  // entries written (deleted ones included)
    std::uint64_t live;
    dict_entry* entries() noexcept { return reinterpret_cast<dict_entry*>(this + 1); }
    std::atomic<std::uint64_t>* index() noexcept {
        return reinterpret_cast<std::atomic<std::uint64_t>*>(entries() + capacity);
    }
    static std::size_t bytes(std::uint64_t capacity, std::uint64_t index_size) {
        return sizeof(dict_table) + capacity * sizeof(dict_entry) + index_size * 8;
    }
};

struct dict_object {
    object_header h;
    std::atomic<std::uint64_t> table;
};

/// The dict algorithms, on encoded keys and values, under the object's lock.
class dict_core {
public:
    static constexpr std::uint64_t npos = ~std::uint64_t{0};

    dict_core(segment& s, dict_object& o, std::string_view who) : s_(s), o_(o), who_(who) {}

    static std::uint64_t create(segment& s, kind k, std::uint64_t tag, std::string_view who) {
        const std::uint64_t off =
            make_object(s, k, tag, object_header_bytes + sizeof(dict_object), who);
        auto* o = s.at<dict_object>(off);
        try {
            o->table.store(dict_core(s, *o, who).new_table(8));
        } catch (...) {
            s.deallocate_at(off, who);
            throw;
        }
        return off;
    }

    dict_table& table() const noexcept {
        return *s_.at<dict_table>(o_.table.load(std::memory_order_acquire));
    }

    /// After a holder died: rebuild the index and the count from the entries.
    void repair() noexcept {
        dict_table& t = table();
        auto* idx = t.index();
        for (std::uint64_t i = 0; i <= t.index_mask; ++i) {
            idx[i].store(0, std::memory_order_relaxed);
        }
        std::uint64_t live = 0;
        const std::uint64_t used = std::min(t.used.load(), t.capacity);
        for (std::uint64_t i = 0; i < used; ++i) {
            if (t.entries()[i].key.load() != 0) {
                index_insert(t, i);
                ++live;
            }
        }
        t.live = live;
    }

    std::uint64_t size() const noexcept { return table().live; }

    std::uint64_t find(std::string_view key, std::uint64_t hash) const noexcept {
        dict_table& t = table();
        auto* idx = t.index();
        for (std::uint64_t i = hash & t.index_mask;; i = (i + 1) & t.index_mask) {
            const std::uint64_t slot = idx[i].load(std::memory_order_relaxed);
            if (slot == 0) {
                return npos;
            }
            dict_entry& e = t.entries()[slot - 1];
            const std::uint64_t k = e.key.load(std::memory_order_relaxed);
            if (k != 0 && e.hash == hash && blob_view(s_, k) == key) {
                return slot - 1;
            }
        }
    }

    std::string_view key_at(std::uint64_t i) const noexcept {
        return blob_view(s_, table().entries()[i].key.load());
    }
    std::string_view value_at(std::uint64_t i) const noexcept {
        return blob_view(s_, table().entries()[i].value.load());
    }

    /// d[key] = value: replaces in place or appends a new entry.
    void set(std::string_view key, std::uint64_t hash, std::string_view value) {
        const std::uint64_t i = find(key, hash);
        if (i != npos) {
            replace_value(i, value);
            return;
        }
        const std::uint64_t v = make_blob(s_, value, who_);
        std::uint64_t k = 0;
        try {
            k = make_blob(s_, key, who_);
            append(k, v, hash);
        } catch (...) {
            s_.deallocate_at(k, who_);
            s_.deallocate_at(v, who_);
            throw;
        }
    }

    void replace_value(std::uint64_t i, std::string_view value) {
        const std::uint64_t v = make_blob(s_, value, who_);
        dict_entry& e = table().entries()[i];
        const std::uint64_t old = e.value.exchange(v);  // the commit
        s_.deallocate_at(old, who_);
    }

    /// del d[key] for the entry at i.
    void erase_at(std::uint64_t i) {
        dict_table& t = table();
        dict_entry& e = t.entries()[i];
        const std::uint64_t k = e.key.exchange(0);  // the commit
        const std::uint64_t v = e.value.load();
        --t.live;
        s_.deallocate_at(k, who_);
        s_.deallocate_at(v, who_);
    }

    /// The last live entry (popitem's LIFO order), npos if none.
    std::uint64_t last() const noexcept {
        dict_table& t = table();
        for (std::uint64_t i = t.used.load(); i > 0; --i) {
            if (t.entries()[i - 1].key.load() != 0) {
                return i - 1;
            }
        }
        return npos;
    }

    /// Calls f(key bytes, value bytes) for each entry in insertion order.
    template <class F>
    void for_each(F&& f) const {
        dict_table& t = table();
        const std::uint64_t used = t.used.load();
        for (std::uint64_t i = 0; i < used; ++i) {
            dict_entry& e = t.entries()[i];
            const std::uint64_t k = e.key.load();
            if (k != 0) {
                f(blob_view(s_, k), blob_view(s_, e.value.load()));
            }
        }
    }

    /// Frees the entries and the table (the object is going away).
    void destroy() { free_table(o_.table.load(), true); }

    void clear() {
        const std::uint64_t fresh = new_table(8);
        const std::uint64_t old = o_.table.exchange(fresh);  // the commit
        free_table(old, true);
    }

private:
    std::uint64_t new_table(std::uint64_t capacity) {
        std::uint64_t index_size = 16;
        while (index_size < capacity * 2) {
            index_size *= 2;
        }
        void* p = s_.allocate(dict_table::bytes(capacity, index_size), who_);
        std::memset(p, 0, dict_table::bytes(capacity, index_size));
        auto* t = new (p) dict_table{};
        t->capacity = capacity;
        t->index_mask = index_size - 1;
        return s_.offset_of(t);
    }

    void free_table(std::uint64_t off, bool with_blobs) {
        auto* t = s_.at<dict_table>(off);
        if (with_blobs) {
            const std::uint64_t used = std::min(t->used.load(), t->capacity);
            for (std::uint64_t i = 0; i < used; ++i) {
                const std::uint64_t k = t->entries()[i].key.load();
                if (k != 0) {
                    s_.deallocate_at(k, who_);
                    s_.deallocate_at(t->entries()[i].value.load(), who_);
                }
            }
        }
        s_.deallocate_at(off, who_);
    }

    static void index_insert(dict_table& t, std::uint64_t entry) noexcept {
        auto* idx = t.index();
        for (std::uint64_t i = t.entries()[entry].hash & t.index_mask;;
             i = (i + 1) & t.index_mask) {
            if (idx[i].load(std::memory_order_relaxed) == 0) {
                idx[i].store(entry + 1, std::memory_order_relaxed);
                return;
            }
        }
    }

    void append(std::uint64_t k, std::uint64_t v, std::uint64_t hash) {
        dict_table* t = &table();
        if (t->used.load() == t->capacity) {
            grow();
            t = &table();
        }
        const std::uint64_t n = t->used.load();
        dict_entry& e = t->entries()[n];
        e.key.store(k, std::memory_order_relaxed);
        e.value.store(v, std::memory_order_relaxed);
        e.hash = hash;
        t->used.store(n + 1, std::memory_order_release);  // the commit
        index_insert(*t, n);
        ++t->live;
    }

    /// A new table holding the live entries (deleted ones dropped), with room.
    void grow() {
        dict_table& old = table();
        const std::uint64_t capacity = std::max<std::uint64_t>(8, old.live * 2 + 2);
        const std::uint64_t fresh_off = new_table(capacity);
        dict_table& fresh = *s_.at<dict_table>(fresh_off);
        std::uint64_t n = 0;
        const std::uint64_t used = old.used.load();
        for (std::uint64_t i = 0; i < used; ++i) {
            dict_entry& e = old.entries()[i];
            const std::uint64_t k = e.key.load();
            if (k != 0) {
                dict_entry& f = fresh.entries()[n];
                f.key.store(k, std::memory_order_relaxed);
                f.value.store(e.value.load(), std::memory_order_relaxed);
                f.hash = e.hash;
                index_insert(fresh, n);
                ++n;
            }
        }
        fresh.used.store(n);
        fresh.live = n;
        const std::uint64_t old_off = o_.table.exchange(fresh_off);  // the commit
        free_table(old_off, false);
    }

    segment& s_;
    dict_object& o_;
    std::string_view who_;
};

// ------------------------------------------------------------------ list

/// Item blobs in order. Appends write past `size` and then bump it; every
/// other structural change builds a new table and swaps it in.
struct list_table {
    std::uint64_t capacity;
    std::atomic<std::uint64_t> size;
    std::atomic<std::uint64_t>* items() noexcept {
        return reinterpret_cast<std::atomic<std::uint64_t>*>(this + 1);
    }
};

struct list_object {
    object_header h;
    std::atomic<std::uint64_t> table;
};

class list_core {
public:
    list_core(segment& s, list_object& o, std::string_view who) : s_(s), o_(o), who_(who) {}

    static std::uint64_t create(segment& s, kind k, std::uint64_t tag,
                                const std::vector<std::string>& items, std::string_view who) {
        const std::uint64_t off =
            make_object(s, k, tag, object_header_bytes + sizeof(list_object), who);
        auto* o = s.at<list_object>(off);
        try {
            list_core c(s, *o, who);
            o->table.store(c.new_table(std::max<std::uint64_t>(4, items.size())));
            std::vector<std::string_view> views(items.begin(), items.end());
            c.extend(views);
        } catch (...) {
            s.deallocate_at(off, who);
            throw;
        }
        return off;
    }

    list_table& table() const noexcept {
        return *s_.at<list_table>(o_.table.load(std::memory_order_acquire));
    }
    std::uint64_t size() const noexcept { return table().size.load(); }
    std::string_view at(std::uint64_t i) const noexcept {
        return blob_view(s_, table().items()[i].load());
    }

    void set(std::uint64_t i, std::string_view value) {
        const std::uint64_t b = make_blob(s_, value, who_);
        const std::uint64_t old = table().items()[i].exchange(b);  // the commit
        s_.deallocate_at(old, who_);
    }

    /// Appends all of `values` at once (one commit).
    void extend(const std::vector<std::string_view>& values) {
        std::vector<std::uint64_t> blobs;
        blobs.reserve(values.size());
        try {
            for (auto v : values) {
                blobs.push_back(make_blob(s_, v, who_));
            }
            list_table& t = table();
            const std::uint64_t n = t.size.load();
            if (n + blobs.size() <= t.capacity) {
                for (std::size_t i = 0; i < blobs.size(); ++i) {
                    t.items()[n + i].store(blobs[i], std::memory_order_relaxed);
                }
                t.size.store(n + blobs.size(), std::memory_order_release);  // the commit
                return;
            }
            std::vector<std::uint64_t> all = items();
            all.insert(all.end(), blobs.begin(), blobs.end());
            replace_all(all);
        } catch (...) {
            for (auto b : blobs) {
                s_.deallocate_at(b, who_);
            }
            throw;
        }
    }

    void insert(std::uint64_t i, std::string_view value) {
        const std::uint64_t b = make_blob(s_, value, who_);
        try {
            std::vector<std::uint64_t> all = items();
            all.insert(all.begin() + static_cast<std::ptrdiff_t>(i), b);
            replace_all(all);
        } catch (...) {
            s_.deallocate_at(b, who_);
            throw;
        }
    }

    /// Removes item i; its bytes are given to `take` before they are freed.
    template <class Take>
    void pop(std::uint64_t i, Take&& take) {
        list_table& t = table();
        const std::uint64_t n = t.size.load();
        const std::uint64_t b = t.items()[i].load();
        take(blob_view(s_, b));
        if (i + 1 == n) {
            t.size.store(n - 1, std::memory_order_release);  // the commit
        } else {
            std::vector<std::uint64_t> all = items();
            all.erase(all.begin() + static_cast<std::ptrdiff_t>(i));
            replace_all(all);
        }
        s_.deallocate_at(b, who_);
    }

    /// The item offsets, in order.
    std::vector<std::uint64_t> items() const {
        list_table& t = table();
        const std::uint64_t n = t.size.load();
        std::vector<std::uint64_t> v(static_cast<std::size_t>(n));
        for (std::uint64_t i = 0; i < n; ++i) {
            v[static_cast<std::size_t>(i)] = t.items()[i].load();
        }
        return v;
    }

    /// Makes `all` (offsets of live blobs) the list's items, in one commit.
    /// Blobs of the old list not in `all` are the caller's to free.
    void replace_all(const std::vector<std::uint64_t>& all) {
        const std::uint64_t fresh_off = new_table(std::max<std::uint64_t>(4, all.size() * 2));
        list_table& fresh = *s_.at<list_table>(fresh_off);
        for (std::size_t i = 0; i < all.size(); ++i) {
            fresh.items()[i].store(all[i], std::memory_order_relaxed);
        }
        fresh.size.store(all.size());
        const std::uint64_t old = o_.table.exchange(fresh_off);  // the commit
        s_.deallocate_at(old, who_);
    }

    /// Frees the items and the table (the object is going away).
    void destroy() {
        for (auto b : items()) {
            s_.deallocate_at(b, who_);
        }
        s_.deallocate_at(o_.table.load(), who_);
    }

    void clear() {
        const std::vector<std::uint64_t> old_items = items();
        replace_all({});
        for (auto b : old_items) {
            s_.deallocate_at(b, who_);
        }
    }

private:
    std::uint64_t new_table(std::uint64_t capacity) {
        const std::size_t bytes = sizeof(list_table) + capacity * 8;
        void* p = s_.allocate(bytes, who_);
        std::memset(p, 0, bytes);
        auto* t = new (p) list_table{};
        t->capacity = capacity;
        return s_.offset_of(t);
    }

    segment& s_;
    list_object& o_;
    std::string_view who_;
};

// ------------------------------------------------------------------ Value

struct value_object {
    object_header h;
    std::atomic<std::uint64_t> blob;
};

// ------------------------------------------------------------------ proxies

/// Python's index rules: -len <= i < len, else IndexError.
inline std::uint64_t normalize_index(std::int64_t i, std::uint64_t n, const char* what) {
    const auto len = static_cast<std::int64_t>(n);
    if (i < 0) {
        i += len;
    }
    if (i < 0 || i >= len) {
        throw std::out_of_range(std::string(what) + " index out of range");
    }
    return static_cast<std::uint64_t>(i);
}

/// The payload of a Condition: its lock's object offset, then its state.
struct condition_payload {
    std::uint64_t lock_off;
    sync_access::condition_state state;
};

/// Frees an object nobody refers to any more, with what it holds.
inline void destroy_object(segment& s, std::uint64_t off) noexcept;

/// Proxies stored inside a manager object (a dict of proxies, say) are
/// decoded each time they are read: such a decode takes a reference of its
/// own instead of adopting the one the stored bytes hold.
inline int& stored_load_depth() noexcept {
    thread_local int depth = 0;
    return depth;
}

/// reduction::loads of bytes stored in a manager object.
template <class T>
T load_stored(std::string_view bytes) {
    struct depth_guard {
        depth_guard() noexcept { ++stored_load_depth(); }
        ~depth_guard() { --stored_load_depth(); }
        depth_guard(const depth_guard&) = delete;
        depth_guard& operator=(const depth_guard&) = delete;
    } guard;
    return reduction::loads<T>(bytes);
}

/// One counted reference to a manager object (Python: a proxy's incref and
/// decref on the server). The last one frees the object. A proxy being sent
/// takes one for the bytes in flight; the receiver adopts it. References of
/// a killed process, and of bytes never received, are never given back: the
/// object then lives until the manager shuts down.
class counted {
public:
    counted() = default;
    /// Takes over a reference already counted (a new object's, or a sent one).
    static counted adopt(std::shared_ptr<segment> s, std::uint64_t off) noexcept {
        counted c;
        c.seg_ = std::move(s);
        c.off_ = off;
        return c;
    }
    /// A reference for a proxy just decoded.
    static counted received(std::shared_ptr<segment> s, std::uint64_t off) noexcept {
        if (stored_load_depth() > 0) {
            add(*s, off);
        }
        return adopt(std::move(s), off);
    }
    /// One more reference, for bytes being sent or stored.
    static void add(segment& s, std::uint64_t off) noexcept {
        s.at<object_header>(off)->refs.fetch_add(1, std::memory_order_relaxed);
    }

    counted(const counted& o) noexcept : seg_(o.seg_), off_(o.off_) {
        if (seg_) {
            add(*seg_, off_);
        }
    }
    counted(counted&& o) noexcept : seg_(std::move(o.seg_)), off_(o.off_) { o.off_ = 0; }
    counted& operator=(counted o) noexcept {
        std::swap(seg_, o.seg_);
        std::swap(off_, o.off_);
        return *this;
    }
    ~counted() {
        if (seg_ &&
            seg_->at<object_header>(off_)->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            destroy_object(*seg_, off_);
        }
    }

private:
    std::shared_ptr<segment> seg_;
    std::uint64_t off_ = 0;
};

inline void destroy_object(segment& s, std::uint64_t off) noexcept {
    if (!s.usable()) {
        return;  // shut down: the whole segment goes
    }
    try {
        auto& h = *s.at<object_header>(off);
        switch (static_cast<kind>(h.kind)) {
            case kind::dict:
            case kind::namespace_:
                dict_core(s, *s.at<dict_object>(off), "Manager").destroy();
                break;
            case kind::list:
            case kind::array: list_core(s, *s.at<list_object>(off), "Manager").destroy(); break;
            case kind::value:
                s.deallocate_at(s.at<value_object>(off)->blob.load(), "Manager");
                break;
            case kind::condition: {
                const std::uint64_t lock =
                    s.at<condition_payload>(off + object_header_bytes)->lock_off;
                if (s.at<object_header>(lock)->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                    destroy_object(s, lock);
                }
                break;
            }
            default: break;
        }
        h.kind = 0;  // a stale proxy sent later is refused, not misread
        s.deallocate_at(off, "Manager");
    } catch (...) {
        // A corrupt offset: leave the memory to the manager's shutdown.
    }
}

/// How a proxy travels: its segment's name and its object's offset. Sending
/// counts a reference for the bytes in flight (the receiver adopts it).
template <class Archive>
void save_ref(Archive& ar, segment& s, std::uint64_t off) {
    std::string name = s.name();
    ar(name, off);
    counted::add(s, off);
}

/// Reads what save_ref wrote and checks that it names a `k` object of
/// element types `tag`, at least `bytes` long. Throws UnpicklingError if not.
template <class Archive>
std::pair<std::shared_ptr<segment>, std::uint64_t> load_ref(Archive& ar, kind k, std::uint64_t tag,
                                                            std::size_t bytes) {
    std::string name;
    std::uint64_t off = 0;
    ar(name, off);
    const std::string who = std::string(kind_name(k)) + " proxy";
    auto s = segment::attach(name, who);
    if (!s->holds(off, bytes) || (off % 64) != 0) {
        throw UnpicklingError(who + ": object offset out of the manager's segment");
    }
    const auto& h = *s->at<object_header>(off);
    if (h.kind != static_cast<std::uint32_t>(k) || h.type_tag != tag) {
        throw UnpicklingError(who + ": the object received is not a " + kind_name(k) +
                              " of these types");
    }
    return {std::move(s), off};
}

/// What every proxy holds: the segment, the object's offset and, in the
/// process that made the manager, the manager itself (so a proxy keeps its
/// manager running, as in Python).
class proxy_base {
public:
    /// Python: the proxy's manager address / token: the segment's name.
    std::string address() const { return seg_ ? seg_->name() : std::string(); }

    /// Two proxies are equal when they refer to the same object.
    friend bool operator==(const proxy_base& a, const proxy_base& b) noexcept {
        return a.seg_ == b.seg_ && a.off_ == b.off_;
    }
    friend bool operator!=(const proxy_base& a, const proxy_base& b) noexcept { return !(a == b); }

protected:
    proxy_base() = default;
    proxy_base(std::shared_ptr<manager_state> owner, std::uint64_t off)
        : seg_(owner->seg), owner_(std::move(owner)), off_(off), ref_(counted::adopt(seg_, off)) {}

    /// Throws if the proxy is unbound, or its manager shut down.
    void check(std::string_view who) const {
        if (!seg_) {
            throw ProcessError(std::string(who) +
                               ": this proxy refers to no object (default-constructed)");
        }
        seg_->check_usable(who);
    }

    template <class Archive>
    void serialize_ref(Archive& ar, kind k, std::uint64_t tag) {
        if constexpr (Archive::is_saving::value) {
            if (!seg_) {
                throw ProcessError(std::string(kind_name(k)) +
                                   " proxy: cannot send an unbound proxy");
            }
            save_ref(ar, *seg_, off_);
        } else {
            auto [s, off] = load_ref(ar, k, tag, object_header_bytes);
            ref_ = counted::received(s, off);
            seg_ = std::move(s);
            owner_.reset();
            off_ = off;
        }
    }

    std::shared_ptr<segment> seg_;
    std::shared_ptr<manager_state> owner_;
    std::uint64_t off_ = 0;
    counted ref_;
};

template <class T>
std::uint64_t tag_of() {
    return reduction::type_tag<T>();
}

template <class K, class V>
std::uint64_t pair_tag() {
    return hash_bytes(std::to_string(tag_of<K>()) + "/" + std::to_string(tag_of<V>()));
}

}  // namespace manager
}  // namespace detail

namespace managers {

class SyncManager;

/// Python: DictProxy, what manager.dict() returns. A dict of K -> V shared
/// by every process holding a proxy; each call is atomic. Keys are compared
/// by their serialized bytes (equal values of a type must serialize alike,
/// as they do for every standard type; -0.0 and 0.0 are different keys).
/// Iteration order is insertion order, as in Python.
template <class K, class V>
class DictProxy : public detail::manager::proxy_base {
    using core = detail::manager::dict_core;
    using object = detail::manager::dict_object;

public:
    /// An unbound proxy (what deserialization starts from).
    DictProxy() = default;

    /// Python: len(d).
    std::size_t size() const {
        auto g = lock("dict.__len__");
        return static_cast<std::size_t>(c().size());
    }
    std::size_t len() const { return size(); }

    /// Python: key in d.
    bool contains(const K& key) const {
        detail::manager::encoded k(key);
        const auto h = detail::manager::hash_bytes(k.view());
        auto g = lock("dict.__contains__");
        return c().find(k.view(), h) != core::npos;
    }

    /// Python: d[key]. Throws mp::KeyError if absent.
    V at(const K& key) const {
        detail::manager::encoded k(key);
        const auto h = detail::manager::hash_bytes(k.view());
        auto g = lock("dict.__getitem__");
        const auto i = c().find(k.view(), h);
        if (i == core::npos) {
            throw KeyError("dict: key not found");
        }
        return detail::manager::load_stored<V>(c().value_at(i));
    }

    /// Python: d.get(key): std::nullopt for Python's None.
    std::optional<V> get(const K& key) const {
        detail::manager::encoded k(key);
        const auto h = detail::manager::hash_bytes(k.view());
        auto g = lock("dict.get");
        const auto i = c().find(k.view(), h);
        if (i == core::npos) {
            return std::nullopt;
        }
        return detail::manager::load_stored<V>(c().value_at(i));
    }

    /// Python: d.get(key, default).
    V get(const K& key, const V& default_value) const {
        auto v = get(key);
        return v ? std::move(*v) : default_value;
    }

    /// Python: d[key] = value.
    void set(const K& key, const V& value) {
        detail::manager::encoded k(key);
        detail::manager::encoded v(value);
        const auto h = detail::manager::hash_bytes(k.view());
        auto g = lock("dict.__setitem__");
        c().set(k.view(), h, v.view());
    }

    /// Python: d[key] as an lvalue: `d[k] = v` stores, reading it (V x =
    /// d[k]) throws mp::KeyError when absent. `d[k] += x` reads then writes:
    /// not atomic (as in Python); hold a manager Lock around it.
    class item {
    public:
        item& operator=(const V& value) {
            d_.set(key_, value);
            return *this;
        }
        operator V() const { return d_.at(key_); }
        V get() const { return d_.at(key_); }
        template <class X>
        item& operator+=(const X& x) {
            d_.set(key_, d_.at(key_) + x);
            return *this;
        }

    private:
        friend class DictProxy;
        item(DictProxy& d, K key) : d_(d), key_(std::move(key)) {}
        DictProxy& d_;
        K key_;
    };
    item operator[](K key) { return item(*this, std::move(key)); }
    V operator[](const K& key) const { return at(key); }

    /// Python: del d[key]. Throws mp::KeyError if absent.
    void erase(const K& key) {
        detail::manager::encoded k(key);
        const auto h = detail::manager::hash_bytes(k.view());
        auto g = lock("dict.__delitem__");
        const auto i = c().find(k.view(), h);
        if (i == core::npos) {
            throw KeyError("dict: key not found");
        }
        c().erase_at(i);
    }

    /// Python: d.pop(key). Throws mp::KeyError if absent.
    V pop(const K& key) {
        auto v = pop_impl(key);
        if (!v) {
            throw KeyError("dict.pop: key not found");
        }
        return std::move(*v);
    }
    /// Python: d.pop(key, default).
    V pop(const K& key, const V& default_value) {
        auto v = pop_impl(key);
        return v ? std::move(*v) : default_value;
    }

    /// Python: d.popitem(): the last inserted pair. Throws mp::KeyError
    /// ("popitem(): dictionary is empty") when empty.
    std::pair<K, V> popitem() {
        auto g = lock("dict.popitem");
        const auto i = c().last();
        if (i == core::npos) {
            throw KeyError("popitem(): dictionary is empty");
        }
        std::pair<K, V> out(detail::manager::load_stored<K>(c().key_at(i)),
                            detail::manager::load_stored<V>(c().value_at(i)));
        c().erase_at(i);
        return out;
    }

    /// Python: d.setdefault(key, default): d[key] if present, else stores
    /// and returns `default_value` (atomically).
    V setdefault(const K& key, const V& default_value) {
        detail::manager::encoded k(key);
        detail::manager::encoded v(default_value);
        const auto h = detail::manager::hash_bytes(k.view());
        auto g = lock("dict.setdefault");
        const auto i = c().find(k.view(), h);
        if (i != core::npos) {
            return detail::manager::load_stored<V>(c().value_at(i));
        }
        c().set(k.view(), h, v.view());
        return default_value;
    }

    /// Python: d.update(other). Each pair is stored in order, under one lock.
    template <class Pairs>
    void update(const Pairs& pairs) {
        std::vector<std::pair<std::string, std::string>> enc;
        for (const auto& [key, value] : pairs) {
            enc.emplace_back(reduction::dumps(K(key)), reduction::dumps(V(value)));
        }
        auto g = lock("dict.update");
        for (const auto& [k, v] : enc) {
            c().set(k, detail::manager::hash_bytes(k), v);
        }
    }
    void update(std::initializer_list<std::pair<K, V>> pairs) {
        update(std::vector<std::pair<K, V>>(pairs));
    }

    /// Python: d.clear().
    void clear() {
        auto g = lock("dict.clear");
        c().clear();
    }

    /// Python: list(d.keys()), list(d.values()), list(d.items()): a snapshot,
    /// in insertion order.
    std::vector<K> keys() const {
        std::vector<K> out;
        auto g = lock("dict.keys");
        c().for_each([&](std::string_view k, std::string_view) {
            out.push_back(detail::manager::load_stored<K>(k));
        });
        return out;
    }
    std::vector<V> values() const {
        std::vector<V> out;
        auto g = lock("dict.values");
        c().for_each([&](std::string_view, std::string_view v) {
            out.push_back(detail::manager::load_stored<V>(v));
        });
        return out;
    }
    std::vector<std::pair<K, V>> items() const {
        std::vector<std::pair<K, V>> out;
        auto g = lock("dict.items");
        c().for_each([&](std::string_view k, std::string_view v) {
            out.emplace_back(detail::manager::load_stored<K>(k),
                             detail::manager::load_stored<V>(v));
        });
        return out;
    }

    /// Python: d.copy() / dict(d): a snapshot as a std::map (any map type
    /// constructible from pairs may be asked for).
    template <class Map = std::map<K, V>>
    Map copy() const {
        const auto pairs = items();
        return Map(pairs.begin(), pairs.end());
    }

    /// Python: repr(proxy) (its type and manager; not the contents).
    std::string repr() const {
        return "<DictProxy object, typeid 'dict' at " + address() + "+" + std::to_string(off_) +
               ">";
    }

    /// Sending a proxy (a Pool task argument, a Queue, a Pipe): the other
    /// process maps the manager's segment and uses the same dict.
    template <class Archive>
    void serialize(Archive& ar) {
        serialize_ref(ar, detail::manager::kind::dict, detail::manager::pair_tag<K, V>());
    }

private:
    friend class SyncManager;
    DictProxy(std::shared_ptr<detail::manager::manager_state> owner, std::uint64_t off)
        : proxy_base(std::move(owner), off) {}

    object& obj() const noexcept { return *seg_->template at<object>(off_); }
    core c() const { return core(*seg_, obj(), "dict"); }
    detail::manager::object_lock lock(std::string_view who) const {
        check(who);
        return detail::manager::object_lock(obj().h, who, [this] { c().repair(); });
    }

    std::optional<V> pop_impl(const K& key) {
        detail::manager::encoded k(key);
        const auto h = detail::manager::hash_bytes(k.view());
        auto g = lock("dict.pop");
        const auto i = c().find(k.view(), h);
        if (i == core::npos) {
            return std::nullopt;
        }
        std::optional<V> out(detail::manager::load_stored<V>(c().value_at(i)));
        c().erase_at(i);
        return out;
    }
};

}  // namespace managers

namespace detail::manager {

/// What ListProxy and ArrayProxy share: a sequence of T in a list_object,
/// read and written item by item. Each call is atomic.
template <class T, kind K>
class sequence_proxy : public proxy_base {
    static constexpr bool is_list = K == kind::list;

public:
    /// Python: len(l).
    std::size_t size() const {
        auto g = lock(is_list ? "list.__len__" : "Array.__len__");
        return static_cast<std::size_t>(c().size());
    }
    std::size_t len() const { return size(); }

    /// Python: l[i] (negative i counts from the end). Throws
    /// std::out_of_range ("list index out of range", Python's IndexError).
    T get(std::int64_t i) const {
        auto g = lock(is_list ? "list.__getitem__" : "Array.__getitem__");
        return load_stored<T>(c().at(index(i)));
    }

    /// Python: l[i] = value.
    void set(std::int64_t i, const T& value) {
        encoded v(value);
        auto g = lock(is_list ? "list.__setitem__" : "Array.__setitem__");
        c().set(index(i), v.view());
    }

    /// l[i] as an lvalue: `l[i] = v` stores; reading it loads.
    class item {
    public:
        item& operator=(const T& value) {
            seq_.set(i_, value);
            return *this;
        }
        operator T() const { return seq_.get(i_); }
        T get() const { return seq_.get(i_); }

    private:
        friend class sequence_proxy;
        item(sequence_proxy& seq, std::int64_t i) : seq_(seq), i_(i) {}
        sequence_proxy& seq_;
        std::int64_t i_;
    };
    item operator[](std::int64_t i) { return item(*this, i); }
    T operator[](std::int64_t i) const { return get(i); }

    /// Python: list(l) / l[:]: a snapshot as a std::vector.
    std::vector<T> tolist() const {
        auto g = lock(is_list ? "list.__getitem__" : "Array.__getitem__");
        const auto n = c().size();
        std::vector<T> out;
        out.reserve(static_cast<std::size_t>(n));
        for (std::uint64_t i = 0; i < n; ++i) {
            out.push_back(load_stored<T>(c().at(i)));
        }
        return out;
    }

    /// Sending a proxy: the other process uses the same sequence.
    template <class Archive>
    void serialize(Archive& ar) {
        serialize_ref(ar, K, tag_of<T>());
    }

protected:
    sequence_proxy() = default;
    sequence_proxy(std::shared_ptr<manager_state> owner, std::uint64_t off)
        : proxy_base(std::move(owner), off) {}

    list_object& obj() const noexcept { return *seg_->at<list_object>(off_); }
    list_core c() const { return list_core(*seg_, obj(), is_list ? "list" : "Array"); }
    object_lock lock(std::string_view who) const {
        check(who);
        return object_lock(obj().h, who);
    }
    std::uint64_t index(std::int64_t i) const {
        return normalize_index(i, c().size(), is_list ? "list" : "array");
    }
};

}  // namespace detail::manager

namespace managers {

/// Python: ListProxy, what manager.list() returns. Each call is atomic.
/// Items are compared (index, count, remove) by their serialized bytes.
template <class T>
class ListProxy : public detail::manager::sequence_proxy<T, detail::manager::kind::list> {
    using base = detail::manager::sequence_proxy<T, detail::manager::kind::list>;
    using base::c;
    using base::lock;
    using base::off_;
    using base::seg_;

public:
    ListProxy() = default;

    /// Python: l.append(value).
    void append(const T& value) {
        detail::manager::encoded v(value);
        auto g = lock("list.append");
        c().extend({v.view()});
    }

    /// Python: l.extend(values) / l += values: all appear at once.
    template <class Range>
    void extend(const Range& values) {
        std::vector<std::string> enc;
        for (const auto& v : values) {
            enc.push_back(reduction::dumps(T(v)));
        }
        std::vector<std::string_view> views(enc.begin(), enc.end());
        auto g = lock("list.extend");
        c().extend(views);
    }
    void extend(std::initializer_list<T> values) { extend(std::vector<T>(values)); }
    template <class Range>
    ListProxy& operator+=(const Range& values) {
        extend(values);
        return *this;
    }

    /// Python: l.insert(i, value) (i clamped to [0, len], as Python does).
    void insert(std::int64_t i, const T& value) {
        detail::manager::encoded v(value);
        auto g = lock("list.insert");
        const auto n = static_cast<std::int64_t>(c().size());
        if (i < 0) {
            i = std::max<std::int64_t>(0, i + n);
        }
        i = std::min(i, n);
        c().insert(static_cast<std::uint64_t>(i), v.view());
    }

    /// Python: l.pop(i=-1). Throws std::out_of_range ("pop from empty list"
    /// / "pop index out of range").
    T pop(std::int64_t i = -1) {
        auto g = lock("list.pop");
        const auto n = c().size();
        if (n == 0) {
            throw std::out_of_range("pop from empty list");
        }
        const auto at = detail::manager::normalize_index(i, n, "pop");
        std::optional<T> out;
        c().pop(at, [&](std::string_view bytes) {
            out.emplace(detail::manager::load_stored<T>(bytes));
        });
        return std::move(*out);
    }

    /// Python: l.remove(value): the first equal item. Throws
    /// std::invalid_argument ("list.remove(x): x not in list").
    void remove(const T& value) {
        detail::manager::encoded v(value);
        auto g = lock("list.remove");
        const auto i = find(v.view(), 0);
        if (!i) {
            throw std::invalid_argument("list.remove(x): x not in list");
        }
        c().pop(*i, [](std::string_view) {});
    }

    /// Python: l.index(value, start=0). Throws std::invalid_argument when absent.
    std::size_t index_of(const T& value, std::size_t start = 0) const {
        detail::manager::encoded v(value);
        auto g = lock("list.index");
        const auto i = find(v.view(), start);
        if (!i) {
            throw std::invalid_argument("list.index(x): x not in list");
        }
        return static_cast<std::size_t>(*i);
    }

    /// Python: l.count(value).
    std::size_t count(const T& value) const {
        detail::manager::encoded v(value);
        auto g = lock("list.count");
        std::size_t n = 0;
        const auto size = c().size();
        for (std::uint64_t i = 0; i < size; ++i) {
            n += c().at(i) == v.view() ? std::size_t{1} : std::size_t{0};
        }
        return n;
    }

    /// Python: l.reverse().
    void reverse() {
        auto g = lock("list.reverse");
        auto all = c().items();
        std::reverse(all.begin(), all.end());
        c().replace_all(all);
    }

    /// Python: l.sort() (stable, by T's operator<), or with a comparison.
    template <class Less = std::less<T>>
    void sort(Less less = Less()) {
        auto g = lock("list.sort");
        const auto all = c().items();
        std::vector<std::pair<T, std::uint64_t>> decoded;
        decoded.reserve(all.size());
        for (auto b : all) {
            decoded.emplace_back(
                detail::manager::load_stored<T>(detail::manager::blob_view(*seg_, b)), b);
        }
        std::stable_sort(decoded.begin(), decoded.end(),
                         [&](const auto& a, const auto& b) { return less(a.first, b.first); });
        std::vector<std::uint64_t> order;
        order.reserve(decoded.size());
        for (const auto& d : decoded) {
            order.push_back(d.second);
        }
        c().replace_all(order);
    }

    /// Python: l.clear() / del l[:].
    void clear() {
        auto g = lock("list.clear");
        c().clear();
    }

    std::vector<T> copy() const { return this->tolist(); }

    /// Python: repr(proxy) (its type and manager; not the contents).
    std::string repr() const {
        return "<ListProxy object, typeid 'list' at " + this->address() + "+" +
               std::to_string(off_) + ">";
    }

private:
    friend class SyncManager;
    ListProxy(std::shared_ptr<detail::manager::manager_state> owner, std::uint64_t off)
        : base(std::move(owner), off) {}

    std::optional<std::uint64_t> find(std::string_view bytes, std::size_t start) const {
        const auto n = c().size();
        for (std::uint64_t i = start; i < n; ++i) {
            if (c().at(i) == bytes) {
                return i;
            }
        }
        return std::nullopt;
    }
};

/// Python: ArrayProxy, what manager.Array(typecode, sequence) returns: a
/// fixed-length sequence of T (len, a[i], a[i] = x, tolist). Each call is
/// atomic.
template <class T>
class ArrayProxy : public detail::manager::sequence_proxy<T, detail::manager::kind::array> {
    using base = detail::manager::sequence_proxy<T, detail::manager::kind::array>;

public:
    ArrayProxy() = default;

private:
    friend class SyncManager;
    ArrayProxy(std::shared_ptr<detail::manager::manager_state> owner, std::uint64_t off)
        : base(std::move(owner), off) {}
};

/// Python: ValueProxy, what manager.Value(typecode, value) returns: one
/// value of T with get()/set() and value()/set_value() (Python's .value).
/// Each call is atomic; `v.set(v.get() + 1)` is not (as in Python): use a
/// manager Lock around it.
template <class T>
class ValueProxy : public detail::manager::proxy_base {
    using object = detail::manager::value_object;

public:
    ValueProxy() = default;

    /// Python: v.get() / v.value.
    T get() const {
        auto g = lock("Value.get");
        return detail::manager::load_stored<T>(
            detail::manager::blob_view(*seg_, obj().blob.load()));
    }
    T value() const { return get(); }

    /// Python: v.set(x) / v.value = x.
    void set(const T& value) {
        detail::manager::encoded v(value);
        auto g = lock("Value.set");
        const auto b = detail::manager::make_blob(*seg_, v.view(), "Value.set");
        const auto old = obj().blob.exchange(b);  // the commit
        seg_->deallocate_at(old, "Value.set");
    }
    void set_value(const T& value) { set(value); }

    template <class Archive>
    void serialize(Archive& ar) {
        serialize_ref(ar, detail::manager::kind::value, detail::manager::tag_of<T>());
    }

private:
    friend class SyncManager;
    ValueProxy(std::shared_ptr<detail::manager::manager_state> owner, std::uint64_t off)
        : proxy_base(std::move(owner), off) {}
    object& obj() const noexcept { return *seg_->template at<object>(off_); }
    detail::manager::object_lock lock(std::string_view who) const {
        check(who);
        return detail::manager::object_lock(obj().h, who);
    }
};

/// Python: NamespaceProxy, what manager.Namespace() returns: named
/// attributes of any (serializable) types. `ns.x = 1` is ns.set("x", 1);
/// `ns.x` is ns.get<int>("x").
class NamespaceProxy : public detail::manager::proxy_base {
    using core = detail::manager::dict_core;
    using object = detail::manager::dict_object;

public:
    NamespaceProxy() = default;

    /// Python: setattr(ns, name, value).
    template <class T>
    void set(const std::string& name, const T& value) {
        detail::manager::encoded k(name);
        detail::manager::encoded v(value);
        const auto h = detail::manager::hash_bytes(k.view());
        auto g = lock("Namespace.__setattr__");
        c().set(k.view(), h, v.view());
    }

    /// Python: getattr(ns, name). Throws mp::AttributeError when there is
    /// no such attribute, mp::UnpicklingError when it holds another type.
    template <class T>
    T get(const std::string& name) const {
        detail::manager::encoded k(name);
        const auto h = detail::manager::hash_bytes(k.view());
        auto g = lock("Namespace.__getattr__");
        const auto i = c().find(k.view(), h);
        if (i == core::npos) {
            throw AttributeError("'Namespace' object has no attribute '" + name + "'");
        }
        return detail::manager::load_stored<T>(c().value_at(i));
    }

    /// Python: hasattr(ns, name).
    bool has(const std::string& name) const {
        detail::manager::encoded k(name);
        const auto h = detail::manager::hash_bytes(k.view());
        auto g = lock("Namespace.__hasattr__");
        return c().find(k.view(), h) != core::npos;
    }

    /// Python: delattr(ns, name). Throws mp::AttributeError if absent.
    void del(const std::string& name) {
        detail::manager::encoded k(name);
        const auto h = detail::manager::hash_bytes(k.view());
        auto g = lock("Namespace.__delattr__");
        const auto i = c().find(k.view(), h);
        if (i == core::npos) {
            throw AttributeError("'Namespace' object has no attribute '" + name + "'");
        }
        c().erase_at(i);
    }

    /// The attribute names, in the order they were first set.
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        auto g = lock("Namespace.__dir__");
        c().for_each([&](std::string_view k, std::string_view) {
            out.push_back(detail::manager::load_stored<std::string>(k));
        });
        return out;
    }

    template <class Archive>
    void serialize(Archive& ar) {
        serialize_ref(ar, detail::manager::kind::namespace_, 0);
    }

private:
    friend class SyncManager;
    NamespaceProxy(std::shared_ptr<detail::manager::manager_state> owner, std::uint64_t off)
        : proxy_base(std::move(owner), off) {}
    object& obj() const noexcept { return *seg_->at<object>(off_); }
    core c() const { return core(*seg_, obj(), "Namespace"); }
    detail::manager::object_lock lock(std::string_view who) const {
        check(who);
        return detail::manager::object_lock(obj().h, who, [this] { c().repair(); });
    }
};

/// Python: the proxy of manager.Queue() / manager.JoinableQueue() (a
/// queue.Queue in the manager): put/get/qsize/empty/full/put_nowait/
/// get_nowait/task_done/join. It is the library's shared-memory Queue
/// placed in the manager's segment, so it can also be sent to a Pool task
/// or through a Queue/Pipe. Throws std::system_error(EPIPE) naming the
/// cause once the manager has shut down.
template <class T>
class QueueProxy : public JoinableQueue<T> {
    using base = JoinableQueue<T>;

public:
    /// Python: q.put(obj, block=True, timeout=None) and its forms.
    template <class... A>
    void put(const T& obj, A&&... a) {
        check("Queue.put");
        base::put(obj, std::forward<A>(a)...);
    }
    void put_nowait(const T& obj) {
        check("Queue.put_nowait");
        base::put_nowait(obj);
    }
    /// Python: q.get(block=True, timeout=None) and its forms.
    template <class... A>
    T get(A&&... a) {
        check("Queue.get");
        return base::get(std::forward<A>(a)...);
    }
    T get_nowait() {
        check("Queue.get_nowait");
        return base::get_nowait();
    }
    std::size_t qsize() const {
        check("Queue.qsize");
        return base::qsize();
    }
    bool empty() const {
        check("Queue.empty");
        return base::empty();
    }
    bool full() const {
        check("Queue.full");
        return base::full();
    }
    void task_done() {
        check("Queue.task_done");
        base::task_done();
    }
    template <class... A>
    auto join(A&&... a) {
        check("Queue.join");
        return base::join(std::forward<A>(a)...);
    }

    template <class Archive>
    void serialize(Archive& ar) {
        if constexpr (Archive::is_saving::value) {
            check("Queue proxy");
            detail::manager::save_ref(ar, *seg_, off_);
        } else {
            using namespace detail::manager;
            auto [s, off] = load_ref(ar, kind::queue, tag_of<T>(),
                                     object_header_bytes + detail::ring_layout::data_offset);
            auto map = std::make_shared<detail::ring_mapping>(
                s->template at<char>(off + object_header_bytes), s, false, 0, 0);
            *this = QueueProxy(s, nullptr, off, detail::shm_ring(std::move(map)));
            ref_ = counted::received(seg_, off_);
        }
    }

    /// An unbound proxy (what deserialization starts from).
    QueueProxy() : base(detail::shm_ring(nullptr)) {}

    /// Python: the proxy's manager address: the segment's name (as the
    /// other proxies' address()).
    std::string address() const { return seg_ ? seg_->name() : std::string(); }

private:
    friend class SyncManager;
    QueueProxy(std::shared_ptr<detail::manager::segment> seg,
               std::shared_ptr<detail::manager::manager_state> owner, std::uint64_t off,
               detail::shm_ring ring)
        : base(std::move(ring)), seg_(std::move(seg)), owner_(std::move(owner)), off_(off) {}

    /// The object's counted reference: adopted from the factory or a decode.
    void adopt() { ref_ = detail::manager::counted::adopt(seg_, off_); }

    void check(std::string_view who) const {
        if (!seg_) {
            throw ProcessError(std::string(who) +
                               ": this proxy refers to no queue (default-constructed)");
        }
        seg_->check_usable(who);
    }

    std::shared_ptr<detail::manager::segment> seg_;
    std::shared_ptr<detail::manager::manager_state> owner_;
    std::uint64_t off_ = 0;
    detail::manager::counted ref_;
};

/// Proxies of the synchronization primitives (Python: AcquirerProxy,
/// ConditionProxy, EventProxy, BarrierProxy): the synchronize.hpp classes
/// over state in the manager's segment, plus sending. They behave exactly as
/// those classes do (robust to a holder's death, RAII guards), and raise
/// std::system_error(EPIPE) naming the cause once the manager has shut down.
template <class Sync, detail::manager::kind Kind>
class SyncProxy : public Sync {
public:
    /// Python: acquire(block=True, timeout=None) (Lock, RLock, semaphores, Condition).
    template <class... A>
    bool acquire(A&&... a) {
        check("acquire");
        return Sync::acquire(std::forward<A>(a)...);
    }
    /// Python: release().
    void release() {
        check("release");
        Sync::release();
    }
    void lock() { acquire(); }
    void unlock() { release(); }
    bool try_lock() { return acquire(false); }
    /// Python: wait(timeout=None) (Condition, Event, Barrier).
    template <class... A>
    auto wait(A&&... a) {
        check("wait");
        return Sync::wait(std::forward<A>(a)...);
    }
    /// Python: set() (Event).
    void set() {
        check("set");
        Sync::set();
    }
    /// Python: notify(n=1), notify_all() (Condition).
    template <class... A>
    void notify(A&&... a) {
        check("notify");
        Sync::notify(std::forward<A>(a)...);
    }
    void notify_all() {
        check("notify_all");
        Sync::notify_all();
    }

    template <class Archive>
    void serialize(Archive& ar) {
        if constexpr (Archive::is_saving::value) {
            check("send");
            detail::manager::save_ref(ar, *seg_, off_);
        } else {
            auto [s, off] =
                detail::manager::load_ref(ar, Kind, 0, detail::manager::object_header_bytes);
            *this = SyncProxy(s, nullptr, off, make(s, off));
            ref_ = detail::manager::counted::received(seg_, off_);
        }
    }

    /// An unbound proxy (what deserialization starts from).
    SyncProxy() : Sync(placeholder()) {}

    /// Python: the proxy's manager address: the segment's name (as the
    /// other proxies' address()).
    std::string address() const { return seg_ ? seg_->name() : std::string(); }

private:
    friend class SyncManager;
    SyncProxy(std::shared_ptr<detail::manager::segment> seg,
              std::shared_ptr<detail::manager::manager_state> owner, std::uint64_t off, Sync s)
        : Sync(std::move(s)), seg_(std::move(seg)), owner_(std::move(owner)), off_(off) {}

    /// The object's counted reference: adopted from the factory.
    void adopt() { ref_ = detail::manager::counted::adopt(seg_, off_); }

    void check(const char* method) const {
        if (seg_ && seg_->usable()) {
            return;
        }
        const std::string who = std::string(detail::manager::kind_name(Kind)) + "." + method;
        if (!seg_) {
            throw ProcessError(who + ": this proxy refers to no object (default-constructed)");
        }
        seg_->check_usable(who);
    }

    // The primitive built over the state at `off` (payload after the header).
    static Sync make(const std::shared_ptr<detail::manager::segment>& s, std::uint64_t off);
    static Sync placeholder();

    std::shared_ptr<detail::manager::segment> seg_;
    std::shared_ptr<detail::manager::manager_state> owner_;
    std::uint64_t off_ = 0;
    detail::manager::counted ref_;
};

using LockProxy = SyncProxy<Lock, detail::manager::kind::lock>;
using RLockProxy = SyncProxy<RLock, detail::manager::kind::rlock>;
using SemaphoreProxy = SyncProxy<Semaphore, detail::manager::kind::semaphore>;
using BoundedSemaphoreProxy = SyncProxy<BoundedSemaphore, detail::manager::kind::bounded_semaphore>;
using ConditionProxy = SyncProxy<Condition, detail::manager::kind::condition>;
using EventProxy = SyncProxy<Event, detail::manager::kind::event>;
using BarrierProxy = SyncProxy<Barrier, detail::manager::kind::barrier>;

namespace detail_sync {
using namespace multiprocessing::detail;
using namespace multiprocessing::detail::manager;

template <class S>
std::shared_ptr<S> state_at(const std::shared_ptr<segment>& s, std::uint64_t off) {
    return std::shared_ptr<S>(s, s->at<S>(off + object_header_bytes));
}
}  // namespace detail_sync

template <class Sync, detail::manager::kind Kind>
Sync SyncProxy<Sync, Kind>::make(const std::shared_ptr<detail::manager::segment>& s,
                                 std::uint64_t off) {
    using namespace detail_sync;
    using detail::sync_access;
    if constexpr (Kind == kind::lock) {
        return sync_access::lock(state_at<lock_core>(s, off));
    } else if constexpr (Kind == kind::rlock) {
        return sync_access::rlock(state_at<lock_core>(s, off));
    } else if constexpr (Kind == kind::semaphore) {
        return sync_access::semaphore(state_at<sem_core>(s, off));
    } else if constexpr (Kind == kind::bounded_semaphore) {
        return sync_access::bounded_semaphore(state_at<sem_core>(s, off));
    } else if constexpr (Kind == kind::condition) {
        auto payload = state_at<condition_payload>(s, off);
        const std::uint64_t lock_off = payload->lock_off;
        if (!s->holds(lock_off, object_header_bytes + sizeof(lock_core))) {
            throw UnpicklingError("Condition proxy: its lock is out of the manager's segment");
        }
        return sync_access::condition(
            state_at<lock_core>(s, lock_off),
            std::shared_ptr<sync_access::condition_state>(payload, &payload->state));
    } else if constexpr (Kind == kind::event) {
        return sync_access::event(state_at<sync_access::event_state>(s, off));
    } else {
        static_assert(Kind == kind::barrier);
        const auto& h = *s->at<object_header>(off);
        std::optional<detail::clock::duration> timeout;
        if (h.extra != 0) {
            timeout = detail::clock::duration(static_cast<detail::clock::rep>(h.extra));
        }
        return sync_access::barrier(state_at<sync_access::barrier_state>(s, off), timeout);
    }
}

template <class Sync, detail::manager::kind Kind>
Sync SyncProxy<Sync, Kind>::placeholder() {
    // Unbound proxies hold a private primitive until they are assigned.
    if constexpr (Kind == detail::manager::kind::barrier) {
        return Barrier(1);
    } else if constexpr (Kind == detail::manager::kind::condition) {
        return Condition();
    } else {
        return Sync();
    }
}

/// Python: multiprocessing.managers.SyncManager, what Manager() returns.
/// It owns one shared-memory segment where the objects it makes live. A
/// SyncManager is a handle: copies, and the proxies made in this process,
/// share it; the manager shuts down at shutdown(), or when the last of them
/// goes (Python: when the manager object is collected) — only in the process
/// that started it. Using a proxy afterwards throws std::system_error(EPIPE)
/// saying the manager has been shut down.
class SyncManager {
public:
    /// Python: SyncManager(): not started yet.
    explicit SyncManager(ManagerOptions options = {}) : options_(options) {}

    /// Python: start(). Makes the segment (ManagerOptions::capacity bytes,
    /// reserved at once). Throws ProcessError("Already started server") when
    /// started, ProcessError("Manager has shut down") after shutdown,
    /// std::system_error when /dev/shm has no room.
    void start() {
        if (state_) {
            throw ProcessError(state_->shut.load() ? "Manager has shut down"
                                                   : "Already started server");
        }
        auto st = std::make_shared<detail::manager::manager_state>();
        st->seg = detail::manager::segment::create(options_.capacity);
        state_ = std::move(st);
    }

    /// Python: connect(): uses the running manager at `address` (its
    /// address()) from another process. It does not own it: it never shuts
    /// it down.
    void connect(const std::string& address) {
        if (state_) {
            throw ProcessError("Already started server");
        }
        auto st = std::make_shared<detail::manager::manager_state>();
        st->seg = detail::manager::segment::attach(address, "SyncManager.connect");
        st->owner = false;
        state_ = std::move(st);
    }

    /// Python: shutdown(). Every proxy of this manager, in every process,
    /// throws std::system_error(EPIPE) from now on; its memory is freed when
    /// the last process using it lets go. Does nothing when not started or
    /// already shut down, or in a process that did not start it.
    void shutdown() noexcept {
        if (state_) {
            state_->shutdown();
        }
    }

    /// Python: join(timeout): waits for the server process to end. There is
    /// no server process here: returns at once.
    void join() const noexcept {}
    template <class Rep, class Period>
    void join(std::chrono::duration<Rep, Period>) const noexcept {}

    /// Python: address: the name of the manager's segment (for connect()).
    std::string address() const { return state_ ? state_->seg->name() : std::string(); }

    /// Whether start() (or connect()) was called and shutdown() was not.
    bool running() const noexcept {
        return state_ && !state_->shut.load() &&
               state_->seg->root().shut_down.load(std::memory_order_acquire) == 0;
    }

    /// Bytes still free in the manager's segment.
    std::size_t free_memory() const { return seg("free_memory").free_memory(); }

    // ------------------------------------------------------------- factories

    /// Python: manager.dict(). Keys K, values V.
    template <class K, class V>
    DictProxy<K, V> dict() {
        auto& s = seg("dict");
        const auto off = detail::manager::dict_core::create(
            s, detail::manager::kind::dict, detail::manager::pair_tag<K, V>(), "dict");
        return DictProxy<K, V>(state_, off);
    }
    /// Python: manager.dict(mapping).
    template <class K, class V>
    DictProxy<K, V> dict(std::initializer_list<std::pair<K, V>> pairs) {
        auto d = dict<K, V>();
        d.update(pairs);
        return d;
    }
    template <class K, class V, class... R>
    DictProxy<K, V> dict(const std::map<K, V, R...>& pairs) {
        auto d = dict<K, V>();
        d.update(pairs);
        return d;
    }

    /// Python: manager.list(sequence=()).
    template <class T>
    ListProxy<T> list(const std::vector<T>& items = {}) {
        return ListProxy<T>(state_, sequence(detail::manager::kind::list, items, "list"));
    }
    template <class T>
    ListProxy<T> list(std::initializer_list<T> items) {
        return list<T>(std::vector<T>(items));
    }

    /// Python: manager.Value(typecode, value).
    template <class T>
    ValueProxy<T> Value(const T& value) {
        using namespace detail::manager;
        detail::manager::encoded v(value);
        auto& s = seg("Value");
        const auto off = make_object(s, kind::value, tag_of<T>(),
                                     object_header_bytes + sizeof(value_object), "Value");
        try {
            s.at<value_object>(off)->blob.store(make_blob(s, v.view(), "Value"));
        } catch (...) {
            s.deallocate_at(off, "Value");
            throw;
        }
        return ValueProxy<T>(state_, off);
    }

    /// Python: manager.Array(typecode, size_or_sequence): `n` default values.
    template <class T>
    ArrayProxy<T> Array(std::size_t n) {
        return Array<T>(std::vector<T>(n));
    }
    /// Python: manager.Array(typecode, sequence).
    template <class T>
    ArrayProxy<T> Array(const std::vector<T>& items) {
        return ArrayProxy<T>(state_, sequence(detail::manager::kind::array, items, "Array"));
    }
    template <class T>
    ArrayProxy<T> Array(std::initializer_list<T> items) {
        return Array<T>(std::vector<T>(items));
    }

    /// Python: manager.Namespace().
    NamespaceProxy Namespace() {
        auto& s = seg("Namespace");
        const auto off = detail::manager::dict_core::create(s, detail::manager::kind::namespace_, 0,
                                                            "Namespace");
        return NamespaceProxy(state_, off);
    }

    /// Python: manager.Queue(maxsize=0). The ring (QueueOptions::capacity,
    /// 1 MiB by default) is taken from the manager's segment.
    template <class T>
    QueueProxy<T> Queue(int maxsize = 0) {
        return Queue<T>(QueueOptions{maxsize});
    }
    template <class T>
    QueueProxy<T> Queue(const QueueOptions& options) {
        using namespace detail::manager;
        auto& s = seg("Queue");
        const std::size_t ring_bytes = detail::ring_mapping::bytes_for(options.capacity);
        const auto off =
            make_object(s, kind::queue, tag_of<T>(), object_header_bytes + ring_bytes, "Queue");
        try {
            auto map = std::make_shared<detail::ring_mapping>(
                s.at<char>(off + object_header_bytes), state_->seg, true, options.capacity,
                static_cast<std::int64_t>(options.maxsize));
            QueueProxy<T> q(state_->seg, state_, off, detail::shm_ring(std::move(map)));
            q.adopt();
            return q;
        } catch (...) {
            s.deallocate_at(off, "Queue");
            throw;
        }
    }
    /// Python: manager.JoinableQueue(maxsize=0): the same queue (Python's
    /// manager queues both have task_done() and join()).
    template <class T>
    QueueProxy<T> JoinableQueue(int maxsize = 0) {
        return Queue<T>(maxsize);
    }
    template <class T>
    QueueProxy<T> JoinableQueue(const QueueOptions& options) {
        return Queue<T>(options);
    }

    /// Python: manager.Lock().
    LockProxy Lock() { return sync<LockProxy, detail::lock_core>(false); }
    /// Python: manager.RLock().
    RLockProxy RLock() { return sync<RLockProxy, detail::lock_core>(true); }
    /// Python: manager.Semaphore(value=1). Throws std::invalid_argument for value < 0.
    SemaphoreProxy Semaphore(int value = 1) {
        check_count(value, "semaphore initial value must be >= 0");
        return sync<SemaphoreProxy, detail::sem_core>(static_cast<std::uint32_t>(value), false);
    }
    /// Python: manager.BoundedSemaphore(value=1).
    BoundedSemaphoreProxy BoundedSemaphore(int value = 1) {
        check_count(value, "semaphore initial value must be >= 0");
        return sync<BoundedSemaphoreProxy, detail::sem_core>(static_cast<std::uint32_t>(value),
                                                             true);
    }
    /// Python: manager.Event().
    EventProxy Event() { return sync<EventProxy, detail::sync_access::event_state>(); }
    /// Python: manager.Condition(): over a new manager RLock.
    ConditionProxy Condition() { return condition(RLock()); }
    /// Python: manager.Condition(lock): over a manager Lock or RLock.
    ConditionProxy Condition(const LockProxy& lock) { return condition(lock); }
    ConditionProxy Condition(const RLockProxy& lock) { return condition(lock); }
    /// Python: manager.Barrier(parties, action=None, timeout=None). An action
    /// cannot be sent between processes: wrap the barrier's wait() instead.
    /// Throws std::invalid_argument if parties < 1.
    BarrierProxy Barrier(int parties) { return barrier(parties, std::nullopt); }
    template <class Rep, class Period>
    BarrierProxy Barrier(int parties, std::chrono::duration<Rep, Period> timeout) {
        return barrier(parties, std::chrono::duration_cast<detail::clock::duration>(timeout));
    }

private:
    detail::manager::segment& seg(const char* what) const {
        if (!state_) {
            throw ProcessError(std::string("SyncManager.") + what +
                               ": the manager has not been started (call start())");
        }
        state_->seg->check_usable(std::string("SyncManager.") + what);
        return *state_->seg;
    }

    /// A new list or Array object holding `items`; its offset.
    template <class T>
    std::uint64_t sequence(detail::manager::kind k, const std::vector<T>& items, const char* who) {
        std::vector<std::string> enc;
        enc.reserve(items.size());
        for (const auto& v : items) {
            enc.push_back(reduction::dumps(v));
        }
        return detail::manager::list_core::create(seg(who), k, detail::manager::tag_of<T>(), enc,
                                                  who);
    }

    static void check_count(int value, const char* message) {
        if (value < 0) {
            throw std::invalid_argument(message);
        }
    }

    template <class Proxy, class State, class... A>
    Proxy sync(A&&... args) {
        using namespace detail::manager;
        const char* who = kind_name(proxy_kind<Proxy>());
        segment& s = seg(who);
        const auto off =
            make_object(s, proxy_kind<Proxy>(), 0, object_header_bytes + sizeof(State), who);
        try {
            new (s.at<char>(off + object_header_bytes)) State(std::forward<A>(args)...);
            Proxy p(state_->seg, state_, off, Proxy::make(state_->seg, off));
            p.adopt();
            return p;
        } catch (...) {
            s.deallocate_at(off, who);
            throw;
        }
    }

    template <class Proxy>
    static constexpr detail::manager::kind proxy_kind();

    template <class LockP>
    ConditionProxy condition(const LockP& lock) {
        using namespace detail::manager;
        auto& s = seg("Condition");
        if (lock.seg_ != state_->seg) {
            throw std::invalid_argument(
                "SyncManager.Condition: the lock belongs to another manager");
        }
        const auto off = make_object(
            s, kind::condition, 0, object_header_bytes + sizeof(detail::manager::condition_payload),
            "Condition");
        try {
            auto* p =
                new (s.at<char>(off + object_header_bytes)) detail::manager::condition_payload{};
            p->lock_off = lock.off_;
            new (&p->state) detail::sync_access::condition_state{};
            ConditionProxy c(state_->seg, state_, off, ConditionProxy::make(state_->seg, off));
            c.adopt();
            detail::manager::counted::add(s, lock.off_);  // the condition keeps its lock
            return c;
        } catch (...) {
            s.deallocate_at(off, "Condition");
            throw;
        }
    }

    BarrierProxy barrier(int parties, std::optional<detail::clock::duration> timeout) {
        using namespace detail::manager;
        if (parties < 1) {
            throw std::invalid_argument("parties must be > 0");
        }
        auto& s = seg("Barrier");
        const auto off = make_object(
            s, kind::barrier, 0, object_header_bytes + sizeof(detail::sync_access::barrier_state),
            "Barrier");
        try {
            new (s.at<char>(off + object_header_bytes)) detail::sync_access::barrier_state(parties);
            if (timeout) {
                s.at<object_header>(off)->extra = static_cast<std::uint64_t>(timeout->count());
            }
            BarrierProxy b(state_->seg, state_, off, BarrierProxy::make(state_->seg, off));
            b.adopt();
            return b;
        } catch (...) {
            s.deallocate_at(off, "Barrier");
            throw;
        }
    }

    ManagerOptions options_;
    std::shared_ptr<detail::manager::manager_state> state_;
};

template <class Proxy>
constexpr detail::manager::kind SyncManager::proxy_kind() {
    using detail::manager::kind;
    if constexpr (std::is_same_v<Proxy, LockProxy>) {
        return kind::lock;
    } else if constexpr (std::is_same_v<Proxy, RLockProxy>) {
        return kind::rlock;
    } else if constexpr (std::is_same_v<Proxy, SemaphoreProxy>) {
        return kind::semaphore;
    } else if constexpr (std::is_same_v<Proxy, BoundedSemaphoreProxy>) {
        return kind::bounded_semaphore;
    } else if constexpr (std::is_same_v<Proxy, EventProxy>) {
        return kind::event;
    } else if constexpr (std::is_same_v<Proxy, ConditionProxy>) {
        return kind::condition;
    } else {
        return kind::barrier;
    }
}

}  // namespace managers

using managers::SyncManager;

/// Python: multiprocessing.Manager(): a started SyncManager.
inline managers::SyncManager Manager(ManagerOptions options = {}) {
    managers::SyncManager m(options);
    m.start();
    return m;
}

}  // namespace multiprocessing

#endif  // MULTIPROCESSING_MANAGERS_HPP
