// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// The allocator of a Manager's segment: crash-consistent by construction.
//
// A general-purpose allocator (Boost.Interprocess's rbtree_best_fit, malloc)
// changes several words per call (tree links, block headers, split and merge
// of neighbours); a process killed in the middle leaves the heap corrupt, and
// the next allocation crashes or loops. A manager's users may be killed at
// any instruction, so this heap is simpler: segregated free lists, four size
// classes per power of two, blocks never split or merged, and every state
// change committed by one 8-byte store:
//
//   allocate from a list   heads[c] = block.next      (the block leaves the list)
//   allocate from the top  top = block + size         (the block leaves free space)
//   free                   block.next = heads[c] (invisible), heads[c] = block
//
// A process killed before the store changed nothing; after it, at most that
// one block is lost to a leak. The caller holds the heap's robust mutex, so
// there is never anything to repair. The price: memory freed in one size
// class is reused only for that class (or, when nothing else is left, for
// smaller requests).
#ifndef MULTIPROCESSING_DETAIL_MANAGER_HEAP_HPP
#define MULTIPROCESSING_DETAIL_MANAGER_HEAP_HPP

#include <multiprocessing/config.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace multiprocessing::detail::manager {

/// Where the heap's state lives (in the segment's root page).
struct heap_state {
    static constexpr unsigned classes = 4 * 44;  // block sizes up to 2^48 bytes
    std::uint64_t begin;                         // offsets in the segment
    std::uint64_t end;
    std::atomic<std::uint64_t> top;         // free space: [top, end)
    std::atomic<std::uint64_t> free_bytes;  // in the lists (for reports only)
    std::atomic<std::uint64_t> heads[classes];
};

/// The heap over a segment mapped at `base`. All calls need the heap's lock.
class heap {
public:
    static constexpr std::uint32_t block_magic = 0x6d70626b;  // "mpbk"
    static constexpr std::size_t header_bytes = 16;
    static constexpr std::uint64_t min_block = 32;

    heap(char* base, heap_state& state) noexcept : base_(base), s_(state) {}

    /// Sets up an empty heap over [begin, end).
    static void create(heap_state& s, std::uint64_t begin, std::uint64_t end) noexcept {
        s.begin = (begin + 7) / 8 * 8;
        s.end = end / 8 * 8;
        s.top.store(s.begin);
        s.free_bytes.store(0);
        for (auto& h : s.heads) {
            h.store(0);
        }
    }

    /// `bytes` aligned to `align` (a power of two); nullptr when full.
    void* allocate(std::size_t bytes, std::size_t align = 8) noexcept {
        if (align < 8) {
            align = 8;
        }
        const std::uint64_t need =
            std::uint64_t{bytes} + header_bytes + (align > 8 ? align - 8 : 0);
        std::uint64_t size = 0;
        const unsigned c = size_class(need, size);
        if (c >= heap_state::classes) {
            return nullptr;
        }
        std::uint64_t b = s_.heads[c].load(std::memory_order_relaxed);
        if (b != 0) {
            s_.heads[c].store(header(b).next, std::memory_order_release);  // the commit
            s_.free_bytes.fetch_sub(size, std::memory_order_relaxed);
        } else {
            b = s_.top.load(std::memory_order_relaxed);
            if (b > s_.end || s_.end - b < size) {
                b = from_larger_class(c);
                if (b == 0) {
                    return nullptr;
                }
            } else {
                block_header& h = header(b);
                h.magic = block_magic;
                h.cls = c;
                h.next = 0;
                s_.top.store(b + size, std::memory_order_release);  // the commit
            }
        }
        // The payload, and just before it the offset of its block.
        const std::uint64_t payload = (b + header_bytes + align - 1) / align * align;
        std::memcpy(base_ + payload - 8, &b, 8);
        return base_ + payload;
    }

    /// Gives back what allocate() returned. False if `p` is not a block of
    /// this heap (nothing is changed then).
    bool deallocate(void* p) noexcept {
        const std::uint64_t payload = static_cast<std::uint64_t>(static_cast<char*>(p) - base_);
        std::uint64_t b = 0;
        std::memcpy(&b, base_ + payload - 8, 8);
        if (b < s_.begin || b >= s_.top.load() || b + header_bytes > payload) {
            return false;
        }
        block_header& h = header(b);
        if (h.magic != block_magic || h.cls >= heap_state::classes) {
            return false;
        }
        h.next = s_.heads[h.cls].load(std::memory_order_relaxed);  // not yet in the list
        s_.heads[h.cls].store(b, std::memory_order_release);       // the commit
        s_.free_bytes.fetch_add(class_size(h.cls), std::memory_order_relaxed);
        return true;
    }

    /// Bytes free: never handed out, or given back.
    std::uint64_t free_memory() const noexcept {
        const std::uint64_t top = s_.top.load();
        return (top < s_.end ? s_.end - top : 0) + s_.free_bytes.load();
    }

    /// The class of a block of `bytes`, and its rounded size: 32, 40, 48,
    /// 56, 64, 80, 96, 112, 128, 160, ... (four steps per power of two).
    static unsigned size_class(std::uint64_t bytes, std::uint64_t& size) noexcept {
        if (bytes <= min_block) {
            size = min_block;
            return 0;
        }
        const unsigned k = 63U - static_cast<unsigned>(__builtin_clzll(bytes - 1));  // 2^k < bytes
        const std::uint64_t step = std::uint64_t{1} << (k - 2);
        const std::uint64_t q = (bytes - 1 - (std::uint64_t{1} << k)) / step;  // 0..3
        size = (std::uint64_t{1} << k) + (q + 1) * step;
        return (k - 5) * 4 + static_cast<unsigned>(q) + 1;
    }

    static std::uint64_t class_size(unsigned c) noexcept {
        if (c == 0) {
            return min_block;
        }
        const unsigned k = (c - 1) / 4 + 5;
        const std::uint64_t q = (c - 1) % 4;
        return (std::uint64_t{1} << k) + (q + 1) * (std::uint64_t{1} << (k - 2));
    }

private:
    struct block_header {
        std::uint32_t magic;
        std::uint32_t cls;
        std::uint64_t next;  // free: the next free block of the class; in use: this block
    };

    block_header& header(std::uint64_t b) const noexcept {
        return *reinterpret_cast<block_header*>(base_ + b);
    }

    /// Free space is gone: a free block of a larger class, used whole.
    std::uint64_t from_larger_class(unsigned c) noexcept {
        for (unsigned d = c + 1; d < heap_state::classes; ++d) {
            const std::uint64_t b = s_.heads[d].load(std::memory_order_relaxed);
            if (b != 0) {
                s_.heads[d].store(header(b).next, std::memory_order_release);  // the commit
                s_.free_bytes.fetch_sub(class_size(d), std::memory_order_relaxed);
                return b;
            }
        }
        return 0;
    }

    char* base_;
    heap_state& s_;
};

}  // namespace multiprocessing::detail::manager

#endif  // MULTIPROCESSING_DETAIL_MANAGER_HEAP_HPP
