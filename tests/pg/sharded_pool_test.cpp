#include "weir/pg/sharded_pool.hpp"

#include <cstdint>
#include <set>
#include <vector>

#include "pg_test_util.hpp"
#include "weir/core/runtime.hpp"
#include "weir/core/submit.hpp"
#include "weir/testing/async_test.hpp"

using weir::pg::PoolOptions;
using weir::pg::ShardedPool;

WEIR_TEST_SHARDS(PgShardedPool, OnePoolPerShardMultiShard, 2) {
    PoolOptions o;
    o.url = weir::pg::test::url();
    o.min_size = 1;
    o.max_size = 2;
    co_await weir::with_resource(
        co_await ShardedPool::open(o), [](ShardedPool& pools) -> weir::Task<void> {
            EXPECT_EQ(pools.shards(), 2u);
            struct Seen {
                unsigned shard;
                const weir::pg::Pool* pool;
                int backend;
                std::size_t idle_before;
            };
            auto fn = [&pools]() -> weir::Task<Seen> {
                const std::size_t idle =
                    pools.local().stats().idle;  // min_size, opened on this shard
                auto conn = co_await pools.acquire();
                weir::pg::Result r = co_await conn->query("SELECT pg_backend_pid()");
                co_return Seen{weir::this_shard(), &pools.local(), r[0].get<std::int32_t>(0), idle};
            };
            auto seen = co_await weir::on_all_shards(std::move(fn));
            CO_ASSERT_EQ(seen.size(), 2u);
            EXPECT_EQ(seen[0].shard, 0u);
            EXPECT_EQ(seen[1].shard, 1u);
            EXPECT_NE(seen[0].pool, seen[1].pool);
            EXPECT_NE(seen[0].backend, seen[1].backend);
            EXPECT_EQ(seen[0].idle_before, 1u);
            EXPECT_EQ(seen[1].idle_before, 1u);
        });
}

WEIR_TEST_SHARDS(PgShardedPool, OpenFailureClosesWhatWasOpenedMultiShard, 2) {
    PoolOptions o;
    o.url = "postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=5";
    o.min_size = 1;
    bool failed = false;
    try {
        auto pools = co_await ShardedPool::open(o);
        co_await pools.close();
    } catch (const weir::pg::Error& e) {
        failed = e.is_connection_error();
    }
    EXPECT_TRUE(failed);
}
