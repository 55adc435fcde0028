// redis::Pool: shared pipelined connection, exclusive connections with RAII
// guards, acquire timeouts, discarding broken connections, and healing after
// a redis-server restart under load.
#include "weir/redis/pool.hpp"

#include <string>

#include "redis_test_util.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/task_group.hpp"
#include "weir/core/timeout.hpp"
#include "weir/testing/async_test.hpp"

using namespace std::chrono_literals;
using weir::Task;
using weir::redis::ConnectionError;
using weir::redis::Pool;
using weir::redis::PooledConnection;
using weir::redis::PoolOptions;
using weir::redis::PoolTimeout;
using weir::redis::Reply;
using weir::redis::test::key;
using weir::redis::test::url;

WEIR_TEST(RedisPool, SharedCommandsAndExclusiveConnections) {
    PoolOptions o;
    o.url = url();
    o.min_size = 1;
    o.max_size = 2;
    o.acquire_timeout = 50ms;
    auto body = [&](Pool& pool) -> Task<void> {
        co_await pool.set(key(), "v");
        EXPECT_EQ(co_await pool.get(key()), "v");
        {
            auto a = co_await pool.acquire();
            auto b = co_await pool.acquire();
            EXPECT_EQ((co_await a->cmd("ECHO", "a")).str(), "a");
            EXPECT_EQ(pool.stats().in_use, 2u);
            bool timed_out = false;
            try {
                co_await pool.acquire();
            } catch (const PoolTimeout&) {
                timed_out = true;
            }
            EXPECT_TRUE(timed_out);
            EXPECT_EQ(pool.stats().timeouts, 1u);
        }
        auto s = pool.stats();
        EXPECT_EQ(s.in_use, 0u);
        EXPECT_EQ(s.idle, 2u);
        auto c = co_await pool.acquire();
        EXPECT_EQ((co_await c->cmd("PING")).str(), "PONG");
        auto m = pool.metrics();
        EXPECT_GE(m.commands["ECHO"], 1u);
        EXPECT_EQ(m.pool.max_size, 2u);
        EXPECT_GE(m.connects, 3u);
    };
    co_await weir::with_resource(co_await Pool::open(o), body);
}

WEIR_TEST(RedisPool, GuardDiscardsBrokenAndBusyConnections) {
    PoolOptions o;
    o.url = url();
    o.min_size = 0;
    o.max_size = 1;
    auto body = [&](Pool& pool) -> Task<void> {
        {
            auto c = co_await pool.acquire();
            c->close();  // broken: must not go back
        }
        EXPECT_EQ(pool.stats().idle, 0u);
        {
            auto c = co_await pool.acquire();
            // A cancelled command whose reply is still due: the connection is busy.
            try {
                co_await weir::with_timeout(20ms, c->cmd("BLPOP", key("empty"), "0.2"));
            } catch (const weir::TimeoutError&) {
            }
            EXPECT_EQ(c->pending(), 1u);
        }
        EXPECT_EQ(pool.stats().idle, 0u);
        EXPECT_EQ(pool.stats().discarded, 1u);  // the closed one was not the pool's to close
        {
            auto c = co_await pool.acquire();
            co_await c->cmd("PING");
        }
        EXPECT_EQ(pool.stats().idle, 1u);
        // An idle connection killed by the server is noticed at acquire.
        {
            auto admin = co_await pool.acquire();  // reuses the idle one
            co_await admin->cmd("CLIENT", "SETNAME", "victim");
        }
        co_await pool.cmd("CLIENT", "KILL", "SKIPME", "yes", "TYPE", "normal");
        co_await weir::sleep_for(20ms);
        auto fresh = co_await pool.acquire();
        EXPECT_EQ((co_await fresh->cmd("CLIENT", "GETNAME")).type(), weir::redis::ReplyType::nil);
        EXPECT_EQ(pool.stats().discarded, 2u);
    };
    co_await weir::with_resource(co_await Pool::open(o), body);
}

// Stops redis-server for 100 ms and starts it again while 16 tasks keep
// using the pool (see restart_under_load in redis_test_util.hpp).
TEST(RedisPool, ServerRestartUnderLoadHeals) {
    weir::testing::RedisServer srv;
    weir::redis::test::restart_under_load(srv);
}
