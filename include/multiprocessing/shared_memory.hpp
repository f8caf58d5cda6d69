// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// Mirrors CPython's multiprocessing/shared_memory.py: SharedMemory, a named
// POSIX shared-memory segment any process may attach to by name, and
// ShareableList, a fixed-length list of ints, floats, bools, strings and
// None in one, laid out byte for byte as Python's (Python processes can
// attach to ours and the other way round).
//
// Ownership, unlike Python: only the process that created a segment owns
// it. Unless created with track = false, the segment is unlinked when its
// creator ends, normally (an atexit handler) or by a crash (a watchdog
// process, see detail/shm_tracker.hpp), once the children it forked have
// ended too. Attaching never makes a process an owner; an explicit unlink()
// from any process still removes the name, as in Python.
#ifndef MULTIPROCESSING_SHARED_MEMORY_HPP
#define MULTIPROCESSING_SHARED_MEMORY_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/detail/posix.hpp>
#include <multiprocessing/detail/shm_tracker.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <initializer_list>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <variant>
#include <vector>

namespace multiprocessing {

/// Python's keyword arguments of SharedMemory(name=None, create=False,
/// size=0, *, track=True) (track is Python 3.13's).
struct SharedMemoryOptions {
    /// Python `name=`: empty means a new random name "psm_<hex>" (create only).
    std::optional<std::string> name;
    /// Python `create=`: make a new segment (fails if the name exists).
    bool create = false;
    /// Python `size=`: bytes, required (> 0) when creating; ignored when attaching.
    std::size_t size = 0;
    /// Python 3.13 `track=`: false keeps a created segment after this process ends.
    bool track = true;
};

/// Python: multiprocessing.shared_memory.SharedMemory. A named segment of
/// shared memory (mode 0600) mapped into this process. Copies of the object
/// share one mapping; the mapping goes when the last copy is destroyed or on
/// close().
class SharedMemory {
public:
    /// Python: SharedMemory(name): attach to an existing segment. Throws
    /// std::system_error (ENOENT: Python's FileNotFoundError).
    explicit SharedMemory(const std::string& name) : SharedMemory(attach_options(name)) {}
    /// Python: SharedMemory(name, create, size). name std::nullopt (Python's
    /// None) with create makes a random name.
    SharedMemory(std::optional<std::string> name, bool create, std::size_t size = 0)
        : SharedMemory(make_options(std::move(name), create, size)) {}
    /// Python: SharedMemory(name=..., create=..., size=..., track=...).
    /// Throws std::invalid_argument (Python's ValueError) for create with size
    /// 0 or attach without a name; std::system_error for OS errors (EEXIST:
    /// FileExistsError; ENOSPC when /dev/shm cannot hold `size` bytes, checked
    /// up front instead of a later SIGBUS).
    explicit SharedMemory(const SharedMemoryOptions& options) : state_(std::make_shared<state>()) {
        open(options);
    }

    /// Python: name (without the leading slash).
    const std::string& name() const noexcept { return state_->name; }
    /// Python: size.
    std::size_t size() const noexcept { return state_->size; }
    /// Python: buf. The mapped bytes; throws std::invalid_argument after close().
    unsigned char* buf() const {
        if (state_->addr == nullptr) {
            throw std::invalid_argument("SharedMemory.buf: the segment is closed");
        }
        return static_cast<unsigned char*>(state_->addr);
    }
    /// Python: close(). Unmaps the segment in this process (every copy of this
    /// object); the segment itself stays. Idempotent.
    void close() noexcept { state_->unmap(); }
    /// Python: unlink(). Removes the name, so no one else can attach; the
    /// memory goes when every process has unmapped it. Throws std::system_error
    /// (ENOENT if already unlinked).
    void unlink() {
        if (::shm_unlink(("/" + state_->name).c_str()) < 0) {
            detail::throw_errno("SharedMemory.unlink: shm_unlink");
        }
        detail::shm_untrack(state_->name);
    }
    /// Python: repr(shm), e.g. SharedMemory('psm_1a2b3c4d', size=4096).
    std::string repr() const {
        return "SharedMemory('" + state_->name + "', size=" + std::to_string(state_->size) + ")";
    }

private:
    struct state {
        std::string name;
        std::size_t size = 0;
        void* addr = nullptr;
        void unmap() noexcept {
            if (addr != nullptr) {
                ::munmap(addr, size == 0 ? 1 : size);
                addr = nullptr;
            }
        }
        ~state() { unmap(); }
    };

