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
#include <multiprocessing/detail/hmac.hpp>
#include <multiprocessing/detail/posix.hpp>
#include <multiprocessing/detail/socket.hpp>
#include <multiprocessing/exceptions.hpp>
#include <multiprocessing/process.hpp>
#include <multiprocessing/reduction.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <endian.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace multiprocessing {

namespace detail {

/// A contiguous container of trivially copyable elements (std::data, std::size).
template <class C, class = void>
struct is_contiguous_container : std::false_type {};
template <class C>
struct is_contiguous_container<C, std::void_t<decltype(std::data(std::declval<C&>())),
                                              decltype(std::size(std::declval<C&>()))>>
    : std::is_trivially_copyable<std::remove_pointer_t<decltype(std::data(std::declval<C&>()))>> {};

/// send_bytes' container overload: not for what converts to std::string_view.
template <class C>
inline constexpr bool is_byte_container_v =
    is_contiguous_container<const C>::value && !std::is_convertible_v<const C&, std::string_view>;

/// recv_bytes_into's container overload: writable elements.
/// (Not C arrays: `recv_bytes_into(array, sizeof array)` means pointer and size.)
template <class C>
inline constexpr bool is_writable_container_v =
    is_contiguous_container<C>::value&& std::is_class_v<C> &&
    !std::is_const_v<std::remove_pointer_t<decltype(std::data(std::declval<C&>()))>>;

struct connection_access;

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
///
/// The library never reads ahead of the message asked for, with one
/// exception: recv<T>() of a trivially copyable T reads a T's message length
/// at once, and when the message was shorter (of another type: an error) the
/// bytes of the next one are kept in this object for the next receive.
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
          rbuf_(std::move(other.rbuf_)),
          pending_(std::move(other.pending_)),
          pending_pos_(std::exchange(other.pending_pos_, 0)) {}
    Connection& operator=(Connection&& other) noexcept {
        if (this != &other) {
            detail::close_fd(fd_);
            fd_ = std::exchange(other.fd_, -1);
            readable_ = other.readable_;
            writable_ = other.writable_;
            wbuf_ = std::move(other.wbuf_);
            rbuf_ = std::move(other.rbuf_);
            pending_ = std::move(other.pending_);
            pending_pos_ = std::exchange(other.pending_pos_, 0);
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
        // The length prefix and the frame in one buffer, sent in one call.
        wbuf_.assign(4, '\0');
        reduction::dumps_into(obj, wbuf_);
        const std::size_t n = wbuf_.size() - 4;
        if (n > 0x7fffffff) {
            send_message({{&wbuf_[4], n}}, "Connection.send");
        } else {
            const std::uint32_t prefix = htonl(static_cast<std::uint32_t>(n));
            std::memcpy(&wbuf_[0], &prefix, 4);
            iovec iov{wbuf_.data(), wbuf_.size()};
            detail::send_all(fd_, &iov, 1, "Connection.send");
        }
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
        if (n <= detail::small_message / 4) {
            // Small: one contiguous buffer, one call (and one TCP segment).
            const std::uint32_t prefix = htonl(static_cast<std::uint32_t>(n));
            wbuf_.assign(reinterpret_cast<const char*>(&prefix), 4);
            wbuf_.append(buf.data() + offset, n);
            iovec iov{wbuf_.data(), wbuf_.size()};
            detail::send_all(fd_, &iov, 1, "Connection.send_bytes");
            return;
        }
        send_message({{const_cast<char*>(buf.data() + offset), n}}, "Connection.send_bytes");
    }

    /// send_bytes for any contiguous container of trivially copyable elements
    /// (std::vector<std::uint8_t>, std::array<char, N>, ...); `offset` and
    /// `size` count bytes, as Python's memoryview cast to bytes does.
    template <class C, std::enable_if_t<detail::is_byte_container_v<C>, int> = 0>
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
    template <class C, std::enable_if_t<detail::is_writable_container_v<C>, int> = 0>
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
        bool in_socket = true;  // the prefix is still in the socket (only peeked at)
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
        char prefix[12];
        std::size_t have = 0;
        if (pending_size() == 0) {
            if (until && !detail::wait_readable(fd_, until)) {
                throw TimeoutError(std::string(what) + ": timed out");
            }
            have = detail::peek_some(fd_, prefix, sizeof prefix, what);
        } else {
            have = 1;  // consume the prefix from what was read ahead
        }
        if (have == 0) {
            throw EOFError(std::string(what) + ": the other end is closed");
        }
        incoming m;
        std::int32_t first;
        if (have >= 4 && pending_size() == 0) {
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
            m.header_len = 4;
            m.in_socket = false;
            check_size(m, what);
        }
        m.header_len = 0;
        return m;
    }

