// weir::redis over TLS (rediss://) against a real redis-server listening only
// on a TLS port, with a throwaway CA: commands and automatic pipelining, big
// values split across TLS records (with and without direct reads), pub/sub,
// certificate verification failures, client certificates (tls-auth-clients),
// cancellation mid-command, a pool healing after a server restart, close_notify on an
// orderly close, and a server that vanishes without one. The big-value test also runs over a
// plain socket (direct reads with readv).
#include <string>
#include <vector>

#include "redis_test_util.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/task_group.hpp"
#include "weir/core/timeout.hpp"
#include "weir/redis/connection.hpp"
#include "weir/redis/pool.hpp"
#include "weir/redis/subscriber.hpp"
#include "weir/testing/async_test.hpp"
#include "weir/testing/shared_server.hpp"

using namespace std::chrono_literals;
using weir::Task;
using weir::redis::Connection;
using weir::redis::ConnectionError;
using weir::redis::ConnectionOptions;
using weir::redis::Message;
using weir::redis::Pipeline;
using weir::redis::Reply;
using weir::redis::Subscriber;
using weir::redis::TlsError;
using weir::redis::TlsVerifyError;
using weir::redis::test::key;
using weir::testing::RedisServer;
using weir::testing::RedisServerOptions;

namespace {

RedisServerOptions tls_options(bool auth_clients) {
    RedisServerOptions o;
    o.tls = true;
    o.tls_auth_clients = auth_clients;
    return o;
}

// One TLS redis-server for the binary (tests needing another start their own).
struct TlsRedisServer : RedisServer {
    TlsRedisServer() : RedisServer(tls_options(false)) {}
};
using TlsEnvironment = weir::testing::SharedServer<TlsRedisServer>;
::testing::Environment* const tls_environment = TlsEnvironment::install();

std::string tls_url(int db = 0) { return TlsEnvironment::get().url(db); }

// A value whose bytes depend on their position (a misplaced byte shows).
std::string pattern_value(std::size_t n, char salt) {
    std::string v(n, '\0');
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<char>('a' + (i * 7 + salt) % 26);
    return v;
}

}  // namespace

WEIR_TEST(RedisTls, CommandsPipelinesAndAutomaticPipelining) {
    auto conn = co_await Connection::connect(tls_url());
    EXPECT_EQ(conn.protocol(), 3);
    co_await conn.cmd("SET", key(), "over tls");
    EXPECT_EQ((co_await conn.cmd("GET", key())).str(), "over tls");
    Pipeline p;
    p.cmd("INCR", key("n")).cmd("INCR", key("n")).cmd("GET", key("n"));
    auto replies = co_await conn.pipeline(std::move(p));
    CO_ASSERT_EQ(replies.size(), 3u);
    EXPECT_EQ(replies[2].str(), "2");

    constexpr int kTasks = 100;
    const int good = co_await weir::redis::test::concurrent_round_trips(conn, kTasks, 5);
    EXPECT_EQ(good, kTasks * 10);
    EXPECT_EQ(conn.pending(), 0u);
    auto m = conn.metrics();
    EXPECT_LT(m.writes * 4, m.commands_total) << m.writes << " writes for " << m.commands_total;
    // RESP2 over TLS too.
    auto r2 = co_await Connection::connect(tls_url() + "&protocol=2");
    EXPECT_EQ(r2.protocol(), 2);
    EXPECT_EQ((co_await r2.cmd("GET", key())).str(), "over tls");
}