    static SharedMemoryOptions attach_options(const std::string& name) {
        SharedMemoryOptions o;
        o.name = name;
        return o;
    }
    static SharedMemoryOptions make_options(std::optional<std::string> name, bool create,
                                            std::size_t size) {
        SharedMemoryOptions o;
        o.name = std::move(name);
        o.create = create;
        o.size = size;
        return o;
    }
    static std::string random_name() {
        std::random_device rd;
        char hex[9];
        std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(rd()));
        return std::string("psm_") + hex;
    }
    static void check_name(const std::string& name) {
        if (name.empty() || name.find('/') != std::string::npos ||
            name.find('\n') != std::string::npos || name.size() > 250) {
            throw std::invalid_argument("SharedMemory: invalid name '" + name + "'");
        }
    }

    void open(const SharedMemoryOptions& o) {
        if (!o.create && !o.name) {
            throw std::invalid_argument("'name' can only be None if create=True");
        }
        if (o.create && o.size == 0) {
            throw std::invalid_argument("'size' must be a positive number different from zero");
        }
        int fd = -1;
        if (o.create) {
            for (int attempt = 0;; ++attempt) {
                state_->name = o.name ? *o.name : random_name();
                check_name(state_->name);
                fd = ::shm_open(("/" + state_->name).c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC,
                                0600);
                if (fd >= 0 || errno != EEXIST || o.name || attempt > 100) {
                    break;
                }
            }
            if (fd < 0) {
                detail::throw_errno("SharedMemory: shm_open '" + state_->name + "'");
            }
            // Track before anything can fail, so a crash from here on leaves nothing.
            if (o.track) {
                try {
                    detail::shm_track(state_->name);
                } catch (...) {
                    ::shm_unlink(("/" + state_->name).c_str());
                    detail::close_fd(fd);
                    throw;
                }
            }
            // Reserve the memory now: ENOSPC here rather than SIGBUS on first touch.
            int r = ::posix_fallocate(fd, 0, static_cast<off_t>(o.size));
            if (r == EOPNOTSUPP || r == EINVAL) {
                r = ::ftruncate(fd, static_cast<off_t>(o.size)) < 0 ? errno : 0;
            }
            if (r != 0) {
                ::shm_unlink(("/" + state_->name).c_str());
                detail::shm_untrack(state_->name);
                detail::close_fd(fd);
                detail::throw_errno(
                    "SharedMemory: reserving " + std::to_string(o.size) + " bytes in /dev/shm", r);
            }
            state_->size = o.size;
        } else {
            state_->name = *o.name;
            check_name(state_->name);
            fd = ::shm_open(("/" + state_->name).c_str(), O_RDWR | O_CLOEXEC, 0600);
            if (fd < 0) {
                detail::throw_errno("SharedMemory: shm_open '" + state_->name + "'");
            }
            struct stat st {};
            if (::fstat(fd, &st) < 0) {
                const int e = errno;
                detail::close_fd(fd);
                detail::throw_errno("SharedMemory: fstat", e);
            }
            state_->size = static_cast<std::size_t>(st.st_size);
        }
        void* p = ::mmap(nullptr, state_->size == 0 ? 1 : state_->size, PROT_READ | PROT_WRITE,
                         MAP_SHARED, fd, 0);
        const int e = errno;
        detail::close_fd(fd);
        if (p == MAP_FAILED) {
            if (o.create) {
                ::shm_unlink(("/" + state_->name).c_str());
                detail::shm_untrack(state_->name);
            }
            detail::throw_errno("SharedMemory: mmap", e);
        }
        state_->addr = p;
    }

    std::shared_ptr<state> state_;
};

/// Python's None in a ShareableList.
using NoneType = std::monostate;
/// Python: None.
inline constexpr NoneType None{};

/// One item of a ShareableList: None, int (64-bit), float, bool or str.
/// (Python's bytes items read as std::string.)
using ShareableItem = std::variant<NoneType, std::int64_t, double, bool, std::string>;

