// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// Mirrors CPython's multiprocessing/connection.py: Connection, Pipe(),
// connection::wait(), Listener and Client.
//
//     auto [parent_conn, child_conn] = mp::Pipe();
//     mp::Process p([&] { child_conn.send(std::string("hello")); });
//     p.start();
//     std::string s = parent_conn.recv<std::string>();
//
// Pipes are sockets (socketpair), so every Connection has a descriptor that
// works with poll() and connection::wait(). The wire format is Python's: a
// 4-byte big-endian length (or -1 and an 8-byte length beyond 2 GiB), then
// the bytes, so send_bytes/recv_bytes interoperate with Python's
// multiprocessing.connection. send()/recv<T>() carry one reduction frame
// (reduction.hpp) as those bytes.
#ifndef MULTIPROCESSING_CONNECTION_HPP
#define MULTIPROCESSING_CONNECTION_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/detail/posix.hpp>
#include <multiprocessing/detail/socket.hpp>
#include <multiprocessing/exceptions.hpp>
#include <multiprocessing/process.hpp>
#include <multiprocessing/reduction.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <endian.h>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/uio.h>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace multiprocessing {

namespace detail {

template <class C, class = void>
struct is_byte_container : std::false_type {};
template <class C>
struct is_byte_container<C, std::void_t<decltype(std::data(std::declval<C&>())),
                                        decltype(std::size(std::declval<C&>()))>>
    : std::bool_constant<std::is_trivially_copyable_v<
                             std::remove_pointer_t<decltype(std::data(std::declval<C&>()))>> &&
                         !std::is_convertible_v<const C&, std::string_view>> {};

/// Messages up to this size are read into the receive buffer in one call.
inline constexpr std::size_t small_message = 64 * 1024;

}  // namespace detail

/// Python: multiprocessing.connection.Connection. One end of a pipe or of a
/// socket connection. Sends and receives whole messages: values (send/recv)
/// or bytes (send_bytes/recv_bytes). Move-only; the destructor closes it.
///
/// Like Python's, a Connection is not meant to be used by two threads (or
/// two processes) at once in the same direction; one thread sending while
/// another receives is fine. Two processes reading one end each take whole
/// messages as long as the messages waiting are of equal size (the seed
/// example's pattern); in general give each process its own end.
class Connection {
public:
    /// A closed connection.
    Connection() noexcept = default;

    /// Python: Connection(handle, readable=True, writable=True). Takes
    /// ownership of the socket descriptor `fd`. Throws std::invalid_argument
    /// if neither readable nor writable ("at least one of ... must be True").
    explicit Connection(int fd, bool readable = true, bool writable = true)
        : fd_(fd), readable_(readable), writable_(writable) {
        if (!readable && !writable) {
            throw std::invalid_argument(
                "Connection: at least one of `readable` and `writable` must be True");
        }
    }

