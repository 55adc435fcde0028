#include "weir/pg/connection.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "pg_test_util.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/task_group.hpp"
#include "weir/core/timeout.hpp"
#include "weir/core/when_any.hpp"
#include "weir/testing/async_test.hpp"

using weir::pg::Connection;
using weir::pg::Result;
using namespace std::chrono_literals;

namespace {

// Runs `sql`, expecting a server error; returns it.
weir::Task<weir::pg::Error> expect_error(Connection& conn, std::string sql) {
    try {
        co_await conn.query(sql);
    } catch (const weir::pg::Error& e) {
        co_return e;
    }
    ADD_FAILURE() << "no error for " << sql;
    co_return weir::pg::Error("", "");
}

}  // namespace

WEIR_TEST(PgConnection, ConnectFailureIsAConnectionError) {
    const std::string bad = "postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=5";
    try {
        co_await Connection::connect(bad);
        ADD_FAILURE() << "connected to port 1";
    } catch (const weir::pg::Error& e) {
        EXPECT_TRUE(e.is_connection_error()) << e.what();
    }
}

WEIR_TEST(PgConnection, ErrorsCarrySqlstateMessageAndQuery) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    auto syntax = co_await expect_error(conn, "SELEC 1");
    EXPECT_EQ(syntax.sqlstate(), "42601");
    EXPECT_EQ(syntax.query(), "SELEC 1");
    EXPECT_NE(std::string(syntax.what()).find("42601"), std::string::npos);

    co_await conn.execute("CREATE TEMP TABLE u (id int4 PRIMARY KEY)");
    co_await conn.execute("INSERT INTO u VALUES ($1)", 1);
    try {
        co_await conn.execute("INSERT INTO u VALUES ($1)", 1);
        ADD_FAILURE() << "duplicate accepted";
    } catch (const weir::pg::Error& e) {
        EXPECT_EQ(e.sqlstate(), "23505");
        EXPECT_NE(e.message().find("duplicate"), std::string::npos) << e.message();
    }
    auto div = co_await expect_error(conn, "SELECT 1 / 0");
    EXPECT_EQ(div.sqlstate(), "22012");
    // The connection still works after errors.
    Result r = co_await conn.query("SELECT $1::int4 + 1", 41);
    EXPECT_EQ(r[0].get<std::int32_t>(0), 42);
    EXPECT_FALSE(conn.is_broken());
}

WEIR_TEST(PgConnection, StatementCacheHitsAndEvictions) {
    weir::pg::ConnectionOptions opts;
    opts.statement_cache_size = 3;
    auto conn = co_await Connection::connect(weir::pg::test::url(), opts);
    for (int i = 0; i < 5; ++i) {
        Result r = co_await conn.query("SELECT $1::int4 * 2", i);
        EXPECT_EQ(r[0].get<std::int32_t>(0), i * 2);
    }
    auto s = conn.stats();
    EXPECT_EQ(s.statement_cache_misses, 1u);
    EXPECT_EQ(s.statement_cache_hits, 4u);
    // Different parameter types are different statements.
    co_await conn.query("SELECT $1::int8 * 2", std::int64_t{3});
    EXPECT_EQ(conn.stats().statement_cache_misses, 2u);
    // Overflow the cache: the least recently used statements are deallocated.
    for (int i = 0; i < 4; ++i) co_await conn.query("SELECT " + std::to_string(i));
    s = conn.stats();
    EXPECT_EQ(s.statement_cache_size, 3u);
    EXPECT_EQ(s.statement_cache_evictions, 3u);
    Result prepared = co_await conn.query("SELECT count(*)::int4 FROM pg_prepared_statements");
    EXPECT_EQ(prepared[0].get<std::int32_t>(0), 3);
    // An evicted statement is transparently prepared again.
    Result again = co_await conn.query("SELECT $1::int4 * 2", 21);
    EXPECT_EQ(again[0].get<std::int32_t>(0), 42);
    // A statement that fails to prepare is not cached.
    auto before = conn.stats().statement_cache_misses;
    for (int i = 0; i < 2; ++i) {
        try {
            co_await conn.query("SELECT nope FROM nowhere");
        } catch (const weir::pg::Error& e) {
            EXPECT_EQ(e.sqlstate(), "42P01");
        }
    }
    EXPECT_EQ(conn.stats().statement_cache_misses, before + 2);
}

