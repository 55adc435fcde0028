// The outbox relay (apps/storefront/outbox.hpp) on its own, against the binary's PostgreSQL
// and Redis: rows younger than min_age stay where they are, and two relays on the same outbox
// (two connections, one holding its transaction open while the other runs) enqueue every row
// exactly once. Each test has a schema of its own (search_path makes `outbox` its table, away
// from the service's rows) and a queue prefix of its own.
#include "storefront/outbox.hpp"

#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storefront_test_util.hpp"
#include "weir/core/event.hpp"
#include "weir/core/task_group.hpp"
#include "weir/core/timeout.hpp"
#include "weir/jobs/queue.hpp"
#include "weir/pg/connection.hpp"
#include "weir/redis/connection.hpp"
#include "weir/testing/async_test.hpp"

namespace storefront::test {
namespace {

using namespace std::chrono_literals;
using weir::Task;

// This test's name, usable in SQL identifiers and Redis keys.
std::string test_tag() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string tag = "outbox_" + std::string(info->name()) + "_" + std::to_string(::getpid());
    for (char& c : tag)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return tag;
}

// A connection whose `outbox` is the table of `schema` (created empty by `create`).
Task<weir::pg::Connection> outbox_connection(std::string schema, bool create) {
    auto conn = co_await weir::pg::Connection::connect(PostgresEnv::get().url());
    co_await conn.execute("SET client_min_messages TO warning");  // no NOTICEs on stderr
    const std::string drop = "DROP SCHEMA IF EXISTS " + schema + " CASCADE";
    const std::string make = "CREATE SCHEMA " + schema;
    const std::string use = "SET search_path TO " + schema;
    if (create) {
        co_await conn.execute(drop);
        co_await conn.execute(make);
    }
    co_await conn.execute(use);
    if (create) co_await conn.execute(kOutboxSchema);
    co_return conn;
}

Task<void> add_row(weir::pg::Connection& conn, std::string job_id, std::string created_at) {
    const std::string sql =
        "INSERT INTO outbox (job_id, job, args, max_tries, created_at) VALUES ($1, "
        "'storefront.test', '{}', 1, " +
        created_at + ")";
    co_await conn.execute(sql, job_id);
}

Task<std::int64_t> outbox_rows(weir::pg::Connection& conn) {
    auto r = co_await conn.query("SELECT count(*) FROM outbox");
    co_return r[0].get<std::int64_t>(0);
}

Task<std::vector<std::string>> outbox_ids(weir::pg::Connection& conn) {
    auto r = co_await conn.query("SELECT job_id FROM outbox ORDER BY job_id");
    std::vector<std::string> ids;
    for (int i = 0; i < r.rows(); ++i) ids.push_back(r[i].get<std::string>(0));
    co_return ids;
}

// Removes what a test left: its schema and every key under its queue prefix.
Task<void> drop_test_data(weir::pg::Connection& conn, weir::redis::Connection& redis,
                          std::string tag) {
    const std::string drop = "DROP SCHEMA IF EXISTS " + tag + " CASCADE";
    co_await conn.execute(drop);
    const std::string pattern = tag + ":*";
    auto keys = co_await redis.cmd("KEYS", pattern);
    std::vector<std::string> names;
    for (std::size_t i = 0; i < keys.size(); ++i) names.emplace_back(keys[i].str());
    if (!names.empty()) co_await redis.del(names);
}

// A redis::Commands in front of a connection that counts the relay's enqueues (each one is
// one EVALSHA of the enqueue script, duplicates included) and can hold the first of them
// until `release` is set: its relay then keeps its transaction, and the row locks, open.
class CountingRedis final : public weir::redis::Commands {
public:
    explicit CountingRedis(weir::redis::Connection& conn) : conn_(conn) {}
    Task<weir::redis::Reply> execute(weir::redis::Command c) override {
        const bool enqueue = c.name() == "EVALSHA" || c.name() == "EVAL";
        if (enqueue && hold_) {
            hold_ = false;
            holding.set();
            co_await release.wait();
        }
        weir::redis::Reply r = co_await conn_.execute(std::move(c));
        if (enqueue) ++enqueues;
        co_return r;
    }
    void hold_first() noexcept { hold_ = true; }