    /// A 4-byte length above 2^31 - 1 is negative in Python's format: a
    /// corrupt stream. The prefix is consumed, so the error does not repeat.
    void check_size(const incoming& m, const char* what) {
        if (m.header_len == 4 && m.size > 0x7fffffff) {
            if (m.in_socket) {
                char prefix[4];
                recv_exact(prefix, 4, what, false);
            }
            throw std::system_error(EPROTO, std::generic_category(),
                                    std::string(what) + ": negative message length");
        }
    }

    std::size_t pending_size() const noexcept { return pending_.size() - pending_pos_; }

    /// Reads exactly `size` bytes: first what was read ahead, then from the
    /// socket (never more than asked).
    void recv_exact(char* data, std::size_t size, const char* what, bool at_start) {
        if (pending_size() > 0) {
            const std::size_t n = std::min(size, pending_size());
            std::memcpy(data, pending_.data() + pending_pos_, n);
            pending_pos_ += n;
            if (pending_pos_ == pending_.size()) {
                pending_.clear();
                pending_pos_ = 0;
            }
            data += n;
            size -= n;
            at_start = false;
            if (size == 0) {
                return;
            }
        }
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
        if (m.header_len == 0) {
            recv_exact(dest, static_cast<std::size_t>(m.size), what, false);
            return;
        }
        char prefix[12];
        iovec iov[2] = {{prefix, m.header_len}, {dest, static_cast<std::size_t>(m.size)}};
        if (detail::recv_all(fd_, iov, 2, what) != m.header_len + m.size) {
            throw_eof_in_message(what);
        }
    }

    /// Reads message `m` and throws its bytes away, in bounded chunks.
    void discard(const incoming& m, const char* what) {
        char trash[16384];
        // A garbage length near 2^64 means "everything until EOF".
        std::uint64_t left =
            m.size > UINT64_MAX - m.header_len ? UINT64_MAX : m.header_len + m.size;
        while (left > 0) {
            const std::size_t n =
                static_cast<std::size_t>(std::min<std::uint64_t>(left, sizeof trash));
            recv_exact(trash, n, what, false);
            left -= n;
        }
    }

    /// Reads a small message whole into rbuf_ (prefix and payload in one
    /// call when the prefix was only peeked at); returns the payload.
    std::string_view read_small(const incoming& m, const char* what) {
        const auto size = static_cast<std::size_t>(m.size);
        rbuf_.resize(m.header_len + size);
        if (m.header_len == 0) {
            recv_exact(rbuf_.data(), size, what, false);
        } else {
            iovec iov{rbuf_.data(), rbuf_.size()};
            if (detail::recv_all(fd_, &iov, 1, what) != rbuf_.size()) {
                throw_eof_in_message(what);
            }
        }
        return std::string_view(rbuf_).substr(m.header_len);
    }