    Connection(Connection&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)),
          readable_(other.readable_),
          writable_(other.writable_),
          wbuf_(std::move(other.wbuf_)),
          rbuf_(std::move(other.rbuf_)) {}
    Connection& operator=(Connection&& other) noexcept {
        if (this != &other) {
            detail::close_fd(fd_);
            fd_ = std::exchange(other.fd_, -1);
            readable_ = other.readable_;
            writable_ = other.writable_;
            wbuf_ = std::move(other.wbuf_);
            rbuf_ = std::move(other.rbuf_);
        }
        return *this;
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    /// Closes the descriptor (Python's __del__).
    ~Connection() { detail::close_fd(fd_); }

    /// Python: closed.
    bool closed() const noexcept { return fd_ < 0; }
    /// Python: readable.
    bool readable() const noexcept { return readable_; }
    /// Python: writable.
    bool writable() const noexcept { return writable_; }

    /// Python: fileno(). Throws std::system_error (EBADF) if closed.
    int fileno() const {
        check_closed("fileno");
        return fd_;
    }

    /// Python: close(). Idempotent.
    void close() noexcept {
        detail::close_fd(fd_);
        fd_ = -1;
    }

    /// Gives up ownership of the descriptor, which stays open (Python: detach()).
    int detach() noexcept { return std::exchange(fd_, -1); }

    /// Python: send(obj). Sends one value, encoded by reduction::dumps
    /// (trivially copyable types as bytes, std::string and vectors as their
    /// elements without an intermediate copy, the rest through cereal).
    /// Throws std::system_error (EBADF) if closed or read-only, std::system_error
    /// (EPIPE, ECONNRESET) if the other end is gone: never SIGPIPE.
    template <class T>
    void send(const T& obj) {
        check_writable("send");
        using W = reduction::wire_type_t<T>;
        if constexpr (reduction::is_contiguous_v<W> && std::is_same_v<W, std::remove_cv_t<T>>) {
            const std::size_t n = obj.size() * sizeof(typename W::value_type);
            if (n > detail::small_message) {
                char header[reduction::header_size];
                reduction::write_header<W>(header, n);
                send_message({{header, reduction::header_size},
                              {const_cast<void*>(static_cast<const void*>(obj.data())), n}},
                             "Connection.send");
                return;
            }
        }
        wbuf_.clear();
        reduction::dumps_into(obj, wbuf_);
        send_message({{wbuf_.data(), wbuf_.size()}}, "Connection.send");
        trim(wbuf_);
    }

    /// Python: recv(). Blocks until a whole value arrives and returns it.
    /// Throws mp::EOFError when the other end is closed and nothing is left;
    /// mp::UnpicklingError when the message is not a T (the message is
    /// consumed, the connection stays usable); std::system_error if closed,
    /// write-only, or the other end vanished in the middle of a message.
    template <class T>
    T recv() {
        return recv_until<T>(std::nullopt);
    }

    /// recv() that waits at most `timeout` for a message to begin; throws
    /// mp::TimeoutError if none does (nothing is consumed then).
    template <class T, class Rep, class Period>
    T recv(std::chrono::duration<Rep, Period> timeout) {
        return recv_until<T>(detail::deadline_after(timeout));
    }

    /// Python: send_bytes(buf, offset=0, size=None). Sends bytes as one
    /// message, without copying them. Throws std::invalid_argument for a bad
    /// offset or size (Python's ValueError), std::system_error as send().
    void send_bytes(std::string_view buf, std::size_t offset = 0,
                    std::optional<std::size_t> size = std::nullopt) {
        check_writable("send_bytes");
        if (offset > buf.size()) {
            throw std::invalid_argument("Connection.send_bytes: buffer length < offset");
        }
        const std::size_t n = size.value_or(buf.size() - offset);
        if (n > buf.size() - offset) {
            throw std::invalid_argument("Connection.send_bytes: buffer length < offset + size");
        }
        send_message({{const_cast<char*>(buf.data() + offset), n}}, "Connection.send_bytes");
    }

    /// send_bytes for any contiguous container of trivially copyable elements
    /// (std::vector<std::uint8_t>, std::array<char, N>, ...); `offset` and
    /// `size` count bytes, as Python's memoryview cast to bytes does.
    template <class C, std::enable_if_t<detail::is_byte_container<const C>::value, int> = 0>
    void send_bytes(const C& buf, std::size_t offset = 0,
                    std::optional<std::size_t> size = std::nullopt) {
        const auto bytes = std::size(buf) * sizeof(*std::data(buf));
        send_bytes(std::string_view(reinterpret_cast<const char*>(std::data(buf)), bytes), offset,
                   size);
    }

    /// Python: recv_bytes(maxlength=None). Blocks until a whole message
    /// arrives and returns its bytes. A message longer than `maxlength` (or
    /// than reduction::max_frame_size() when no maxlength is given) is read
    /// and discarded, then std::system_error (EMSGSIZE, "bad message length")
    /// is thrown: unlike Python's, the connection stays usable and the next
    /// call returns the next message. Throws mp::EOFError when the other end
    /// is closed and nothing is left.
    std::string recv_bytes(std::optional<std::size_t> maxlength = std::nullopt) {
        return recv_bytes_until(std::nullopt, maxlength);
    }

    /// recv_bytes() that waits at most `timeout` for a message to begin;
    /// throws mp::TimeoutError if none does.
    template <class Rep, class Period>
    std::string recv_bytes(std::chrono::duration<Rep, Period> timeout,
                           std::optional<std::size_t> maxlength = std::nullopt) {
        return recv_bytes_until(detail::deadline_after(timeout), maxlength);
    }

    /// Python: recv_bytes_into(buffer, offset=0). Reads one message into
    /// `buffer` (of `buffer_size` bytes) at `offset` and returns its length.
    /// If it does not fit, throws mp::BufferTooShort holding the whole message
    /// (`e.message()`); the message is consumed, as in Python. Throws
    /// std::invalid_argument if offset > buffer_size.
    std::size_t recv_bytes_into(void* buffer, std::size_t buffer_size, std::size_t offset = 0) {
        check_readable("recv_bytes_into");
        if (offset > buffer_size) {
            throw std::invalid_argument("Connection.recv_bytes_into: offset too large");
        }
        const incoming m = next_message(std::nullopt, "Connection.recv_bytes_into");
        if (m.size > buffer_size - offset) {
            if (m.size > reduction::max_frame_size()) {
                discard(m, "Connection.recv_bytes_into");
                throw_bad_length("Connection.recv_bytes_into", m.size, reduction::max_frame_size());
            }
            std::string whole(m.size, '\0');
            read_payload(m, whole.data(), "Connection.recv_bytes_into");
            throw BufferTooShort(std::move(whole));
        }
        read_payload(m, static_cast<char*>(buffer) + offset, "Connection.recv_bytes_into");
        return static_cast<std::size_t>(m.size);
    }

    /// recv_bytes_into for a contiguous container of trivially copyable
    /// elements; `offset` counts bytes. The container is not resized.
    template <class C, std::enable_if_t<detail::is_byte_container<C>::value &&
                                            !std::is_const_v<std::remove_pointer_t<
                                                decltype(std::data(std::declval<C&>()))>>,
                                        int> = 0>
    std::size_t recv_bytes_into(C& buffer, std::size_t offset = 0) {
        return recv_bytes_into(static_cast<void*>(std::data(buffer)),
                               std::size(buffer) * sizeof(*std::data(buffer)), offset);
    }

    /// Python: poll(). Whether there is anything to read (a message, or EOF)
    /// right now.
    bool poll() { return poll_until(detail::clock::now()); }
    /// Python: poll(timeout). Waits at most `timeout` for something to read.
    template <class Rep, class Period>
    bool poll(std::chrono::duration<Rep, Period> timeout) {
        return poll_until(detail::deadline_after(timeout));
    }
    /// Python: poll(None). Waits until there is something to read.
    bool poll(std::nullopt_t) { return poll_until(std::nullopt); }

private:
    // A message whose length is known: `header_len` bytes of length prefix
    // still in the socket (0 once consumed), then `size` bytes of payload.
    struct incoming {
        std::uint64_t size = 0;
        std::size_t header_len = 0;
    };

    [[noreturn]] static void throw_misuse(const char* method, const char* message) {
        throw std::system_error(EBADF, std::generic_category(),
                                std::string("Connection.") + method + ": " + message);
    }
    void check_closed(const char* method) const {
        if (fd_ < 0) {
            throw_misuse(method, "handle is closed");
        }
    }
    void check_readable(const char* method) const {
        check_closed(method);
        if (!readable_) {
            throw_misuse(method, "connection is write-only");
        }
    }
    void check_writable(const char* method) const {
        check_closed(method);
        if (!writable_) {
            throw_misuse(method, "connection is read-only");
        }
    }
    [[noreturn]] static void throw_bad_length(const std::string& what, std::uint64_t size,
                                              std::uint64_t limit) {
        throw std::system_error(EMSGSIZE, std::generic_category(),
                                what + ": bad message length: " + std::to_string(size) +
                                    " bytes, at most " + std::to_string(limit) +
                                    " accepted (the message was discarded)");
    }
    static void trim(std::string& buf) {
        if (buf.capacity() > (std::size_t{1} << 20)) {
            std::string().swap(buf);
        }
    }

    struct chunk {
        void* data;
        std::size_t size;
    };

    /// Sends a length prefix and the chunks as one message, in one sendmsg
    /// when the socket takes it all.
    void send_message(std::initializer_list<chunk> chunks, const char* what) {
        std::uint64_t total = 0;
        for (const auto& c : chunks) {
            total += c.size;
        }
        char prefix[12];
        std::size_t prefix_len;
        if (total > 0x7fffffff) {
            const std::uint32_t minus_one = htonl(0xffffffffU);
            const std::uint64_t big = htobe64(total);
            std::memcpy(prefix, &minus_one, 4);
            std::memcpy(prefix + 4, &big, 8);
            prefix_len = 12;
        } else {
            const std::uint32_t small = htonl(static_cast<std::uint32_t>(total));
            std::memcpy(prefix, &small, 4);
            prefix_len = 4;
        }
        iovec iov[4];
        std::size_t count = 0;
        iov[count++] = {prefix, prefix_len};
        for (const auto& c : chunks) {
            iov[count++] = {c.data, c.size};
        }
        detail::send_all(fd_, iov, count, what);
    }

    /// Waits for a message to begin (until `until`), and reads its length.
    /// The length prefix is only peeked at when possible, so that the prefix
    /// and a small payload are then taken in one call.
    incoming next_message(const detail::deadline& until, const char* what) {
        check_readable(what + std::strlen("Connection."));
        if (until && !detail::wait_readable(fd_, until)) {
            throw TimeoutError(std::string(what) + ": timed out");
        }
        char prefix[12];
        std::size_t have = detail::peek_some(fd_, prefix, sizeof prefix, what);
        if (have == 0) {
            throw EOFError(std::string(what) + ": the other end is closed");
        }
        incoming m;
        std::int32_t first;
        if (have >= 4) {
            std::uint32_t raw;
            std::memcpy(&raw, prefix, 4);
            first = static_cast<std::int32_t>(ntohl(raw));
            if (first != -1) {
                m.size = static_cast<std::uint32_t>(first);
                m.header_len = 4;
                check_size(m, what);
                return m;
            }
            if (have >= 12) {
                std::uint64_t raw64;
                std::memcpy(&raw64, prefix + 4, 8);
                m.size = be64toh(raw64);
                m.header_len = 12;
                check_size(m, what);
                return m;
            }
        }
        // The prefix is not all there yet: consume it as it comes.
        recv_exact(prefix, 4, what, true);
        std::uint32_t raw;
        std::memcpy(&raw, prefix, 4);
        first = static_cast<std::int32_t>(ntohl(raw));
        if (first == -1) {
            std::uint64_t raw64;
            recv_exact(reinterpret_cast<char*>(&raw64), 8, what, false);
            m.size = be64toh(raw64);
        } else {
            m.size = static_cast<std::uint32_t>(first);
        }
        m.header_len = 0;
        check_size(m, what);
        return m;
    }

    static void check_size(const incoming& m, const char* what) {
        if (m.header_len == 4 && m.size > 0x7fffffff) {
            throw std::system_error(EPROTO, std::generic_category(),
                                    std::string(what) + ": negative message length");
        }
    }

    void recv_exact(char* data, std::size_t size, const char* what, bool at_start) {
        iovec iov{data, size};
        if (detail::recv_all(fd_, &iov, 1, what) != size) {
            if (at_start) {
                throw EOFError(std::string(what) + ": the other end is closed");
            }
            throw_eof_in_message(what);
        }
    }

    [[noreturn]] static void throw_eof_in_message(const char* what) {
        throw std::system_error(EIO, std::generic_category(),
                                std::string(what) + ": got end of file during message");
    }

    /// Reads the rest of message `m` (its prefix if still there, then the
    /// payload into `dest`), in one recvmsg when it has all arrived.
    void read_payload(const incoming& m, char* dest, const char* what) {
        char prefix[12];
        iovec iov[2] = {{prefix, m.header_len}, {dest, static_cast<std::size_t>(m.size)}};
        if (detail::recv_all(fd_, iov, 2, what) != m.header_len + m.size) {
            throw_eof_in_message(what);
        }
    }

    /// Reads message `m` and throws its bytes away, in bounded chunks.
    void discard(const incoming& m, const char* what) {
        char trash[16384];
        std::uint64_t left = m.header_len + m.size;
        while (left > 0) {
            const std::size_t n =
                static_cast<std::size_t>(std::min<std::uint64_t>(left, sizeof trash));
            iovec iov{trash, n};
            if (detail::recv_all(fd_, &iov, 1, what) != n) {
                throw_eof_in_message(what);
            }
            left -= n;
        }
    }

    std::string recv_bytes_until(const detail::deadline& until,
                                 std::optional<std::size_t> maxlength) {
        const incoming m = next_message(until, "Connection.recv_bytes");
        const std::uint64_t limit = maxlength ? *maxlength : reduction::max_frame_size();
        if (m.size > limit) {
            discard(m, "Connection.recv_bytes");
            throw_bad_length("Connection.recv_bytes", m.size, limit);
        }
        std::string out(static_cast<std::size_t>(m.size), '\0');
        read_payload(m, out.data(), "Connection.recv_bytes");
        return out;
    }

    template <class T>
    T recv_until(const detail::deadline& until) {
        static_assert(std::is_same_v<reduction::wire_type_t<T>, T>,
                      "multiprocessing::Connection::recv: ask for a value type (std::string "
                      "for text)");
        const char* what = "Connection.recv";
        const incoming m = next_message(until, what);
        if (m.size > reduction::max_frame_size() + reduction::header_size) {
            discard(m, what);
            throw UnpicklingError("Connection.recv: a message of " + std::to_string(m.size) +
                                  " bytes is over the limit of " +
                                  std::to_string(reduction::max_frame_size()) +
                                  " bytes (reduction::set_max_frame_size); it was discarded");
        }
        if constexpr (reduction::is_contiguous_v<T>) {
            if (m.size > detail::small_message) {
                // Large: check the frame header, then read the elements
                // straight into the result.
                char header[reduction::header_size];
                char prefix[12];
                iovec iov[2] = {{prefix, m.header_len}, {header, reduction::header_size}};
                if (detail::recv_all(fd_, iov, 2, what) != m.header_len + reduction::header_size) {
                    throw_eof_in_message(what);
                }
                const incoming rest{m.size - reduction::header_size, 0};
                reduction::frame_header h;
                try {
                    h = reduction::parse_header(std::string_view(header, reduction::header_size));
                    reduction::check_header<T>(h);
                    if (h.payload_size != rest.size) {
                        throw UnpicklingError(
                            "Connection.recv: the frame length does not match "
                            "the message length");
                    }
                } catch (...) {
                    discard(rest, what);
                    throw;
                }
                T value;
                value.resize(static_cast<std::size_t>(rest.size / sizeof(typename T::value_type)));
                read_payload(rest, reinterpret_cast<char*>(value.data()), what);
                return value;
            }
        }
        rbuf_.resize(static_cast<std::size_t>(m.size));
        read_payload(m, rbuf_.data(), what);
        T value = reduction::loads<T>(rbuf_);
        trim(rbuf_);
        return value;
    }

    bool poll_until(const detail::deadline& until) {
        check_readable("poll");
        return detail::wait_readable(fd_, until);
    }

    int fd_ = -1;
    bool readable_ = true;
    bool writable_ = true;
    std::string wbuf_;  // reused by send(): no allocation per message
    std::string rbuf_;  // reused by recv()
};

