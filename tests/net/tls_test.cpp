// net::TlsStream against a real TLS server (a TLS-only redis-server, which speaks a line
// protocol and logs how each TLS client left): close() and the destructor send close_notify,
// a stream whose peer closed with or without close_notify reads end of stream, and closing it
// afterwards is harmless.
#include "weir/net/tls.hpp"

#include <string>

#include <gtest/gtest.h>

#include "weir/core/task.hpp"
#include "weir/net/connect.hpp"
#include "weir/testing/async_test.hpp"
#include "weir/testing/redis_server.hpp"
#include "weir/testing/shared_server.hpp"

namespace {

using weir::Task;
using weir::net::TlsStream;
using weir::testing::RedisServer;
using weir::testing::RedisServerOptions;

RedisServerOptions tls_options() {
    RedisServerOptions o;
    o.tls = true;
    return o;
}

struct TlsRedisServer : RedisServer {
    TlsRedisServer() : RedisServer(tls_options()) {}
};
using TlsEnvironment = weir::testing::SharedServer<TlsRedisServer>;
::testing::Environment* const tls_environment = TlsEnvironment::install();

Task<TlsStream> connect_to(const RedisServer& srv) {
    weir::net::TlsClientOptions o;
    o.ca_file = srv.ca_file();
    auto ctx = weir::net::TlsContext::client(o);
    auto tcp = co_await weir::net::connect_tcp("127.0.0.1", srv.port());
    co_return co_await TlsStream::connect(std::move(tcp), ctx, "127.0.0.1");
}

// Sends one inline command and reads its one-line reply.
Task<std::string> command(TlsStream& tls, std::string line) {
    line += "\r\n";
    co_await tls.write_all(line);
    std::string reply;
    char buf[256];
    while (reply.find("\r\n") == std::string::npos) {
        const std::size_t n = co_await tls.read_some(std::span<char>(buf));
        if (n == 0) break;
        reply.append(buf, n);
    }
    co_return reply;
}

Task<std::size_t> read_to_end(TlsStream& tls) {
    std::size_t total = 0;
    char buf[256];
    for (;;) {
        const std::size_t n = co_await tls.read_some(std::span<char>(buf));
        if (n == 0) co_return total;
        total += n;
    }
}

}  // namespace

WEIR_TEST(NetTls, CloseAndDestructorSendCloseNotify) {
    const RedisServer& srv = TlsEnvironment::get();
    auto admin = co_await connect_to(srv);
    const std::string ok = co_await command(admin, "CONFIG SET loglevel verbose");
    EXPECT_EQ(ok, "+OK\r\n");
    for (int way = 0; way < 3; ++way) {
        const std::size_t mark = srv.log().size();
        {
            auto tls = co_await connect_to(srv);
            const std::string pong = co_await command(tls, "PING");
            EXPECT_EQ(pong, "+PONG\r\n");
            if (way == 0) tls.close();
            if (way == 1) tls.shutdown();  // then closed by the destructor: sent once
        }                                  // way 2: the destructor alone
        const std::string line = srv.tls_client_exit(mark);  // blocks the shard a moment
        EXPECT_NE(line.find("Reading from client"), std::string::npos) << line;
        EXPECT_EQ(line.find("unexpected eof"), std::string::npos) << "way " << way << ": " << line;
    }
    const std::string notice = co_await command(admin, "CONFIG SET loglevel notice");
    EXPECT_EQ(notice, "+OK\r\n");
    admin.close();
}

// The server closes one connection with close_notify (CLIENT KILL) and then, exiting, the
// others without (SHUTDOWN NOSAVE): both read as end of stream, and closing afterwards (which
// may send close_notify to a socket the peer closed) raises nothing.
TEST(NetTls, PeerCloseWithOrWithoutCloseNotifyIsEndOfStream) {
    RedisServer srv(tls_options());
    weir::testing::run_async_test([&]() -> Task<void> {
        auto killed = co_await connect_to(srv);
        auto left = co_await connect_to(srv);
        auto admin = co_await connect_to(srv);
        const std::string id = co_await command(killed, "CLIENT ID");
        CO_ASSERT_TRUE(id.size() > 3 && id[0] == ':');
        const std::string kill = "CLIENT KILL ID " + id.substr(1, id.size() - 3);
        const std::string one = co_await command(admin, kill);
        EXPECT_EQ(one, ":1\r\n");
        const std::size_t after_kill = co_await read_to_end(killed);
        EXPECT_EQ(after_kill, 0u);
        const std::string pong = co_await command(left, "PING");
        EXPECT_EQ(pong, "+PONG\r\n");
        co_await admin.write_all("SHUTDOWN NOSAVE\r\n");
        const std::size_t after_exit = co_await read_to_end(left);
        EXPECT_EQ(after_exit, 0u);
        killed.close();
        left.close();
        admin.close();
        EXPECT_FALSE(left.is_open());
    });
}
