// Tests for multiprocessing/connection.hpp: Connection, Pipe, wait,
// Listener and Client (including interoperation with Python's).
#include "support/catch.hpp"
#include "support/helpers.hpp"
#include <multiprocessing/connection.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <sys/time.h>
#include <thread>
#include <tuple>
#include <vector>

namespace mp = multiprocessing;
using namespace std::chrono_literals;

namespace {

struct Order {
    std::string item;
    std::vector<int> sizes;
    template <class Archive>
    void serialize(Archive& ar) {
        ar(item, sizes);
    }
};

int errno_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::system_error& e) {
        return e.code().value();
    }
    return 0;
}

std::string python_header(std::uint32_t n) {
    const std::uint32_t be = htonl(n);
    return std::string(reinterpret_cast<const char*>(&be), 4);
}

}  // namespace

TEST_CASE("Pipe carries values both ways", "[connection]") {
    mp::Connection a, b;
    std::tie(a, b) = mp::Pipe();
    REQUIRE(a.readable());
    REQUIRE(a.writable());
    a.send(42);
    a.send(std::string("text"));
    a.send("literal");
    a.send(std::vector<double>{1.5, 2.5});
    a.send(Order{"shirt", {38, 40}});
    REQUIRE(b.recv<int>() == 42);
    REQUIRE(b.recv<std::string>() == "text");
    REQUIRE(b.recv<std::string>() == "literal");
    REQUIRE(b.recv<std::vector<double>>() == std::vector<double>{1.5, 2.5});
    const auto order = b.recv<Order>();
    REQUIRE(order.item == "shirt");
    REQUIRE(order.sizes == std::vector<int>{38, 40});
    b.send(std::map<std::string, int>{{"k", 7}});
    REQUIRE(a.recv<std::map<std::string, int>>().at("k") == 7);
}

TEST_CASE("a child process sends to its parent through a Pipe", "[connection]") {
    mp::Connection parent_conn, child_conn;
    std::tie(parent_conn, child_conn) = mp::Pipe();
    mp::Process p([&child_conn] {
        child_conn.send(std::vector<int>{1, 2, 3});
        const auto reply = child_conn.recv<std::string>();
        mp::sys_exit(reply == "thanks" ? 0 : 3);
    });
    p.start();
    REQUIRE(parent_conn.recv<std::vector<int>>() == std::vector<int>{1, 2, 3});
    parent_conn.send("thanks");
    p.join(60s);
    REQUIRE(p.exitcode() == 0);
}

TEST_CASE("Pipe(false) gives a read end and a write end", "[connection]") {
    mp::Connection r, w;
    std::tie(r, w) = mp::Pipe(false);
    REQUIRE(r.readable());
    REQUIRE_FALSE(r.writable());
    REQUIRE(w.writable());
    REQUIRE_FALSE(w.readable());
    w.send(5);
    REQUIRE(r.recv<int>() == 5);
    REQUIRE_THROWS_WITH(r.send(1), Catch::Contains("connection is read-only"));
    REQUIRE(errno_of([&] { r.send_bytes("x"); }) == EBADF);
    REQUIRE_THROWS_WITH(w.recv<int>(), Catch::Contains("connection is write-only"));
    REQUIRE(errno_of([&] { (void)w.recv_bytes(); }) == EBADF);
    REQUIRE(errno_of([&] { (void)w.poll(); }) == EBADF);
}

TEST_CASE("a closed Connection refuses every operation", "[connection]") {
    mp::Connection a, b;
    std::tie(a, b) = mp::Pipe();
    REQUIRE_FALSE(a.closed());
    const int fd = a.fileno();
    REQUIRE(fd >= 0);
    a.close();
    REQUIRE(a.closed());
    a.close();  // idempotent, as in Python
    REQUIRE_THROWS_WITH(a.send(1), Catch::Contains("handle is closed"));
    REQUIRE(errno_of([&] { (void)a.recv<int>(); }) == EBADF);
    REQUIRE(errno_of([&] { (void)a.fileno(); }) == EBADF);
    REQUIRE(errno_of([&] { (void)a.poll(); }) == EBADF);
    REQUIRE(errno_of([&] { a.send_bytes("x"); }) == EBADF);
    mp::Connection none;
    REQUIRE(none.closed());
    REQUIRE_THROWS_AS(mp::Connection(-1, false, false), std::invalid_argument);
}

