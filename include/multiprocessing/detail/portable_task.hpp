// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// A portable task (DESIGN.md, mechanism 3): a trampoline plus a payload.
// Whatever must run in a process that did not inherit the caller's memory
// travels as the address of a template-instantiated trampoline function plus
// the callable's state and the arguments, serialized. A code address travels
// as (hash of its module's name, offset from the module's load base), so it
// survives exec and address-space randomization.
//
// Accepted callables: function pointers, captureless lambdas, trivially
// copyable functors (a lambda capturing a few ints), and functors with a
// cereal serialize() function. Anything else is rejected at compile time.
// Arguments and results go through reduction::dumps_into / loads.
#ifndef MULTIPROCESSING_DETAIL_PORTABLE_TASK_HPP
#define MULTIPROCESSING_DETAIL_PORTABLE_TASK_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/reduction.hpp>

#include <cereal/details/traits.hpp>

#include <cstdint>
#include <cstring>
#include <functional>
#include <link.h>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace multiprocessing::detail {

// ---------------------------------------------------------------- wire helpers

inline void put_u32(std::string& out, std::uint32_t v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
inline void put_u64(std::string& out, std::uint64_t v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

/// Reads fields from a byte view; a short read is a clear error, never a crash.
class wire_reader {
public:
    explicit wire_reader(std::string_view bytes) : bytes_(bytes) {}
    std::uint32_t u32() {
        std::uint32_t v;
        std::memcpy(&v, take(sizeof v).data(), sizeof v);
        return v;
    }
    std::uint64_t u64() {
        std::uint64_t v;
        std::memcpy(&v, take(sizeof v).data(), sizeof v);
        return v;
    }
    std::string_view take(std::size_t n) {
        if (n > bytes_.size()) {
            throw std::invalid_argument("Pool: truncated task or result frame");
        }
        std::string_view part = bytes_.substr(0, n);
        bytes_.remove_prefix(n);
        return part;
    }
    std::string_view rest() const { return bytes_; }

private:
    std::string_view bytes_;
};

/// A value through reduction, length-prefixed (whatever framing reduction adds).
template <class T>
void put_value(std::string& out, const T& value) {
    const std::size_t at = out.size();
    const std::uint32_t placeholder = 0;
    out.append(reinterpret_cast<const char*>(&placeholder), sizeof placeholder);
    reduction::dumps_into(value, out);
    const std::size_t size = out.size() - at - 4;
    if (size > 0xffffffffU) {
        throw std::length_error("Pool: a task argument or result is larger than 4 GiB");
    }
    const auto len = static_cast<std::uint32_t>(size);
    std::memcpy(&out[at], &len, sizeof len);
}

template <class T>
T get_value(wire_reader& in) {
    const std::uint32_t len = in.u32();
    return reduction::loads<T>(in.take(len));
}

// ------------------------------------------------------------- code addresses

/// A code address as it travels: its module (FNV-1a hash of the name that
/// dl_iterate_phdr reports, "" for the main program) and the offset from that
/// module's load base.
struct code_ref {
    std::uint64_t module = 0;
    std::uint64_t offset = 0;
};

inline std::uint64_t module_hash(const char* name) noexcept {
    std::uint64_t h = 1469598103934665603ULL;
    for (const char* p = name ? name : ""; *p; ++p) {
        h = (h ^ static_cast<unsigned char>(*p)) * 1099511628211ULL;
    }
    return h;
}

/// The code_ref of `addr` (the module whose loaded segment holds it).
inline code_ref code_ref_of(const void* addr) {
    struct search {
        std::uintptr_t addr;
        code_ref found;
        bool ok;
    } s{reinterpret_cast<std::uintptr_t>(addr), {}, false};
    ::dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* data) -> int {
            auto* st = static_cast<search*>(data);
            for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
                const ElfW(Phdr)& ph = info->dlpi_phdr[i];
                if (ph.p_type != PT_LOAD) {
                    continue;
                }
                const std::uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
                if (st->addr >= lo && st->addr < lo + ph.p_memsz) {
                    st->found.module = module_hash(info->dlpi_name);
                    st->found.offset = st->addr - info->dlpi_addr;
                    st->ok = true;
                    return 1;
                }
            }
            return 0;
        },
        &s);
    if (!s.ok) {
        throw std::invalid_argument("Pool: code address is in no loaded module");
    }
    return s.found;
}

