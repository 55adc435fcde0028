// redis::Connection against a real redis-server: handshake (RESP3/RESP2, AUTH,
// ACL users, SELECT, SETNAME), typed errors, automatic pipelining, cancellation,
// timeouts, broken connections and bad servers.
#include "weir/redis/connection.hpp"

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "redis_test_util.hpp"
#include "weir/core/event.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/task_group.hpp"
#include "weir/core/timeout.hpp"
#include "weir/core/when_all.hpp"
#include "weir/net/listener.hpp"
#include "weir/testing/async_test.hpp"

using namespace std::chrono_literals;
using weir::Task;
using weir::redis::Command;
using weir::redis::Connection;
using weir::redis::ConnectionError;
using weir::redis::ConnectionOptions;
using weir::redis::Keys;
using weir::redis::Reply;
using weir::redis::Script;
using weir::redis::ServerError;
using weir::redis::UrlError;
using weir::redis::test::key;
using weir::redis::test::url;

TEST(RedisUrl, ParsesAllParts) {
    auto o =
        ConnectionOptions::from_url("redis://alice:s%40cret@example.org:6380/4?client_name=web");
    EXPECT_EQ(o.host, "example.org");
    EXPECT_EQ(o.port, 6380);
    EXPECT_EQ(o.username, "alice");
    EXPECT_EQ(o.password, "s@cret");
    EXPECT_EQ(o.db, 4);
    EXPECT_EQ(o.client_name, "web");
    auto p = ConnectionOptions::from_url("redis://:pw@127.0.0.1");
    EXPECT_EQ(p.username, "");
    EXPECT_EQ(p.password, "pw");
    EXPECT_EQ(p.port, 6379);
    EXPECT_EQ(p.db, 0);
    auto v6 = ConnectionOptions::from_url("redis://[::1]:7000/1?protocol=2");
    EXPECT_EQ(v6.host, "::1");
    EXPECT_EQ(v6.port, 7000);
    EXPECT_EQ(v6.protocol, 2);
    auto d = ConnectionOptions::from_url("redis://");
    EXPECT_EQ(d.host, "127.0.0.1");
    auto u = ConnectionOptions::from_url("unix:///tmp/redis.sock?db=2");
    EXPECT_EQ(u.unix_path, "/tmp/redis.sock");
    EXPECT_EQ(u.db, 2);
}

TEST(RedisUrl, RejectsBadUrls) {
    EXPECT_THROW(ConnectionOptions::from_url("http://x"), UrlError);
    EXPECT_THROW(ConnectionOptions::from_url("redis://h:99999"), UrlError);
    EXPECT_THROW(ConnectionOptions::from_url("redis://h:abc"), UrlError);
    EXPECT_THROW(ConnectionOptions::from_url("redis://h/x"), UrlError);
    EXPECT_THROW(ConnectionOptions::from_url("redis://h?bogus=1"), UrlError);
    EXPECT_THROW(ConnectionOptions::from_url("redis://a:%zz@h"), UrlError);
    EXPECT_THROW(ConnectionOptions::from_url("redis://[::1"), UrlError);
    EXPECT_THROW(ConnectionOptions::from_url("rediss://h?verify=maybe"), UrlError);
}

TEST(RedisUrl, ParsesTlsOptions) {
    auto plain = ConnectionOptions::from_url("redis://h");
    EXPECT_FALSE(plain.tls.enabled);
    auto o = ConnectionOptions::from_url(
        "rediss://:pw@cache.test:6380/2?ca_file=/etc/ca%20x.pem&cert_file=/c.crt&key_file=/c.key"
        "&server_name=redis.internal&verify=0");
    EXPECT_TRUE(o.tls.enabled);
    EXPECT_EQ(o.host, "cache.test");
    EXPECT_EQ(o.port, 6380);
    EXPECT_EQ(o.db, 2);
    EXPECT_EQ(o.password, "pw");
    EXPECT_EQ(o.tls.ca_file, "/etc/ca x.pem");
    EXPECT_EQ(o.tls.cert_file, "/c.crt");
    EXPECT_EQ(o.tls.key_file, "/c.key");
    EXPECT_EQ(o.tls.server_name, "redis.internal");
    EXPECT_FALSE(o.tls.verify);
    // redis-py's spellings.
    auto p = ConnectionOptions::from_url(
        "rediss://h?ssl_ca_certs=/a&ssl_certfile=/b&ssl_keyfile=/c&ssl_cert_reqs=required");
    EXPECT_EQ(p.tls.ca_file, "/a");
    EXPECT_EQ(p.tls.cert_file, "/b");
    EXPECT_EQ(p.tls.key_file, "/c");
    EXPECT_TRUE(p.tls.verify);
}

