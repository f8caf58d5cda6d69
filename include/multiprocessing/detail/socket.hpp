// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// Socket I/O under Connection: whole-buffer sends and receives with EINTR
// retried, MSG_NOSIGNAL on every send (a closed peer is EPIPE, never
// SIGPIPE), scatter/gather so headers and payloads need no concatenation.
// Not part of the public API.
#ifndef MULTIPROCESSING_DETAIL_SOCKET_HPP
#define MULTIPROCESSING_DETAIL_SOCKET_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/detail/posix.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

namespace multiprocessing::detail {

/// Drops `n` bytes from the front of an iovec array; returns the new start.
inline iovec* advance_iov(iovec* iov, std::size_t& count, std::size_t n) noexcept {
    while (count > 0 && n >= iov->iov_len) {
        n -= iov->iov_len;
        ++iov;
        --count;
    }
    if (count > 0 && n > 0) {
        iov->iov_base = static_cast<char*>(iov->iov_base) + n;
        iov->iov_len -= n;
    }
    return iov;
}

/// Sends every byte of the iovecs (at most IOV_MAX of them). Throws
/// std::system_error naming `what` (EPIPE when the peer is gone).
inline void send_all(int fd, iovec* iov, std::size_t count, const std::string& what) {
    // Skip empty leading entries, so that an empty message still sends its header.
    iov = advance_iov(iov, count, 0);
    while (count > 0) {
        ssize_t n;
        if (count == 1) {
            n = ::send(fd, iov->iov_base, iov->iov_len, MSG_NOSIGNAL);
        } else {
            msghdr msg{};
            msg.msg_iov = iov;
            msg.msg_iovlen = count;
            n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_errno(what + ": send");
        }
        iov = advance_iov(iov, count, static_cast<std::size_t>(n));
    }
}

/// Result of recv_all: how many bytes arrived before EOF (all of them unless EOF).
inline std::size_t recv_all(int fd, iovec* iov, std::size_t count, const std::string& what) {
    std::size_t got = 0;
    iov = advance_iov(iov, count, 0);
    while (count > 0) {
        ssize_t n;
        if (count == 1) {
            n = ::recv(fd, iov->iov_base, iov->iov_len, MSG_WAITALL);
        } else {
            msghdr msg{};
            msg.msg_iov = iov;
            msg.msg_iovlen = count;
            n = ::recvmsg(fd, &msg, MSG_WAITALL);
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_errno(what + ": recv");
        }
        if (n == 0) {
            return got;
        }
        got += static_cast<std::size_t>(n);
        iov = advance_iov(iov, count, static_cast<std::size_t>(n));
    }
    return got;
}

/// recv(MSG_PEEK) of up to `size` bytes, blocking until at least one byte or
/// EOF (0). EINTR retried.
inline std::size_t peek_some(int fd, char* buf, std::size_t size, const std::string& what) {
    for (;;) {
        const ssize_t n = ::recv(fd, buf, size, MSG_PEEK);
        if (n >= 0) {
            return static_cast<std::size_t>(n);
        }
        if (errno != EINTR) {
            throw_errno(what + ": recv");
        }
    }
}

}  // namespace multiprocessing::detail

#endif  // MULTIPROCESSING_DETAIL_SOCKET_HPP