/// The address a code_ref stands for in this process (load bases cached).
inline const void* resolve_code_ref(const code_ref& ref) {
    static std::mutex mutex;
    static std::vector<std::pair<std::uint64_t, std::uintptr_t>> bases;
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& b : bases) {
        if (b.first == ref.module) {
            return reinterpret_cast<const void*>(b.second + ref.offset);
        }
    }
    struct search {
        std::uint64_t module;
        std::uintptr_t base;
        bool ok;
    } s{ref.module, 0, false};
    ::dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* data) -> int {
            auto* st = static_cast<search*>(data);
            if (module_hash(info->dlpi_name) == st->module) {
                st->base = info->dlpi_addr;
                st->ok = true;
                return 1;
            }
            return 0;
        },
        &s);
    if (!s.ok) {
        throw std::invalid_argument("Pool: the task's code is in a module not loaded here");
    }
    bases.emplace_back(ref.module, s.base);
    return reinterpret_cast<const void*>(s.base + ref.offset);
}

/// The code_ref of a function pointer, with a one-entry per-thread cache
/// (a loop of apply_async calls sends the same function again and again).
template <class Fn>
code_ref function_ref(Fn* fn) {
    thread_local const void* last_addr = nullptr;
    thread_local code_ref last_ref{};
    const void* addr = reinterpret_cast<const void*>(fn);
    if (addr != last_addr) {
        last_ref = code_ref_of(addr);
        last_addr = addr;
    }
    return last_ref;
}

inline void put_code_ref(std::string& out, const code_ref& ref) {
    put_u64(out, ref.module);
    put_u64(out, ref.offset);
}
inline code_ref get_code_ref(wire_reader& in) {
    code_ref r;
    r.module = in.u64();
    r.offset = in.u64();
    return r;
}

// ----------------------------------------------------------------- callables

template <class F>
inline constexpr bool is_function_pointer_v =
    std::is_pointer_v<F>&& std::is_function_v<std::remove_pointer_t<F>>;

template <class F, class = void>
struct is_cereal_serializable : std::false_type {};
template <class F>
struct is_cereal_serializable<F, std::enable_if_t<std::is_class_v<F>>>
    : std::bool_constant<
          cereal::traits::is_output_serializable<F, cereal::BinaryOutputArchive>::value &&
          cereal::traits::is_input_serializable<F, cereal::BinaryInputArchive>::value &&
          std::is_default_constructible_v<F>> {};

/// Whether a callable can travel to a worker process.
template <class F>
inline constexpr bool is_portable_callable_v =
    is_function_pointer_v<F> ||
    (std::is_class_v<F> && (std::is_trivially_copyable_v<F> || is_cereal_serializable<F>::value));

/// Rejects, with a message saying what to do, a callable that cannot travel.
template <class F>
constexpr void check_portable_callable() {
    static_assert(is_portable_callable_v<F>,
                  "multiprocessing::Pool: this callable cannot be sent to a pool worker process. "
                  "Use a function pointer, a captureless lambda, a lambda capturing only trivially "
                  "copyable values (ints, doubles, plain structs), or a functor with a cereal "
                  "serialize() function; pass other data (strings, containers) as task arguments "
                  "instead of capturing it. (ThreadPool accepts any callable.)");
}

/// Appends the callable's state: a code_ref for a function pointer, the bytes
/// of a trivially copyable functor, cereal's encoding otherwise.
template <class F>
void put_callable(std::string& out, const F& f) {
    if constexpr (is_function_pointer_v<F>) {
        put_code_ref(out, function_ref(f));
    } else if constexpr (std::is_trivially_copyable_v<F>) {
        put_u32(out, static_cast<std::uint32_t>(sizeof(F)));
        out.append(reinterpret_cast<const char*>(&f), sizeof(F));
    } else {
        put_value(out, f);
    }
}

