#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include <weir/core.hpp>
#include <weir/net.hpp>
#include <weir/testing/async_test.hpp>

using namespace std::chrono_literals;
using weir::net::Listener;
using weir::net::Stream;

namespace {

weir::Task<std::string> read_until_eof(Stream& s) {
    std::string out;
    char buf[4096];
    for (;;) {
        std::size_t n = co_await s.read_some(std::span<char>(buf));
        if (n == 0) break;
        out.append(buf, n);
    }
    co_return out;
}

weir::Task<void> echo_once(Listener& l) {
    Stream c = co_await l.accept();
    char buf[4096];
    for (;;) {
        std::size_t n = co_await c.read_some(std::span<char>(buf));
        if (n == 0) break;
        co_await c.write_all(std::string_view(buf, n));
    }
}

}  // namespace

WEIR_TEST(Tcp, EchoRoundTripAndHalfClose) {
    Listener l = Listener::bind_tcp("127.0.0.1", 0);
    const auto port = l.local_address().port();
    CO_ASSERT_NE(port, 0);
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn(echo_once(l));
        Stream s = co_await weir::net::connect_tcp("127.0.0.1", port);
        s.set_nodelay(true);
        std::string big(1 << 20, 'x');  // larger than socket buffers: partial writes
        for (std::size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
        co_await weir::task_group([&](weir::TaskGroup& io) -> weir::Task<> {
            io.spawn([](Stream& s, const std::string& big) -> weir::Task<> {
                co_await s.write_all(big);
                s.shutdown_write();
            }(s, big));
            std::string back = co_await read_until_eof(s);
            EXPECT_EQ(back.size(), big.size());
            EXPECT_TRUE(back == big);
        });
    });
}

WEIR_TEST(Tcp, WritevSendsBuffersInOrder) {
    Listener l = Listener::bind_tcp("127.0.0.1", 0);
    const auto port = l.local_address().port();
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn(echo_once(l));
        Stream s = co_await weir::net::connect_tcp("localhost", port);
        std::string a = "alpha-", b = "beta-", c = "gamma";
        iovec v[3] = {{a.data(), a.size()}, {b.data(), b.size()}, {c.data(), c.size()}};
        co_await s.writev_all(v);
        s.shutdown_write();
        EXPECT_EQ(co_await read_until_eof(s), "alpha-beta-gamma");
    });
}

WEIR_TEST(Tcp, ConnectRefusedThrowsSystemErrorWithErrno) {
    // Bind then close to get a port nobody listens on.
    std::uint16_t port;
    {
        Listener l = Listener::bind_tcp("127.0.0.1", 0);
        port = l.local_address().port();
    }
    try {
        co_await weir::net::connect_tcp("127.0.0.1", port);
        ADD_FAILURE() << "connect should fail";
    } catch (const weir::SystemError& e) {
        EXPECT_EQ(e.error_number(), ECONNREFUSED);
    }
}

WEIR_TEST(Tcp, AcceptIsCancellable) {
    Listener l = Listener::bind_tcp("127.0.0.1", 0);
    bool cancelled = false;
    try {
        co_await weir::with_timeout(5ms, weir::as_task(l.accept()));
    } catch (const weir::TimeoutError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
}

WEIR_TEST(Tcp, ReadIsCancellableAndLeavesNoRegistration) {
    Listener l = Listener::bind_tcp("127.0.0.1", 0);
    const auto port = l.local_address().port();
    Stream client = co_await weir::net::connect_tcp("127.0.0.1", port);
    Stream server = co_await l.accept();
    char buf[16];
    EXPECT_THROW(
        co_await weir::with_timeout(5ms, weir::as_task(server.read_some(std::span<char>(buf)))),
        weir::TimeoutError);
    // The stream still works after the cancelled read.
    co_await client.write_all("hi");
    std::size_t n = co_await server.read_some(std::span<char>(buf));
    EXPECT_EQ(std::string(buf, n), "hi");
}

WEIR_TEST(Tcp, PeerResetSurfacesAsSystemError) {
    Listener l = Listener::bind_tcp("127.0.0.1", 0);
    const auto port = l.local_address().port();
    Stream client = co_await weir::net::connect_tcp("127.0.0.1", port);
    Stream server = co_await l.accept();
    // SO_LINGER 0 makes close() send RST.
    linger lg{1, 0};
    CO_ASSERT_EQ(::setsockopt(client.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    co_await client.write_all("x");
    client.close();
    co_await weir::sleep_for(2ms);
    char buf[16];
    std::size_t got = 0;
    bool reset = false;
    try {
        for (int i = 0; i < 3; ++i) got += co_await server.read_some(std::span<char>(buf));
    } catch (const weir::SystemError& e) {
        reset = e.error_number() == ECONNRESET;
    }
    EXPECT_TRUE(reset);
    (void)got;
}

WEIR_TEST(Tcp, CloseFailsPendingRead) {
    Listener l = Listener::bind_tcp("127.0.0.1", 0);
    const auto port = l.local_address().port();
    Stream client = co_await weir::net::connect_tcp("127.0.0.1", port);
    Stream server = co_await l.accept();
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn([](Stream& s) -> weir::Task<> {
            char buf[8];
            try {
                co_await s.read_some(std::span<char>(buf));
                ADD_FAILURE() << "read should fail after close";
            } catch (const weir::SystemError& e) {
                EXPECT_EQ(e.error_number(), EBADF);
            }
        }(server));
        co_await weir::yield();
        server.close();
        co_return;
    });
}

WEIR_TEST(Unix, StreamRoundTrip) {
    std::string path = "/tmp/weir-test-" + std::to_string(::getpid()) + ".sock";
    Listener l = Listener::bind_unix(path);
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn(echo_once(l));
        Stream s = co_await weir::net::connect_unix(path);
        co_await s.write_all("over unix");
        s.shutdown_write();
        EXPECT_EQ(co_await read_until_eof(s), "over unix");
    });
    ::unlink(path.c_str());
}

