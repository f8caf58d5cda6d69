// libFuzzer target over the message reader of Connection: the input is what
// arrives on the socket (then the writer closes). Receiving must end in
// values, mp::UnpicklingError (not a frame of the asked type),
// std::system_error (EIO: end of file inside a message; EMSGSIZE: over
// maxlength; EPROTO: a negative length) and finally mp::EOFError: never a
// crash, a sanitizer report, a hang or a huge allocation.
//
// Byte 0 chooses what the reader asks for at each message (its bits, in turn).
#include <multiprocessing/connection.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <sys/socket.h>
#include <vector>

namespace mp = multiprocessing;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size == 0 || size > 100000) {
        return 0;  // the whole input must fit the socket buffer
    }
    mp::reduction::set_max_frame_size(std::uint64_t{1} << 20);
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        std::abort();
    }
    if (::send(fds[1], bytes + 1, size - 1, MSG_NOSIGNAL) != static_cast<ssize_t>(size - 1)) {
        std::abort();
    }
    ::close(fds[1]);
    mp::Connection conn(fds[0]);
    const unsigned choice = bytes[0];
    for (unsigned i = 0;; ++i) {
        try {
            switch ((choice >> (2 * (i % 4))) & 3U) {
                case 0: (void)conn.recv<int>(); break;
                case 1: (void)conn.recv<std::string>(); break;
                case 2: (void)conn.recv<std::map<std::string, std::vector<int>>>(); break;
                default: (void)conn.recv_bytes(64); break;
            }
        } catch (const mp::EOFError&) {
            break;  // everything was read
        } catch (const mp::UnpicklingError&) {
        } catch (const std::system_error& e) {
            const int err = e.code().value();
            if (err == EIO) {
                break;  // end of file inside a message: nothing more to read
            }
            if (err != EMSGSIZE && err != EPROTO) {  // over maxlength; a negative length
                std::fprintf(stderr, "unexpected error: %s\n", e.what());
                std::abort();
            }
        }
        if (i > 100000) {
            std::abort();  // must end: every call consumes bytes or ends
        }
    }
    return 0;
}
