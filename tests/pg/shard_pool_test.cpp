#include "weir/pg/shard_pool.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "pg_test_util.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/task_group.hpp"
#include "weir/core/timeout.hpp"
#include "weir/core/to_thread.hpp"
#include "weir/testing/async_test.hpp"

using Pool = weir::pg::ShardPool;
using weir::pg::PoolOptions;
using weir::pg::Result;
using namespace std::chrono_literals;

namespace {

PoolOptions options(std::size_t min_size, std::size_t max_size,
                    std::chrono::milliseconds timeout = 2000ms) {
    PoolOptions o;
    o.url = weir::pg::test::url();
    o.min_size = min_size;
    o.max_size = max_size;
    o.acquire_timeout = timeout;
    return o;
}

weir::Task<std::int32_t> select_value(Pool& pool, std::int32_t v) {
    auto conn = co_await pool.acquire();
    Result r = co_await conn->query("SELECT $1::int4", v);
    co_return r[0].get<std::int32_t>(0);
}

}  // namespace

WEIR_TEST(PgShardPool, OpensMinSizeAndReusesConnections) {
    auto opts = options(2, 4);
    co_await weir::with_resource(co_await Pool::open(opts), [](Pool& pool) -> weir::Task<void> {
        EXPECT_EQ(pool.stats().idle, 2u);
        for (std::int32_t i = 0; i < 10; ++i) EXPECT_EQ(co_await select_value(pool, i), i);
        auto s = pool.stats();
        EXPECT_EQ(s.connects, 2u);
        EXPECT_EQ(s.in_use, 0u);
        EXPECT_EQ(s.idle, 2u);
    });
}

WEIR_TEST(PgShardPool, ExhaustionEndsInPoolTimeout) {
    auto opts = options(0, 2, 100ms);
    co_await weir::with_resource(co_await Pool::open(opts), [](Pool& pool) -> weir::Task<void> {
        auto a = co_await pool.acquire();
        auto b = co_await pool.acquire();
        EXPECT_EQ(pool.stats().in_use, 2u);
        bool timed_out = false;
        try {
            co_await pool.acquire();
        } catch (const weir::pg::PoolTimeout&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_EQ(pool.stats().timeouts, 1u);
        a.release();
        auto c = co_await pool.acquire();  // the returned connection
        Result r = co_await c->query("SELECT 1");
        EXPECT_EQ(r.rows(), 1);
        EXPECT_EQ(pool.stats().connects, 2u);
    });
}

WEIR_TEST(PgShardPool, ConnectionReturnsOnExceptionAndCancellation) {
    auto opts = options(1, 1, 2000ms);
    co_await weir::with_resource(co_await Pool::open(opts), [](Pool& pool) -> weir::Task<void> {
        auto failing = [&]() -> weir::Task<void> {
            auto conn = co_await pool.acquire();
            co_await conn->query("SELECT 1");
            throw std::runtime_error("boom");
        };
        EXPECT_THROW(co_await failing(), std::runtime_error);
        EXPECT_EQ(pool.stats().idle, 1u);
        // Cancelled while a statement runs: cancelled on the server, drained,
        // and the connection goes back to the pool.
        bool timed_out = false;
        auto slow = [&]() -> weir::Task<void> {
            auto conn = co_await pool.acquire();
            co_await conn->query("SELECT pg_sleep(10)");
        };
        try {
            co_await weir::with_timeout(200ms, slow());
        } catch (const weir::TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_EQ(pool.stats().idle, 1u);
        EXPECT_EQ(co_await select_value(pool, 3), 3);
        EXPECT_EQ(pool.stats().connects, 1u);
    });
}

WEIR_TEST(PgShardPool, TerminatedBackendIsReplaced) {
    auto opts = options(1, 2);
    co_await weir::with_resource(co_await Pool::open(opts), [](Pool& pool) -> weir::Task<void> {
        int pid = 0;
        {
            auto victim = co_await pool.acquire();
            auto admin = co_await pool.acquire();  // a second connection
            pid = victim->backend_pid();
            CO_ASSERT_NE(admin->backend_pid(), pid);
            Result r = co_await admin->query("SELECT pg_terminate_backend($1)", pid);
            EXPECT_TRUE(r[0].get<bool>(0));
        }  // both go back to the pool; the victim looks fine until used
        // Give the terminated backend's goodbye time to arrive (no timing
        // assertion: the pool must heal either way).
        co_await weir::sleep_for(100ms);
        for (std::int32_t i = 0; i < 4; ++i) {
            try {
                EXPECT_EQ(co_await select_value(pool, i), i);
            } catch (const weir::pg::Error& e) {
                // At most the first use of the dead connection may fail.
                EXPECT_EQ(i, 0) << e.what();
            }
        }
        EXPECT_GE(pool.stats().discarded, 1u);
        auto conn = co_await pool.acquire();
        EXPECT_NE(conn->backend_pid(), pid);
    });
}

WEIR_TEST(PgShardPool, ServerRestartSurfacesErrorsAndPoolHealsToThread) {
    auto opts = options(2, 2);
    co_await weir::with_resource(co_await Pool::open(opts), [](Pool& pool) -> weir::Task<void> {
        EXPECT_EQ(co_await select_value(pool, 1), 1);
        auto held = co_await pool.acquire();
        auto stop = [] { weir::pg::test::server().stop(); };
        co_await weir::to_thread(std::move(stop));
        // While the server is down: queries and new connections fail with
        // exceptions, nothing crashes.
        bool query_failed = false;
        try {
            co_await held->query("SELECT 1");
        } catch (const weir::pg::Error&) {
            query_failed = true;
        }
        EXPECT_TRUE(query_failed);
        EXPECT_TRUE(held->is_broken());
        held.release();
        bool acquire_failed = false;
        try {
            co_await select_value(pool, 2);
        } catch (const weir::pg::Error& e) {
            acquire_failed = e.is_connection_error();
        }
        EXPECT_TRUE(acquire_failed);
        auto start = [] { weir::pg::test::server().start(); };
        co_await weir::to_thread(std::move(start));
        // Back up: the pool heals.
        for (std::int32_t i = 0; i < 4; ++i) EXPECT_EQ(co_await select_value(pool, i), i);
        auto s = pool.stats();
        EXPECT_EQ(s.in_use, 0u);
        EXPECT_LE(s.idle, 2u);
    });
}

WEIR_TEST(PgShardPool, ConcurrentTasksShareTheSlots) {
    auto opts = options(0, 3);
    co_await weir::with_resource(co_await Pool::open(opts), [](Pool& pool) -> weir::Task<void> {
        int ok = 0;
        auto one = [&](std::int32_t i) -> weir::Task<void> {
            if (co_await select_value(pool, i) == i) ++ok;
        };
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
            for (std::int32_t i = 0; i < 30; ++i) g.spawn(one(i));
            co_return;
        });
        EXPECT_EQ(ok, 30);
        EXPECT_LE(pool.stats().connects, 3u);
    });
}