    /// recv<T> for a trivially copyable T: the whole message is the prefix,
    /// a frame header and sizeof(T) bytes, taken in one recv() that never
    /// asks for more than that. Bytes of a following message, read only when
    /// this one was shorter than a T's (another type: an error), are kept
    /// for the next receive.
    template <class T>
    T recv_fixed(const detail::deadline& until) {
        const char* what = "Connection.recv";
        check_readable("recv");
        if (until && !detail::wait_readable(fd_, until)) {
            throw TimeoutError("Connection.recv: timed out");
        }
        constexpr std::size_t expected = 4 + reduction::header_size + sizeof(T);
        char buf[expected < 12 ? 12 : expected];
        ssize_t n;
        do {
            n = ::recv(fd_, buf, expected, 0);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            detail::throw_errno("Connection.recv: recv");
        }
        if (n == 0) {
            throw EOFError("Connection.recv: the other end is closed");
        }
        auto got = static_cast<std::size_t>(n);
        if (got < 4) {
            recv_exact(buf + got, 4 - got, what, false);
            got = 4;
        }
        std::uint32_t raw;
        std::memcpy(&raw, buf, 4);
        incoming m;
        m.header_len = 4;
        m.size = ntohl(raw);
        m.in_socket = false;
        if (m.size > 0x7fffffff && m.size != 0xffffffffU) {
            pending_.assign(buf + 4, got - 4);  // keep what followed the bad prefix
            pending_pos_ = 0;
            check_size(m, what);  // throws
        }
        if (static_cast<std::int32_t>(ntohl(raw)) == -1) {
            if (got < 12) {
                recv_exact(buf + got, 12 - got, what, false);
                got = 12;
            }
            std::uint64_t raw64;
            std::memcpy(&raw64, buf + 4, 8);
            m.size = be64toh(raw64);
            m.header_len = 12;
        }
        if (m.size > reduction::max_frame_size() + reduction::header_size) {
            discard(incoming{m.size - (got - m.header_len), 0, false}, what);
            throw UnpicklingError("Connection.recv: a message of " + std::to_string(m.size) +
                                  " bytes is over the limit of " +
                                  std::to_string(reduction::max_frame_size()) +
                                  " bytes (reduction::set_max_frame_size); it was discarded");
        }
        const std::uint64_t whole = m.header_len + m.size;
        if (whole <= got) {
            if (whole < got) {  // read ahead into the next message
                pending_.assign(buf + whole, got - static_cast<std::size_t>(whole));
                pending_pos_ = 0;
            }
            return reduction::loads<T>(
                std::string_view(buf + m.header_len, static_cast<std::size_t>(m.size)));
        }
        if (whole <= expected) {
            recv_exact(buf + got, static_cast<std::size_t>(whole) - got, what, false);
            return reduction::loads<T>(
                std::string_view(buf + m.header_len, static_cast<std::size_t>(m.size)));
        }
        // Longer than a T's frame: not a T. Read it (or discard it if too
        // long) so the error can say what it is and the stream goes on.
        const std::size_t have = got - m.header_len;
        const incoming rest{m.size - have, 0, false};
        if (m.size > reduction::max_frame_size() + reduction::header_size) {
            discard(rest, what);
            throw UnpicklingError("Connection.recv: a message of " + std::to_string(m.size) +
                                  " bytes is over the limit of " +
                                  std::to_string(reduction::max_frame_size()) +
                                  " bytes (reduction::set_max_frame_size); it was discarded");
        }
        rbuf_.assign(buf + m.header_len, have);
        rbuf_.resize(static_cast<std::size_t>(m.size));
        recv_exact(rbuf_.data() + have, static_cast<std::size_t>(rest.size), what, false);
        T value = reduction::loads<T>(rbuf_);  // throws: the frame is not a T
        trim(rbuf_);
        return value;
    }

    std::string recv_bytes_until(const detail::deadline& until,
                                 std::optional<std::size_t> maxlength) {
        const incoming m = next_message(until, "Connection.recv_bytes");
        const std::uint64_t limit = maxlength ? *maxlength : reduction::max_frame_size();
        if (m.size > limit) {
            discard(m, "Connection.recv_bytes");
            throw_bad_length("Connection.recv_bytes", m.size, limit);
        }
        if (m.size <= detail::small_message) {
            std::string out(read_small(m, "Connection.recv_bytes"));
            trim(rbuf_);
            return out;
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
        if constexpr (reduction::kind_of_v<T> == reduction::frame_kind::bytes) {
            if (pending_size() == 0) {
                return recv_fixed<T>(until);
            }
        }
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
                const incoming rest{m.size - reduction::header_size, 0, false};
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
        T value = reduction::loads<T>(read_small(m, what));
        trim(rbuf_);
        return value;
    }

    bool poll_until(const detail::deadline& until) {
        check_readable("poll");
        return pending_size() > 0 || detail::wait_readable(fd_, until);
    }

    int fd_ = -1;
    bool readable_ = true;
    bool writable_ = true;
    std::string wbuf_;  // reused by send(): no allocation per message
    std::string rbuf_;  // reused by recv()
    // Bytes of the next message(s), read ahead only by recv_fixed when the
    // message turned out shorter than expected (a type error).
    std::string pending_;
    std::size_t pending_pos_ = 0;

    friend struct detail::connection_access;
};

namespace detail {
/// What connection::wait needs to see inside a Connection.
struct connection_access {
    static bool has_buffered(const Connection& c) noexcept { return c.pending_size() > 0; }
};
}  // namespace detail

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

namespace detail {

/// ppoll over `fds` until one is ready or `until`; EINTR retried with the
/// time left. Returns the indexes of the ready ones.
inline std::vector<std::size_t> poll_ready(std::vector<pollfd>& fds, const deadline& until) {
    for (;;) {
        timespec ts{};
        timespec* tsp = nullptr;
        if (until) {
            auto left = *until - clock::now();
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
            throw_errno("connection.wait: poll");
        }
        std::vector<std::size_t> ready;
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].revents != 0) {
                ready.push_back(i);
            }
        }
        return ready;
    }
}

}  // namespace detail

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

    /// Same object (Python compares the objects wait() returns with `in`).
    friend bool operator==(const Waitable& a, const Waitable& b) noexcept {
        return a.conn_ == b.conn_ && a.process_ == b.process_ && a.fd_ == b.fd_;
    }
    /// Not the same object.
    friend bool operator!=(const Waitable& a, const Waitable& b) noexcept { return !(a == b); }