    std::size_t enqueues = 0;
    weir::Event holding;  // the first enqueue is being held
    weir::Event release;

private:
    weir::redis::Connection& conn_;
    bool hold_ = false;
};

weir::jobs::QueueOptions queue_options(const std::string& tag) {
    weir::jobs::QueueOptions o;
    o.prefix = tag;
    return o;
}

WEIR_TEST(StorefrontOutbox, RelaySkipsRowsYoungerThanMinAge) {
    const std::string tag = test_tag();
    auto pg = co_await outbox_connection(tag, true);
    auto redis = co_await weir::redis::Connection::connect(RedisEnv::get().url());
    weir::jobs::Queue queue(redis, queue_options(tag));
    co_await add_row(pg, "old", "now() - interval '1 hour'");
    co_await add_row(pg, "young", "now()");

    const std::size_t relayed = co_await outbox_relay(pg, queue, std::chrono::minutes(10));
    EXPECT_EQ(relayed, 1u);
    const std::vector<std::string> left = co_await outbox_ids(pg);
    const std::vector<std::string> only_young{"young"};
    EXPECT_EQ(left, only_young);
    auto old_job = co_await queue.info("old");
    CO_ASSERT_TRUE(old_job.has_value());
    EXPECT_EQ(old_job->state, weir::jobs::JobState::queued);
    EXPECT_EQ(old_job->name, "storefront.test");
    auto young_job = co_await queue.info("young");
    EXPECT_FALSE(young_job.has_value());
    const auto stats = co_await queue.stats();
    EXPECT_EQ(stats.enqueued_total, 1);

    // Nothing else is old enough yet; with no minimum age the young row goes too.
    const std::size_t again = co_await outbox_relay(pg, queue, std::chrono::minutes(10));
    EXPECT_EQ(again, 0u);
    const std::size_t any_age = co_await outbox_relay(pg, queue, std::chrono::milliseconds(0));
    EXPECT_EQ(any_age, 1u);
    const std::int64_t rows = co_await outbox_rows(pg);
    EXPECT_EQ(rows, 0);
    auto young_now = co_await queue.info("young");
    EXPECT_TRUE(young_now.has_value());

    co_await drop_test_data(pg, redis, tag);
    redis.close();
}

// Relay A takes the first `kFirst` rows and is held at its first enqueue, its transaction
// open; relay B runs meanwhile on another connection (SKIP LOCKED: it takes the others, never
// waits for A's locks), commits, and only then A goes on.
WEIR_TEST(StorefrontOutbox, TwoRelaysEnqueueEveryRowExactlyOnce) {
    const std::string tag = test_tag();
    constexpr int kRows = 40;
    constexpr int kFirst = 10;
    auto pg_a = co_await outbox_connection(tag, true);
    auto pg_b = co_await outbox_connection(tag, false);
    auto redis = co_await weir::redis::Connection::connect(RedisEnv::get().url());
    for (int i = 0; i < kRows; ++i) {
        // Distinct ages: A's ORDER BY created_at LIMIT takes job-00 .. job-09.
        const std::string id = (i < 10 ? "job-0" : "job-") + std::to_string(i);
        const std::string at = "now() - interval '" + std::to_string(1000 - i) + " seconds'";
        co_await add_row(pg_a, id, at);
    }
    CountingRedis redis_a(redis), redis_b(redis);
    redis_a.hold_first();
    weir::jobs::Queue queue_a(redis_a, queue_options(tag));
    weir::jobs::Queue queue_b(redis_b, queue_options(tag));

    std::size_t relayed_a = 0, relayed_b = 0;
    std::int64_t rows_while_held = -1;
    std::vector<std::string> left_while_held;
    auto relay_a = [&]() -> Task<void> {
        relayed_a = co_await outbox_relay(pg_a, queue_a, std::chrono::milliseconds(0), kFirst);
    };
    auto relay_b = [&]() -> Task<void> {
        co_await redis_a.holding.wait();
        auto t = outbox_relay(pg_b, queue_b, std::chrono::milliseconds(0));
        bool timed_out = false;
        try {
            relayed_b = co_await weir::with_timeout(10s, std::move(t));
        } catch (const weir::TimeoutError&) {
            timed_out = true;
        }
        if (timed_out) {
            ADD_FAILURE() << "relay B waited for relay A's row locks";
            redis_a.release.set();
            co_return;
        }
        // B committed; A's rows are still there, locked and not yet enqueued.
        rows_while_held = co_await outbox_rows(pg_b);
        left_while_held = co_await outbox_ids(pg_b);
        redis_a.release.set();
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        g.spawn(relay_a());
        g.spawn(relay_b());
        co_return;
    });
    EXPECT_EQ(relayed_a, static_cast<std::size_t>(kFirst));
    EXPECT_EQ(relayed_b, static_cast<std::size_t>(kRows - kFirst));
    EXPECT_EQ(rows_while_held, kFirst);
    CO_ASSERT_EQ(left_while_held.size(), static_cast<std::size_t>(kFirst));
    EXPECT_EQ(left_while_held.front(), "job-00");
    EXPECT_EQ(left_while_held.back(), "job-09");
    // Every row was enqueued once (no enqueue was a duplicate) and is gone from the outbox.
    EXPECT_EQ(redis_a.enqueues + redis_b.enqueues, static_cast<std::size_t>(kRows));
    EXPECT_EQ(redis_a.enqueues, static_cast<std::size_t>(kFirst));
    const auto stats = co_await queue_a.stats();
    EXPECT_EQ(stats.enqueued_total, kRows);
    EXPECT_EQ(stats.queued, kRows);
    const std::int64_t rows = co_await outbox_rows(pg_a);
    EXPECT_EQ(rows, 0);
    for (const std::string id : {"job-00", "job-09", "job-10", "job-39"}) {
        auto info = co_await queue_a.info(id);
        EXPECT_TRUE(info.has_value()) << id;
    }
    co_await drop_test_data(pg_a, redis, tag);
    redis.close();
}