WEIR_TEST(PgConnection, HundredConcurrentQueriesArePipelinedInOrder) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    constexpr int n = 100;
    std::vector<int> results(n, -1);
    std::vector<std::string> errors(n);
    std::vector<int> completion_order;
    auto one = [&](int i) -> weir::Task<void> {
        try {
            if (i == 50) {
                co_await conn.query("SELECT 1 / ($1::int4 - 50)", i);
            } else {
                Result r = co_await conn.query("SELECT $1::int4 + 1000", i);
                results[static_cast<std::size_t>(i)] = r[0].get<std::int32_t>(0);
            }
        } catch (const weir::pg::Error& e) {
            errors[static_cast<std::size_t>(i)] = e.sqlstate();
        }
        completion_order.push_back(i);
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
        for (int i = 0; i < n; ++i) g.spawn(one(i));
        co_return;
    });
    CO_ASSERT_EQ(completion_order.size(), std::size_t{n});
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(completion_order[static_cast<std::size_t>(i)], i);
        if (i == 50) {
            EXPECT_EQ(errors[50], "22012");
        } else {
            EXPECT_EQ(results[static_cast<std::size_t>(i)], i + 1000) << i;
            EXPECT_EQ(errors[static_cast<std::size_t>(i)], "") << i;
        }
    }
    EXPECT_EQ(conn.pending(), 0u);
}

WEIR_TEST(PgConnection, ConcurrentPrepareFailureDoesNotBreakOthers) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    int ok = 0;
    int failed = 0;
    auto good = [&]() -> weir::Task<void> {
        Result r = co_await conn.query("SELECT 7");
        if (r[0].get<std::int32_t>(0) == 7) ++ok;
    };
    auto bad = [&]() -> weir::Task<void> {
        try {
            co_await conn.query("SELEC 7");
        } catch (const weir::pg::Error& e) {
            if (e.sqlstate() == "42601") ++failed;
        }
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
        for (int i = 0; i < 10; ++i) {
            g.spawn(good());
            g.spawn(bad());
        }
        co_return;
    });
    EXPECT_EQ(ok, 10);
    EXPECT_EQ(failed, 10);
}

namespace {

weir::Task<std::int64_t> running_statements(Connection& monitor, int pid) {
    Result r = co_await monitor.query(
        "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", pid);
    co_return r[0].get<std::int64_t>(0);
}

}  // namespace

WEIR_TEST(PgConnection, CancelledQueryIsCancelledOnTheServerToThread) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    auto monitor = co_await Connection::connect(weir::pg::test::url());
    const int pid = conn.backend_pid();
    bool timed_out = false;
    try {
        co_await weir::with_timeout(300ms, conn.query("SELECT pg_sleep(10)"));
    } catch (const weir::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    // The cancel request was delivered and the result drained before the
    // task finished unwinding: the backend no longer runs the statement.
    EXPECT_EQ(co_await running_statements(monitor, pid), 0);
    EXPECT_EQ(conn.pending(), 0u);
    EXPECT_FALSE(conn.is_broken());
    Result r = co_await conn.query("SELECT $1::int4", 5);
    EXPECT_EQ(r[0].get<std::int32_t>(0), 5);
}

WEIR_TEST(PgConnection, CancelledWhileOthersPipelinedToThread) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    int ok = 0;
    auto quick = [&](int i) -> weir::Task<void> {
        Result r = co_await conn.query("SELECT $1::int4", i);
        if (r[0].get<std::int32_t>(0) == i) ++ok;
    };
    bool timed_out = false;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
        g.spawn(quick(1));
        try {
            co_await weir::with_timeout(200ms, conn.query("SELECT pg_sleep(10)"));
        } catch (const weir::TimeoutError&) {
            timed_out = true;
        }
        g.spawn(quick(2));
        co_return;
    });
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(ok, 2);
}