TEST_CASE("recv raises EOFError once the other end is closed and drained", "[connection]") {
    mp::Connection a, b;
    std::tie(a, b) = mp::Pipe();
    b.send(1);
    b.send_bytes("last");
    b.close();
    REQUIRE(a.poll());
    REQUIRE(a.recv<int>() == 1);
    REQUIRE(a.recv_bytes() == "last");
    REQUIRE(a.poll());  // EOF is "something to read", as in Python
    REQUIRE_THROWS_AS(a.recv<int>(), mp::EOFError);
    REQUIRE_THROWS_AS(a.recv_bytes(), mp::EOFError);
    char buf[4];
    REQUIRE_THROWS_AS(a.recv_bytes_into(buf, sizeof buf), mp::EOFError);
}

TEST_CASE("sending to a closed peer is an error, never SIGPIPE", "[connection]") {
    // SIGPIPE's default action would end this test program.
    REQUIRE(std::signal(SIGPIPE, SIG_DFL) != SIG_ERR);
    mp::Connection a, b;
    std::tie(a, b) = mp::Pipe();
    b.close();
    const int err = errno_of([&] { a.send(std::string(1 << 20, 'x')); });
    REQUIRE((err == EPIPE || err == ECONNRESET));
    REQUIRE(errno_of([&] { a.send_bytes("x"); }) == EPIPE);
}

TEST_CASE("send_bytes takes offset and size as Python does", "[connection]") {
    mp::Connection a, b;
    std::tie(a, b) = mp::Pipe();
    a.send_bytes("hello world", 6);
    REQUIRE(b.recv_bytes() == "world");
    a.send_bytes("hello world", 0, 5);
    REQUIRE(b.recv_bytes() == "hello");
    a.send_bytes("");
    REQUIRE(b.recv_bytes().empty());
    const std::vector<std::uint8_t> raw{1, 2, 3, 4};
    a.send_bytes(raw, 1, 2);
    REQUIRE(b.recv_bytes() == std::string("\x02\x03", 2));
    const std::vector<std::int32_t> ints{7, 8};
    a.send_bytes(ints, 4);  // offsets count bytes
    const std::string got = b.recv_bytes();
    REQUIRE(got.size() == 4);
    std::int32_t v = 0;
    std::memcpy(&v, got.data(), 4);
    REQUIRE(v == 8);
    REQUIRE_THROWS_WITH(a.send_bytes("abc", 4), Catch::Contains("buffer length < offset"));
    REQUIRE_THROWS_WITH(a.send_bytes("abc", 1, 3),
                        Catch::Contains("buffer length < offset + size"));
    REQUIRE_FALSE(b.poll());  // nothing was sent by the refused calls
}

TEST_CASE("recv_bytes over maxlength discards that message and stays usable", "[connection]") {
    mp::Connection a, b;
    std::tie(a, b) = mp::Pipe();
    a.send_bytes(std::string(100, 'x'));
    a.send_bytes("next");
    REQUIRE(errno_of([&] { (void)b.recv_bytes(10); }) == EMSGSIZE);
    REQUIRE(b.recv_bytes(10) == "next");
    a.send_bytes(std::string(10, 'y'));
    REQUIRE(b.recv_bytes(10) == std::string(10, 'y'));  // exactly maxlength fits
    // A large over-long message is discarded too (in chunks, not allocated);
    // it is larger than the socket buffer, so another thread sends it.
    std::thread sender([&a] {
        a.send_bytes(std::string(3000000, 'z'));
        a.send(99);
    });
    REQUIRE_THROWS_WITH(b.recv_bytes(1000), Catch::Contains("bad message length"));
    REQUIRE(b.recv<int>() == 99);
    sender.join();
}

