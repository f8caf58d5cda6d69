// Tests for multiprocessing/reduction.hpp: the value codec.
#include "support/catch.hpp"
#include <multiprocessing/reduction.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

namespace mp = multiprocessing;
namespace red = multiprocessing::reduction;

namespace {

struct Point {
    int x;
    double y;
};

struct Order {
    std::string item;
    std::vector<int> sizes;
    std::map<std::string, double> prices;
    template <class Archive>
    void serialize(Archive& ar) {
        ar(item, sizes, prices);
    }
    bool operator==(const Order& o) const {
        return item == o.item && sizes == o.sizes && prices == o.prices;
    }
};

template <class T>
T round_trip(const T& value) {
    return red::loads<T>(red::dumps(value));
}

// Restores the frame limit when a test changes it.
struct limit_guard {
    std::uint64_t saved = red::max_frame_size();
    ~limit_guard() { red::set_max_frame_size(saved); }
};

}  // namespace

TEST_CASE("trivially copyable values travel as their bytes", "[reduction]") {
    REQUIRE(round_trip(42) == 42);
    REQUIRE(round_trip(-1.5) == -1.5);
    REQUIRE(round_trip(true) == true);
    REQUIRE(round_trip('x') == 'x');
    const Point p = round_trip(Point{3, 4.5});
    REQUIRE(p.x == 3);
    REQUIRE(p.y == 4.5);
    REQUIRE(red::dumps(7).size() == red::header_size + sizeof(int));
    REQUIRE(red::kind_of_v<Point> == red::frame_kind::bytes);
}

TEST_CASE("strings and vectors travel as their elements", "[reduction]") {
    REQUIRE(round_trip(std::string()).empty());
    const std::string binary("a\0b\xff", 4);
    REQUIRE(round_trip(binary) == binary);
    const std::vector<int> v{1, 2, 3};
    REQUIRE(round_trip(v) == v);
    REQUIRE(red::dumps(v).size() == red::header_size + 3 * sizeof(int));
    REQUIRE(red::kind_of_v<std::string> == red::frame_kind::contiguous);
}

TEST_CASE("text literals and string_view travel as std::string", "[reduction]") {
    REQUIRE(red::loads<std::string>(red::dumps("hello")) == "hello");
    const char* text = "pointer";
    REQUIRE(red::loads<std::string>(red::dumps(text)) == "pointer");
    REQUIRE(red::loads<std::string>(red::dumps(std::string_view("view"))) == "view");
}

TEST_CASE("other types travel through cereal", "[reduction]") {
    const std::vector<std::string> words{"a", "", "ccc"};
    REQUIRE(round_trip(words) == words);
    const std::map<std::string, int> m{{"one", 1}, {"two", 2}};
    REQUIRE(round_trip(m) == m);
    const auto t = std::make_tuple(1, std::string("x"), std::optional<double>(2.5));
    REQUIRE(round_trip(t) == t);
    REQUIRE(round_trip(std::optional<std::string>()) == std::nullopt);
    const std::variant<int, std::string> var = std::string("alt");
    REQUIRE(round_trip(var) == var);
    const Order order{"shirt", {38, 40}, {{"eur", 9.5}}};
    REQUIRE(round_trip(order) == order);
    const std::vector<bool> bits{true, false, true};
    REQUIRE(round_trip(bits) == bits);
}

TEST_CASE("dumps_into appends one frame after what is there", "[reduction]") {
    std::string out = "prefix";
    red::dumps_into(5, out);
    red::dumps_into(std::string("six"), out);
    REQUIRE(out.compare(0, 6, "prefix") == 0);
    const std::string_view rest = std::string_view(out).substr(6);
    const auto h = red::parse_header(rest);
    const std::size_t first = red::header_size + h.payload_size;
    REQUIRE(red::loads<int>(rest.substr(0, first)) == 5);
    REQUIRE(red::loads<std::string>(rest.substr(first)) == "six");
}

TEST_CASE("every truncation of a frame is refused", "[reduction]") {
    const std::string frame = red::dumps(Order{"item", {1, 2, 3}, {{"k", 1.0}}});
    for (std::size_t n = 0; n < frame.size(); ++n) {
        CHECK_THROWS_AS(red::loads<Order>(std::string_view(frame).substr(0, n)),
                        mp::UnpicklingError);
    }
    const std::string small = red::dumps(1234);
    REQUIRE_THROWS_WITH(red::loads<int>(std::string_view(small).substr(0, small.size() - 1)),
                        Catch::Contains("truncated"));
}

