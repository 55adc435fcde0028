// Explicit batches and transparent re-prepare of stale cached statements.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "pg_test_util.hpp"
#include "weir/core/task_group.hpp"
#include "weir/core/timeout.hpp"
#include "weir/pg/connection.hpp"
#include "weir/pg/transaction.hpp"
#include "weir/testing/async_test.hpp"

using weir::pg::Connection;
using weir::pg::Result;

WEIR_TEST(PgBatch, StatementsRunInOrderWithPerStatementResults) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    co_await conn.execute("CREATE TEMP TABLE b (v int4 PRIMARY KEY)");
    weir::pg::Batch batch;
    batch.add("INSERT INTO b VALUES ($1)", 1)
        .add("INSERT INTO b VALUES ($1)", 1)  // duplicate: fails alone
        .add("INSERT INTO b VALUES ($1), ($2)", 2, 3)
        .add("SELECT count(*) FROM b")
        .add("SELECT v FROM b ORDER BY v");
    EXPECT_EQ(batch.size(), 5u);
    auto results = co_await conn.run_batch(std::move(batch));
    CO_ASSERT_EQ(results.size(), 5u);
    EXPECT_TRUE(results[0].ok());
    EXPECT_EQ(results[0].get().affected_rows(), 1);
    EXPECT_FALSE(results[1].ok());
    try {
        results[1].get();
        ADD_FAILURE() << "no error";
    } catch (const weir::pg::Error& e) {
        EXPECT_EQ(e.sqlstate(), "23505");
    }
    EXPECT_EQ(results[2].get().affected_rows(), 2);
    EXPECT_EQ(results[3].get()[0].get<std::int64_t>(0), 3);
    EXPECT_EQ(results[4].get().rows(), 3);
    EXPECT_EQ(conn.pending(), 0u);
    // An empty batch is fine.
    auto none = co_await conn.run_batch(weir::pg::Batch());
    EXPECT_TRUE(none.empty());
}

WEIR_TEST(PgBatch, BatchesAndSingleQueriesShareThePipeline) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    std::vector<std::int32_t> seen;
    auto batch_task = [&]() -> weir::Task<void> {
        weir::pg::Batch b;
        for (std::int32_t i = 0; i < 10; ++i) b.add("SELECT $1::int4", i);
        auto rs = co_await conn.run_batch(std::move(b));
        for (auto& r : rs) seen.push_back(r.get()[0].get<std::int32_t>(0));
    };
    auto single = [&](std::int32_t i) -> weir::Task<void> {
        Result r = co_await conn.query("SELECT $1::int4", i);
        seen.push_back(r[0].get<std::int32_t>(0));
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
        g.spawn(single(100));
        g.spawn(batch_task());
        g.spawn(single(200));
        co_return;
    });
    CO_ASSERT_EQ(seen.size(), 12u);
    EXPECT_EQ(seen.front(), 100);
    EXPECT_EQ(seen.back(), 200);
}

WEIR_TEST(PgReprepare, AfterDiscardAllTheStatementIsPreparedAgain) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    Result a = co_await conn.query("SELECT $1::int4 + 1", 1);
    EXPECT_EQ(a[0].get<std::int32_t>(0), 2);
    co_await conn.execute("DISCARD ALL");
    Result b = co_await conn.query("SELECT $1::int4 + 1", 2);
    EXPECT_EQ(b[0].get<std::int32_t>(0), 3);
    EXPECT_EQ(conn.stats().statement_reprepares, 1u);
    // In a batch too.
    co_await conn.execute("DEALLOCATE ALL");
    weir::pg::Batch batch;
    batch.add("SELECT $1::int4 + 1", 3).add("SELECT $1::int4 + 1", 4);
    auto rs = co_await conn.run_batch(std::move(batch));
    EXPECT_EQ(rs[0].get()[0].get<std::int32_t>(0), 4);
    EXPECT_EQ(rs[1].get()[0].get<std::int32_t>(0), 5);
}

WEIR_TEST(PgReprepare, ResultTypeChangeIsRetriedOutsideTransactionsOnly) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    co_await conn.execute("CREATE TEMP TABLE rp (a int4)");
    co_await conn.execute("INSERT INTO rp VALUES (1)");
    Result one = co_await conn.query("SELECT * FROM rp");
    EXPECT_EQ(one.columns(), 1);
    co_await conn.execute("ALTER TABLE rp ADD COLUMN b text DEFAULT 'x'");
    Result two = co_await conn.query("SELECT * FROM rp");
    EXPECT_EQ(two.columns(), 2);
    EXPECT_EQ(two[0].get<std::string>("b"), "x");
    EXPECT_EQ(conn.stats().statement_reprepares, 1u);
    // The old statement was deallocated on the server.
    Result prepared = co_await conn.query(
        "SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT * FROM rp'");
    EXPECT_EQ(prepared[0].get<std::int64_t>(0), 1);

    // Inside a transaction the error aborts it: not retried, it surfaces and
    // the scope rolls back; the next use outside prepares again.
    co_await conn.execute("ALTER TABLE rp ADD COLUMN c int4");
    std::string state;
    auto body = [&](weir::pg::Transaction& tx) -> weir::Task<void> {
        co_await tx->query("SELECT * FROM rp");
    };
    try {
        co_await weir::pg::transaction(conn, body);
    } catch (const weir::pg::Error& e) {
        state = e.sqlstate();
    }
    EXPECT_EQ(state, "0A000");
    Result three = co_await conn.query("SELECT * FROM rp");
    EXPECT_EQ(three.columns(), 3);
    EXPECT_EQ(conn.stats().statement_reprepares, 2u);
}

WEIR_TEST(PgBatch, CancelledBatchIsCancelledAndTheConnectionStaysUsableToThread) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    weir::pg::Batch batch;
    batch.add("SELECT pg_sleep(10)").add("SELECT $1::int4", 1).add("SELECT pg_sleep(10)");
    bool timed_out = false;
    try {
        auto t = conn.run_batch(std::move(batch));
        co_await weir::with_timeout(std::chrono::milliseconds(200), std::move(t));
    } catch (const weir::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_FALSE(conn.is_broken());
    // Whatever of the batch was still queued is drained or dropped; the
    // connection answers in order afterwards (the third sleep may still run:
    // only the statement at the head is cancelled on the server; the
    // deadline also became its statement_timeout).
    Result r =
        co_await weir::with_timeout(std::chrono::seconds(30), conn.query("SELECT $1::int4", 7));
    EXPECT_EQ(r[0].get<std::int32_t>(0), 7);
}