TEST(RedisCommand, EncodesArguments) {
    Command c("set", "k", std::string("v"), 10, 1.5, std::vector<std::string>{"a", "b"});
    EXPECT_EQ(c.name(), "SET");
    EXPECT_EQ(c.argc(), 7u);
    EXPECT_EQ(
        c.encoded(),
        "*7\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\n10\r\n$3\r\n1.5\r\n$1\r\na\r\n$1\r\nb\r\n");
}

// Small commands are encoded inline, bigger ones on the heap: copies, moves
// and appends across that boundary keep every byte.
TEST(RedisCommand, InlineAndHeapEncodingsCopyMoveAndAppend) {
    const std::string big(300, 'x');
    const std::string big_enc = "$300\r\n" + big + "\r\n";
    Command small("GET", "k");
    Command grown("SET", "k");
    grown.arg(big);  // outgrows the inline space
    EXPECT_EQ(small.encoded(), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    EXPECT_EQ(grown.encoded(), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n" + big_enc);

    Command small_copy(small);
    Command grown_copy(grown);
    EXPECT_EQ(small_copy.encoded(), small.encoded());
    EXPECT_EQ(grown_copy.encoded(), grown.encoded());
    Command moved_small(std::move(small_copy));
    Command moved_grown(std::move(grown_copy));
    EXPECT_EQ(moved_small.encoded(), small.encoded());
    EXPECT_EQ(moved_grown.encoded(), grown.encoded());
    moved_small = grown;  // inline <- heap
    EXPECT_EQ(moved_small.encoded(), grown.encoded());
    moved_grown = small;  // heap <- inline
    EXPECT_EQ(moved_grown.encoded(), small.encoded());
    moved_grown = std::move(moved_small);
    EXPECT_EQ(moved_grown.encoded(), grown.encoded());
    EXPECT_EQ(moved_grown.name(), "SET");

    Command twice("MGET", "a");
    twice.append_encoded_args(twice);  // appending itself
    EXPECT_EQ(twice.argc(), 4u);
    EXPECT_EQ(twice.encoded(), "*4\r\n$4\r\nMGET\r\n$1\r\na\r\n$4\r\nMGET\r\n$1\r\na\r\n");
    Command tail;
    tail.append_encoded_args(grown);
    EXPECT_EQ(tail.name(), "SET");
    EXPECT_EQ(tail.encoded(), grown.encoded());
}

WEIR_TEST(RedisConnection, Resp3RoundTrip) {
    auto conn = co_await Connection::connect(url());
    EXPECT_EQ(conn.protocol(), 3);
    Reply ok = co_await conn.cmd("SET", key(), "hello", "EX", 10);
    EXPECT_TRUE(ok.is_ok());
    Reply v = co_await conn.cmd("GET", key());
    EXPECT_EQ(v.str(), "hello");
    Reply missing = co_await conn.cmd("GET", key("missing"));
    EXPECT_TRUE(missing.is_nil());
    Reply h = co_await conn.cmd("HELLO");  // RESP3 map
    EXPECT_EQ(h.type(), weir::redis::ReplyType::map);
}

WEIR_TEST(RedisConnection, Resp2WhenAsked) {
    auto conn = co_await Connection::connect(url() + "?protocol=2");
    EXPECT_EQ(conn.protocol(), 2);
    co_await conn.cmd("HSET", key(), "a", "1", "b", "2");
    Reply h = co_await conn.cmd("HGETALL", key());
    EXPECT_EQ(h.type(), weir::redis::ReplyType::array);
    EXPECT_EQ(h.size(), 4u);
}

WEIR_TEST(RedisConnection, ServerErrorsAreTypedAndHarmless) {
    auto conn = co_await Connection::connect(url());
    co_await conn.cmd("SET", key(), "text");
    bool thrown = false;
    try {
        co_await conn.cmd("INCR", key());
    } catch (const ServerError& e) {
        thrown = true;
        EXPECT_EQ(e.prefix(), "ERR");
        EXPECT_EQ(e.command(), "INCR");
    }
    EXPECT_TRUE(thrown);
    co_await conn.cmd("DEL", key("list"));
    co_await conn.cmd("RPUSH", key("list"), "x");
    thrown = false;
    try {
        co_await conn.cmd("GET", key("list"));
    } catch (const ServerError& e) {
        thrown = true;
        EXPECT_EQ(e.prefix(), "WRONGTYPE");
        EXPECT_FALSE(e.message().empty());
    }
    EXPECT_TRUE(thrown);
    thrown = false;
    try {
        co_await conn.cmd("NOSUCHCOMMAND");
    } catch (const ServerError&) {
        thrown = true;
    }
    EXPECT_TRUE(thrown);
    EXPECT_FALSE(conn.is_broken());
    EXPECT_EQ((co_await conn.cmd("GET", key())).str(), "text");
    auto m = conn.metrics();
    EXPECT_EQ(m.server_errors, 3u);
}

WEIR_TEST(RedisConnection, SelectsDatabaseAndSetsName) {
    auto c3 = co_await Connection::connect(url(3) + "?client_name=weir-test");
    auto c0 = co_await Connection::connect(url(0));
    co_await c3.cmd("SET", key(), "in-db-3");
    EXPECT_TRUE((co_await c0.cmd("GET", key())).is_nil());
    EXPECT_EQ((co_await c3.cmd("GET", key())).str(), "in-db-3");
    EXPECT_EQ((co_await c3.cmd("CLIENT", "GETNAME")).str(), "weir-test");
    auto r2 = co_await Connection::connect(url(3) + "?client_name=weir-resp2&protocol=2");
    EXPECT_EQ((co_await r2.cmd("GET", key())).str(), "in-db-3");
    EXPECT_EQ((co_await r2.cmd("CLIENT", "GETNAME")).str(), "weir-resp2");
}

TEST(RedisConnection, AuthWithPasswordAndAclUser) {
    weir::testing::RedisServer srv;
    const std::string base = "127.0.0.1:" + std::to_string(srv.port());
    weir::testing::run_async_test([&]() -> Task<void> {
        {
            auto admin = co_await Connection::connect(srv.url());
            co_await admin.cmd("ACL", "SETUSER", "alice", "on", ">alicepw", "~*", "&*", "+@all");
            co_await admin.cmd("CONFIG", "SET", "requirepass", "topsecret");
        }
        for (std::string proto : {"3", "2"}) {
            const std::string q = "/0?protocol=" + proto;
            // No password: refused at the handshake (NOAUTH) or at the first command.
            bool refused = false;
            try {
                auto c = co_await Connection::connect("redis://" + base + q);
                co_await c.cmd("PING");
            } catch (const ServerError& e) {
                refused = true;
                EXPECT_EQ(e.prefix(), "NOAUTH") << e.what();
            }
            EXPECT_TRUE(refused) << proto;
            refused = false;
            try {
                co_await Connection::connect("redis://:wrong@" + base + q);
            } catch (const ServerError& e) {
                refused = true;
                EXPECT_EQ(e.prefix(), "WRONGPASS") << e.what();
            }
            EXPECT_TRUE(refused) << proto;
            auto def = co_await Connection::connect("redis://:topsecret@" + base + q);
            EXPECT_EQ((co_await def.cmd("ACL", "WHOAMI")).str(), "default");
            auto alice = co_await Connection::connect("redis://alice:alicepw@" + base + q);
            EXPECT_EQ((co_await alice.cmd("ACL", "WHOAMI")).str(), "alice");
            EXPECT_EQ(alice.protocol(), proto == "3" ? 3 : 2);
        }
    });
}

WEIR_TEST(RedisConnection, ConnectRefusedIsConnectionError) {
    const auto port = weir::testing::free_port();
    bool thrown = false;
    try {
        co_await Connection::connect("redis://127.0.0.1:" + std::to_string(port));
    } catch (const ConnectionError& e) {
        thrown = true;
        EXPECT_NE(std::string(e.what()).find("cannot connect"), std::string::npos);
    }
    EXPECT_TRUE(thrown);
}

WEIR_TEST(RedisConnection, AutomaticPipeliningKeepsOrder) {
    auto conn = co_await Connection::connect(url());
    constexpr int kTasks = 200;
    const int good = co_await weir::redis::test::concurrent_round_trips(conn, kTasks, 5);
    EXPECT_EQ(good, kTasks * 10);
    EXPECT_EQ(conn.pending(), 0u);
    auto m = conn.metrics();
    EXPECT_EQ(m.commands["SET"], static_cast<std::uint64_t>(kTasks * 5));
    EXPECT_GE(m.latency.count, static_cast<std::uint64_t>(kTasks * 15));
    // Concurrent commands went out together: far fewer writes than commands.
    EXPECT_LT(m.writes * 4, m.commands_total) << m.writes << " writes for " << m.commands_total;
}

// Many tasks, each running two commands in a row (SCRIPT LOAD, then EVALSHA)
// on one connection: whenever the driving task's command completes, another
// waiter must take over the socket, even if its own reply came in the same
// read (regression: a woken waiter whose reply was already there left without
// driving, and the rest waited forever).
WEIR_TEST(RedisConnection, ManyConcurrentEvalsOnFreshScript) {
    auto conn = co_await Connection::connect(url());
    const std::string source =
        "redis.call('HSET', KEYS[1], 'a', ARGV[1]); "
        "redis.call('XADD', KEYS[2], '*', 'id', ARGV[1]); return 1";
    constexpr int kTasks = 500;
    for (int batch = 0; batch < 3; ++batch) {
        auto one = [&](int i) -> Task<std::int64_t> {
            Script script(source);  // fresh: SCRIPT LOAD, then EVALSHA
            const std::string id = std::to_string(batch * kTasks + i);
            const Keys keys{key("h" + id), key("s" + id)};
            const Keys args{id};
            Reply r = co_await conn.eval(script, keys, args);
            co_return r.integer();
        };
        std::vector<Task<std::int64_t>> tasks;
        for (int i = 0; i < kTasks; ++i) tasks.push_back(one(i));
        auto results = co_await weir::when_all(std::move(tasks));
        std::int64_t sum = 0;
        for (auto v : results) sum += v;
        EXPECT_EQ(sum, kTasks) << "batch " << batch;
    }
    EXPECT_EQ(conn.pending(), 0u);
    auto m = conn.metrics();
    EXPECT_EQ(m.commands["EVALSHA"], static_cast<std::uint64_t>(3 * kTasks));
}

// The same with plain commands and more tasks: SET then GET in each task.
WEIR_TEST(RedisConnection, ManyConcurrentSetGetPairs) {
    auto conn = co_await Connection::connect(url());
    constexpr int kTasks = 2000;
    auto one = [&](int i) -> Task<int> {
        const std::string k = key(std::to_string(i));
        const std::string v = std::to_string(i);
        co_await conn.cmd("SET", k, v);
        Reply r = co_await conn.cmd("GET", k);
        co_return r.str() == v ? 1 : 0;
    };
    std::vector<Task<int>> tasks;
    for (int i = 0; i < kTasks; ++i) tasks.push_back(one(i));
    auto results = co_await weir::when_all(std::move(tasks));
    int good = 0;
    for (int g : results) good += g;
    EXPECT_EQ(good, kTasks);
    EXPECT_EQ(conn.pending(), 0u);
}

WEIR_TEST(RedisConnection, TimeoutMidCommandDropsItsReply) {
    auto conn = co_await Connection::connect(url());
    co_await conn.cmd("SET", key(), "after");
    bool timed_out = false;
    try {
        // BLPOP holds the reply back for 300 ms; we stop waiting after 30 ms.
        co_await weir::with_timeout(30ms, conn.cmd("BLPOP", key("empty"), "0.3"));
    } catch (const weir::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(conn.abandoned(), 1u);
    // The next command gets its own reply, not BLPOP's nil.
    Reply r = co_await conn.cmd("GET", key());
    EXPECT_EQ(r.str(), "after");
    EXPECT_EQ(conn.abandoned(), 0u);
    EXPECT_EQ(conn.pending(), 0u);
    EXPECT_FALSE(conn.is_broken());
    EXPECT_EQ(conn.metrics().abandoned, 1u);
}

WEIR_TEST(RedisConnection, InheritedDeadlineAndCommandTimeout) {
    auto conn = co_await Connection::connect(url());
    const weir::redis::Keys empty{key("empty")};
    auto body = [&]() -> Task<void> { co_await conn.blpop(empty, 2s); };
    bool timed_out = false;
    try {
        co_await weir::with_timeout(30ms, body());
    } catch (const weir::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    auto o = ConnectionOptions::from_url(url());
    o.command_timeout = 30ms;
    auto limited = co_await Connection::connect(o);
    timed_out = false;
    try {
        co_await limited.cmd("BLPOP", key("empty"), "0.2");
    } catch (const weir::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_FALSE(limited.is_broken());
    EXPECT_EQ(limited.abandoned(), 1u);
    // The next command queues behind the BLPOP (FIFO): let that finish first.
    co_await weir::sleep_for(400ms);
    EXPECT_EQ((co_await limited.cmd("ECHO", "x")).str(), "x");
    EXPECT_EQ((co_await conn.cmd("ECHO", "y")).str(), "y");
}

WEIR_TEST(RedisConnection, CancellingSomeOfManyCommandsKeepsTheRestInSync) {
    auto conn = co_await Connection::connect(url());
    int mismatches = 0, completed = 0, cancelled = 0;
    auto one = [&](int i) -> Task<void> {
        const std::string v = "v" + std::to_string(i);
        for (int round = 0; round < 20; ++round) {
            try {
                Reply r = co_await weir::with_timeout(std::chrono::microseconds(50 * (i % 7)),
                                                      conn.cmd("ECHO", v));
                if (r.str() != v) ++mismatches;
                ++completed;
            } catch (const weir::TimeoutError&) {
                ++cancelled;
            }
        }
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        for (int i = 0; i < 50; ++i) g.spawn(one(i));
        co_return;
    });
    EXPECT_EQ(mismatches, 0);
    EXPECT_EQ(completed + cancelled, 1000);
    EXPECT_GT(cancelled, 0);  // i % 7 == 0: zero timeout, always cancelled
    EXPECT_EQ((co_await conn.cmd("ECHO", "final")).str(), "final");
    EXPECT_EQ(conn.abandoned(), 0u);
}

WEIR_TEST(RedisConnection, CancelledDriverHandsOverToOtherWaiters) {
    auto conn = co_await Connection::connect(url());
    std::string got;
    // The first task drives the socket while waiting on a slow BLPOP, then is cancelled.
    // (Coroutine lambdas live outside the group body: children outlive the body.)
    auto slow = [&]() -> Task<void> {
        co_await weir::with_timeout(50ms, conn.cmd("BLPOP", key("empty"), "0.2"));
    };
    auto fast = [&]() -> Task<void> {
        co_await weir::sleep_for(10ms);
        Reply r = co_await conn.cmd("ECHO", "behind");
        got = std::string(r.str());
    };
    auto slow_guarded = [&]() -> Task<void> {
        try {
            co_await slow();
        } catch (const weir::TimeoutError&) {
        }
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        g.spawn(slow_guarded());
        g.spawn(fast());
        co_return;
    });
    EXPECT_EQ(got, "behind");
}

WEIR_TEST(RedisConnection, BigValuesRoundTrip) {
    auto conn = co_await Connection::connect(url());
    std::string big(5 * 1024 * 1024 + 3, 'q');
    for (std::size_t i = 0; i < big.size(); i += 1000)
        big[i] = static_cast<char>('a' + (i / 1000) % 26);
    co_await conn.cmd("SET", key(), big);
    Reply r = co_await conn.cmd("GET", key());
    EXPECT_TRUE(r.str() == big);
    co_await conn.cmd("DEL", key());
}

WEIR_TEST(RedisConnection, KilledConnectionFailsWithConnectionError) {
    auto conn = co_await Connection::connect(url() + "?client_name=victim");
    auto admin = co_await Connection::connect(url());
    co_await conn.cmd("PING");
    bool failed = false;
    auto blocked = [&]() -> Task<void> {
        try {
            co_await conn.cmd("BLPOP", key("empty"), "5");
        } catch (const ConnectionError&) {
            failed = true;
        }
    };
    auto killer = [&]() -> Task<void> {
        co_await weir::sleep_for(20ms);
        co_await admin.cmd("CLIENT", "KILL", "SKIPME", "yes", "TYPE", "normal");
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        g.spawn(blocked());
        g.spawn(killer());
        co_return;
    });
    EXPECT_TRUE(failed);
    EXPECT_TRUE(conn.is_broken());
    bool thrown = false;
    try {
        co_await conn.cmd("PING");
    } catch (const ConnectionError&) {
        thrown = true;
    }
    EXPECT_TRUE(thrown);
}

WEIR_TEST(RedisConnection, GarbageFromTheServerIsAProtocolError) {
    auto listener = weir::net::Listener::bind_tcp("127.0.0.1", 0);
    const auto port = listener.local_address().port();
    bool thrown = false;
    auto fake = [&]() -> Task<void> {
        auto s = co_await listener.accept();
        char buf[256];
        co_await s.read_some(std::span<char>(buf));
        co_await s.write_all("?this is not RESP\r\n");
        co_await weir::sleep_for(50ms);
    };
    auto client = [&]() -> Task<void> {
        try {
            co_await Connection::connect("redis://127.0.0.1:" + std::to_string(port));
        } catch (const weir::redis::ProtocolError&) {
            thrown = true;
        } catch (const ConnectionError& e) {
            thrown = std::string(e.what()).find("invalid RESP") != std::string::npos;
        }
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        g.spawn(fake());
        g.spawn(client());
        co_return;
    });
    EXPECT_TRUE(thrown);
}

// The process's virtual size (VmSize) in KiB: a reservation shows there at once, even
// before its pages are touched (and so before the resident size grows).
std::size_t virtual_kib() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmSize:", 0) == 0) return std::stoul(line.substr(7));
    return 0;
}