TEST_CASE("trailing bytes after a frame are refused", "[reduction]") {
    std::string frame = red::dumps(std::string("abc"));
    frame += "x";
    REQUIRE_THROWS_WITH(red::loads<std::string>(frame), Catch::Contains("trailing"));
}

TEST_CASE("garbage and corrupt headers are refused", "[reduction]") {
    REQUIRE_THROWS_WITH(red::loads<int>(std::string(40, 'z')), Catch::Contains("bad magic"));
    std::string frame = red::dumps(1);
    frame[3] = '\x07';
    REQUIRE_THROWS_WITH(red::loads<int>(frame), Catch::Contains("version"));
    frame = red::dumps(1);
    frame[6] = '\x01';
    REQUIRE_THROWS_WITH(red::loads<int>(frame), Catch::Contains("corrupt"));
    frame = red::dumps(1);
    frame[4] = '\x09';
    REQUIRE_THROWS_WITH(red::loads<int>(frame), Catch::Contains("corrupt"));
}

TEST_CASE("a frame of another type is refused", "[reduction]") {
    REQUIRE_THROWS_WITH(red::loads<float>(red::dumps(1)), Catch::Contains("another type"));
    REQUIRE_THROWS_AS(red::loads<long>(red::dumps(1)), mp::UnpicklingError);
    REQUIRE_THROWS_AS(red::loads<std::vector<char>>(red::dumps(std::string("ab"))),
                      mp::UnpicklingError);
    REQUIRE_THROWS_AS(red::loads<std::vector<std::string>>(red::dumps(std::vector<int>{1})),
                      mp::UnpicklingError);
    REQUIRE_THROWS_AS(red::loads<Order>(red::dumps(std::map<std::string, int>{})),
                      mp::UnpicklingError);
    // The error is also a std::invalid_argument, as loads always promised.
    REQUIRE_THROWS_AS(red::loads<int>(red::dumps(2.0)), std::invalid_argument);
}

TEST_CASE("a length over the configurable limit is refused before allocating", "[reduction]") {
    limit_guard guard;
    const std::string frame = red::dumps(std::string(100, 'a'));
    red::set_max_frame_size(99);
    REQUIRE_THROWS_WITH(red::loads<std::string>(frame), Catch::Contains("over the limit"));
    red::set_max_frame_size(100);
    REQUIRE(red::loads<std::string>(frame).size() == 100);
    // An absurd announced length with a real payload behind it.
    std::string absurd = red::dumps(std::string("abc"));
    for (int i = 16; i < 24; ++i) {
        absurd[static_cast<std::size_t>(i)] = '\xff';
    }
    REQUIRE_THROWS_WITH(red::loads<std::string>(absurd), Catch::Contains("over the limit"));
}

TEST_CASE("a container length the bytes cannot hold is refused", "[reduction]") {
    std::string frame = red::dumps(std::vector<std::string>{"a"});
    // The first 8 payload bytes are the element count: make it enormous.
    for (std::size_t i = red::header_size; i < red::header_size + 8; ++i) {
        frame[i] = '\x7f';
    }
    REQUIRE_THROWS_WITH(red::loads<std::vector<std::string>>(frame), Catch::Contains("container"));
}

TEST_CASE("invalid bools and variant indexes are refused", "[reduction]") {
    std::string frame = red::dumps(true);
    frame[red::header_size] = '\x02';
    REQUIRE_THROWS_WITH(red::loads<bool>(frame), Catch::Contains("bool"));
    frame = red::dumps(std::optional<int>());
    if (red::kind_of_v<std::optional<int>> == red::frame_kind::cereal) {
        frame[red::header_size] = '\x05';
        REQUIRE_THROWS_AS(red::loads<std::optional<int>>(frame), mp::UnpicklingError);
    }
    using V = std::variant<int, std::string>;
    frame = red::dumps(V(3));
    frame[red::header_size] = '\x09';
    REQUIRE_THROWS_WITH(red::loads<V>(frame), Catch::Contains("malformed"));
    frame[red::header_size] = '\xff';
    frame[red::header_size + 3] = '\xff';
    REQUIRE_THROWS_AS(red::loads<V>(frame), mp::UnpicklingError);
}

TEST_CASE("a vector payload that is not whole elements is refused", "[reduction]") {
    std::string frame = red::dumps(std::vector<std::int32_t>{1, 2});
    frame.pop_back();
    frame[16] = static_cast<char>(frame[16] - 1);  // the length now matches: 7 bytes
    REQUIRE_THROWS_WITH(red::loads<std::vector<std::int32_t>>(frame),
                        Catch::Contains("whole number"));
}