private:
    Connection* conn_ = nullptr;
    Process* process_ = nullptr;
    int fd_ = -1;
};

/// wait() until a deadline (empty: no deadline).
inline std::vector<Waitable> wait_until(const std::vector<Waitable>& object_list,
                                        const detail::deadline& until) {
    std::vector<pollfd> fds;
    fds.reserve(object_list.size());
    bool buffered = false;
    for (const auto& o : object_list) {
        fds.push_back(pollfd{o.fileno(), POLLIN, 0});
        buffered = buffered ||
                   (o.connection() && detail::connection_access::has_buffered(*o.connection()));
    }
    std::vector<Waitable> ready;
    if (buffered) {
        // A message already read ahead is ready now; poll the rest without waiting.
        std::vector<std::size_t> now = detail::poll_ready(fds, detail::clock::now());
        for (std::size_t i = 0; i < object_list.size(); ++i) {
            const Connection* c = object_list[i].connection();
            if ((c && detail::connection_access::has_buffered(*c)) ||
                std::find(now.begin(), now.end(), i) != now.end()) {
                ready.push_back(object_list[i]);
            }
        }
        return ready;
    }
    for (const std::size_t i : detail::poll_ready(fds, until)) {
        ready.push_back(object_list[i]);
    }
    return ready;
}

/// Python: multiprocessing.connection.wait(object_list). Blocks until at
/// least one object is ready and returns the ready ones, in list order.
/// Throws std::system_error (EBADF) for a closed Connection.
inline std::vector<Waitable> wait(const std::vector<Waitable>& object_list) {
    return wait_until(object_list, std::nullopt);
}

/// Python: wait(object_list, timeout). Returns the ready objects, or an
/// empty list when `timeout` passes first.
template <class Rep, class Period>
std::vector<Waitable> wait(const std::vector<Waitable>& object_list,
                           std::chrono::duration<Rep, Period> timeout) {
    return wait_until(object_list, detail::deadline_after(timeout));
}

/// Python's address of a Listener or Client: a Unix socket path (a leading
/// '\0' means Linux's abstract namespace), or a TCP (host, port) pair.
using Address = std::variant<std::string, std::pair<std::string, std::uint16_t>>;

/// Python: multiprocessing.connection.address_type(address): "AF_UNIX" for
/// a path, "AF_INET" for (host, port).
inline std::string address_type(const Address& address) {
    return std::holds_alternative<std::string>(address) ? "AF_UNIX" : "AF_INET";
}

/// Python's keyword arguments of Listener(address=None, family=None,
/// backlog=1, authkey=None).
struct ListenerOptions {
    /// Python `address=`: empty means a fresh one of `family`.
    std::optional<Address> address;
    /// Python `family=`: "AF_UNIX" or "AF_INET"; empty means the address's, or AF_UNIX.
    std::string family;
    /// Python `backlog=`.
    int backlog = 1;
    /// Python `authkey=`: when set, every accepted connection must prove it
    /// knows the key (and the listener proves it too), as Python does.
    std::optional<std::string> authkey;
};

/// Python's keyword arguments of Client(address, family=None, authkey=None).
struct ClientOptions {
    /// Python `family=`: empty means the address's.
    std::string family;
    /// Python `authkey=`.
    std::optional<std::string> authkey;
};

}  // namespace connection