TEST_CASE("recv_bytes_into fills a buffer or raises BufferTooShort", "[connection]") {
    mp::Connection a, b;
    std::tie(a, b) = mp::Pipe();
    std::vector<char> buf(8, '.');
    a.send_bytes("abc");
    REQUIRE(b.recv_bytes_into(buf, 2) == 3);
    REQUIRE(std::string(buf.begin(), buf.end()) == "..abc...");
    a.send_bytes("0123456789");
    try {
        (void)b.recv_bytes_into(buf, 0);
        FAIL("no BufferTooShort");
    } catch (const mp::BufferTooShort& e) {
        REQUIRE(e.message() == "0123456789");  // the whole message, as Python's e.args[0]
    }
    a.send_bytes("after");
    REQUIRE(b.recv_bytes_into(buf) == 5);
    REQUIRE(std::string(buf.data(), 5) == "after");
    REQUIRE_THROWS_WITH(b.recv_bytes_into(buf, 9), Catch::Contains("offset too large"));
    char raw[3];
    a.send_bytes("xyz");
    REQUIRE(b.recv_bytes_into(raw, sizeof raw) == 3);
    REQUIRE(std::string(raw, 3) == "xyz");
}

TEST_CASE("poll reports whether a message is waiting", "[connection]") {
    mp::Connection a, b;
    std::tie(a, b) = mp::Pipe();
    REQUIRE_FALSE(b.poll());
    REQUIRE_FALSE(b.poll(20ms));
    a.send(1);
    REQUIRE(b.poll());
    REQUIRE(b.poll(0s));
    REQUIRE(b.poll(std::nullopt));
    REQUIRE(b.recv<int>() == 1);
    REQUIRE_FALSE(b.poll());
}

TEST_CASE("recv with a timeout raises TimeoutError and consumes nothing", "[connection]") {
    mp::Connection a, b;
    std::tie(a, b) = mp::Pipe();
    REQUIRE_THROWS_AS(b.recv<int>(10ms), mp::TimeoutError);
    REQUIRE_THROWS_AS(b.recv_bytes(10ms), mp::TimeoutError);
    a.send(3);
    REQUIRE(b.recv<int>(10s) == 3);
    a.send_bytes("b");
    REQUIRE(b.recv_bytes(10s, 5) == "b");
}

TEST_CASE("a message of another type or garbage is refused and the stream goes on",
          "[connection]") {
    mp::Connection a, b;
    std::tie(a, b) = mp::Pipe();
    std::thread sender([&a] {
        a.send(1.5);
        a.send_bytes("garbage! garbage! garbage! garbage!");
        a.send(std::string(1000000, 'q'));  // a large contiguous frame, taken as the wrong type
        a.send(7);
    });
    REQUIRE_THROWS_AS(b.recv<int>(), mp::UnpicklingError);
    REQUIRE_THROWS_WITH(b.recv<int>(), Catch::Contains("bad magic"));
    REQUIRE_THROWS_AS(b.recv<std::vector<int>>(), mp::UnpicklingError);
    REQUIRE(b.recv<int>() == 7);
    sender.join();
}

TEST_CASE("large messages go through whole", "[connection][slow]") {
    std::size_t size = std::size_t{200} << 20;  // 200 MiB (not const: captured)
    mp::Connection parent_conn, child_conn;
    std::tie(parent_conn, child_conn) = mp::Pipe();
    mp::Process p([&child_conn, size] {
        std::string big(size, '\0');
        for (std::size_t i = 0; i < size; i += 4096) {
            big[i] = static_cast<char>(i / 4096);
        }
        child_conn.send_bytes(big);
        child_conn.send(big);
        child_conn.send(std::vector<std::string>{big.substr(0, 1 << 20), "tail"});
    });
    p.start();
    for (int round = 0; round < 2; ++round) {
        const std::string got =
            round == 0 ? parent_conn.recv_bytes() : parent_conn.recv<std::string>();
        REQUIRE(got.size() == size);
        bool same = true;
        for (std::size_t i = 0; i < size; i += 4096) {
            same = same && got[i] == static_cast<char>(i / 4096) && got[i + 1] == '\0';
        }
        REQUIRE(same);
    }
    const auto v = parent_conn.recv<std::vector<std::string>>();
    REQUIRE(v.size() == 2);
    REQUIRE(v[0].size() == (1u << 20));
    REQUIRE(v[1] == "tail");
    p.join(60s);
    REQUIRE(p.exitcode() == 0);
}

