// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// Mirrors CPython's multiprocessing/reduction.py: how a value crosses a process
// boundary (Python pickles it).
//
// Every value travels as one checked frame:
//
//     offset  size  field
//     0       4     magic "mpR" + format version 1
//     4       1     kind: 0 = the bytes of a trivially copyable type,
//                         1 = the elements of a std::string / std::vector of
//                             trivially copyable elements, 2 = cereal binary
//     5       3     reserved, zero
//     8       8     type tag (little-endian): a hash of the type's name and size
//     16      8     payload length in bytes (little-endian)
//     24      ...   payload
//
// - Trivially copyable types travel as their bytes (no serialization cost).
// - std::string and std::vector<E> with E trivially copyable travel as their
//   elements: one copy in, one copy out, none in between.
// - Every other type goes through cereal: std containers, tuple, optional,
//   variant, ..., and any user type with a cereal `serialize` function:
//
//       struct Order {
//           std::string item;
//           std::vector<int> sizes;
//           template <class Archive> void serialize(Archive& ar) { ar(item, sizes); }
//       };
//
//   (a template `serialize`, as cereal recommends: the library uses its own
//   bounds-checked archive, not cereal::BinaryInputArchive).
//
// loads<T>() checks everything before it builds a value: a short or
// oversized frame, bad magic, trailing bytes, a frame of another type than T,
// a container length that the remaining bytes cannot hold, a bool that is not
// 0 or 1, a variant index out of range: each is a mp::UnpicklingError naming
// the problem. Never a crash, a hang, or a silently wrong value.
#ifndef MULTIPROCESSING_REDUCTION_HPP
#define MULTIPROCESSING_REDUCTION_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/detail/posix.hpp>

#include <cereal/archives/binary.hpp>
#include <cereal/cereal.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/chrono.hpp>
#include <cereal/types/complex.hpp>
#include <cereal/types/deque.hpp>
#include <cereal/types/list.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/unordered_set.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <vector>

namespace multiprocessing {

/// Python: pickle.UnpicklingError. The bytes handed to reduction::loads (or
/// received by Connection::recv) are not a valid frame of the requested type:
/// truncated, oversized, garbage, or of another type. Derives from
/// std::invalid_argument (Python's ValueError family of "bad data").
class UnpicklingError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

namespace reduction {

/// Bytes in front of every payload (see the format at the top of this file).
inline constexpr std::size_t header_size = 24;

/// What a frame's payload holds.
enum class frame_kind : std::uint8_t {
    bytes = 0,       ///< the object representation of a trivially copyable type
    contiguous = 1,  ///< the elements of a std::string or std::vector<trivially copyable>
    cereal = 2,      ///< cereal binary data
};

namespace detail {

inline std::atomic<std::uint64_t>& max_frame_size_storage() noexcept {
    static std::atomic<std::uint64_t> limit{std::uint64_t{1} << 31};
    return limit;
}

template <class T>
struct is_contiguous : std::false_type {};
template <class C, class Tr, class A>
struct is_contiguous<std::basic_string<C, Tr, A>> : std::is_trivially_copyable<C> {};
template <class E, class A>
struct is_contiguous<std::vector<E, A>>
    : std::bool_constant<std::is_trivially_copyable_v<E> && !std::is_same_v<E, bool>> {};

template <class T>
inline constexpr bool is_char_v = std::is_same_v<std::remove_cv_t<T>, char>;

/// The type a value travels as: text (char arrays, const char*, string_view)
/// travels as std::string, so recv<std::string>() reads what send("text") sent.
template <class T, class = void>
struct wire {
    using type = T;
};
template <class T>
struct wire<T, std::enable_if_t<std::is_array_v<T> && is_char_v<std::remove_extent_t<T>>>> {
    using type = std::string;
};
template <class T>
struct wire<T, std::enable_if_t<std::is_pointer_v<T> && is_char_v<std::remove_pointer_t<T>>>> {
    using type = std::string;
};
template <>
struct wire<std::string_view> {
    using type = std::string;
};

inline std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 14695981039346656037ULL) {
    for (const char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    return h;
}

inline void put_u64(char* out, std::uint64_t v) noexcept {
    for (int i = 0; i < 8; ++i) {
        out[i] = static_cast<char>(static_cast<unsigned char>(v >> (8 * i)));
    }
}

inline std::uint64_t get_u64(const char* in) noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
        v |= std::uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
    }
    return v;
}

inline constexpr char magic[4] = {'m', 'p', 'R', '\x01'};

/// cereal output archive appending to a std::string (no stream in between).
class output_archive
    : public cereal::OutputArchive<output_archive, cereal::AllowEmptyClassElision> {
public:
    explicit output_archive(std::string& out)
        : cereal::OutputArchive<output_archive, cereal::AllowEmptyClassElision>(this), out_(out) {}
    void saveBinary(const void* data, std::size_t size) {
        out_.append(static_cast<const char*>(data), size);
    }

private:
    std::string& out_;
};

/// cereal input archive over a byte range that checks every read and every
/// container length against what is left.
class input_archive : public cereal::InputArchive<input_archive, cereal::AllowEmptyClassElision> {
public:
    explicit input_archive(std::string_view in)
        : cereal::InputArchive<input_archive, cereal::AllowEmptyClassElision>(this),
          pos_(in.data()),
          end_(in.data() + in.size()) {}
    void loadBinary(void* data, std::size_t size) {
        if (size > remaining()) {
            throw UnpicklingError("reduction.loads: truncated data: " + std::to_string(size) +
                                  " more bytes needed, " + std::to_string(remaining()) + " left");
        }
        if (size > 0) {
            std::memcpy(data, pos_, size);
        }
        pos_ += size;
    }
    std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - pos_); }