WEIR_TEST(Resolve, NumericAndLocalhost) {
    auto a = co_await weir::net::resolve("127.0.0.1", 80);
    CO_ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].to_string(), "127.0.0.1:80");
    auto b = co_await weir::net::resolve("::1", 443);
    EXPECT_EQ(b[0].to_string(), "[::1]:443");
    auto c = co_await weir::net::resolve("localhost", 8080);
    EXPECT_FALSE(c.empty());
    EXPECT_THROW(co_await weir::net::resolve("no-such-host.invalid", 1), std::runtime_error);
}

TEST(SocketAddress, ParsesAndPrints) {
    EXPECT_EQ(weir::net::SocketAddress::parse("10.1.2.3:99")->to_string(), "10.1.2.3:99");
    EXPECT_EQ(weir::net::SocketAddress::parse("[::1]:8080")->to_string(), "[::1]:8080");
    EXPECT_FALSE(weir::net::SocketAddress::parse("nohost"));
    EXPECT_FALSE(weir::net::SocketAddress::parse("1.2.3.4:99999"));
    EXPECT_FALSE(weir::net::SocketAddress::parse("example.com:80"));
    EXPECT_TRUE(weir::net::SocketAddress::parse("unix:/tmp/x.sock")->is_unix());
}

WEIR_TEST_SHARDS(MultiShardTcp, ReusePortListenerPerShard, 2) {
    // Every shard binds the same port; connections are served by some shard.
    Listener first = Listener::bind_tcp("127.0.0.1", 0);
    const auto port = first.local_address().port();
    first.close();
    std::atomic<int> served{0};
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto servers = g.spawn(weir::on_all_shards([&]() -> weir::Task<int> {
            Listener l = Listener::bind_tcp("127.0.0.1", port);
            int n = 0;
            try {
                for (;;) {
                    Stream c = co_await l.accept();
                    ++n;
                    served.fetch_add(1);  // before the reply, which the client waits for
                    co_await c.write_all("ok");
                }
            } catch (const weir::Cancelled&) {
                throw;
            }
            co_return n;
        }));
        co_await weir::sleep_for(20ms);  // let every shard bind
        for (int i = 0; i < 20; ++i) {
            Stream s = co_await weir::net::connect_tcp("127.0.0.1", port);
            char buf[4];
            std::size_t n = co_await s.read_some(std::span<char>(buf));
            EXPECT_EQ(std::string(buf, n), "ok");
        }
        EXPECT_EQ(served.load(), 20);
        g.cancel();
    });
}

// RuntimeOptions::busy_poll: readiness found while polling (before the shard sleeps) is
// dispatched like readiness found by a sleeping epoll_wait; many small round trips, some of
// them answered after the budget ran out.
TEST(Tcp, BusyPollRoundTrips) {
    weir::RuntimeOptions opts;
    opts.shards = 1;
    opts.worker_threads = 1;
    opts.busy_poll = 100us;
    weir::Runtime rt(opts);
    auto body = []() -> weir::Task<int> {
        Listener l = Listener::bind_tcp("127.0.0.1", 0);
        const auto port = l.local_address().port();
        int answered = 0;
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
            g.spawn(echo_once(l));
            Stream s = co_await weir::net::connect_tcp("127.0.0.1", port);
            s.set_nodelay(true);
            char buf[8];
            for (int i = 0; i < 200; ++i) {
                if (i % 50 == 0) co_await weir::sleep_for(2ms);  // longer than the budget
                co_await s.write_all(std::string_view("ping", 4));
                std::size_t got = 0;
                while (got < 4) got += co_await s.read_some(std::span<char>(buf + got, 4 - got));
                if (std::string_view(buf, 4) == "ping") ++answered;
            }
            s.shutdown_write();
        });
        co_return answered;
    };
    EXPECT_EQ(rt.run(body()), 200);
}