TEST_CASE("the other end dying in the middle of a message is an error, not a hang",
          "[connection]") {
    mp::Connection parent_conn, child_conn;
    std::tie(parent_conn, child_conn) = mp::Pipe();
    mp::Process p([&child_conn] {
        // A header announcing 1000 bytes, then 10 of them, then death.
        const std::string part = python_header(1000) + std::string(10, 'x');
        ::send(child_conn.fileno(), part.data(), part.size(), MSG_NOSIGNAL);
        ::_exit(0);
    });
    p.start();
    child_conn.close();  // the child holds the only other copy
    REQUIRE_THROWS_WITH(parent_conn.recv_bytes(), Catch::Contains("end of file during message"));
    p.join(60s);
}

TEST_CASE("a killed peer gives EOFError to a blocked reader", "[connection]") {
    mp::Connection parent_conn, child_conn;
    std::tie(parent_conn, child_conn) = mp::Pipe();
    mp_test::report_pipe ready;
    mp::Process p([&] {
        ready.write_line("started");
        for (;;) {
            ::pause();
        }
    });
    p.start();
    child_conn.close();
    REQUIRE(ready.read_line() == std::optional<std::string>("started"));
    std::thread killer([&p] { p.kill(); });
    REQUIRE_THROWS_AS(parent_conn.recv<int>(), mp::EOFError);
    killer.join();
    p.join(60s);
    REQUIRE(p.exitcode() == -SIGKILL);
}

namespace {
std::atomic<int> alarms{0};
extern "C" void on_alarm(int) {
    alarms.fetch_add(1);
}
}  // namespace

TEST_CASE("interrupted system calls are retried", "[connection]") {
    struct sigaction sa {};
    sa.sa_handler = on_alarm;  // no SA_RESTART: blocking calls see EINTR
    sigemptyset(&sa.sa_mask);
    struct sigaction old {};
    REQUIRE(::sigaction(SIGALRM, &sa, &old) == 0);
    mp::Connection parent_conn, child_conn;
    std::tie(parent_conn, child_conn) = mp::Pipe();
    mp::Process p([&child_conn] {
        // Keep the parent blocked in recv for a while, under a stream of signals.
        std::this_thread::sleep_for(100ms);
        child_conn.send(std::string(3 << 20, 'e'));
        child_conn.send(11);
    });
    p.start();
    itimerval every{{0, 2000}, {0, 2000}};
    REQUIRE(::setitimer(ITIMER_REAL, &every, nullptr) == 0);
    const auto big = parent_conn.recv<std::string>();
    const int small = parent_conn.recv<int>();
    itimerval off{};
    ::setitimer(ITIMER_REAL, &off, nullptr);
    ::sigaction(SIGALRM, &old, nullptr);
    REQUIRE(big.size() == (3u << 20));
    REQUIRE(small == 11);
    REQUIRE(alarms.load() > 0);
    p.join(60s);
}

TEST_CASE("wait returns the ready connections, sentinels and descriptors", "[connection]") {
    mp::Connection a1, b1;
    std::tie(a1, b1) = mp::Pipe();
    mp::Connection a2, b2;
    std::tie(a2, b2) = mp::Pipe();
    REQUIRE(mp::connection::wait({b1, b2}, 10ms).empty());
    a2.send(1);
    auto ready = mp::connection::wait({b1, b2}, 10s);
    REQUIRE(ready.size() == 1);
    REQUIRE(ready[0].connection() == &b2);
    REQUIRE(ready[0] == mp::connection::Waitable(b2));
    a1.send(2);
    ready = mp::connection::wait({b1, b2});
    REQUIRE(ready.size() == 2);
    REQUIRE(ready[0].connection() == &b1);

    mp_test::report_pipe go;
    mp::Process p([&go] { (void)go.read_line(); });
    p.start();
    go.close_read();
    REQUIRE(mp::connection::wait({p, b1.fileno()}, 10ms).size() == 1);  // b1 has data
    (void)b1.recv<int>();
    REQUIRE(mp::connection::wait({p}, 10ms).empty());
    go.write_line("go");
    ready = mp::connection::wait({p, p.sentinel()}, 60s);
    REQUIRE(ready.size() == 2);
    REQUIRE(ready[0].process() == &p);
    REQUIRE(ready[1].fileno() == p.sentinel());
    p.join();
    b2.close();
    REQUIRE_THROWS_AS(mp::connection::wait({b2}, 0s), std::system_error);
}