/// Python: multiprocessing.Pipe(duplex=True). Two connected Connections on a
/// socketpair. With duplex = false, the first can only receive and the second
/// can only send (Python's `(r, w)`). Both descriptors are close-on-exec.
/// Throws std::system_error if socketpair fails.
inline std::pair<Connection, Connection> Pipe(bool duplex = true) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
        detail::throw_errno("Pipe: socketpair");
    }
    if (duplex) {
        return {Connection(fds[0]), Connection(fds[1])};
    }
    ::shutdown(fds[0], SHUT_WR);
    ::shutdown(fds[1], SHUT_RD);
    return {Connection(fds[0], true, false), Connection(fds[1], false, true)};
}

namespace connection {

/// Something connection::wait() can wait on: a Connection (readable when a
/// message or EOF is there), a Process (ready once it ended: its sentinel),
/// or a raw file descriptor (readable). Holds a reference: the object must
/// outlive the wait. Compares equal to the object it refers to.
class Waitable {
public:
    /// A Connection.
    Waitable(Connection& conn) noexcept : conn_(&conn) {}  // NOLINT: implicit, as in Python's list
    /// A Process (its sentinel()).
    Waitable(Process& process) noexcept : process_(&process) {}  // NOLINT
    /// A raw descriptor, e.g. a Process::sentinel() or a socket.
    Waitable(int fd) noexcept : fd_(fd) {}  // NOLINT

