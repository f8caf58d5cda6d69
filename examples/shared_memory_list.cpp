// Named shared memory: a child attaches to a SharedMemory block and a
// ShareableList by name and changes them; the creator owns both and they
// are removed from /dev/shm when it ends.
//
//     from multiprocessing import Process
//     from multiprocessing.shared_memory import SharedMemory, ShareableList
//
//     def child(shm_name, list_name):
//         shm = SharedMemory(shm_name)
//         shm.buf[0] = shm.buf[0] + 1
//         shm.close()
//         sl = ShareableList(name=list_name)
//         sl[1] = "done"
//
//     if __name__ == "__main__":
//         shm = SharedMemory(create=True, size=16)
//         shm.buf[0] = 41
//         sl = ShareableList([3, "pending", 2.5, True])
//         p = Process(target=child, args=(shm.name, sl.shm.name))
//         p.start(); p.join()
//         print("byte", shm.buf[0])
//         print("list", list(sl))
#include <multiprocessing.hpp>

#include <iostream>
#include <string>

namespace mp = multiprocessing;

void child(const std::string& shm_name, const std::string& list_name) {
    mp::SharedMemory shm(shm_name);  // attaching: this process does not own it
    shm.buf()[0] = static_cast<unsigned char>(shm.buf()[0] + 1);
    shm.close();
    auto sl = mp::ShareableList::attach(list_name);
    sl.set(1, std::string("done"));
}

int main() {
    mp::SharedMemory shm(std::nullopt, true, 16);  // SharedMemory(create=True, size=16)
    shm.buf()[0] = 41;
    mp::ShareableList sl{3, std::string("pending"), 2.5, true};
    mp::Process p(child, shm.name(), sl.shm().name());
    p.start();
    p.join();
    std::cout << "byte " << int(shm.buf()[0]) << "\n";
    std::cout << "list " << std::get<std::int64_t>(sl[0]) << " " << std::get<std::string>(sl[1])
              << " " << std::get<double>(sl[2]) << " " << std::boolalpha << std::get<bool>(sl[3])
              << std::endl;
}
// expect: byte 42
// expect: list 3 done 2.5 true