/// The callable rebuilt in the worker, owned for the duration of the call.
template <class F, class = void>
struct callable_holder;

template <class F>
struct callable_holder<F, std::enable_if_t<is_function_pointer_v<F>>> {
    explicit callable_holder(wire_reader& in)
        : fn(reinterpret_cast<F>(const_cast<void*>(resolve_code_ref(get_code_ref(in))))) {}
    F& get() { return fn; }
    F fn;
};

template <class F>
struct callable_holder<
    F, std::enable_if_t<!is_function_pointer_v<F> && std::is_trivially_copyable_v<F>>> {
    explicit callable_holder(wire_reader& in) {
        const std::uint32_t len = in.u32();
        if (len != sizeof(F)) {
            throw std::invalid_argument("Pool: callable state of the wrong size");
        }
        std::memcpy(static_cast<void*>(storage), in.take(len).data(), sizeof(F));
    }
    F& get() { return *std::launder(reinterpret_cast<F*>(storage)); }
    alignas(F) unsigned char storage[sizeof(F)];
};

template <class F>
struct callable_holder<
    F, std::enable_if_t<!is_function_pointer_v<F> && !std::is_trivially_copyable_v<F>>> {
    explicit callable_holder(wire_reader& in) : fn(get_value<F>(in)) {}
    F& get() { return fn; }
    F fn;
};

// ---------------------------------------------------------------- trampolines

/// What a function returning void gives back (travels as one byte).
struct void_result {
    bool unused = false;
    template <class Archive>
    void serialize(Archive& ar) {
        ar(unused);
    }
};

template <class R>
using stored_t = std::conditional_t<std::is_void_v<R>, void_result, R>;

/// Whether a run of T values may travel as one std::vector<T> (one value
/// through reduction, which copies a vector of numbers as one block).
template <class T>
inline constexpr bool bulk_ok_v = std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;

/// From this many items on, a chunk of numbers travels as one vector.
inline constexpr std::uint32_t bulk_min = 16;

inline constexpr std::uint8_t items_each = 0;  // count, mode, then each item its own value
inline constexpr std::uint8_t items_bulk = 1;  // count, mode, then one std::vector<T> value

/// Calls f(args...) and returns its result (void_result for void).
template <class R, class F, class Tuple>
stored_t<R> invoke_stored(F& f, Tuple&& args) {
    if constexpr (std::is_void_v<R>) {
        std::apply(f, std::forward<Tuple>(args));
        return void_result{};
    } else {
        return std::apply(f, std::forward<Tuple>(args));
    }
}

/// A trampoline: runs the task whose payload is `in`, appends the result to `out`.
using trampoline_fn = void (*)(wire_reader& in, std::string& out);

template <class... Args, std::size_t... I>
std::tuple<Args...> get_args(wire_reader& in, std::index_sequence<I...>) {
    // Braced initialization evaluates left to right.
    return std::tuple<Args...>{get_value<std::tuple_element_t<I, std::tuple<Args...>>>(in)...};
}

/// The elements of a tuple-like T (tuple, pair, array), each its own value.
template <class T, std::size_t... I>
std::tuple<std::tuple_element_t<I, T>...> get_tuple(wire_reader& in, std::index_sequence<I...>) {
    return std::tuple<std::tuple_element_t<I, T>...>{get_value<std::tuple_element_t<I, T>>(in)...};
}

/// Appends the elements of a tuple-like value, each its own value.
template <class T>
void put_tuple(std::string& out, const T& t) {
    std::apply([&](const auto&... e) { (put_value(out, e), ...); }, t);
}

/// apply(f, args...): payload = callable, then each argument.
template <class F, class R, class... Args>
void call_trampoline(wire_reader& in, std::string& out) {
    callable_holder<F> f(in);
    auto args = get_args<Args...>(in, std::index_sequence_for<Args...>{});
    put_u32(out, 1);
    out += static_cast<char>(items_each);
    put_value(out, invoke_stored<R>(f.get(), std::move(args)));
}

