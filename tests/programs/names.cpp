// Python's default names in a fresh program: Process-1, Process-2, a subclass
// Foo gets Foo-3, a child's child is Process-1:1; and Python's repr forms.
#include <multiprocessing.hpp>

#include <cstdio>
#include <iostream>

namespace mp = multiprocessing;

namespace app {
class Foo : public mp::Process {
public:
    void run() override {}
};
}  // namespace app

int main() {
    std::cout << mp::current_process() << std::endl;
    mp::Process p1([] {
        std::cout << "child: " << mp::current_process().name() << std::endl;
        mp::Process grandchild([] {
            std::cout << "grandchild: " << mp::current_process().name() << " parent "
                      << mp::parent_process()->name() << std::endl;
        });
        grandchild.start();
        grandchild.join();
        mp::Process second;
        std::cout << "second in child: " << second.name() << std::endl;
    });
    mp::Process p2;
    app::Foo foo;
    std::cout << p1.name() << ' ' << p2.name() << ' ' << foo.name() << std::endl;
    p1.start();
    p1.join();
    std::cout << "exit code " << *p1.exitcode() << std::endl;
    return 0;
}
