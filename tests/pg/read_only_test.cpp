// read_only statements: concurrent ones share one Sync (one implicit
// transaction and one flush on the server); a failure in the group re-sends
// the statements after it; inside a transaction or with a deadline they run
// as ordinary queries.
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "pg_test_util.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/task_group.hpp"
#include "weir/core/timeout.hpp"
#include "weir/core/when_any.hpp"
#include "weir/pg/connection.hpp"
#include "weir/pg/transaction.hpp"
#include "weir/testing/async_test.hpp"

using weir::pg::Connection;
using weir::pg::read_only;
using weir::pg::Result;
using namespace std::chrono_literals;

// now() is the start of the current transaction: statements that shared a
// Sync report the same value.
WEIR_TEST(PgReadOnly, ConcurrentStatementsShareTheirTransaction) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    constexpr int n = 100;
    std::vector<std::string> stamps(n);
    std::vector<int> echoed(n, -1);
    auto one = [&](int i) -> weir::Task<void> {
        Result r = co_await conn.query(read_only, "SELECT now()::text, $1::int4", i);
        stamps[static_cast<std::size_t>(i)] = r[0].get<std::string>(0);
        echoed[static_cast<std::size_t>(i)] = r[0].get<std::int32_t>(1);
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
        for (int i = 0; i < n; ++i) g.spawn(one(i));
        co_return;
    });
    for (int i = 0; i < n; ++i) EXPECT_EQ(echoed[static_cast<std::size_t>(i)], i);
    const std::set<std::string> distinct(stamps.begin(), stamps.end());
    // The first statement is flushed alone (nothing was waiting yet); the 99
    // spawned behind it go out together in the next write.
    EXPECT_LE(distinct.size(), 3u);
    EXPECT_EQ(conn.pending(), 0u);

    // Ordinary queries each get their own Sync (and transaction).
    std::vector<std::string> plain(10);
    auto ordinary = [&](int i) -> weir::Task<void> {
        Result r = co_await conn.query("SELECT now()::text, pg_sleep(0.001)");
        plain[static_cast<std::size_t>(i)] = r[0].get<std::string>(0);
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
        for (int i = 0; i < 10; ++i) g.spawn(ordinary(i));
        co_return;
    });
    EXPECT_EQ(std::set<std::string>(plain.begin(), plain.end()).size(), 10u);
}

WEIR_TEST(PgReadOnly, FailureInTheGroupResendsTheStatementsAfterIt) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    constexpr int n = 100;
    std::vector<int> results(n, -1);
    std::vector<std::string> errors(n);
    auto one = [&](int i) -> weir::Task<void> {
        try {
            if (i % 25 == 10) {
                co_await conn.query(read_only, "SELECT 1 / ($1::int4 - $1::int4)", i);
            } else {
                Result r = co_await conn.query(read_only, "SELECT $1::int4 + 1000", i);
                results[static_cast<std::size_t>(i)] = r[0].get<std::int32_t>(0);
            }
        } catch (const weir::pg::Error& e) {
            errors[static_cast<std::size_t>(i)] = e.sqlstate();
        }
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
        for (int i = 0; i < n; ++i) g.spawn(one(i));
        co_return;
    });
    for (int i = 0; i < n; ++i) {
        if (i % 25 == 10) {
            EXPECT_EQ(errors[static_cast<std::size_t>(i)], "22012") << i;
        } else {
            EXPECT_EQ(results[static_cast<std::size_t>(i)], i + 1000) << i;
            EXPECT_EQ(errors[static_cast<std::size_t>(i)], "") << i;
        }
    }
    EXPECT_EQ(conn.pending(), 0u);
    EXPECT_EQ(conn.transaction_status(), weir::pg::TransactionStatus::idle);
}

// A statement whose PREPARE fails reports that error; its neighbours are
// re-sent (and prepared again when their PREPARE was skipped).
WEIR_TEST(PgReadOnly, FailedPrepareInTheGroup) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    int ok = 0;
    std::string bad_state;
    auto good = [&](int i) -> weir::Task<void> {
        Result r = co_await conn.query(read_only, "SELECT $1::int4 * 2", i);
        if (r[0].get<std::int32_t>(0) == i * 2) ++ok;
    };
    auto bad = [&]() -> weir::Task<void> {
        try {
            co_await conn.query(read_only, "SELECT no_such_column FROM pg_class");
        } catch (const weir::pg::Error& e) {
            bad_state = e.sqlstate();
        }
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
        for (int i = 0; i < 20; ++i) g.spawn(good(i));
        g.spawn(bad());
        for (int i = 20; i < 40; ++i) g.spawn(good(i));
        co_return;
    });
    EXPECT_EQ(ok, 40);
    EXPECT_EQ(bad_state, "42703");
    EXPECT_EQ(conn.pending(), 0u);
}

