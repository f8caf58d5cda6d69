// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// Mirrors CPython's multiprocessing/sharedctypes.py: Value, Array, RawValue
// and RawArray, values of trivially copyable types in anonymous MAP_SHARED
// memory, shared with the processes started after they are made. The C++
// objects are handles: copies (e.g. a Process argument) refer to the same
// memory. Python's type code ('i', 'd', ...) is the template argument:
//
//     mp::Value<int> counter(0);                  // Value('i', 0)
//     mp::Array<double> a{1.0, 2.0, 3.0};         // Array('d', [1.0, 2.0, 3.0])
//     mp::Array<int> z(10);                       // Array('i', 10): ten zeros
#ifndef MULTIPROCESSING_SHAREDCTYPES_HPP
#define MULTIPROCESSING_SHAREDCTYPES_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/detail/sync_core.hpp>
#include <multiprocessing/exceptions.hpp>
#include <multiprocessing/synchronize.hpp>

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace multiprocessing {

namespace detail {

template <class T>
constexpr void check_shareable() {
    static_assert(std::is_trivially_copyable_v<T>,
                  "Value/Array/RawValue/RawArray hold trivially copyable types only (they live "
                  "in shared memory as their bytes); use a Queue or a Manager for other types");
    static_assert(!std::is_pointer_v<T>,
                  "a pointer in shared memory points into one process only; share the data");
}

/// Where an Array's elements and (optionally) its lock live: one mapping,
/// lock first, elements after.
template <class T>
struct array_layout {
    static constexpr std::size_t align = alignof(T) > 64 ? alignof(T) : 64;
    static constexpr std::size_t lock_bytes = (sizeof(lock_core) + align - 1) / align * align;
};

/// Python's index rule for one item: negative counts from the end;
/// outside the array is IndexError (std::out_of_range).
template <class I>
std::size_t item_index(I i, std::size_t size, const char* who) {
    static_assert(std::is_integral_v<I>, "an index is an integer");
    if constexpr (std::is_signed_v<I>) {
        if (i < 0) {
            const auto back = static_cast<std::size_t>(-(static_cast<long long>(i)));
            if (back > size) {
                throw std::out_of_range(std::string(who) + ": invalid index");
            }
            return size - back;
        }
    }
    const auto u = static_cast<std::size_t>(i);
    if (u >= size) {
        throw std::out_of_range(std::string(who) + ": invalid index");
    }
    return u;
}

/// Python's slice bounds (step 1): negatives count from the end, then clamp.
inline std::pair<std::size_t, std::size_t> slice_bounds(long long start,
                                                        std::optional<long long> stop,
                                                        std::size_t size) {
    const auto n = static_cast<long long>(size);
    auto norm = [n](long long x) {
        if (x < 0) {
            x += n;
        }
        return x < 0 ? 0LL : (x > n ? n : x);
    };
    const long long b = norm(start);
    const long long e = stop ? norm(*stop) : n;
    return {static_cast<std::size_t>(b), static_cast<std::size_t>(e < b ? b : e)};
}

/// The items of data[begin, end) as a vector.
template <class T>
std::vector<T> copy_out(const T* data, std::pair<std::size_t, std::size_t> r) {
    return std::vector<T>(data + r.first, data + r.second);
}

/// Python's arr[start:stop] = values: the sizes must match (ValueError).
template <class T>
void copy_in(T* data, std::pair<std::size_t, std::size_t> r, const std::vector<T>& values) {
    if (values.size() != r.second - r.first) {
        throw std::invalid_argument("Can only assign sequence of same size");
    }
    std::copy(values.begin(), values.end(), data + r.first);
}

}  // namespace detail

/// Python: multiprocessing.RawValue(typecode, value). A T in shared memory
/// without a lock. Throws std::system_error if the memory cannot be mapped.
template <class T>
class RawValue {
public:
    /// Python: RawValue('i', init); the default is zero (T{}).
    explicit RawValue(const T& init = T{}) {
        detail::check_shareable<T>();
        auto mem = detail::map_shared_anonymous(sizeof(T), "RawValue");
        T* p = ::new (mem.get()) T(init);
        data_ = std::shared_ptr<T>(std::move(mem), p);
    }
    /// Python: v.value.
    T value() const { return *data_; }
    /// Python: v.value = x.
    void set_value(const T& v) { *data_ = v; }
    /// The shared T itself (Python: the ctypes object).
    T& get_obj() const noexcept { return *data_; }

private:
    std::shared_ptr<T> data_;
};

template <class T>
class Array;

/// Python: multiprocessing.RawArray(typecode, size_or_initializer). A fixed
/// number of T in shared memory without a lock. Indexing as Python's
/// (negative from the end; out of range throws std::out_of_range),
/// iteration, slices.
template <class T>
class RawArray {
public:
    /// Python: RawArray('i', n): n value-initialized (zero) items.
    explicit RawArray(std::size_t n) : RawArray(n, nullptr) {}
    /// Python: RawArray('i', [1, 2, 3]).
    RawArray(std::initializer_list<T> values) : RawArray(values.size(), values.begin()) {}
    /// Python: RawArray('i', values).
    explicit RawArray(const std::vector<T>& values) : RawArray(values.size(), values.data()) {}

    /// Python: len(a).
    std::size_t size() const noexcept { return size_; }
    /// Python: a[i] (i < 0 counts from the end). Throws std::out_of_range.
    template <class I>
    T& operator[](I i) const {
        return data_.get()[detail::item_index(i, size_, "RawArray")];
    }
    /// Python: a[start:stop] (stop omitted: to the end), as a vector.
    std::vector<T> slice(long long start = 0, std::optional<long long> stop = std::nullopt) const {
        return detail::copy_out(data_.get(), detail::slice_bounds(start, stop, size_));
    }
    /// Python: a[start:stop] = values. Throws std::invalid_argument when the
    /// sizes differ ("Can only assign sequence of same size").
    void set_slice(long long start, std::optional<long long> stop, const std::vector<T>& values) {
        detail::copy_in(data_.get(), detail::slice_bounds(start, stop, size_), values);
    }
    T* data() const noexcept { return data_.get(); }
    T* begin() const noexcept { return data_.get(); }
    T* end() const noexcept { return data_.get() + size_; }

private:
    friend class Array<T>;
    RawArray(std::size_t n, const T* init) : size_(n) {
        detail::check_shareable<T>();
        auto mem = detail::map_shared_anonymous(n * sizeof(T), "RawArray");
        T* p = static_cast<T*>(mem.get());
        for (std::size_t i = 0; i < n; ++i) {
            ::new (p + i) T(init ? init[i] : T());
        }
        data_ = std::shared_ptr<T>(std::move(mem), p);
    }
    RawArray(std::shared_ptr<T> data, std::size_t n) : data_(std::move(data)), size_(n) {}
    std::shared_ptr<T> data_;
    std::size_t size_;
};

/// Python: multiprocessing.Value(typecode, value, lock=True). A T in shared
/// memory guarded by an RLock: value() and set_value() take the lock, as
/// Python's `.value` does. For a read-modify-write, hold get_lock():
///
///     { std::lock_guard<mp::RLock> g(v.get_lock()); v.set_value(v.value() + 1); }
///
/// Throws std::system_error if the memory cannot be mapped.
template <class T>
class Value {
public:
    /// Python: Value('i', init, lock=True|False). With lock false there is
    /// no lock (value() and set_value() do not lock; get_lock() throws).
    explicit Value(const T& init = T{}, bool lock = true) {
        detail::check_shareable<T>();
        using layout = detail::array_layout<T>;
        auto mem = detail::map_shared_anonymous(layout::lock_bytes + sizeof(T), "Value");
        auto* base = static_cast<unsigned char*>(mem.get());
        T* p = ::new (base + layout::lock_bytes) T(init);
        if (lock) {
            auto* core = ::new (base) detail::lock_core(true);
            lock_.emplace(std::shared_ptr<detail::lock_core>(mem, core));
        }
        data_ = std::shared_ptr<T>(std::move(mem), p);
    }
    /// Python: Value('i', init, lock=rlock): guarded by an existing RLock.
    Value(const T& init, RLock lock) : Value(init, false) { lock_.emplace(std::move(lock)); }

    /// Python: v.value (under the lock).
    T value() const {
        if (!lock_) {
            return *data_;
        }
        std::lock_guard<RLock> g(*lock_);
        return *data_;
    }
    /// Python: v.value = x (under the lock).
    void set_value(const T& v) {
        if (!lock_) {
            *data_ = v;
            return;
        }
        std::lock_guard<RLock> g(*lock_);
        *data_ = v;
    }
    /// Python: v.get_lock(). Throws ProcessError for a Value made with lock=false
    /// (Python: AttributeError).
    RLock& get_lock() {
        if (!lock_) {
            throw ProcessError("Value: made with lock=false, it has no get_lock()");
        }
        return *lock_;
    }
    /// Python: v.get_obj(): the shared T itself, not locked.
    T& get_obj() const noexcept { return *data_; }

    /// Python: v.acquire() / v.release() / `with v:` (the lock's).
    bool acquire(bool block = true) { return get_lock().acquire(block); }
    void release() { get_lock().release(); }
    void lock() { get_lock().lock(); }
    void unlock() { get_lock().unlock(); }
    bool try_lock() { return get_lock().try_lock(); }

private:
    std::shared_ptr<T> data_;
    mutable std::optional<RLock> lock_;
};

/// Python: multiprocessing.Array(typecode, size_or_initializer, lock=True).
/// A fixed number of T in shared memory guarded by an RLock: reading or
/// writing an item through a[i], a slice, or an iteration step takes the
/// lock, as in Python; `a[i] += x` holds it for the whole update.
template <class T>
class Array {
public:
    /// An item of the array; reads and writes take the array's lock.
    class reference {
    public:
        operator T() const { return owner_->get_at(index_); }
        reference& operator=(const T& v) {
            owner_->set_at(index_, v);
            return *this;
        }
        reference& operator=(const reference& other) { return *this = static_cast<T>(other); }
        reference(const reference&) = default;
        template <class U>
        reference& operator+=(const U& d) {
            return update([&](T& x) { x += d; });
        }
        template <class U>
        reference& operator-=(const U& d) {
            return update([&](T& x) { x -= d; });
        }
        template <class U>
        reference& operator*=(const U& d) {
            return update([&](T& x) { x *= d; });
        }
        template <class U>
        reference& operator/=(const U& d) {
            return update([&](T& x) { x /= d; });
        }
        reference& operator++() {
            return update([](T& x) { ++x; });
        }
        reference& operator--() {
            return update([](T& x) { --x; });
        }

    private:
        friend class Array;
        reference(Array* owner, std::size_t index) : owner_(owner), index_(index) {}
        template <class F>
        reference& update(F f) {
            auto g = owner_->guard();
            f(owner_->data_.get()[index_]);
            return *this;
        }
        Array* owner_;
        std::size_t index_;
    };

    /// Iterates over copies of the items, each read under the lock.
    class const_iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = T;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = T;
        T operator*() const { return owner_->get_at(index_); }
        const_iterator& operator++() {
            ++index_;
            return *this;
        }
        const_iterator operator++(int) {
            const_iterator old = *this;
            ++index_;
            return old;
        }
        friend bool operator==(const const_iterator& a, const const_iterator& b) {
            return a.index_ == b.index_ && a.owner_ == b.owner_;
        }
        friend bool operator!=(const const_iterator& a, const const_iterator& b) {
            return !(a == b);
        }

    private:
        friend class Array;
        const_iterator(const Array* owner, std::size_t index) : owner_(owner), index_(index) {}
        const Array* owner_;
        std::size_t index_;
    };

    /// Python: Array('i', n, lock=...): n value-initialized (zero) items.
    explicit Array(std::size_t n, bool lock = true) { make(n, nullptr, lock); }
    /// Python: Array('i', [1, 2, 3]).
    Array(std::initializer_list<T> values) { make(values.size(), values.begin(), true); }
    /// Python: Array('i', values, lock=...).
    explicit Array(const std::vector<T>& values, bool lock = true) {
        make(values.size(), values.data(), lock);
    }
    /// Python: Array('i', n, lock=rlock): guarded by an existing RLock.
    Array(std::size_t n, RLock lock) {
        make(n, nullptr, false);
        lock_.emplace(std::move(lock));
    }
    /// Python: Array('i', values, lock=rlock).
    Array(const std::vector<T>& values, RLock lock) {
        make(values.size(), values.data(), false);
        lock_.emplace(std::move(lock));
    }

    /// Python: len(a).
    std::size_t size() const noexcept { return size_; }
    /// Python: a[i] (under the lock; i < 0 counts from the end). Throws
    /// std::out_of_range (Python: IndexError).
    template <class I>
    reference operator[](I i) {
        return reference(this, detail::item_index(i, size_, "Array"));
    }
    template <class I>
    T operator[](I i) const {
        return get_at(detail::item_index(i, size_, "Array"));
    }
    /// Python: a[start:stop] (stop omitted: to the end), under the lock.
    std::vector<T> slice(long long start = 0, std::optional<long long> stop = std::nullopt) const {
        auto g = guard();
        return detail::copy_out(data_.get(), detail::slice_bounds(start, stop, size_));
    }
    /// Python: a[start:stop] = values, under the lock. Throws
    /// std::invalid_argument when the sizes differ.
    void set_slice(long long start, std::optional<long long> stop, const std::vector<T>& values) {
        auto g = guard();
        detail::copy_in(data_.get(), detail::slice_bounds(start, stop, size_), values);
    }
    const_iterator begin() const { return const_iterator(this, 0); }
    const_iterator end() const { return const_iterator(this, size_); }

    /// Python: a.get_lock(). Throws ProcessError for an Array made with lock=false.
    RLock& get_lock() {
        if (!lock_) {
            throw ProcessError("Array: made with lock=false, it has no get_lock()");
        }
        return *lock_;
    }
    /// Python: a.get_obj(): the items without the lock.
    RawArray<T> get_obj() const { return RawArray<T>(data_, size_); }

    /// Python: a.acquire() / a.release() / `with a:` (the lock's).
    bool acquire(bool block = true) { return get_lock().acquire(block); }
    void release() { get_lock().release(); }
    void lock() { get_lock().lock(); }
    void unlock() { get_lock().unlock(); }
    bool try_lock() { return get_lock().try_lock(); }

private:
    void make(std::size_t n, const T* init, bool lock) {
        detail::check_shareable<T>();
        using layout = detail::array_layout<T>;
        auto mem = detail::map_shared_anonymous(layout::lock_bytes + n * sizeof(T), "Array");
        auto* base = static_cast<unsigned char*>(mem.get());
        T* p = reinterpret_cast<T*>(base + layout::lock_bytes);
        for (std::size_t i = 0; i < n; ++i) {
            ::new (p + i) T(init ? init[i] : T());
        }
        if (lock) {
            auto* core = ::new (base) detail::lock_core(true);
            lock_.emplace(std::shared_ptr<detail::lock_core>(mem, core));
        }
        data_ = std::shared_ptr<T>(std::move(mem), p);
        size_ = n;
    }
    std::unique_lock<RLock> guard() const {
        if (!lock_) {
            return {};
        }
        return std::unique_lock<RLock>(*lock_);
    }
    T get_at(std::size_t i) const {
        auto g = guard();
        return data_.get()[i];
    }
    void set_at(std::size_t i, const T& v) {
        auto g = guard();
        data_.get()[i] = v;
    }

    std::shared_ptr<T> data_;
    std::size_t size_ = 0;
    mutable std::optional<RLock> lock_;
};

}  // namespace multiprocessing

#endif  // MULTIPROCESSING_SHAREDCTYPES_HPP