namespace {

weir::Task<void> wait_until_gone(weir::pg::Connection& admin, int pid) {
    for (int i = 0; i < 500; ++i) {
        Result r =
            co_await admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid);
        if (r[0].get<std::int64_t>(0) == 0) co_return;
        co_await weir::sleep_for(10ms);
    }
    ADD_FAILURE() << "backend " << pid << " still there";
}

}  // namespace

WEIR_TEST(PgShardPool, HealthCheckReplacesADeadIdleConnection) {
    auto opts = options(1, 1);
    opts.health_check_after = 0ms;  // every acquire checks with a round trip
    co_await weir::with_resource(co_await Pool::open(opts), [](Pool& pool) -> weir::Task<void> {
        int pid = 0;
        {
            auto conn = co_await pool.acquire();
            pid = conn->backend_pid();
        }
        EXPECT_EQ(pool.stats().health_checks, 1u);
        auto admin = co_await weir::pg::Connection::connect(weir::pg::test::url());
        co_await admin.query("SELECT pg_terminate_backend($1)", pid);
        co_await wait_until_gone(admin, pid);
        // No query of ours ever sees the dead connection.
        EXPECT_EQ(co_await select_value(pool, 9), 9);
        auto s = pool.stats();
        EXPECT_EQ(s.discarded, 1u);
        EXPECT_EQ(s.connects, 2u);
    });
}

WEIR_TEST(PgShardPool, ConnectionsOlderThanMaxLifetimeAreReplaced) {
    auto opts = options(1, 1);
    opts.max_lifetime = 1ms;
    co_await weir::with_resource(co_await Pool::open(opts), [](Pool& pool) -> weir::Task<void> {
        co_await weir::sleep_for(5ms);
        int first = 0;
        {
            auto conn = co_await pool.acquire();  // the min_size one has expired
            first = conn->backend_pid();
            co_await weir::sleep_for(5ms);
        }  // expired again: closed on return
        auto s = pool.stats();
        EXPECT_EQ(s.expired, 2u);
        EXPECT_EQ(s.idle, 0u);
        auto conn = co_await pool.acquire();
        EXPECT_NE(conn->backend_pid(), first);
        EXPECT_EQ(pool.stats().connects, 3u);
    });
}

