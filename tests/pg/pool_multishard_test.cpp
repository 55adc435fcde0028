#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "pg_test_util.hpp"
#include "weir/core/runtime.hpp"
#include "weir/core/submit.hpp"
#include "weir/core/task_group.hpp"
#include "weir/pg/pool.hpp"
#include "weir/testing/async_test.hpp"

using weir::pg::Pool;
using weir::pg::PoolOptions;

namespace {

PoolOptions two_per_shard() {
    PoolOptions o;
    o.url = weir::pg::test::url();
    o.min_size = 1;
    o.max_size = 2;
    return o;
}

struct Seen {
    unsigned shard = 0;
    const weir::pg::ShardPool* pool = nullptr;
    std::thread::id acquired_on;
    std::thread::id used_on;
    int backend = 0;
    std::size_t idle_before = 0;
    std::uint64_t shard_acquires = 0;
};

// Acquires from the calling shard's pool twice and reports what it saw.
weir::Task<Seen> use_local(Pool& pool) {
    Seen seen;
    seen.shard = weir::this_shard();
    seen.pool = &pool.local();
    seen.idle_before = pool.stats().idle;  // min_size, opened on this shard
    for (int i = 0; i < 2; ++i) {
        auto conn = co_await pool.acquire();
        seen.acquired_on = std::this_thread::get_id();
        weir::pg::Result r = co_await conn->query("SELECT pg_backend_pid()");
        seen.used_on = std::this_thread::get_id();
        seen.backend = r[0].get<std::int32_t>(0);
    }
    seen.shard_acquires = pool.stats().acquires;
    co_return seen;
}

void expect_own_pools(const std::vector<Seen>& seen) {
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].shard, 0u);
    EXPECT_EQ(seen[1].shard, 1u);
    EXPECT_NE(seen[0].pool, seen[1].pool);
    EXPECT_NE(seen[0].backend, seen[1].backend);
    EXPECT_NE(seen[0].acquired_on, seen[1].acquired_on);  // two shard threads
    for (const Seen& s : seen) {
        EXPECT_EQ(s.acquired_on, s.used_on);
        EXPECT_EQ(s.idle_before, 1u);
        EXPECT_EQ(s.shard_acquires, 2u);  // this shard's pool counted only its own
    }
}

}  // namespace

WEIR_TEST_SHARDS(PgPool, OnePoolPerShardMultiShard, 2) {
    co_await weir::with_resource(
        co_await Pool::open(two_per_shard()), [](Pool& pool) -> weir::Task<void> {
            EXPECT_EQ(pool.shards(), 2u);
            auto fn = [&pool] { return use_local(pool); };
            auto seen = co_await weir::on_all_shards(std::move(fn));
            expect_own_pools(seen);

            auto by_shard = co_await pool.shard_stats();
            CO_ASSERT_EQ(by_shard.size(), 2u);
            for (const auto& s : by_shard) {
                EXPECT_EQ(s.acquires, 2u);
                EXPECT_EQ(s.size, 1u);  // both acquires reused the min_size connection
                EXPECT_EQ(s.in_use, 0u);
            }
            weir::pg::PoolStats total = co_await pool.total_stats();
            EXPECT_EQ(total.acquires, 4u);
            EXPECT_EQ(total.size, 2u);
            EXPECT_EQ(total.idle, 2u);
            EXPECT_EQ(total.acquire_wait_us.count, 4u);
        });
}

// The App-lifespan form: one unopened Pool shared by hooks that run on every shard.
WEIR_TEST_SHARDS(PgPool, OpenShardFromPerShardHooksMultiShard, 2) {
    auto pool = std::make_shared<Pool>(two_per_shard());
    EXPECT_FALSE(pool->is_open());
    auto startup = [pool] { return pool->open_shard(); };
    co_await weir::on_all_shards(std::move(startup));
    auto fn = [pool] { return use_local(*pool); };
    auto seen = co_await weir::on_all_shards(std::move(fn));
    expect_own_pools(seen);
    weir::pg::PoolStats total = co_await pool->total_stats();
    EXPECT_EQ(total.acquires, 4u);
    auto shutdown = [pool] { return pool->close_shard(); };
    co_await weir::on_all_shards(std::move(shutdown));
    bool threw = false;
    try {
        pool->local();
    } catch (const std::logic_error&) {
        threw = true;
    }
    EXPECT_TRUE(threw);
}

WEIR_TEST_SHARDS(PgPool, OpenFailureClosesWhatWasOpenedMultiShard, 2) {
    PoolOptions o;
    o.url = "postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=5";
    o.min_size = 1;
    bool failed = false;
    try {
        auto pools = co_await Pool::open(o);
        co_await pools.close();
    } catch (const weir::pg::Error& e) {
        failed = e.is_connection_error();
    }
    EXPECT_TRUE(failed);
}

namespace {

// Four concurrent statements through pool.query() on the calling shard; the
// number of them this shard's pool recorded.
weir::Task<std::uint64_t> query_local(Pool& pool) {
    int ok = 0;
    auto one = [&](std::int32_t i) -> weir::Task<void> {
        weir::pg::Result r = co_await pool.query("SELECT $1::int4", i);
        if (r[0].get<std::int32_t>(0) == i) ++ok;
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
        for (std::int32_t i = 0; i < 4; ++i) g.spawn(one(i));
        co_return;
    });
    EXPECT_EQ(ok, 4);
    EXPECT_EQ(pool.stats().in_use, 0u);
    co_return pool.query_metrics().queries.load();
}

}  // namespace

WEIR_TEST_SHARDS(PgPool, PoolQueryUsesTheShardsOwnPoolMultiShard, 2) {
    co_await weir::with_resource(co_await Pool::open(two_per_shard()),
                                 [](Pool& pool) -> weir::Task<void> {
                                     auto fn = [&pool] { return query_local(pool); };
                                     auto counted = co_await weir::on_all_shards(std::move(fn));
                                     CO_ASSERT_EQ(counted.size(), 2u);
                                     EXPECT_EQ(counted[0], 4u);
                                     EXPECT_EQ(counted[1], 4u);
                                 });
}