private:
    const char* pos_;
    const char* end_;
};

}  // namespace detail

/// The largest frame payload loads() and Connection::recv accept
/// (2 GiB by default). Longer frames are refused with mp::UnpicklingError
/// before anything is allocated.
inline std::uint64_t max_frame_size() noexcept {
    return detail::max_frame_size_storage().load(std::memory_order_relaxed);
}

/// Sets max_frame_size() for this process (and children forked later).
inline void set_max_frame_size(std::uint64_t bytes) noexcept {
    detail::max_frame_size_storage().store(bytes, std::memory_order_relaxed);
}

/// The type a value of type T travels as (std::string for text).
template <class T>
using wire_type_t = typename detail::wire<std::remove_cv_t<std::remove_reference_t<T>>>::type;

/// True when T travels as its elements (std::string, std::vector<trivially copyable>).
template <class T>
inline constexpr bool is_contiguous_v = detail::is_contiguous<T>::value;

/// How T travels.
template <class T>
inline constexpr frame_kind kind_of_v = is_contiguous_v<T>                ? frame_kind::contiguous
                                        : std::is_trivially_copyable_v<T> ? frame_kind::bytes
                                                                          : frame_kind::cereal;

/// The tag naming T in a frame: a hash of its (mangled) type name, size and
/// kind. The same in every program built with the same ABI.
template <class T>
std::uint64_t type_tag() {
    static const std::uint64_t tag = [] {
        std::uint64_t h = detail::fnv1a(typeid(T).name());
        h = detail::fnv1a(std::to_string(sizeof(T)), h);
        return detail::fnv1a(std::string(1, static_cast<char>(kind_of_v<T>)), h);
    }();
    return tag;
}

/// A human-readable name of T for error messages.
template <class T>
std::string type_name() {
    return multiprocessing::detail::demangle(typeid(T).name());
}

/// A decoded frame header.
struct frame_header {
    frame_kind kind = frame_kind::bytes;
    std::uint64_t tag = 0;
    std::uint64_t payload_size = 0;
};

/// Writes the header of a frame holding a T with `payload_size` bytes of payload.
template <class T>
void write_header(char (&out)[header_size], std::uint64_t payload_size) {
    std::memcpy(out, detail::magic, 4);
    out[4] = static_cast<char>(kind_of_v<T>);
    out[5] = out[6] = out[7] = 0;
    detail::put_u64(out + 8, type_tag<T>());
    detail::put_u64(out + 16, payload_size);
}

/// Parses and checks a frame header: magic, version, reserved bytes, kind,
/// and the payload length against max_frame_size(). Throws UnpicklingError.
inline frame_header parse_header(std::string_view bytes) {
    if (bytes.size() < header_size) {
        throw UnpicklingError("reduction.loads: truncated frame: " + std::to_string(bytes.size()) +
                              " bytes, a header alone is " + std::to_string(header_size));
    }
    if (std::memcmp(bytes.data(), detail::magic, 3) != 0) {
        throw UnpicklingError("reduction.loads: not a frame (bad magic)");
    }
    if (bytes[3] != detail::magic[3]) {
        throw UnpicklingError("reduction.loads: unsupported frame format version " +
                              std::to_string(static_cast<unsigned char>(bytes[3])));
    }
    if (bytes[5] != 0 || bytes[6] != 0 || bytes[7] != 0 ||
        static_cast<unsigned char>(bytes[4]) > static_cast<unsigned char>(frame_kind::cereal)) {
        throw UnpicklingError("reduction.loads: corrupt frame header");
    }
    frame_header h;
    h.kind = static_cast<frame_kind>(bytes[4]);
    h.tag = detail::get_u64(bytes.data() + 8);
    h.payload_size = detail::get_u64(bytes.data() + 16);
    if (h.payload_size > max_frame_size()) {
        throw UnpicklingError("reduction.loads: frame of " + std::to_string(h.payload_size) +
                              " bytes is over the limit of " + std::to_string(max_frame_size()) +
                              " bytes (reduction::set_max_frame_size)");
    }
    return h;
}