WEIR_TEST(PgShardPool, ReconnectsWithBackoffWhileServerIsDownToThread) {
    auto opts = options(0, 2, 300ms);
    opts.reconnect_backoff = 20ms;
    co_await weir::with_resource(co_await Pool::open(opts), [&](Pool& pool) -> weir::Task<void> {
        auto stop = [] { weir::pg::test::server().stop(); };
        co_await weir::to_thread(std::move(stop));
        bool unavailable = false;
        try {
            co_await pool.acquire();
        } catch (const weir::pg::PoolUnavailable& e) {
            unavailable = e.is_connection_error();
        }
        EXPECT_TRUE(unavailable);
        EXPECT_GE(pool.stats().connect_failures, 2u);  // it retried
        EXPECT_EQ(pool.stats().unavailable, 1u);
        EXPECT_EQ(pool.stats().in_use, 0u);
        // An acquire with a long deadline rides out the outage.
        auto patient = options(0, 1, 60000ms);
        patient.reconnect_backoff = 20ms;
        co_await weir::with_resource(
            co_await Pool::open(patient), [&](Pool& p2) -> weir::Task<void> {
                std::int32_t got = 0;
                // Spawned coroutines must not be closures living in the group
                // body's frame (it may end first).
                auto query = [&]() -> weir::Task<void> { got = co_await select_value(p2, 5); };
                co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
                    g.spawn(query());
                    co_await weir::sleep_for(100ms);
                    auto start = [] { weir::pg::test::server().start(); };
                    co_await weir::to_thread(std::move(start));
                });
                EXPECT_EQ(got, 5);
                EXPECT_GE(p2.stats().connect_failures, 1u);
            });
    });
}

WEIR_TEST(PgShardPool, MetricsCountAcquiresWaitersAndQueries) {
    auto opts = options(0, 1);
    co_await weir::with_resource(co_await Pool::open(opts), [](Pool& pool) -> weir::Task<void> {
        std::size_t waiters_seen = 0;
        auto holder = [&]() -> weir::Task<void> {
            auto conn = co_await pool.acquire();
            co_await weir::sleep_for(50ms);
            waiters_seen = pool.stats().waiters;
            EXPECT_EQ(pool.stats().size, 1u);
            EXPECT_EQ(pool.stats().in_use, 1u);
        };
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
            g.spawn(holder());
            co_await weir::sleep_for(10ms);
            g.spawn(select_value(pool, 1));
            g.spawn(select_value(pool, 2));
        });
        EXPECT_EQ(waiters_seen, 2u);
        {
            auto conn = co_await pool.acquire();
            try {
                co_await conn->query("SELECT 1 / 0");
            } catch (const weir::pg::Error&) {
            }
        }
        auto s = pool.stats();
        EXPECT_EQ(s.acquires, 4u);
        EXPECT_EQ(s.waiters, 0u);
        EXPECT_EQ(s.acquire_wait_us.count, 4u);
        const auto& m = pool.query_metrics();
        EXPECT_EQ(m.queries.load(), 3u);
        EXPECT_EQ(m.errors.load(), 1u);
        EXPECT_EQ(m.errors_by_sqlstate.at("22012"), 1u);
        EXPECT_EQ(m.latency_us.snapshot().count, 3u);
    });
}

// query() on the pool: concurrent statements share a few pipelined connections
// (a new one only when each has pipeline_depth in flight), and every one goes
// back to the pool when its statements are done.
WEIR_TEST(PgShardPool, PoolQueryPipelinesOnSharedConnections) {
    auto opts = options(0, 8);
    opts.pipeline_depth = 8;
    co_await weir::with_resource(co_await Pool::open(opts), [](Pool& pool) -> weir::Task<void> {
        int ok = 0;
        int ok_read_only = 0;
        std::size_t most_shared = 0;
        auto one = [&](std::int32_t i) -> weir::Task<void> {
            Result r = co_await pool.query("SELECT $1::int4", i);
            if (r[0].get<std::int32_t>(0) == i) ++ok;
            most_shared = std::max(most_shared, pool.stats().shared);
        };
        auto one_read_only = [&](std::int32_t i) -> weir::Task<void> {
            Result r = co_await pool.query(weir::pg::read_only, "SELECT $1::int4", i);
            if (r[0].get<std::int32_t>(0) == i) ++ok_read_only;
        };
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
            for (std::int32_t i = 0; i < 32; ++i) g.spawn(one(i));
            for (std::int32_t i = 0; i < 32; ++i) g.spawn(one_read_only(i));
            co_return;
        });
        EXPECT_EQ(ok, 32);
        EXPECT_EQ(ok_read_only, 32);
        auto s = pool.stats();
        // 64 statements over at most 8 connections, each with up to 8 in flight.
        EXPECT_GE(most_shared, 1u);
        EXPECT_LE(s.connects, 8u);
        EXPECT_EQ(s.shared, 0u);
        EXPECT_EQ(s.in_use, 0u);
        EXPECT_EQ(s.discarded, 0u);  // all drained (read_only groups' Syncs included)
        EXPECT_EQ(s.idle, s.connects);
        EXPECT_EQ(pool.query_metrics().queries.load(), 64u);
        const std::int64_t rows = co_await pool.execute("SELECT 1");
        EXPECT_EQ(rows, 1);
    });
}