TEST_CASE("seed 002-04: two children share one end; each sends one reply", "[seed-002-04]") {
    // In process, as the example does it.
    mp::Connection parent_conn, child_conn;
    std::tie(parent_conn, child_conn) = mp::Pipe();
    std::vector<std::unique_ptr<mp::Process>> children;
    for (int i = 0; i < 2; ++i) {
        children.push_back(std::make_unique<mp::Process>([&child_conn] {
            const auto greeting = child_conn.recv<std::string>();
            if (greeting != "nice to meet you,i am the main process") {
                mp::sys_exit(2);
            }
            child_conn.send("hello,i am subprocess:" +
                            std::to_string(mp::current_process().pid().value()));
            child_conn.close();
        }));
        children.back()->start();
    }
    parent_conn.send("nice to meet you,i am the main process");
    parent_conn.send("nice to meet you,i am the main process");
    std::set<std::string> replies{parent_conn.recv<std::string>(10s),
                                  parent_conn.recv<std::string>(10s)};
    std::set<std::string> expected;
    for (auto& c : children) {
        c->join(60s);
        REQUIRE(c->exitcode() == 0);
        expected.insert("hello,i am subprocess:" + std::to_string(c->pid().value()));
    }
    REQUIRE(replies == expected);  // two replies, one from each child

    // And the tutorial program itself.
    const auto run = mp_test::run_program(mp_test::example_path("seed_002_04_pipe"));
    REQUIRE(run.exit_status == 0);
    std::set<std::string> pids;
    std::size_t pos = 0;
    while ((pos = run.output.find("hello,i am subprocess:", pos)) != std::string::npos) {
        pos += std::strlen("hello,i am subprocess:");
        pids.insert(run.output.substr(pos, run.output.find('\n', pos) - pos));
    }
    REQUIRE(pids.size() == 2);
}

// ---------------------------------------------------------------- Listener, Client

namespace {

std::string temp_path(const std::string& tag) {
    static int counter = 0;
    return "/tmp/mp-test-" + std::to_string(::getpid()) + "-" + tag + "-" +
           std::to_string(++counter);
}

// A python3 process running `script`, its stdout readable line by line.
class python_process {
public:
    python_process(const std::string& script, const std::vector<std::string>& args)
        : script_path_(temp_path("py") + ".py") {
        FILE* f = std::fopen(script_path_.c_str(), "w");
        REQUIRE(f != nullptr);
        std::fputs(script.c_str(), f);
        std::fclose(f);
        std::string cmd = "exec python3 " + script_path_;
        for (const auto& a : args) {
            cmd += " '" + a + "'";
        }
        cmd += " 2>&1";
        out_ = ::popen(cmd.c_str(), "r");
        REQUIRE(out_ != nullptr);
    }
    ~python_process() {
        if (out_) {
            ::pclose(out_);
        }
        ::unlink(script_path_.c_str());
    }
    python_process(const python_process&) = delete;
    python_process& operator=(const python_process&) = delete;

    std::string read_line() {
        char line[4096];
        if (std::fgets(line, sizeof line, out_) == nullptr) {
            return "<eof>";
        }
        std::string s(line);
        if (!s.empty() && s.back() == '\n') {
            s.pop_back();
        }
        return s;
    }
    // Waits for the end; returns the exit status.
    int wait() {
        const int status = ::pclose(out_);
        out_ = nullptr;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

private:
    std::string script_path_;
    FILE* out_ = nullptr;
};

const char* const python_listener = R"(
import sys
from multiprocessing.connection import Listener, AuthenticationError
with Listener(sys.argv[1], authkey=sys.argv[2].encode()) as listener:
    print('ready', flush=True)
    try:
        with listener.accept() as conn:
            data = conn.recv_bytes()
            conn.send_bytes(b'python got ' + data)
            print('got', data.decode(), flush=True)
    except AuthenticationError as e:
        print('AuthenticationError', e, flush=True)
)";

const char* const python_client = R"(
import sys
from multiprocessing.connection import Client, AuthenticationError
addr = sys.argv[1] if sys.argv[2] == 'unix' else ('127.0.0.1', int(sys.argv[1]))
try:
    with Client(addr, authkey=sys.argv[3].encode()) as conn:
        conn.send_bytes(b'hello from python')
        print('reply', conn.recv_bytes().decode(), flush=True)
except AuthenticationError as e:
    print('AuthenticationError', e, flush=True)
)";

}  // namespace

