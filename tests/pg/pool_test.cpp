#include "weir/pg/pool.hpp"

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

using weir::pg::Pool;
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

WEIR_TEST(PgPool, OpensMinSizeAndReusesConnections) {
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

WEIR_TEST(PgPool, ExhaustionEndsInPoolTimeout) {
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

WEIR_TEST(PgPool, ConnectionReturnsOnExceptionAndCancellation) {
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

WEIR_TEST(PgPool, TerminatedBackendIsReplaced) {
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

WEIR_TEST(PgPool, ServerRestartSurfacesErrorsAndPoolHealsToThread) {
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

WEIR_TEST(PgPool, ConcurrentTasksShareTheSlots) {
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