// Errors and cancellation on a shared connection behave as on an acquired one:
// the error is the statement's, a cancelled statement is cancelled on the
// server, and the connection goes back to the pool clean.
WEIR_TEST(PgShardPool, PoolQueryErrorsAndCancellation) {
    auto opts = options(1, 2);
    co_await weir::with_resource(co_await Pool::open(opts), [](Pool& pool) -> weir::Task<void> {
        bool failed = false;
        try {
            co_await pool.query("SELECT 1 / $1::int4", 0);
        } catch (const weir::pg::Error& e) {
            failed = e.sqlstate() == "22012";
        }
        EXPECT_TRUE(failed);
        bool timed_out = false;
        try {
            co_await weir::with_timeout(200ms, pool.query("SELECT pg_sleep(10)"));
        } catch (const weir::TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        auto s = pool.stats();
        EXPECT_EQ(s.in_use, 0u);
        EXPECT_EQ(s.shared, 0u);
        EXPECT_EQ(s.idle, 1u);
        EXPECT_EQ(s.connects, 1u);  // the same connection throughout
        Result r = co_await pool.query("SELECT $1::int4", 5);
        EXPECT_EQ(r[0].get<std::int32_t>(0), 5);
        EXPECT_EQ(pool.query_metrics().cancellations.load(), 1u);
    });
}

// An acquire() that finds every slot lent to shared statements gets one as
// soon as a shared connection drains (it takes no new statements meanwhile).
WEIR_TEST(PgShardPool, AcquireIsNotStarvedByPoolQueries) {
    auto opts = options(0, 2, 5000ms);
    opts.pipeline_depth = 1;
    co_await weir::with_resource(co_await Pool::open(opts), [](Pool& pool) -> weir::Task<void> {
        bool stop = false;
        int done = 0;
        auto busy = [&]() -> weir::Task<void> {
            while (!stop) {
                co_await pool.query("SELECT pg_sleep(0.005)");
                ++done;
            }
        };
        std::int32_t got = 0;
        auto exclusive = [&]() -> weir::Task<void> {
            // Until both slots are lent (the second connection is opened on demand).
            for (int i = 0; i < 1000 && pool.stats().shared < 2; ++i) co_await weir::sleep_for(5ms);
            EXPECT_EQ(pool.stats().shared, 2u);
            got = co_await select_value(pool, 7);
            stop = true;
        };
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
            for (int i = 0; i < 6; ++i) g.spawn(busy());
            g.spawn(exclusive());
            co_return;
        });
        EXPECT_EQ(got, 7);
        EXPECT_GT(done, 0);
        EXPECT_EQ(pool.stats().timeouts, 0u);
        EXPECT_EQ(pool.stats().in_use, 0u);
    });
}

// The server stops while statements run on shared connections: each fails with
// an exception, the broken connections leave the pool, pool.query() fails while
// the server is down and works again once it is back.
WEIR_TEST(PgShardPool, PoolQueryAcrossServerRestartToThread) {
    auto opts = options(2, 2, 300ms);
    opts.reconnect_backoff = 20ms;
    co_await weir::with_resource(co_await Pool::open(opts), [](Pool& pool) -> weir::Task<void> {
        int failed = 0;
        auto slow = [&]() -> weir::Task<void> {
            try {
                co_await pool.query("SELECT pg_sleep(10)");
            } catch (const weir::pg::Error&) {
                ++failed;
            }
        };
        auto stop_server = []() -> weir::Task<void> {
            co_await weir::sleep_for(100ms);
            auto stop = [] { weir::pg::test::server().stop(); };
            co_await weir::to_thread(std::move(stop));
        };
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
            for (int i = 0; i < 4; ++i) g.spawn(slow());
            g.spawn(stop_server());
            co_return;
        });
        EXPECT_EQ(failed, 4);
        bool down = false;
        try {
            co_await pool.query("SELECT 1");
        } catch (const weir::pg::Error& e) {
            down = e.is_connection_error();
        }
        EXPECT_TRUE(down);
        auto start = [] { weir::pg::test::server().start(); };
        co_await weir::to_thread(std::move(start));
        Result r = co_await pool.query("SELECT $1::int4", 3);
        EXPECT_EQ(r[0].get<std::int32_t>(0), 3);
        auto s = pool.stats();
        EXPECT_EQ(s.in_use, 0u);
        EXPECT_EQ(s.shared, 0u);
    });
}