// The same two relays free-running over many small batches: whatever the interleaving of
// their statements, the counts add up.
WEIR_TEST(StorefrontOutbox, TwoRelaysInSmallBatchesEnqueueEveryRowOnce) {
    const std::string tag = test_tag();
    constexpr int kRows = 200;
    auto pg_a = co_await outbox_connection(tag, true);
    auto pg_b = co_await outbox_connection(tag, false);
    auto redis = co_await weir::redis::Connection::connect(RedisEnv::get().url());
    const std::string fill =
        "INSERT INTO outbox (job_id, job, args, max_tries, created_at) SELECT 'job-' || i, "
        "'storefront.test', '{}', 1, now() - interval '1 hour' FROM generate_series(1, " +
        std::to_string(kRows) + ") AS i";
    co_await pg_a.execute(fill);
    CountingRedis redis_a(redis), redis_b(redis);
    weir::jobs::Queue queue_a(redis_a, queue_options(tag));
    weir::jobs::Queue queue_b(redis_b, queue_options(tag));
    std::size_t relayed[2] = {0, 0};
    auto drain = [&](weir::pg::Connection& pg, weir::jobs::Queue& queue, int side,
                     int limit) -> Task<void> {
        for (;;) {
            const std::size_t n =
                co_await outbox_relay(pg, queue, std::chrono::milliseconds(0), limit);
            relayed[side] += n;
            if (n == 0) break;
        }
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        g.spawn(drain(pg_a, queue_a, 0, 7));
        g.spawn(drain(pg_b, queue_b, 1, 5));
        co_return;
    });
    EXPECT_EQ(relayed[0] + relayed[1], static_cast<std::size_t>(kRows));
    EXPECT_GT(relayed[0], 0u);
    EXPECT_GT(relayed[1], 0u);
    EXPECT_EQ(redis_a.enqueues + redis_b.enqueues, static_cast<std::size_t>(kRows));
    const auto stats = co_await queue_a.stats();
    EXPECT_EQ(stats.enqueued_total, kRows);
    const std::int64_t rows = co_await outbox_rows(pg_a);
    EXPECT_EQ(rows, 0);
    co_await drop_test_data(pg_a, redis, tag);
    redis.close();
}

}  // namespace
}  // namespace storefront::test