// Values around the direct-read threshold and far above one TLS record
// (16 KiB), alone and several in flight at once, with direct reads on and off.
Task<void> big_values_round_trip(std::string url) {
    const std::vector<std::size_t> sizes = {0,     1,     16383,   16384,        16385,
                                            40000, 65536, 1 << 20, (3 << 20) + 7};
    auto writer = co_await Connection::connect(url);
    for (std::size_t i = 0; i < sizes.size(); ++i)
        co_await writer.cmd("SET", key(std::to_string(i)), pattern_value(sizes[i], char(i)));
    for (bool direct : {true, false}) {
        auto o = ConnectionOptions::from_url(url);
        o.direct_reads = direct;
        auto conn = co_await Connection::connect(o);
        for (std::size_t i = 0; i < sizes.size(); ++i) {
            Reply r = co_await conn.cmd("GET", key(std::to_string(i)));
            EXPECT_EQ(r.str().size(), sizes[i]);
            EXPECT_TRUE(r.str() == pattern_value(sizes[i], char(i))) << sizes[i];
        }
        // All at once: replies back to back in the stream.
        int good = 0;
        auto get = [&](std::size_t i) -> Task<void> {
            Reply r = co_await conn.cmd("GET", key(std::to_string(i)));
            if (r.str() == pattern_value(sizes[i], char(i))) ++good;
        };
        co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
            for (int round = 0; round < 2; ++round)
                for (std::size_t i = 0; i < sizes.size(); ++i) g.spawn(get(i));
            co_return;
        });
        EXPECT_EQ(good, static_cast<int>(sizes.size() * 2)) << "direct " << direct;
        // Big values inside an aggregate (MGET) and a RESP3 map (HGETALL).
        co_await conn.cmd("HSET", key("h"), "big", pattern_value(200000, 'h'), "small", "s");
        Reply h = co_await conn.cmd("HGETALL", key("h"));
        CO_ASSERT_EQ(h.size(), 4u);
        Reply mget = co_await conn.cmd("MGET", key("7"), key("0"), key("8"));
        CO_ASSERT_EQ(mget.size(), 3u);
        EXPECT_TRUE(mget[0].str() == pattern_value(sizes[7], 7));
        EXPECT_TRUE(mget[2].str() == pattern_value(sizes[8], 8));
    }
}

WEIR_TEST(RedisTls, BigValuesAcrossRecords) { co_await big_values_round_trip(tls_url()); }

WEIR_TEST(RedisConnection, BigValuesWithDirectReads) {
    co_await big_values_round_trip(weir::redis::test::url());
}

WEIR_TEST(RedisTls, PubSub) {
    auto sub = co_await Subscriber::connect(tls_url());
    auto pub = co_await Connection::connect(tls_url());
    const std::vector<std::string> channels{key("a")};
    const std::vector<std::string> patterns{key("p*")};
    co_await sub.subscribe(channels);
    co_await sub.psubscribe(patterns);
    EXPECT_EQ(co_await pub.publish(key("a"), "one"), 1);
    const std::string big = pattern_value(100000, 'b');
    EXPECT_EQ(co_await pub.publish(key("pq"), big), 1);
    Message m1 = co_await sub.next();
    EXPECT_EQ(m1.channel, key("a"));
    EXPECT_EQ(m1.payload, "one");
    Message m2 = co_await sub.next();
    EXPECT_EQ(m2.pattern, key("p*"));
    EXPECT_TRUE(m2.payload == big);
    // Killed connection: the subscriber reconnects over TLS and resubscribes.
    co_await pub.cmd("CLIENT", "KILL", "TYPE", "pubsub");
    bool delivered = false;
    for (int i = 0; i < 100 && !delivered; ++i) {
        if (co_await pub.publish(key("a"), "again") > 0) {
            Message m = co_await weir::with_timeout(5s, sub.next());
            delivered = m.payload == "again";
        } else {
            auto t = sub.next();
            try {
                co_await weir::with_timeout(20ms, std::move(t));
            } catch (const weir::TimeoutError&) {
            }
        }
    }
    EXPECT_TRUE(delivered);
    EXPECT_GE(sub.reconnects(), 1u);
}