/// Checks that a frame header announces a T; throws UnpicklingError if not.
template <class T>
void check_header(const frame_header& h) {
    if (h.kind != kind_of_v<T> || h.tag != type_tag<T>()) {
        throw UnpicklingError("reduction.loads: the frame holds another type than the " +
                              type_name<T>() + " asked for");
    }
    if constexpr (kind_of_v<T> == frame_kind::bytes) {
        if (h.payload_size != sizeof(T)) {
            throw UnpicklingError("reduction.loads: a " + type_name<T>() + " is " +
                                  std::to_string(sizeof(T)) + " bytes, the frame holds " +
                                  std::to_string(h.payload_size));
        }
    } else if constexpr (kind_of_v<T> == frame_kind::contiguous) {
        if (h.payload_size % sizeof(typename T::value_type) != 0) {
            throw UnpicklingError("reduction.loads: " + std::to_string(h.payload_size) +
                                  " bytes are not a whole number of elements");
        }
    }
}

/// Builds a T from a payload whose header check_header<T> accepted.
template <class T>
T loads_payload(std::string_view payload) {
    if constexpr (kind_of_v<T> == frame_kind::bytes) {
        static_assert(std::is_default_constructible_v<T>,
                      "multiprocessing::reduction: a received type must be default-constructible");
        if (payload.size() != sizeof(T)) {
            throw UnpicklingError("reduction.loads: a " + type_name<T>() + " is " +
                                  std::to_string(sizeof(T)) + " bytes, got " +
                                  std::to_string(payload.size()));
        }
        if constexpr (std::is_same_v<T, bool>) {
            if (static_cast<unsigned char>(payload[0]) > 1) {
                throw UnpicklingError("reduction.loads: a bool holds the byte " +
                                      std::to_string(static_cast<unsigned char>(payload[0])));
            }
        }
        T value;
        std::memcpy(static_cast<void*>(&value), payload.data(), sizeof(T));
        return value;
    } else if constexpr (kind_of_v<T> == frame_kind::contiguous) {
        using E = typename T::value_type;
        if (payload.size() % sizeof(E) != 0) {
            throw UnpicklingError("reduction.loads: " + std::to_string(payload.size()) +
                                  " bytes are not a whole number of elements");
        }
        T value;
        value.resize(payload.size() / sizeof(E));
        if (!payload.empty()) {
            std::memcpy(static_cast<void*>(value.data()), payload.data(), payload.size());
        }
        return value;
    } else {
        static_assert(std::is_default_constructible_v<T>,
                      "multiprocessing::reduction: a received type must be default-constructible");
        T value{};
        detail::input_archive archive(payload);
        try {
            archive(value);
        } catch (const UnpicklingError&) {
            throw;
        } catch (const cereal::Exception& e) {
            throw UnpicklingError(std::string("reduction.loads: malformed data: ") + e.what());
        }
        if (archive.remaining() != 0) {
            throw UnpicklingError("reduction.loads: " + std::to_string(archive.remaining()) +
                                  " unread bytes after the " + type_name<T>());
        }
        return value;
    }
}

/// Python: ForkingPickler.dumps(obj). Appends one frame holding `value` to
/// `out`. Text (string literals, const char*, std::string_view) is sent as a
/// std::string. Pointers do not compile: they mean nothing in another process.
template <class T>
void dumps_into(const T& value, std::string& out) {
    using W = wire_type_t<T>;
    static_assert(!std::is_pointer_v<W> && !std::is_member_pointer_v<W>,
                  "multiprocessing::reduction: a pointer cannot cross a process boundary; send "
                  "the value (or a std::string for text)");
    static_assert(!std::is_array_v<W>,
                  "multiprocessing::reduction: send a std::array or std::vector, not a C array");
    if constexpr (!std::is_same_v<W, std::remove_cv_t<T>>) {
        dumps_into(W(value), out);
    } else {
        char header[header_size];
        const std::size_t start = out.size();
        if constexpr (kind_of_v<T> == frame_kind::bytes) {
            write_header<T>(header, sizeof(T));
            out.append(header, header_size);
            out.append(reinterpret_cast<const char*>(&value), sizeof(T));
        } else if constexpr (kind_of_v<T> == frame_kind::contiguous) {
            const std::size_t n = value.size() * sizeof(typename T::value_type);
            write_header<T>(header, n);
            out.reserve(start + header_size + n);
            out.append(header, header_size);
            out.append(reinterpret_cast<const char*>(value.data()), n);
        } else {
            out.append(header_size, '\0');
            {
                detail::output_archive archive(out);
                archive(value);
            }
            write_header<T>(header, out.size() - start - header_size);
            std::memcpy(&out[start], header, header_size);
        }
    }
}