// A cancel request meant for a statement that already finished on the server
// (its result not read yet) lands on the statement pipelined after it: that
// one ran in an implicit transaction of its own (rolled back) and is sent
// again, so its task never sees the neighbour's cancellation.
WEIR_TEST(PgConnection, CancelMeantForAFinishedStatementIsRetriedToThread) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    std::int32_t got = 0;
    auto first = [&]() -> weir::Task<void> { co_await conn.query("SELECT pg_sleep(0.05)"); };
    auto second = [&]() -> weir::Task<void> {
        co_await weir::sleep_for(1ms);  // pipelined behind the first
        Result r = co_await conn.query("SELECT 2::int4 FROM pg_sleep(0.5)");
        got = r[0].get<std::int32_t>(0);
    };
    // Holds the shard while the first statement finishes on the server, so
    // its task is cancelled before its result is read.
    auto hold = []() -> weir::Task<void> {
        co_await weir::sleep_for(10ms);
        std::this_thread::sleep_for(200ms);
    };
    bool held_first = false;
    auto race = [&]() -> weir::Task<void> {
        auto winner = co_await weir::when_any(first(), hold());
        held_first = winner.index() == 1;
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
        g.spawn(race());
        g.spawn(second());
        co_return;
    });
    EXPECT_TRUE(held_first);
    EXPECT_EQ(got, 2);
    EXPECT_EQ(conn.pending(), 0u);
}

WEIR_TEST(PgConnection, CloseFailsPendingRequests) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    std::string state;
    auto slow = [&]() -> weir::Task<void> {
        try {
            co_await conn.query("SELECT pg_sleep(10)");
        } catch (const weir::pg::Error& e) {
            state = e.sqlstate();
        }
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
        g.spawn(slow());
        co_await weir::sleep_for(50ms);
        conn.close();
    });
    EXPECT_EQ(state, "08003");
    EXPECT_TRUE(conn.is_broken());
}

WEIR_TEST(PgConnection, CancelledRequestBehindOthersIsDroppedToThread) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    std::int32_t first = 0;
    bool second_cancelled = false;
    auto slow_first = [&]() -> weir::Task<void> {
        Result r = co_await conn.query("SELECT 1 FROM pg_sleep(0.3)");
        first = r[0].get<std::int32_t>(0);
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
        g.spawn(slow_first());
        co_await weir::sleep_for(20ms);  // let it send first
        try {
            co_await weir::with_timeout(50ms, conn.query("SELECT $1::int4", 2));
        } catch (const weir::TimeoutError&) {
            second_cancelled = true;
        }
        co_return;
    });
    EXPECT_TRUE(second_cancelled);
    EXPECT_EQ(first, 1);
    Result r = co_await conn.query("SELECT $1::int4", 3);
    EXPECT_EQ(r[0].get<std::int32_t>(0), 3);
    EXPECT_EQ(conn.pending(), 0u);
}

WEIR_TEST(PgConnection, DeadlineBecomesStatementTimeout) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    auto show = [&]() -> weir::Task<std::string> {
        Result r = co_await conn.query("SELECT current_setting('statement_timeout')");
        co_return r[0].get<std::string>(0);
    };
    EXPECT_EQ(co_await show(), "0");
    const std::string inside = co_await weir::with_timeout(60s, show());
    EXPECT_NE(inside, "0");
    EXPECT_TRUE(inside.ends_with("s") || inside.ends_with("min")) << inside;
    // The setting was local to that statement.
    EXPECT_EQ(co_await show(), "0");
    // A prepare error under a deadline is reported and not cached.
    try {
        co_await weir::with_timeout(60s, conn.query("SELEC 1"));
        ADD_FAILURE() << "no error";
    } catch (const weir::pg::Error& e) {
        EXPECT_EQ(e.sqlstate(), "42601");
    }
    const std::string again = co_await weir::with_timeout(60s, show());
    EXPECT_NE(again, "0");
}