    /// The Connection, or nullptr.
    Connection* connection() const noexcept { return conn_; }
    /// The Process, or nullptr.
    Process* process() const noexcept { return process_; }
    /// The descriptor polled for this object.
    int fileno() const {
        if (conn_) {
            return conn_->fileno();
        }
        if (process_) {
            return process_->sentinel();
        }
        return fd_;
    }

    friend bool operator==(const Waitable& a, const Waitable& b) noexcept {
        return a.conn_ == b.conn_ && a.process_ == b.process_ && a.fd_ == b.fd_;
    }
    friend bool operator!=(const Waitable& a, const Waitable& b) noexcept { return !(a == b); }

private:
    Connection* conn_ = nullptr;
    Process* process_ = nullptr;
    int fd_ = -1;
};

namespace detail {

inline std::vector<Waitable> wait_until(const std::vector<Waitable>& objects,
                                        const multiprocessing::detail::deadline& until) {
    std::vector<pollfd> fds;
    fds.reserve(objects.size());
    for (const auto& o : objects) {
        fds.push_back(pollfd{o.fileno(), POLLIN, 0});
    }
    for (;;) {
        timespec ts{};
        timespec* tsp = nullptr;
        if (until) {
            auto left = *until - multiprocessing::detail::clock::now();
            if (left < left.zero()) {
                left = left.zero();
            }
            const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
            ts.tv_sec = static_cast<time_t>(ns / 1000000000);
            ts.tv_nsec = static_cast<long>(ns % 1000000000);
            tsp = &ts;
        }
        const int r = ::ppoll(fds.data(), fds.size(), tsp, nullptr);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            multiprocessing::detail::throw_errno("connection.wait: poll");
        }
        std::vector<Waitable> ready;
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].revents != 0) {
                ready.push_back(objects[i]);
            }
        }
        return ready;
    }
}

}  // namespace detail

/// Python: multiprocessing.connection.wait(object_list). Blocks until at
/// least one object is ready and returns the ready ones, in list order.
/// Throws std::system_error (EBADF) for a closed Connection.
inline std::vector<Waitable> wait(const std::vector<Waitable>& object_list) {
    return detail::wait_until(object_list, std::nullopt);
}

/// Python: wait(object_list, timeout). Returns the ready objects, or an
/// empty list when `timeout` passes first.
template <class Rep, class Period>
std::vector<Waitable> wait(const std::vector<Waitable>& object_list,
                           std::chrono::duration<Rep, Period> timeout) {
    return detail::wait_until(object_list, multiprocessing::detail::deadline_after(timeout));
}

}  // namespace connection

}  // namespace multiprocessing

#endif  // MULTIPROCESSING_CONNECTION_HPP