TEST_CASE("Listener and Client over a Unix socket", "[connection][listener]") {
    namespace conn = mp::connection;
    std::string path;
    {
        conn::Listener listener;  // a fresh path, as Listener() in Python
        REQUIRE(conn::address_type(listener.address()) == "AF_UNIX");
        path = std::get<std::string>(listener.address());
        REQUIRE(::access(path.c_str(), F_OK) == 0);
        REQUIRE_FALSE(listener.last_accepted().has_value());
        mp::Process p([path] {
            auto c = conn::Client(path);
            c.send(std::string("over unix"));
            mp::sys_exit(c.recv<int>() == 42 ? 0 : 3);
        });
        p.start();
        auto c = listener.accept(60s);
        REQUIRE(c.recv<std::string>() == "over unix");
        c.send(42);
        p.join(60s);
        REQUIRE(p.exitcode() == 0);
        REQUIRE(listener.last_accepted() == conn::Address(std::string()));  // unnamed client
    }
    REQUIRE(::access(path.c_str(), F_OK) != 0);  // the socket file is removed
}

TEST_CASE("Listener and Client over TCP on loopback", "[connection][listener]") {
    namespace conn = mp::connection;
    conn::ListenerOptions options;
    options.address = std::make_pair(std::string("127.0.0.1"), std::uint16_t{0});
    conn::Listener listener(options);
    const auto [host, port] = std::get<std::pair<std::string, std::uint16_t>>(listener.address());
    REQUIRE(host == "127.0.0.1");
    REQUIRE(port != 0);
    mp::Process p([port = port] {
        auto c = conn::Client(std::make_pair(std::string("localhost"), port));
        c.send_bytes("tcp");
        mp::sys_exit(c.recv_bytes() == "ack" ? 0 : 3);
    });
    p.start();
    auto c = listener.accept();
    REQUIRE(c.recv_bytes() == "tcp");
    c.send_bytes("ack");
    p.join(60s);
    REQUIRE(p.exitcode() == 0);
    const auto peer = std::get<std::pair<std::string, std::uint16_t>>(*listener.last_accepted());
    REQUIRE(peer.first == "127.0.0.1");
    REQUIRE_THROWS_AS(listener.accept(10ms), mp::TimeoutError);
    listener.close();
    REQUIRE(errno_of([&] { (void)listener.accept(); }) == EBADF);
    REQUIRE_THROWS_AS(conn::Client(std::make_pair(std::string("127.0.0.1"), port)),
                      std::system_error);  // refused
}

TEST_CASE("Listener and Client check families and addresses", "[connection][listener]") {
    namespace conn = mp::connection;
    conn::ListenerOptions bad;
    bad.family = "AF_PIPE";
    REQUIRE_THROWS_AS(conn::Listener(bad), std::invalid_argument);
    conn::ListenerOptions mismatch;
    mismatch.family = "AF_INET";
    mismatch.address = std::string("/tmp/x");
    REQUIRE_THROWS_AS(conn::Listener(mismatch), std::invalid_argument);
    conn::ListenerOptions inet;
    inet.family = "AF_INET";
    conn::Listener l(inet);  // ('localhost', 0)
    REQUIRE(conn::address_type(l.address()) == "AF_INET");
    const std::string missing = temp_path("none");
    REQUIRE(errno_of([&] { (void)conn::Client(missing); }) == ENOENT);
    REQUIRE_THROWS_AS(conn::Client(std::string(200, 'x')), std::invalid_argument);
    const std::string path = temp_path("taken");
    conn::Listener first{conn::Address(path)};
    REQUIRE(errno_of([&] { conn::Listener second{conn::Address(path)}; }) == EADDRINUSE);
}

#if defined(MULTIPROCESSING_HAS_OPENSSL) && MULTIPROCESSING_HAS_OPENSSL