/// Appends `n` items from `first` to a chunk: one by one, or as one vector.
template <class T, bool Star, class It>
void put_items(std::string& out, It first, std::uint32_t n) {
    put_u32(out, n);
    if constexpr (!Star && bulk_ok_v<T>) {
        if (n >= bulk_min) {
            out += static_cast<char>(items_bulk);
            std::vector<T> items(n);
            for (std::uint32_t i = 0; i < n; ++i, ++first) {
                items[i] = static_cast<T>(*first);
            }
            put_value(out, items);
            return;
        }
    }
    out += static_cast<char>(items_each);
    for (std::uint32_t i = 0; i < n; ++i, ++first) {
        if constexpr (Star) {
            put_tuple(out, *first);
        } else {
            put_value(out, static_cast<const T&>(T(*first)));
        }
    }
}

/// Reads a run of values written by put_items (or put_results), calling
/// sink(index, value) for each. Returns how many.
template <class V, class Sink>
std::uint32_t get_items(wire_reader& in, Sink&& sink) {
    const std::uint32_t n = in.u32();
    const auto mode = static_cast<std::uint8_t>(in.take(1)[0]);
    if (mode == items_bulk) {
        if constexpr (bulk_ok_v<V>) {
            std::vector<V> all = get_value<std::vector<V>>(in);
            if (all.size() != n) {
                throw std::invalid_argument("Pool: a chunk holds the wrong number of values");
            }
            for (std::uint32_t i = 0; i < n; ++i) {
                sink(i, std::move(all[i]));
            }
            return n;
        } else {
            throw std::invalid_argument("Pool: unexpected bulk values in a chunk");
        }
    }
    for (std::uint32_t i = 0; i < n; ++i) {
        sink(i, get_value<V>(in));
    }
    return n;
}

/// One chunk of map (Star = false: f(item)) or starmap (Star = true:
/// std::apply(f, item)): payload = callable, items; result = results, in the
/// format of put_items.
template <class F, class R, class T, bool Star>
void chunk_trampoline(wire_reader& in, std::string& out) {
    callable_holder<F> f(in);
    using V = stored_t<R>;
    std::vector<V> results;
    if constexpr (Star) {
        const std::uint32_t n = in.u32();
        if (static_cast<std::uint8_t>(in.take(1)[0]) != items_each) {
            throw std::invalid_argument("Pool: unexpected bulk values in a chunk");
        }
        results.reserve(n);
        for (std::uint32_t i = 0; i < n; ++i) {
            auto item = get_tuple<T>(in, std::make_index_sequence<std::tuple_size_v<T>>{});
            results.push_back(invoke_stored<R>(f.get(), std::move(item)));
        }
    } else {
        if (in.rest().size() >= 4) {
            std::uint32_t n;
            std::memcpy(&n, in.rest().data(), 4);
            results.reserve(std::min<std::size_t>(n, in.rest().size()));
        }
        get_items<T>(in, [&](std::uint32_t, T&& item) {
            results.push_back(invoke_stored<R>(f.get(), std::forward_as_tuple(std::move(item))));
        });
    }
    put_items<V, false>(out, results.begin(), static_cast<std::uint32_t>(results.size()));
}

/// The code_ref of a trampoline, computed once per instantiation.
template <trampoline_fn Fn>
const code_ref& trampoline_ref() {
    static const code_ref ref = code_ref_of(reinterpret_cast<const void*>(Fn));
    return ref;
}

/// Runs a task body (trampoline code_ref + payload), appending its result.
inline void run_task(std::string_view body, std::string& out) {
    wire_reader in(body);
    const code_ref ref = get_code_ref(in);
    auto fn = reinterpret_cast<trampoline_fn>(const_cast<void*>(resolve_code_ref(ref)));
    fn(in, out);
}

}  // namespace multiprocessing::detail

#endif  // MULTIPROCESSING_DETAIL_PORTABLE_TASK_HPP
