// Pool: the PostgreSQL connection pool of a thread-per-core program: every
// shard of the runtime has its own ShardPool (weir/pg/shard_pool.hpp), and
// acquire() takes a connection from the calling shard's one, so a connection
// never crosses threads and nothing is locked.
//
//     co_await weir::with_resource(co_await weir::pg::Pool::open({.url = url, .max_size = 8}),
//                                  [&](weir::pg::Pool& pool) -> weir::Task<> {
//         co_await weir::on_all_shards([&pool]() -> weir::Task<> {
//             auto conn = co_await pool.acquire();   // this shard's pool
//             co_await conn->query("SELECT 1");
//         });
//     });
//
// In an HTTP App, whose lifespan hooks run once on every shard, make the Pool
// once (unopened) and let each shard's hooks open and close their part:
//
//     auto db = std::make_shared<weir::pg::Pool>(options);
//     app.on_startup([db](Resources&) { return db->open_shard(); });
//     app.on_shutdown([db](Resources&) { return db->close_shard(); });
//
// The options apply per shard (min_size and max_size included): the database
// sees up to shards x max_size connections. Statistics: stats() is the
// calling shard's, total_stats() sums every shard's (it visits each shard),
// shard_stats() lists them by shard.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "weir/core/resource.hpp"
#include "weir/core/task.hpp"
#include "weir/pg/query_api.hpp"
#include "weir/pg/shard_pool.hpp"

namespace weir::pg {

namespace detail {
struct PoolGroup;
}

class Pool : public AsyncResource, public detail::QueryApi<Pool> {
public:
    // Configures the pool and opens nothing: each shard's part is opened by open_shard() and
    // closed by close_shard(). Such a Pool is never an open AsyncResource itself (is_open() is
    // false); the shards' ShardPools are, each reported if never closed.
    explicit Pool(PoolOptions options);
    Pool(Pool&&) noexcept = default;
    ~Pool();

    // Opens a ShardPool on every shard of the current runtime (errors propagate, after the
    // pools already opened are closed again).
    static Task<Pool> open(PoolOptions options);

    // Opens / closes the calling shard's pool only: for hooks that run once on every shard.
    Task<void> open_shard();
    Task<void> close_shard();

    // The calling shard's pool (std::logic_error if it has none).
    ShardPool& local();
    Task<PooledConnection> acquire() { return local().acquire(); }
    // A statement on a shared connection of the calling shard's pool (see
    // ShardPool::query_params; query(), execute() from QueryApi).
    Task<Result> query_params(std::string sql, Params params) {
        return local().query_params(std::move(sql), std::move(params));
    }
    Task<Result> query_params(ReadOnly, std::string sql, Params params) {
        return local().query_params(read_only, std::move(sql), std::move(params));
    }
    Task<std::int64_t> execute_params(std::string sql, Params params) {
        return local().execute_params(std::move(sql), std::move(params));
    }
    unsigned shards() const noexcept;

    PoolStats stats() { return local().stats(); }
    Task<PoolStats> total_stats();
    Task<std::vector<PoolStats>> shard_stats();
    // The calling shard's query metrics.
    const QueryMetrics& query_metrics() { return local().query_metrics(); }

    // Closes every shard's pool, each on its own shard.
    Task<void> close();

private:
    explicit Pool(std::shared_ptr<detail::PoolGroup> g) noexcept;
    std::shared_ptr<detail::PoolGroup> group_;
};

// Sums counters and merges the acquire-wait histograms.
PoolStats& operator+=(PoolStats& total, const PoolStats& s) noexcept;

}  // namespace weir::pg