namespace detail {

inline constexpr std::string_view challenge_prefix = "#CHALLENGE#";
inline constexpr std::string_view welcome = "#WELCOME#";
inline constexpr std::string_view failure = "#FAILURE#";
inline constexpr std::size_t challenge_length = 20;

/// recv_bytes(256) for the handshake, within `until` if set (TimeoutError).
inline std::string recv_handshake(Connection& c, const deadline& until) {
    if (until) {
        return c.recv_bytes(*until - clock::now(), 256);
    }
    return c.recv_bytes(256);
}

/// Python 3.11: deliver_challenge(connection, authkey).
inline void deliver_challenge(Connection& c, const std::string& authkey,
                              const deadline& until = std::nullopt) {
    const std::string message = random_authkey().substr(0, challenge_length);
    const std::string digest = hmac_md5(authkey, message);  // before anything is sent
    c.send_bytes(std::string(challenge_prefix) + message);
    const std::string response = recv_handshake(c, until);
    if (equal_digests(response, digest)) {
        c.send_bytes(welcome);
    } else {
        c.send_bytes(failure);
        throw AuthenticationError("digest received was wrong");
    }
}

/// Python 3.11: answer_challenge(connection, authkey).
inline void answer_challenge(Connection& c, const std::string& authkey,
                             const deadline& until = std::nullopt) {
    (void)hmac_md5(authkey, "");  // no HMAC in this build: fail before reading
    const std::string message = recv_handshake(c, until);
    if (message.compare(0, challenge_prefix.size(), challenge_prefix) != 0) {
        throw AuthenticationError("protocol error: expected a challenge, got " +
                                  std::to_string(message.size()) + " other bytes");
    }
    c.send_bytes(hmac_md5(authkey, std::string_view(message).substr(challenge_prefix.size())));
    if (recv_handshake(c, until) != welcome) {
        throw AuthenticationError("digest sent was rejected");
    }
}

/// A socket address for `address`; `len` receives its length.
inline sockaddr_storage to_sockaddr(const connection::Address& address, socklen_t& len,
                                    const char* what) {
    sockaddr_storage ss{};
    if (const auto* path = std::get_if<std::string>(&address)) {
        auto* un = reinterpret_cast<sockaddr_un*>(&ss);
        un->sun_family = AF_UNIX;
        if (path->empty() || path->size() >= sizeof(un->sun_path)) {
            throw std::invalid_argument(std::string(what) + ": bad Unix socket path '" + *path +
                                        "' (empty, or " + std::to_string(sizeof(un->sun_path)) +
                                        " bytes or more)");
        }
        std::memcpy(un->sun_path, path->data(), path->size());
        len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path->size() +
                                     ((*path)[0] == '\0' ? 0 : 1));
        return ss;
    }
    const auto& [host, port] = std::get<std::pair<std::string, std::uint16_t>>(address);
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
    if ((rc != 0 || found == nullptr) && host == "localhost") {
        // "localhost" is the loopback address (RFC 6761) even where no
        // /etc/hosts says so (minimal containers); Python's default address
        // for AF_INET is ('localhost', 0).
        rc = ::getaddrinfo("127.0.0.1", service.c_str(), &hints, &found);
    }
    if (rc != 0 || found == nullptr) {
        throw std::system_error(
            EHOSTUNREACH, std::generic_category(),
            std::string(what) + ": cannot resolve '" + host + "': " + ::gai_strerror(rc));
    }
    std::memcpy(&ss, found->ai_addr, found->ai_addrlen);
    len = found->ai_addrlen;
    ::freeaddrinfo(found);
    return ss;
}

inline connection::Address from_sockaddr(const sockaddr_storage& ss, socklen_t len) {
    if (ss.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
        char text[INET_ADDRSTRLEN] = {};
        ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        return std::make_pair(std::string(text), ntohs(in->sin_port));
    }
    const auto* un = reinterpret_cast<const sockaddr_un*>(&ss);
    const auto base = offsetof(sockaddr_un, sun_path);
    if (len <= base) {
        return std::string();  // an unnamed socket, as Python's ''
    }
    std::size_t n = len - base;
    if (un->sun_path[0] != '\0') {
        n = ::strnlen(un->sun_path, n);
    }
    return std::string(un->sun_path, n);
}

