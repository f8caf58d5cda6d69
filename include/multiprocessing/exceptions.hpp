// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// The exception hierarchy, mirroring Python's (multiprocessing/context.py and
// the queue module). Python's ValueError is std::invalid_argument and OSError
// is std::system_error (errno kept); see the README's table.
#ifndef MULTIPROCESSING_EXCEPTIONS_HPP
#define MULTIPROCESSING_EXCEPTIONS_HPP

#include <multiprocessing/config.hpp>

#include <stdexcept>
#include <string>
#include <sys/types.h>
#include <utility>

namespace multiprocessing {

/// Python: multiprocessing.ProcessError, the base of the library's own errors.
/// Also what misuse of state raises (Python's AssertionError, e.g. "cannot
/// start a process twice"), in every build type.
class ProcessError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Python: multiprocessing.BufferTooShort. The received message did not fit
/// the buffer; it is kept in `message()`.
class BufferTooShort : public ProcessError {
public:
    explicit BufferTooShort(std::string message)
        : ProcessError("BufferTooShort: message of " + std::to_string(message.size()) +
                       " bytes does not fit the buffer"),
          message_(std::move(message)) {}
    /// The whole message that did not fit (Python: `e.args[0]`).
    const std::string& message() const noexcept { return message_; }

private:
    std::string message_;
};

/// Python: multiprocessing.TimeoutError.
class TimeoutError : public ProcessError {
public:
    using ProcessError::ProcessError;
};

/// Python: multiprocessing.AuthenticationError.
class AuthenticationError : public ProcessError {
public:
    using ProcessError::ProcessError;
};

/// Python: queue.Empty. Not a ProcessError, as in Python.
class Empty : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Python: queue.Full. Not a ProcessError, as in Python.
class Full : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Python: threading.BrokenBarrierError (raised by Barrier.wait once the
/// barrier is broken or reset). Not a ProcessError, as in Python, where it
/// derives from RuntimeError.
class BrokenBarrierError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Python: EOFError (raised by Connection.recv when the other end is closed).
class EOFError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// An exception that happened in another process, re-raised here with the
/// original type name and message (Python shows the remote traceback).
class RemoteError : public ProcessError {
public:
    RemoteError(std::string remote_type, const std::string& message, pid_t pid = 0,
                std::string process_name = {})
        : ProcessError(remote_type + ": " + message),
          remote_type_(std::move(remote_type)),
          pid_(pid),
          process_name_(std::move(process_name)) {}
    /// The type name of the exception raised in the other process.
    const std::string& remote_type() const noexcept { return remote_type_; }
    /// The pid of the process it was raised in (0 if unknown).
    pid_t pid() const noexcept { return pid_; }
    /// The name of the process it was raised in (empty if unknown).
    const std::string& process_name() const noexcept { return process_name_; }

private:
    std::string remote_type_;
    pid_t pid_;
    std::string process_name_;
};

/// Python: SystemExit, raised by sys.exit(). Thrown inside a child process it
/// ends the child with `code()` as its exit code, without the error report an
/// ordinary exception gets. See multiprocessing::sys_exit.
class SystemExit : public std::exception {
public:
    /// sys.exit(n): leave with exit code n.
    explicit SystemExit(int code = 0) : code_(code) {}
    /// sys.exit("message"): print the message to stderr and leave with code 1.
    explicit SystemExit(std::string message) : code_(1), message_(std::move(message)) {}
    int code() const noexcept { return code_; }
    /// The message to print on stderr (empty for a plain exit code).
    const std::string& message() const noexcept { return message_; }
    const char* what() const noexcept override {
        return message_.empty() ? "SystemExit" : message_.c_str();
    }

private:
    int code_;
    std::string message_;
};

/// Python: sys.exit(code). Ends the current child process with `code` once the
/// exception unwinds to the process bootstrap (destructors run on the way).
[[noreturn]] inline void sys_exit(int code = 0) {
    throw SystemExit(code);
}
/// Python: sys.exit("message"): prints the message to stderr, exit code 1.
[[noreturn]] inline void sys_exit(const std::string& message) {
    throw SystemExit(message);
}

}  // namespace multiprocessing

#endif  // MULTIPROCESSING_EXCEPTIONS_HPP
