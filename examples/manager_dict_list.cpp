// Python's documentation example of a manager ("Sharing state between
// processes", Server process): a child changes a manager dict and list that
// its parent then prints.
//
//     from multiprocessing import Process, Manager
//
//     def f(d, l):
//         d[1] = '1'
//         d['2'] = 2
//         d[0.25] = None
//         l.reverse()
//
//     if __name__ == '__main__':
//         with Manager() as manager:
//             d = manager.dict()
//             l = manager.list(range(10))
//
//             p = Process(target=f, args=(d, l))
//             p.start()
//             p.join()
//
//             print(d)
//             print(l)
//
// prints
//
//     {1: '1', '2': 2, 0.25: None}
//     [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
//
// Shows: manager.dict() and manager.list() changed by a child Process and
// seen by the parent. A C++ dict has one key type and one value type; the
// Python dict mixes int, str and float keys and str, int and None values, so
// they are std::variants here (std::monostate is None), which keeps the
// example faithful: DictProxy<Key, Val>. A dict of one type, e.g.
// manager.dict<std::string, int>(), needs none of this.
#include <multiprocessing.hpp>

#include <iostream>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace mp = multiprocessing;

using Key = std::variant<int, double, std::string>;          // 1, 0.25, '2'
using Val = std::variant<std::monostate, int, std::string>;  // None, 2, '1'
using Dict = mp::managers::DictProxy<Key, Val>;
using List = mp::managers::ListProxy<int>;

void f(Dict d, List l) {
    d[1] = std::string("1");
    d[std::string("2")] = 2;
    d[0.25] = std::monostate{};  // None
    l.reverse();
}

/// Python's repr() of an int, float, str or None.
std::string repr(const std::variant<std::monostate, int, double, std::string>& v) {
    return std::visit(
        [](const auto& x) -> std::string {
            using X = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<X, std::monostate>) {
                return "None";
            } else if constexpr (std::is_same_v<X, std::string>) {
                return "'" + x + "'";
            } else if constexpr (std::is_same_v<X, double>) {
                std::string s = std::to_string(x);  // "0.250000" -> "0.25"
                s.erase(s.find_last_not_of('0') + 1);
                return s.back() == '.' ? s + "0" : s;
            } else {
                return std::to_string(x);
            }
        },
        v);
}

template <class... T>
std::variant<std::monostate, int, double, std::string> any(const std::variant<T...>& v) {
    return std::visit(
        [](const auto& x) { return std::variant<std::monostate, int, double, std::string>(x); }, v);
}

int main() {
    {
        auto manager = mp::Manager();  // with Manager() as manager:
        auto d = manager.dict<Key, Val>();
        auto l = manager.list<int>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});  // range(10)

        mp::Process p(f, d, l);
        p.start();
        p.join();

        // print(d): the items in insertion order, as Python's dict keeps them
        std::string text = "{";
        for (const auto& [k, v] : d.items()) {
            text += (text.size() > 1 ? ", " : "") + repr(any(k)) + ": " + repr(any(v));
        }
        std::cout << text << "}" << std::endl;

        // print(l)
        text = "[";
        for (int x : l.tolist()) {
            text += (text.size() > 1 ? ", " : "") + std::to_string(x);
        }
        std::cout << text << "]" << std::endl;
    }  // the manager shuts down here (Python: at the end of the with block)
}
// expect: [{]1: '1', '2': 2, 0.25: None[}]
// expect: \[9, 8, 7, 6, 5, 4, 3, 2, 1, 0\]