/// Python: multiprocessing.shared_memory.ShareableList. A list of fixed
/// length in a SharedMemory segment; each string keeps the capacity it was
/// created with (rounded up to 8 bytes, as Python does). Same layout as
/// Python's, so either language may attach to the other's. No lock, as in
/// Python.
class ShareableList {
public:
    /// Python: ShareableList(sequence, name=None): a new segment holding the items.
    explicit ShareableList(const std::vector<ShareableItem>& sequence,
                           std::optional<std::string> name = std::nullopt)
        : shm_(make(sequence, std::move(name))) {
        write_all(sequence);
    }
    /// Python: ShareableList([1, 2.5, True, "text", None]).
    ShareableList(std::initializer_list<ShareableItem> sequence)
        : ShareableList(std::vector<ShareableItem>(sequence)) {}
    /// Python: ShareableList(name=name): attach to an existing list.
    /// Throws std::system_error if there is no such segment.
    static ShareableList attach(const std::string& name) {
        return ShareableList(SharedMemory(name));
    }

    /// Python: len(sl).
    std::size_t size() const { return static_cast<std::size_t>(read<std::int64_t>(0)); }
    /// Python: sl[i] (i < 0 counts from the end). Throws std::out_of_range.
    ShareableItem operator[](long long i) const { return get(i); }
    ShareableItem get(long long i) const {
        const std::size_t pos = position(i, "index out of range");
        const std::string fmt = format_of(pos);
        const std::size_t at = data_start() + offset(pos);
        const auto code = static_cast<signed char>(shm_.buf()[codes_start() + pos]);
        if (fmt == "q") {
            return read<std::int64_t>(at);
        }
        if (fmt == "d") {
            return read<double>(at);
        }
        if (fmt == "xxxxxxx?") {
            return shm_.buf()[at + 7] != 0;
        }
        if (fmt == "xxxxxx?x") {
            return None;
        }
        if (!fmt.empty() && fmt.back() == 's' && code != 3) {
            const std::size_t cap = offset(pos + 1) - offset(pos);
            const char* p = reinterpret_cast<const char*>(shm_.buf() + at);
            std::size_t n = cap;
            while (n > 0 && p[n - 1] == '\0') {
                --n;  // Python strips the padding NULs
            }
            return std::string(p, n);
        }
        throw std::runtime_error("ShareableList: unknown item format '" + fmt + "'");
    }
    /// Python: sl[i] = value. A string must fit the item's storage (throws
    /// std::invalid_argument, "bytes/str item exceeds available storage");
    /// std::out_of_range for a bad index.
    void set(long long i, const ShareableItem& value) {
        const std::size_t pos = position(i, "assignment index out of range");
        const std::size_t at = data_start() + offset(pos);
        const std::size_t cap = offset(pos + 1) - offset(pos);
        put(pos, at, cap, value, format_of(pos));
    }

    /// Python: sl.count(value).
    std::size_t count(const ShareableItem& value) const {
        std::size_t c = 0;
        for (std::size_t i = 0, n = size(); i < n; ++i) {
            c += get(static_cast<long long>(i)) == value ? 1U : 0U;
        }
        return c;
    }
    /// Python: sl.index(value). Throws std::invalid_argument if absent (ValueError).
    std::size_t index(const ShareableItem& value) const {
        for (std::size_t i = 0, n = size(); i < n; ++i) {
            if (get(static_cast<long long>(i)) == value) {
                return i;
            }
        }
        throw std::invalid_argument("ShareableList.index: value not in list");
    }
    /// Python: sl.format, e.g. "qd8s".
    std::string format() const {
        std::string f;
        for (std::size_t i = 0, n = size(); i < n; ++i) {
            f += format_of(i);
        }
        return f;
    }
    /// All items (Python: list(sl)).
    std::vector<ShareableItem> to_vector() const {
        std::vector<ShareableItem> v;
        for (std::size_t i = 0, n = size(); i < n; ++i) {
            v.push_back(get(static_cast<long long>(i)));
        }
        return v;
    }
    /// Python: sl.shm.
    SharedMemory& shm() noexcept { return shm_; }
    const SharedMemory& shm() const noexcept { return shm_; }

private:
    static constexpr std::size_t align = 8;

    explicit ShareableList(SharedMemory shm) : shm_(std::move(shm)) {
        if (shm_.size() < 8 || data_start() > shm_.size() || codes_start() + size() > shm_.size()) {
            throw std::invalid_argument("ShareableList: segment '" + shm_.name() +
                                        "' does not hold a ShareableList");
        }
    }