// A certificate the client does not trust, or for another name: a typed
// error from the handshake (never a hang); verify=0 accepts it.
WEIR_TEST(RedisTls, VerificationFailuresAreTyped) {
    auto other = weir::testing::make_temp_dir("weir-redis-ca-");
    weir::testing::make_test_ca(other, "other");
    const std::string port = std::to_string(TlsEnvironment::get().port());
    const std::vector<std::string> bad = {
        "rediss://127.0.0.1:" + port + "?ca_file=" + (other / "other.crt").string(),
        "rediss://127.0.0.1:" + port,  // the system store does not know the test CA
        tls_url() + "&server_name=not-the-server.test",
    };
    for (const auto& u : bad) {
        bool thrown = false;
        try {
            auto t = Connection::connect(u);
            co_await weir::with_timeout(10s, std::move(t));
        } catch (const TlsVerifyError& e) {
            thrown = true;
            EXPECT_NE(e.verify_result(), 0);
            EXPECT_NE(std::string(e.what()).find("verif"), std::string::npos) << e.what();
        }
        EXPECT_TRUE(thrown) << u;
    }
    auto unchecked = co_await Connection::connect("rediss://127.0.0.1:" + port + "?verify=0");
    EXPECT_EQ((co_await unchecked.cmd("PING")).str(), "PONG");
    // A CA file that does not exist: TlsError at set-up.
    bool thrown = false;
    try {
        co_await Connection::connect("rediss://127.0.0.1:" + port + "?ca_file=/nonexistent.pem");
    } catch (const TlsError&) {
        thrown = true;
    }
    EXPECT_TRUE(thrown);
    std::error_code ec;
    std::filesystem::remove_all(other, ec);
}

TEST(RedisTls, ClientCertificateRequired) {
    RedisServer srv(tls_options(true));
    weir::testing::run_async_test([&]() -> Task<void> {
        // With the certificate (the fixture's URL carries it).
        auto conn = co_await Connection::connect(srv.url());
        EXPECT_EQ((co_await conn.cmd("PING")).str(), "PONG");
        // Without: the server ends the session (TLS alert): a TlsError.
        bool thrown = false;
        try {
            auto t = Connection::connect("rediss://127.0.0.1:" + std::to_string(srv.port()) +
                                         "?ca_file=" + srv.ca_file());
            auto c = co_await weir::with_timeout(10s, std::move(t));
            co_await c.cmd("PING");
        } catch (const TlsError& e) {
            thrown = true;
            EXPECT_NE(std::string(e.what()).find("certificate"), std::string::npos) << e.what();
        }
        EXPECT_TRUE(thrown);
    });
}

