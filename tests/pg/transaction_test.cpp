#include "weir/pg/transaction.hpp"

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "pg_test_util.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/timeout.hpp"
#include "weir/pg/pool.hpp"
#include "weir/testing/async_test.hpp"

using weir::pg::Connection;
using weir::pg::Result;
using weir::pg::Transaction;
using weir::pg::TransactionStatus;
using namespace std::chrono_literals;

namespace {

weir::Task<std::int64_t> count_rows(Connection& conn, std::string table) {
    Result r = co_await conn.query("SELECT count(*) FROM " + table);
    co_return r[0].get<std::int64_t>(0);
}

}  // namespace

WEIR_TEST(PgTransaction, CommitsOnSuccessAndReturnsTheValue) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    co_await conn.execute("CREATE TEMP TABLE tx_a (id serial PRIMARY KEY, v int4)");
    auto body = [&](Transaction& tx) -> weir::Task<std::int32_t> {
        EXPECT_EQ(tx.depth(), 1);
        EXPECT_EQ(tx->transaction_status(), TransactionStatus::in_transaction);
        Result r = co_await tx->query("INSERT INTO tx_a (v) VALUES ($1) RETURNING id", 7);
        co_return r[0].get<std::int32_t>(0);
    };
    const std::int32_t id = co_await weir::pg::transaction(conn, body);
    EXPECT_EQ(id, 1);
    EXPECT_EQ(conn.transaction_status(), TransactionStatus::idle);
    EXPECT_EQ(co_await count_rows(conn, "tx_a"), 1);
}

WEIR_TEST(PgTransaction, RollsBackOnExceptionAndServerError) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    co_await conn.execute("CREATE TEMP TABLE tx_b (v int4 PRIMARY KEY)");
    auto throws = [&](Transaction& tx) -> weir::Task<void> {
        co_await tx->execute("INSERT INTO tx_b VALUES ($1)", 1);
        throw std::runtime_error("boom");
    };
    EXPECT_THROW(co_await weir::pg::transaction(conn, throws), std::runtime_error);
    EXPECT_EQ(conn.transaction_status(), TransactionStatus::idle);
    EXPECT_EQ(co_await count_rows(conn, "tx_b"), 0);
    // A server error aborts the transaction; the scope rolls it back.
    auto dup = [&](Transaction& tx) -> weir::Task<void> {
        co_await tx->execute("INSERT INTO tx_b VALUES ($1)", 2);
        co_await tx->execute("INSERT INTO tx_b VALUES ($1)", 2);
    };
    std::string state;
    try {
        co_await weir::pg::transaction(conn, dup);
    } catch (const weir::pg::Error& e) {
        state = e.sqlstate();
    }
    EXPECT_EQ(state, "23505");
    EXPECT_EQ(conn.transaction_status(), TransactionStatus::idle);
    EXPECT_EQ(co_await count_rows(conn, "tx_b"), 0);
    EXPECT_FALSE(conn.is_broken());
}

WEIR_TEST(PgTransaction, RollsBackOnCancellationToThread) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    co_await conn.execute("CREATE TEMP TABLE tx_c (v int4)");
    auto slow = [&](Transaction& tx) -> weir::Task<void> {
        co_await tx->execute("INSERT INTO tx_c VALUES ($1)", 1);
        co_await tx->query("SELECT pg_sleep(10)");
    };
    bool timed_out = false;
    try {
        auto t = weir::pg::transaction(conn, slow);
        co_await weir::with_timeout(300ms, std::move(t));
    } catch (const weir::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_FALSE(conn.is_broken());
    EXPECT_EQ(conn.transaction_status(), TransactionStatus::idle);
    EXPECT_EQ(co_await count_rows(conn, "tx_c"), 0);
}

WEIR_TEST(PgTransaction, SavepointsNest) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    co_await conn.execute("CREATE TEMP TABLE tx_d (v int4)");
    auto outer = [&](Transaction& tx) -> weir::Task<void> {
        co_await tx->execute("INSERT INTO tx_d VALUES ($1)", 1);
        auto inner_fail = [&](Transaction& sp) -> weir::Task<void> {
            EXPECT_EQ(sp.depth(), 2);
            co_await sp->execute("INSERT INTO tx_d VALUES ($1)", 2);
            co_await sp->query("SELECT 1 / 0");  // aborts only the savepoint
        };
        EXPECT_THROW(co_await tx.savepoint(inner_fail), weir::pg::Error);
        EXPECT_EQ(tx->transaction_status(), TransactionStatus::in_transaction);
        auto inner_ok = [&](Transaction& sp) -> weir::Task<void> {
            co_await sp->execute("INSERT INTO tx_d VALUES ($1)", 3);
            // A third level through the free function.
            auto deepest = [&](Transaction& d) -> weir::Task<void> {
                EXPECT_EQ(d.depth(), 3);
                co_await d->execute("INSERT INTO tx_d VALUES ($1)", 4);
            };
            co_await weir::pg::transaction(sp.connection(), deepest);
        };
        co_await tx.savepoint(inner_ok);
    };
    co_await weir::pg::transaction(conn, outer);
    Result r =
        co_await conn.query("SELECT coalesce(string_agg(v::text, ',' ORDER BY v), '') FROM tx_d");
    EXPECT_EQ(r[0].get<std::string>(0), "1,3,4");
    EXPECT_EQ(conn.transaction_status(), TransactionStatus::idle);
}