inline void check_family(const std::string& family, const connection::Address& address,
                         const char* what) {
    if (!family.empty() && family != "AF_UNIX" && family != "AF_INET") {
        throw std::invalid_argument(std::string(what) + ": unrecognized family '" + family + "'");
    }
    if (!family.empty() && family != connection::address_type(address)) {
        throw std::invalid_argument(std::string(what) + ": address does not match family " +
                                    family);
    }
}

}  // namespace detail

namespace connection {

/// Python: multiprocessing.connection.Listener. A bound, listening socket
/// (Unix or TCP) whose accept() returns Connections. With an authkey, each
/// connection is authenticated both ways with Python's challenge, so Python
/// and C++ programs can connect to each other. The destructor closes it (and
/// removes its Unix socket file, in the process that created it).
class Listener {
public:
    /// Python: Listener(). A fresh Unix socket address in the temp directory.
    Listener() : Listener(ListenerOptions{}) {}

    /// Python: Listener(address).
    explicit Listener(Address address) : Listener(options_for(std::move(address))) {}

    /// Python: Listener(address, family, backlog, authkey). Throws
    /// std::invalid_argument for a bad family or address, std::system_error
    /// if the socket cannot be bound (EADDRINUSE, ...).
    explicit Listener(ListenerOptions options) : authkey_(std::move(options.authkey)) {
        std::string family = options.family;
        if (family.empty()) {
            family = options.address ? address_type(*options.address) : "AF_UNIX";
        }
        if (options.address) {
            detail::check_family(family, *options.address, "Listener");
        } else if (family != "AF_UNIX" && family != "AF_INET") {
            throw std::invalid_argument("Listener: unrecognized family '" + family + "'");
        }
        if (authkey_ && !detail::have_hmac) {
            (void)detail::hmac_md5(*authkey_, "");  // throws, saying what is missing
        }
        for (int attempt = 0;; ++attempt) {
            Address address = options.address ? *options.address : arbitrary_address(family);
            try {
                bind_and_listen(address, options.backlog);
                break;
            } catch (const std::system_error& e) {
                if (options.address || e.code().value() != EADDRINUSE || attempt > 100) {
                    throw;
                }
            }
        }
    }

    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
    Listener(Listener&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)),
          address_(std::move(other.address_)),
          last_accepted_(std::move(other.last_accepted_)),
          authkey_(std::move(other.authkey_)),
          unlink_path_(std::move(other.unlink_path_)),
          owner_(other.owner_) {}
    Listener& operator=(Listener&& other) noexcept {
        if (this != &other) {
            close();
            fd_ = std::exchange(other.fd_, -1);
            address_ = std::move(other.address_);
            last_accepted_ = std::move(other.last_accepted_);
            authkey_ = std::move(other.authkey_);
            unlink_path_ = std::move(other.unlink_path_);
            owner_ = other.owner_;
        }
        return *this;
    }
    /// Python: close() at garbage collection.
    ~Listener() { close(); }

    /// Python: accept(). Blocks until a client connects, authenticates it if
    /// an authkey was given, and returns the connection. Throws
    /// mp::AuthenticationError if the client fails the challenge (the
    /// connection is dropped, nothing else is exchanged), std::system_error
    /// (EBADF) if closed.
    Connection accept() { return accept_until(std::nullopt); }

    /// accept() waiting at most `timeout` for a client and its
    /// authentication; throws mp::TimeoutError if none comes (or a client
    /// connects and stays silent: that connection is dropped).
    template <class Rep, class Period>
    Connection accept(std::chrono::duration<Rep, Period> timeout) {
        return accept_until(detail::deadline_after(timeout));
    }

    /// Python: close(). Idempotent.
    void close() noexcept {
        if (fd_ >= 0) {
            detail::close_fd(fd_);
            fd_ = -1;
            if (!unlink_path_.empty() && owner_ == ::getpid()) {
                ::unlink(unlink_path_.c_str());
            }
        }
    }

    /// Python: address. The bound address (the real port when 0 was asked).
    const Address& address() const noexcept { return address_; }

    /// Python: last_accepted. The peer address of the last accepted
    /// connection (an empty path for a Unix client), empty before any.
    const std::optional<Address>& last_accepted() const noexcept { return last_accepted_; }

private:
    static ListenerOptions options_for(Address address) {
        ListenerOptions o;
        o.address = std::move(address);
        return o;
    }