/// Python: ForkingPickler.dumps(obj). One frame holding `value`.
template <class T>
std::string dumps(const T& value) {
    std::string out;
    dumps_into(value, out);
    return out;
}

/// Python: ForkingPickler.loads(data). Decodes exactly one frame holding a T.
/// Throws mp::UnpicklingError (a std::invalid_argument) when the bytes are not
/// one valid frame of a T: truncated, over max_frame_size(), garbage,
/// trailing bytes, or a frame of another type.
template <class T>
T loads(std::string_view bytes) {
    static_assert(std::is_same_v<wire_type_t<T>, T>,
                  "multiprocessing::reduction::loads: ask for a value type (std::string for text)");
    const frame_header h = parse_header(bytes);
    check_header<T>(h);
    const std::size_t have = bytes.size() - header_size;
    if (h.payload_size > have) {
        throw UnpicklingError("reduction.loads: truncated frame: the header announces " +
                              std::to_string(h.payload_size) + " bytes of payload, " +
                              std::to_string(have) + " present");
    }
    if (h.payload_size < have) {
        throw UnpicklingError("reduction.loads: " + std::to_string(have - h.payload_size) +
                              " trailing bytes after the frame");
    }
    return loads_payload<T>(bytes.substr(header_size));
}

}  // namespace reduction
}  // namespace multiprocessing

// The library's archives: cereal's binary format, read with bounds checks.
namespace cereal {

template <class T>
inline std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_SAVE_FUNCTION_NAME(
    multiprocessing::reduction::detail::output_archive& ar, const T& t) {
    ar.saveBinary(std::addressof(t), sizeof(t));
}

template <class T>
inline std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>>
CEREAL_LOAD_FUNCTION_NAME(multiprocessing::reduction::detail::input_archive& ar, T& t) {
    ar.loadBinary(std::addressof(t), sizeof(t));
}

inline void CEREAL_LOAD_FUNCTION_NAME(multiprocessing::reduction::detail::input_archive& ar,
                                      bool& t) {
    unsigned char byte = 0;
    ar.loadBinary(&byte, 1);
    if (byte > 1) {
        throw multiprocessing::UnpicklingError("reduction.loads: a bool holds the byte " +
                                               std::to_string(byte));
    }
    t = byte == 1;
}

template <class Archive, class T>
inline CEREAL_ARCHIVE_RESTRICT(multiprocessing::reduction::detail::input_archive,
                               multiprocessing::reduction::detail::output_archive)
    CEREAL_SERIALIZE_FUNCTION_NAME(Archive& ar, NameValuePair<T>& t) {
    ar(t.value);
}

template <class T>
inline void CEREAL_SAVE_FUNCTION_NAME(multiprocessing::reduction::detail::output_archive& ar,
                                      const SizeTag<T>& t) {
    ar(t.size);
}

/// A container length can never exceed the bytes left: a garbage length is
/// refused before anything is allocated.
template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(multiprocessing::reduction::detail::input_archive& ar,
                                      SizeTag<T>& t) {
    ar(t.size);
    if (static_cast<std::uint64_t>(t.size) > ar.remaining()) {
        throw multiprocessing::UnpicklingError("reduction.loads: a container of " +
                                               std::to_string(t.size) + " elements in " +
                                               std::to_string(ar.remaining()) + " remaining bytes");
    }
}

template <class T>
inline void CEREAL_SAVE_FUNCTION_NAME(multiprocessing::reduction::detail::output_archive& ar,
                                      const BinaryData<T>& bd) {
    ar.saveBinary(bd.data, static_cast<std::size_t>(bd.size));
}

template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(multiprocessing::reduction::detail::input_archive& ar,
                                      BinaryData<T>& bd) {
    ar.loadBinary(bd.data, static_cast<std::size_t>(bd.size));
}

}  // namespace cereal

CEREAL_REGISTER_ARCHIVE(multiprocessing::reduction::detail::output_archive)
CEREAL_REGISTER_ARCHIVE(multiprocessing::reduction::detail::input_archive)
CEREAL_SETUP_ARCHIVE_TRAITS(multiprocessing::reduction::detail::input_archive,
                            multiprocessing::reduction::detail::output_archive)

#endif  // MULTIPROCESSING_REDUCTION_HPP