    static std::string format_for(const ShareableItem& v, std::size_t cap) {
        switch (v.index()) {
            case 0: return "xxxxxx?x";
            case 1: return "q";
            case 2: return "d";
            case 3: return "xxxxxxx?";
            default: return std::to_string(cap) + "s";
        }
    }
    static std::size_t capacity_for(const ShareableItem& v) {
        if (const auto* s = std::get_if<std::string>(&v)) {
            return align * (s->size() / align + 1);
        }
        return align;
    }

    static SharedMemory make(const std::vector<ShareableItem>& seq,
                             std::optional<std::string> name) {
        std::size_t data = 0;
        for (const auto& v : seq) {
            data += capacity_for(v);
        }
        const std::size_t n = seq.size();
        const std::size_t bytes = 8 + 8 * (n + 1) + data + 8 * n + n;
        SharedMemoryOptions o;
        o.name = std::move(name);
        o.create = true;
        o.size = bytes;
        return SharedMemory(o);
    }

    void write_all(const std::vector<ShareableItem>& seq) {
        const std::size_t n = seq.size();
        write<std::int64_t>(0, static_cast<std::int64_t>(n));
        std::size_t off = 0;
        write<std::int64_t>(8, 0);
        for (std::size_t i = 0; i < n; ++i) {
            off += capacity_for(seq[i]);
            write<std::int64_t>(8 * (i + 2), static_cast<std::int64_t>(off));
        }
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t cap = capacity_for(seq[i]);
            put(i, data_start() + offset(i), cap, seq[i], format_for(seq[i], cap));
        }
    }

    void put(std::size_t pos, std::size_t at, std::size_t cap, const ShareableItem& value,
             const std::string& current) {
        std::string fmt;
        signed char code = 0;
        unsigned char* b = shm_.buf();
        if (const auto* s = std::get_if<std::string>(&value)) {
            if (s->size() > cap) {
                throw std::invalid_argument("bytes/str item exceeds available storage");
            }
            fmt = !current.empty() && current.back() == 's' ? current : format_for(value, cap);
            std::memset(b + at, 0, cap);
            std::memcpy(b + at, s->data(), s->size());
            code = 1;
        } else {
            fmt = format_for(value, cap);
            std::memset(b + at, 0, align);
            switch (value.index()) {
                case 0: code = 3; break;
                case 1: write<std::int64_t>(at, std::get<std::int64_t>(value)); break;
                case 2: write<double>(at, std::get<double>(value)); break;
                default: b[at + 7] = std::get<bool>(value) ? 1 : 0; break;
            }
        }
        char f[8] = {};
        std::memcpy(f, fmt.data(), std::min<std::size_t>(fmt.size(), 8));
        std::memcpy(b + formats_start() + 8 * pos, f, 8);
        b[codes_start() + pos] = static_cast<unsigned char>(code);
    }

    std::size_t position(long long i, const char* message) const {
        const auto n = static_cast<long long>(size());
        if (i < 0) {
            i += n;
        }
        if (i < 0 || i >= n) {
            throw std::out_of_range(message);
        }
        return static_cast<std::size_t>(i);
    }
    std::size_t offset(std::size_t i) const {
        return static_cast<std::size_t>(read<std::int64_t>(8 * (i + 1)));
    }
    std::size_t data_start() const { return (size() + 2) * 8; }
    std::size_t formats_start() const { return data_start() + offset(size()); }
    std::size_t codes_start() const { return formats_start() + 8 * size(); }
    std::string format_of(std::size_t pos) const {
        const char* p = reinterpret_cast<const char*>(shm_.buf() + formats_start() + 8 * pos);
        std::size_t n = 8;
        while (n > 0 && p[n - 1] == '\0') {
            --n;
        }
        return std::string(p, n);
    }
    template <class T>
    T read(std::size_t at) const {
        T v;
        std::memcpy(&v, shm_.buf() + at, sizeof v);
        return v;
    }
    template <class T>
    void write(std::size_t at, T v) {
        std::memcpy(shm_.buf() + at, &v, sizeof v);
    }

    SharedMemory shm_;
};

}  // namespace multiprocessing

#endif  // MULTIPROCESSING_SHARED_MEMORY_HPP