    static Address arbitrary_address(const std::string& family) {
        if (family == "AF_INET") {
            return std::make_pair(std::string("localhost"), std::uint16_t{0});
        }
        const char* tmp = std::getenv("TMPDIR");
        std::string dir = tmp && *tmp ? tmp : "/tmp";
        std::string suffix;
        for (const char c : detail::random_authkey().substr(0, 6)) {
            static const char hex[] = "0123456789abcdef";
            suffix += hex[static_cast<unsigned char>(c) >> 4];
            suffix += hex[static_cast<unsigned char>(c) & 15];
        }
        return dir + "/listener-" + std::to_string(::getpid()) + "-" + suffix;
    }

    void bind_and_listen(const Address& address, int backlog) {
        socklen_t len = 0;
        const sockaddr_storage ss = detail::to_sockaddr(address, len, "Listener");
        const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            detail::throw_errno("Listener: socket");
        }
        if (ss.ss_family == AF_INET) {
            const int one = 1;
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        }
        if (::bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) < 0) {
            const int err = errno;
            detail::close_fd(fd);
            detail::throw_errno("Listener: bind", err);
        }
        if (::listen(fd, backlog) < 0) {
            const int err = errno;
            detail::close_fd(fd);
            detail::throw_errno("Listener: listen", err);
        }
        fd_ = fd;
        owner_ = ::getpid();
        if (ss.ss_family == AF_INET) {
            sockaddr_storage bound{};
            socklen_t blen = sizeof bound;
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen);
            address_ = detail::from_sockaddr(bound, blen);
        } else {
            address_ = address;
            const auto& path = std::get<std::string>(address);
            if (path[0] != '\0') {
                unlink_path_ = path;
            }
        }
    }

    Connection accept_until(const detail::deadline& until) {
        if (fd_ < 0) {
            throw std::system_error(EBADF, std::generic_category(),
                                    "Listener.accept: listener is closed");
        }
        for (;;) {
            if (until && !detail::wait_readable(fd_, until)) {
                throw TimeoutError("Listener.accept: timed out");
            }
            sockaddr_storage peer{};
            socklen_t plen = sizeof peer;
            const int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &plen, SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN) {
                    continue;
                }
                detail::throw_errno("Listener.accept: accept");
            }
            if (peer.ss_family == AF_INET) {
                const int one = 1;
                ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            }
            last_accepted_ = detail::from_sockaddr(peer, plen);
            Connection c(fd);
            if (authkey_) {
                detail::deliver_challenge(c, *authkey_, until);
                detail::answer_challenge(c, *authkey_, until);
            }
            return c;
        }
    }

    int fd_ = -1;
    Address address_;
    std::optional<Address> last_accepted_;
    std::optional<std::string> authkey_;
    std::string unlink_path_;  // the Unix socket file this process created
    pid_t owner_ = 0;
};

/// Python: multiprocessing.connection.Client(address, family=None,
/// authkey=None). Connects to a Listener (C++ or Python) and returns the
/// connection; with an authkey, answers the listener's challenge and
/// challenges it in turn. Throws mp::AuthenticationError on a key mismatch
/// (nothing else is exchanged), std::system_error if it cannot connect
/// (ECONNREFUSED, ENOENT, ...), std::invalid_argument for a bad family.
inline Connection Client(const Address& address, const ClientOptions& options = {}) {
    detail::check_family(options.family, address, "Client");
    if (options.authkey && !detail::have_hmac) {
        (void)detail::hmac_md5(*options.authkey, "");  // throws, saying what is missing
    }
    socklen_t len = 0;
    const sockaddr_storage ss = detail::to_sockaddr(address, len, "Client");
    const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        detail::throw_errno("Client: socket");
    }
    Connection c(fd);
    int rc;
    do {
        rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&ss), len);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        detail::throw_errno("Client: connect");
    }
    if (ss.ss_family == AF_INET) {
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (options.authkey) {
        detail::answer_challenge(c, *options.authkey);
        detail::deliver_challenge(c, *options.authkey);
    }
    return c;
}

/// Python: Client(address, authkey=...).
inline Connection Client(const Address& address, std::string authkey) {
    ClientOptions o;
    o.authkey = std::move(authkey);
    return Client(address, o);
}

/// Python: multiprocessing.connection.Connection.
using multiprocessing::Connection;
/// Python: multiprocessing.connection.Pipe.
using multiprocessing::Pipe;

}  // namespace connection

}  // namespace multiprocessing

#endif  // MULTIPROCESSING_CONNECTION_HPP