// Cancelled waits interrupt only the waiting: the abandoned replies (a
// blocked BLPOP, big values being read straight into replies) are read and
// dropped, and the connection stays usable and in step.
WEIR_TEST(RedisTls, CancellationMidCommandKeepsTheConnectionInStep) {
    auto conn = co_await Connection::connect(tls_url());
    auto other = co_await Connection::connect(tls_url());
    bool timed_out = false;
    try {
        auto t = conn.cmd("BLPOP", key("list"), 0);
        co_await weir::with_timeout(50ms, std::move(t));
    } catch (const weir::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(conn.abandoned(), 1u);
    co_await other.cmd("RPUSH", key("list"), "x");
    EXPECT_EQ((co_await conn.cmd("ECHO", "after")).str(), "after");
    EXPECT_EQ(conn.abandoned(), 0u);

    const std::string big = pattern_value(4 << 20, 'c');
    co_await other.cmd("SET", key("big"), big);
    int cancelled = 0;
    for (int i = 0; i < 20; ++i) {
        try {
            auto t = conn.cmd("GET", key("big"));
            co_await weir::with_timeout(std::chrono::microseconds(200 * i), std::move(t));
        } catch (const weir::TimeoutError&) {
            ++cancelled;
        }
        const std::string v = std::to_string(i);
        EXPECT_EQ((co_await conn.cmd("ECHO", v)).str(), v);
    }
    Reply r = co_await conn.cmd("GET", key("big"));
    EXPECT_TRUE(r.str() == big);
    EXPECT_FALSE(conn.is_broken());
    EXPECT_EQ(conn.pending(), 0u);
    (void)cancelled;  // how many timed out depends on the machine
}

TEST(RedisTls, ServerRestartPoolHeals) {
    RedisServer srv(tls_options(false));
    weir::redis::test::restart_under_load(srv);
}

// An idle TLS connection is checked without a round trip: TLS 1.3 session
// tickets that arrived after the handshake are not "unexpected data", and a
// connection the server closed is seen as such.
WEIR_TEST(RedisTls, IdleCheckSeesThroughSessionTickets) {
    auto conn = co_await Connection::connect(tls_url());
    co_await weir::sleep_for(50ms);
    EXPECT_TRUE(conn.check_idle());
    EXPECT_EQ((co_await conn.cmd("PING")).str(), "PONG");
    auto killer = co_await Connection::connect(tls_url());
    const std::int64_t id = (co_await conn.cmd("CLIENT", "ID")).integer();
    co_await killer.cmd("CLIENT", "KILL", "ID", id);
    co_await weir::sleep_for(50ms);
    EXPECT_FALSE(conn.check_idle());
    EXPECT_TRUE(conn.is_broken());
}

// Closing a connection (close(), or destroying it) sends close_notify: the server sees an
// orderly TLS close, not a truncated stream.
WEIR_TEST(RedisTls, OrderlyCloseSendsCloseNotify) {
    const RedisServer& srv = TlsEnvironment::get();
    auto admin = co_await Connection::connect(tls_url());
    co_await admin.cmd("CONFIG", "SET", "loglevel", "verbose");
    for (int way = 0; way < 2; ++way) {
        const std::size_t mark = srv.log().size();
        {
            auto conn = co_await Connection::connect(tls_url());
            Reply pong = co_await conn.cmd("PING");
            EXPECT_EQ(pong.str(), "PONG");
            if (way == 0) conn.close();  // otherwise destroyed at the end of the scope
        }
        const std::string line = srv.tls_client_exit(mark);  // blocks the shard a moment
        EXPECT_NE(line.find("Reading from client"), std::string::npos) << line;
        EXPECT_EQ(line.find("unexpected eof"), std::string::npos) << "way " << way << ": " << line;
    }
    co_await admin.cmd("CONFIG", "SET", "loglevel", "notice");
}

// A server that exits without close_notify (SHUTDOWN NOSAVE leaves the kernel to close its
// sockets): the command waiting on the connection fails with a plain ConnectionError (the end
// of the stream), not a TLS error, as before close_notify was sent on close.
TEST(RedisTls, ServerGoneWithoutCloseNotifyIsAConnectionError) {
    RedisServer srv(tls_options(false));
    weir::testing::run_async_test([&]() -> Task<void> {
        auto conn = co_await Connection::connect(srv.url());
        auto admin = co_await Connection::connect(srv.url());
        bool lost = false, tls_error = false;
        std::string why;
        auto blocked = [&]() -> Task<void> {
            try {
                co_await conn.cmd("BLPOP", "nothing", "10");
            } catch (const TlsError& e) {
                tls_error = true;
                why = e.what();
            } catch (const ConnectionError& e) {
                lost = true;
                why = e.what();
            }
        };
        auto shutdown = [&]() -> Task<void> {
            co_await weir::sleep_for(50ms);
            try {
                co_await admin.cmd("SHUTDOWN", "NOSAVE");
            } catch (const ConnectionError&) {
            }
        };
        co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
            g.spawn(blocked());
            g.spawn(shutdown());
            co_return;
        });
        EXPECT_TRUE(lost) << why;
        EXPECT_FALSE(tls_error) << why;
        EXPECT_NE(why.find("server closed the connection"), std::string::npos) << why;
        EXPECT_TRUE(conn.is_broken());
        conn.close();
        admin.close();
    });
}
