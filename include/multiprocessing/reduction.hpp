// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// Mirrors CPython's multiprocessing/reduction.py: how a value crosses a process
// boundary (Python pickles it). Trivially copyable types travel as their
// bytes; every other type through cereal, so a type with a cereal
// `serialize` function just works.
#ifndef MULTIPROCESSING_REDUCTION_HPP
#define MULTIPROCESSING_REDUCTION_HPP

#include <multiprocessing/config.hpp>

#include <cereal/archives/binary.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace multiprocessing::reduction {

/// Python: ForkingPickler.dumps(obj). Appends the bytes of `value` to `out`.
template <class T>
void dumps_into(const T& value, std::string& out) {
    if constexpr (std::is_trivially_copyable_v<T>) {
        out.append(reinterpret_cast<const char*>(&value), sizeof(T));
    } else {
        std::ostringstream stream(std::ios::binary);
        {
            cereal::BinaryOutputArchive archive(stream);
            archive(value);
        }
        out += stream.str();
    }
}

/// Python: ForkingPickler.dumps(obj).
template <class T>
std::string dumps(const T& value) {
    std::string out;
    dumps_into(value, out);
    return out;
}

/// Python: ForkingPickler.loads(data). Throws std::invalid_argument when the
/// bytes are not a T.
template <class T>
T loads(std::string_view bytes) {
    if constexpr (std::is_trivially_copyable_v<T>) {
        if (bytes.size() != sizeof(T)) {
            throw std::invalid_argument("reduction.loads: expected " + std::to_string(sizeof(T)) +
                                        " bytes, got " + std::to_string(bytes.size()));
        }
        T value;
        std::memcpy(&value, bytes.data(), sizeof(T));
        return value;
    } else {
        std::istringstream stream(std::string(bytes), std::ios::binary);
        cereal::BinaryInputArchive archive(stream);
        T value{};
        try {
            archive(value);
        } catch (const cereal::Exception& e) {
            throw std::invalid_argument(std::string("reduction.loads: malformed data: ") +
                                        e.what());
        }
        return value;
    }
}

}  // namespace multiprocessing::reduction

#endif  // MULTIPROCESSING_REDUCTION_HPP