TEST_CASE("authkey: the right key connects, a wrong key fails on both sides",
          "[connection][listener][authkey]") {
    namespace conn = mp::connection;
    conn::ListenerOptions options;
    options.authkey = "secret";
    conn::Listener listener(options);
    const auto address = listener.address();
    for (const std::string key : {"secret", "wrong"}) {
        mp::Process p([address, key] {
            try {
                auto c = conn::Client(address, key);
                c.send_bytes("authenticated");
                mp::sys_exit(c.recv_bytes() == "welcome" ? 0 : 3);
            } catch (const mp::AuthenticationError&) {
                mp::sys_exit(7);
            }
        });
        p.start();
        if (key == "secret") {
            auto c = listener.accept();
            REQUIRE(c.recv_bytes() == "authenticated");
            c.send_bytes("welcome");
        } else {
            REQUIRE_THROWS_WITH(listener.accept(), Catch::Contains("digest received was wrong"));
        }
        p.join(60s);
        REQUIRE(p.exitcode() == (key == "secret" ? 0 : 7));
    }
}

TEST_CASE("interop: a C++ Client talks to Python's Listener, authkey included",
          "[connection][listener][authkey][python]") {
    namespace conn = mp::connection;
    const std::string path = temp_path("pylistener");
    {
        python_process py(python_listener, {path, "secret"});
        REQUIRE(py.read_line() == "ready");
        auto c = conn::Client(path, std::string("secret"));
        c.send_bytes("hello from C++");
        REQUIRE(c.recv_bytes() == "python got hello from C++");
        REQUIRE(py.read_line() == "got hello from C++");
        REQUIRE(py.wait() == 0);
    }
    {
        python_process py(python_listener, {path, "secret"});
        REQUIRE(py.read_line() == "ready");
        REQUIRE_THROWS_WITH(conn::Client(path, std::string("wrong")),
                            Catch::Contains("digest sent was rejected"));
        REQUIRE(py.read_line() == "AuthenticationError digest received was wrong");
        REQUIRE(py.wait() == 0);
    }
}

TEST_CASE("interop: Python's Client talks to a C++ Listener, authkey included",
          "[connection][listener][authkey][python]") {
    namespace conn = mp::connection;
    for (const std::string family : {"unix", "tcp"}) {
        conn::ListenerOptions options;
        options.authkey = "k3y";
        if (family == "tcp") {
            options.address = std::make_pair(std::string("127.0.0.1"), std::uint16_t{0});
        }
        conn::Listener listener(options);
        const std::string where =
            family == "unix"
                ? std::get<std::string>(listener.address())
                : std::to_string(
                      std::get<std::pair<std::string, std::uint16_t>>(listener.address()).second);
        python_process py(python_client, {where, family, "k3y"});
        auto c = listener.accept(60s);
        REQUIRE(c.recv_bytes() == "hello from python");
        c.send_bytes("hello from C++");
        REQUIRE(py.read_line() == "reply hello from C++");
        REQUIRE(py.wait() == 0);

        python_process wrong(python_client, {where, family, "nope"});
        REQUIRE_THROWS_AS(listener.accept(60s), mp::AuthenticationError);
        REQUIRE(wrong.read_line() == "AuthenticationError digest sent was rejected");
        REQUIRE(wrong.wait() == 0);
    }
}

#else

TEST_CASE("without OpenSSL an authkey is refused with a clear error", "[connection][listener]") {
    mp::connection::ListenerOptions options;
    options.authkey = "secret";
    REQUIRE_THROWS_WITH(mp::connection::Listener(options), Catch::Contains("OpenSSL"));
}

#endif

TEST_CASE("a short message of another type read ahead keeps the next one whole", "[connection]") {
    mp::Connection a, b;
    std::tie(a, b) = mp::Pipe();
    a.send(std::uint8_t{1});  // shorter than an int's frame
    a.send(7);
    a.send_bytes("tail");
    REQUIRE_THROWS_AS(b.recv<int>(), mp::UnpicklingError);
    // Part of the next message was read ahead: it still counts as readable.
    REQUIRE(b.poll());
    REQUIRE(mp::connection::wait({b}, 0s).size() == 1);
    REQUIRE(b.recv<int>() == 7);
    REQUIRE(b.recv_bytes() == "tail");
    REQUIRE_FALSE(b.poll());
    a.send(std::uint16_t{2});
    a.send(std::string("next"));
    REQUIRE_THROWS_AS(b.recv<int>(), mp::UnpicklingError);
    REQUIRE(b.recv<std::string>() == "next");
}