// A server that announces a bulk string of almost 512 MiB (the default limit), sends three
// bytes of it and closes: the client held memory for what arrived, not for the announced
// length, and the command fails with a ConnectionError.
WEIR_TEST(RedisConnection, HugeAnnouncedBulkReservesOnlyWhatArrives) {
    auto listener = weir::net::Listener::bind_tcp("127.0.0.1", 0);
    const auto port = listener.local_address().port();
    weir::Event sent, measured;
    auto fake = [&]() -> Task<void> {
        auto s = co_await listener.accept();
        char buf[256];
        co_await s.read_some(std::span<char>(buf));  // the GET (no handshake with protocol=2)
        co_await s.write_all("$536870000\r\nabc");
        sent.set();
        co_await measured.wait();
    };
    std::size_t before = 0, peak = 0;
    bool failed = false;
    auto client = [&]() -> Task<void> {
        auto c = co_await Connection::connect("redis://127.0.0.1:" + std::to_string(port) +
                                              "?protocol=2");
        before = virtual_kib();
        auto get = [&]() -> Task<void> {
            try {
                co_await c.cmd("GET", "big");
            } catch (const ConnectionError&) {
                failed = true;
            }
        };
        auto watch = [&]() -> Task<void> {
            co_await sent.wait();
            for (int i = 0; i < 10; ++i) {  // the client reads and parses meanwhile
                co_await weir::sleep_for(10ms);
                peak = std::max(peak, virtual_kib());
            }
            measured.set();
        };
        co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
            g.spawn(get());
            g.spawn(watch());
            co_return;
        });
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        g.spawn(fake());
        g.spawn(client());
        co_return;
    });
    EXPECT_TRUE(failed);
    CO_ASSERT_TRUE(before > 0);
    EXPECT_LT(peak, before + 128 * 1024)
        << "VmSize grew from " << before << " to " << peak << " KiB";
}

