// Seed 000-04: positional arguments plus keyword arguments. C++ has no
// **kwargs: the dictionary becomes an ordinary argument (a std::map), and the
// child sees both "test" and {'key': 12}.
//
//     from multiprocessing import Process
//
//     from  time import sleep
//
//     def run_test(name,**kwargs):
//         print("子进程 正在运行，name的值：%s"% name)
//         print("字典kwargs",kwargs)
//
//     if __name__ == '__main__':
//         print('主进程正在 进行')
//         p = Process(target=run_test,args=("test",),kwargs={'key':12})
//         p.start()
#include <multiprocessing.hpp>

#include <iostream>
#include <map>
#include <string>

namespace mp = multiprocessing;

// Prints a dict the way Python does: {'key': 12}
std::string dict_repr(const std::map<std::string, int>& d) {
    std::string s = "{";
    for (const auto& [k, v] : d) {
        s += (s.size() > 1 ? ", '" : "'") + k + "': " + std::to_string(v);
    }
    return s + "}";
}

void run_test(const std::string& name, const std::map<std::string, int>& kwargs) {
    std::cout << "子进程 正在运行，name的值：" << name << std::endl;
    std::cout << "字典kwargs " << dict_repr(kwargs) << std::endl;
}

int main() {
    std::cout << "主进程正在 进行" << std::endl;
    // Process(target=run_test, args=("test",), kwargs={'key': 12})
    mp::Process p(run_test, std::string("test"), std::map<std::string, int>{{"key", 12}});
    p.start();
}  // no join: the child is joined as the program exits
// expect: 主进程正在 进行
// expect: 子进程 正在运行，name的值：test
// expect: 字典kwargs \{'key': 12\}