WEIR_TEST(PgTransaction, IsolationLevelsAndReadOnly) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    auto show = [&](Transaction& tx) -> weir::Task<std::string> {
        Result r = co_await tx->query(
            "SELECT current_setting('transaction_isolation') || ',' || "
            "current_setting('transaction_read_only') || ',' || "
            "current_setting('transaction_deferrable')");
        co_return r[0].get<std::string>(0);
    };
    weir::pg::TransactionOptions ser;
    ser.isolation = weir::pg::IsolationLevel::serializable;
    ser.read_only = true;
    ser.deferrable = true;
    EXPECT_EQ(co_await weir::pg::transaction(conn, show, ser), "serializable,on,on");
    weir::pg::TransactionOptions rr;
    rr.isolation = weir::pg::IsolationLevel::repeatable_read;
    EXPECT_EQ(co_await weir::pg::transaction(conn, show, rr), "repeatable read,off,off");
    EXPECT_EQ(co_await weir::pg::transaction(conn, show), "read committed,off,off");
    // Writes in a read-only transaction fail (25006) and roll back.
    weir::pg::TransactionOptions ro;
    ro.read_only = true;
    auto write = [&](Transaction& tx) -> weir::Task<void> {
        co_await tx->execute("CREATE TEMP TABLE tx_e (v int4)");
    };
    std::string state;
    try {
        co_await weir::pg::transaction(conn, write, ro);
    } catch (const weir::pg::Error& e) {
        state = e.sqlstate();
    }
    EXPECT_EQ(state, "25006");
    EXPECT_EQ(conn.transaction_status(), TransactionStatus::idle);
}

WEIR_TEST(PgTransaction, DeadlineInsideTransactionDoesNotBreakRollback) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    auto body = [&](Transaction& tx) -> weir::Task<void> { co_await tx->query("SELECT 1 / 0"); };
    auto run = [&]() -> weir::Task<void> { co_await weir::pg::transaction(conn, body); };
    EXPECT_THROW(co_await weir::with_timeout(60s, run()), weir::pg::Error);
    EXPECT_EQ(conn.transaction_status(), TransactionStatus::idle);
    Result r = co_await conn.query("SELECT current_setting('statement_timeout')");
    EXPECT_EQ(r[0].get<std::string>(0), "0");
}

WEIR_TEST(PgTransaction, DeadlineIsTheStatementTimeoutOfOneStatementInATransaction) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    auto show = [&]() -> weir::Task<std::string> {
        Result r = co_await conn.query("SELECT current_setting('statement_timeout')");
        co_return r[0].get<std::string>(0);
    };
    std::vector<std::string> seen;
    auto body = [&](Transaction& tx) -> weir::Task<void> {
        co_await tx->execute("SET LOCAL statement_timeout = '123s'");
        seen.push_back(co_await weir::with_timeout(60s, show()));  // the deadline's
        seen.push_back(co_await show());                           // restored: the user's own
        seen.push_back(co_await weir::with_timeout(60s, show()));
        seen.push_back(co_await show());
    };
    co_await weir::pg::transaction(conn, body);
    CO_ASSERT_EQ(seen.size(), 4u);
    EXPECT_NE(seen[0], "123s");
    EXPECT_NE(seen[0], "0");
    EXPECT_EQ(seen[1], "123s");
    EXPECT_NE(seen[2], "123s");
    EXPECT_EQ(seen[3], "123s");
    EXPECT_EQ(co_await show(), "0");  // SET LOCAL ended with the transaction
    // A statement that runs past its deadline inside a transaction is
    // cancelled; the transaction rolls back and the connection is clean.
    auto slow = [&](Transaction& tx) -> weir::Task<void> {
        co_await tx->query("SELECT pg_sleep(10)");
    };
    auto run = [&]() -> weir::Task<void> { co_await weir::pg::transaction(conn, slow); };
    EXPECT_THROW(co_await weir::with_timeout(300ms, run()), weir::TimeoutError);
    EXPECT_EQ(conn.transaction_status(), TransactionStatus::idle);
    EXPECT_EQ(co_await show(), "0");
}

WEIR_TEST(PgTransaction, PoolNeverReusesAConnectionInATransaction) {
    weir::pg::PoolOptions o;
    o.url = weir::pg::test::url();
    o.min_size = 1;
    o.max_size = 1;
    co_await weir::with_resource(co_await weir::pg::Pool::open(o),
                                 [](weir::pg::Pool& pool) -> weir::Task<void> {
                                     int pid = 0;
                                     {
                                         auto conn = co_await pool.acquire();
                                         pid = conn->backend_pid();
                                         co_await conn->execute("BEGIN");  // left open by mistake
                                     }
                                     EXPECT_EQ(pool.stats().discarded, 1u);
                                     auto conn = co_await pool.acquire();
                                     EXPECT_NE(conn->backend_pid(), pid);
                                     EXPECT_EQ(conn->transaction_status(), TransactionStatus::idle);
                                     // A transaction scope on a pooled connection returns it clean.
                                     auto body = [&](Transaction& tx) -> weir::Task<void> {
                                         co_await tx->query("SELECT 1");
                                     };
                                     co_await weir::pg::transaction(*conn, body);
                                     EXPECT_EQ(conn->transaction_status(), TransactionStatus::idle);
                                 });
}