// A fake pre-6.0 server without HELLO: the client falls back to RESP2 and
// authenticates, names itself and selects the db with separate commands.
WEIR_TEST(RedisConnection, FallsBackToResp2WithoutHello) {
    auto listener = weir::net::Listener::bind_tcp("127.0.0.1", 0);
    const auto port = listener.local_address().port();
    std::string seen;
    bool ok = false;
    auto fake = [&]() -> Task<void> {
        auto s = co_await listener.accept();
        char buf[4096];
        // One command per read: the client awaits each handshake reply.
        for (int i = 0; i < 5; ++i) {
            std::size_t n = co_await s.read_some(std::span<char>(buf));
            if (n == 0) co_return;
            std::string cmd(buf, n);
            seen += cmd;
            if (cmd.find("HELLO") != std::string::npos) {
                co_await s.write_all("-ERR unknown command 'HELLO'\r\n");
            } else if (cmd.find("PING") != std::string::npos) {
                co_await s.write_all("+PONG\r\n");
            } else {
                co_await s.write_all("+OK\r\n");
            }
        }
    };
    auto client = [&]() -> Task<void> {
        auto c = co_await Connection::connect("redis://bob:pw@127.0.0.1:" + std::to_string(port) +
                                              "/2?client_name=old");
        EXPECT_EQ(c.protocol(), 2);
        ok = (co_await c.cmd("PING")).str() == "PONG";
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        g.spawn(fake());
        g.spawn(client());
        co_return;
    });
    EXPECT_TRUE(ok);
    EXPECT_NE(seen.find("$4\r\nAUTH\r\n$3\r\nbob\r\n$2\r\npw\r\n"), std::string::npos) << seen;
    EXPECT_NE(seen.find("$7\r\nSETNAME\r\n$3\r\nold\r\n"), std::string::npos) << seen;
    EXPECT_NE(seen.find("$6\r\nSELECT\r\n$1\r\n2\r\n"), std::string::npos) << seen;
}
