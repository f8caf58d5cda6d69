// libFuzzer target over the value decoder (reduction::loads) and the frame
// header parser. Any input must either decode or throw mp::UnpicklingError:
// another exception, a crash, a sanitizer report, a hang or a huge allocation
// is a failure. Values that decode are encoded again and must decode to the
// same encoding.
//
// Input layout: byte 0 selects the type (low 4 bits) and whether the rest is
// a whole frame or a payload to put behind a valid header for that type (bit 4),
// so the fuzzer reaches the payload decoders without guessing type tags.
#include <multiprocessing/reduction.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

namespace mp = multiprocessing;
namespace red = multiprocessing::reduction;

namespace {

struct Record {
    std::string name;
    std::vector<double> values;
    std::optional<std::map<std::string, std::int64_t>> extra;
    template <class Archive>
    void serialize(Archive& ar) {
        ar(name, values, extra);
    }
    bool operator==(const Record& o) const {
        return name == o.name && values == o.values && extra == o.extra;
    }
};

template <class T>
void one(std::string_view data, bool wrap) {
    std::string frame;
    if (wrap) {
        char header[red::header_size];
        red::write_header<T>(header, data.size());
        frame.assign(header, red::header_size);
        frame.append(data);
        data = frame;
    }
    try {
        const T value = red::loads<T>(data);
        const std::string encoded = red::dumps(value);
        // Compared as bytes: NaN != NaN, but its encoding is stable.
        if (red::dumps(red::loads<T>(encoded)) != encoded) {
            std::fprintf(stderr, "round trip changed the value\n");
            std::abort();
        }
    } catch (const mp::UnpicklingError&) {
        // the expected outcome for malformed input
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    red::set_max_frame_size(std::uint64_t{1} << 20);
    const bool wrap = (bytes[0] & 0x10) != 0;
    const std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
    switch (bytes[0] & 0x0f) {
        case 0: one<int>(data, wrap); break;
        case 1: one<double>(data, wrap); break;
        case 2: one<bool>(data, wrap); break;
        case 3: one<std::string>(data, wrap); break;
        case 4: one<std::vector<std::int32_t>>(data, wrap); break;
        case 5: one<std::vector<std::string>>(data, wrap); break;
        case 6: one<std::map<std::string, int>>(data, wrap); break;
        case 7: one<std::tuple<int, std::string, std::optional<double>>>(data, wrap); break;
        case 8: one<std::variant<int, std::string, std::vector<bool>>>(data, wrap); break;
        case 9: one<Record>(data, wrap); break;
        case 10: one<std::list<std::vector<std::uint8_t>>>(data, wrap); break;
        case 11: one<std::pair<std::string, std::vector<std::string>>>(data, wrap); break;
        default: try { (void)red::parse_header(data);
            } catch (const mp::UnpicklingError&) {
            }
            break;
    }
    return 0;
}