// A tiny statement cache: evicting (DEALLOCATE, with a Sync of its own) in
// the middle of a group must close the group first.
WEIR_TEST(PgReadOnly, StatementEvictionsBetweenSharedStatements) {
    weir::pg::ConnectionOptions options;
    options.statement_cache_size = 2;
    auto conn = co_await Connection::connect(weir::pg::test::url(), options);
    int ok = 0;
    auto one = [&](int i) -> weir::Task<void> {
        // Five distinct statement texts, so every few requests evict one.
        const std::string sql = "SELECT $1::int4 + " + std::to_string(i % 5);
        Result r = co_await conn.query(read_only, sql, i);
        if (r[0].get<std::int32_t>(0) == i + i % 5) ++ok;
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
        for (int i = 0; i < 60; ++i) g.spawn(one(i));
        co_return;
    });
    EXPECT_EQ(ok, 60);
    EXPECT_GT(conn.stats().statement_cache_evictions, 0u);
    EXPECT_EQ(conn.pending(), 0u);
}

// Mixed with ordinary statements (which close the open group): the writes
// keep their own transactions, so a failing read rolls none of them back.
WEIR_TEST(PgReadOnly, OrdinaryStatementsKeepTheirOwnTransactions) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    co_await conn.execute("CREATE TEMP TABLE ro_w (v int4)");
    int reads = 0;
    std::string failed;
    auto read = [&](int i) -> weir::Task<void> {
        Result r = co_await conn.query(read_only, "SELECT $1::int4", i);
        if (r[0].get<std::int32_t>(0) == i) ++reads;
    };
    auto write = [&](int i) -> weir::Task<void> {
        co_await conn.execute("INSERT INTO ro_w VALUES ($1)", i);
    };
    auto bad = [&]() -> weir::Task<void> {
        try {
            co_await conn.query(read_only, "SELECT 1 / 0");
        } catch (const weir::pg::Error& e) {
            failed = e.sqlstate();
        }
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
        for (int i = 0; i < 30; ++i) {
            g.spawn(read(i));
            if (i % 3 == 0) g.spawn(write(i));
            if (i == 15) g.spawn(bad());
        }
        co_return;
    });
    EXPECT_EQ(reads, 30);
    EXPECT_EQ(failed, "22012");
    Result r = co_await conn.query("SELECT count(*)::int4 FROM ro_w");
    EXPECT_EQ(r[0].get<std::int32_t>(0), 10);
}

WEIR_TEST(PgReadOnly, InsideATransactionItIsAnOrdinaryStatement) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    co_await conn.execute("CREATE TEMP TABLE ro_t (v int4)");
    auto body = [&](weir::pg::Transaction& tx) -> weir::Task<std::int32_t> {
        co_await tx->execute("INSERT INTO ro_t VALUES (5)");
        Result r = co_await tx->query(read_only, "SELECT sum(v)::int4 FROM ro_t");
        co_return r[0].get<std::int32_t>(0);
    };
    const std::int32_t sum = co_await weir::pg::transaction(conn, body);
    EXPECT_EQ(sum, 5);
    EXPECT_EQ(conn.transaction_status(), weir::pg::TransactionStatus::idle);
}

// Cancelling a shared statement (no deadline: the race's loser) cancels it on
// the server; the statements queued behind it still answer.
WEIR_TEST(PgReadOnly, CancelledSharedStatementToThread) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    int ok = 0;
    auto quick = [&](int i) -> weir::Task<void> {
        Result r = co_await conn.query(read_only, "SELECT $1::int4", i);
        if (r[0].get<std::int32_t>(0) == i) ++ok;
    };
    bool slept_first = false;
    auto slow = [&]() -> weir::Task<void> {
        co_await conn.query(read_only, "SELECT pg_sleep(10)");
    };
    auto nap = []() -> weir::Task<void> { co_await weir::sleep_for(200ms); };
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
        g.spawn(quick(1));
        auto winner = co_await weir::when_any(slow(), nap());
        slept_first = winner.index() == 1;
        for (int i = 2; i < 12; ++i) g.spawn(quick(i));
        co_return;
    });
    EXPECT_TRUE(slept_first);
    EXPECT_EQ(ok, 11);
    // This connection's backend is not still sleeping (asked from another connection: other
    // tests' abandoned backends may run the same statement).
    auto other = co_await Connection::connect(weir::pg::test::url());
    Result r = co_await other.query(
        "SELECT count(*)::int4 FROM pg_stat_activity WHERE pid = $1 AND query LIKE "
        "'%pg_sleep(10)%' AND state = 'active'",
        conn.backend_pid());
    EXPECT_EQ(r[0].get<std::int32_t>(0), 0);
}