TEST_CASE("a Connection can wrap and give back a descriptor", "[connection]") {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    mp::Connection a(fds[0]);
    mp::Connection b(fds[1], true, false);
    REQUIRE(a.fileno() == fds[0]);
    a.send(5);
    REQUIRE(b.recv<int>() == 5);
    const int fd = a.detach();
    REQUIRE(fd == fds[0]);
    REQUIRE(a.closed());
    REQUIRE(::fcntl(fd, F_GETFD) >= 0);  // still open: detach() does not close
    mp::Connection again(fd);
    again.send_bytes("back");
    REQUIRE(b.recv_bytes() == "back");
    mp::Connection moved(std::move(again));
    REQUIRE(again.closed());
    REQUIRE_FALSE(moved.closed());
}

#if defined(MULTIPROCESSING_HAS_OPENSSL) && MULTIPROCESSING_HAS_OPENSSL
TEST_CASE("accept(timeout) drops a client that never answers the challenge",
          "[connection][listener][authkey]") {
    namespace conn = mp::connection;
    conn::ListenerOptions options;
    options.authkey = "secret";
    conn::Listener listener(options);
    auto silent = conn::Client(listener.address());  // no authkey: does not answer
    REQUIRE_THROWS_AS(listener.accept(50ms), mp::TimeoutError);
    REQUIRE(silent.recv_bytes().rfind("#CHALLENGE#", 0) == 0);  // what it was sent
    REQUIRE_THROWS_AS(silent.recv_bytes(), mp::EOFError);       // then dropped
}
#endif

TEST_CASE("a negative length is a protocol error that does not repeat", "[connection]") {
    mp::Connection a, b;
    std::tie(a, b) = mp::Pipe();
    const std::string bad = python_header(0x80000001U);
    REQUIRE(::send(a.fileno(), bad.data(), bad.size(), MSG_NOSIGNAL) == 4);
    a.send_bytes("fine");
    REQUIRE(errno_of([&] { (void)b.recv_bytes(); }) == EPROTO);
    REQUIRE(b.recv_bytes() == "fine");
    REQUIRE(::send(a.fileno(), bad.data(), bad.size(), MSG_NOSIGNAL) == 4);
    a.send(3);
    REQUIRE(errno_of([&] { (void)b.recv<int>(); }) == EPROTO);
    REQUIRE(b.recv<int>() == 3);
}

TEST_CASE("an absurd 64-bit length is refused without allocating or overflowing", "[connection]") {
    for (int kind = 0; kind < 3; ++kind) {
        mp::Connection a, b;
        std::tie(a, b) = mp::Pipe();
        const std::string bad = python_header(0xffffffffU) + std::string(8, '\xff') + "data";
        REQUIRE(::send(a.fileno(), bad.data(), bad.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(bad.size()));
        a.close();
        // Over every limit: the message is skipped to the end of the stream.
        const int err = errno_of([&] {
            try {
                if (kind == 0) {
                    (void)b.recv<int>();
                } else if (kind == 1) {
                    (void)b.recv<std::string>();
                } else {
                    (void)b.recv_bytes();
                }
            } catch (const mp::UnpicklingError&) {
                throw std::system_error(EMSGSIZE, std::generic_category());
            }
        });
        REQUIRE((err == EIO || err == EMSGSIZE));
        REQUIRE_THROWS_AS(b.recv_bytes(), mp::EOFError);
    }
}

TEST_CASE("Listener and Client over an abstract Unix address", "[connection][listener]") {
    namespace conn = mp::connection;
    const std::string name =
        std::string(1, '\0') + "mp-test-abstract-" + std::to_string(::getpid());
    conn::Listener listener{conn::Address(name)};
    REQUIRE(std::get<std::string>(listener.address()) == name);
    auto client = conn::Client(name);
    auto server = listener.accept(60s);
    client.send(std::string("abstract"));
    REQUIRE(server.recv<std::string>() == "abstract");
}
