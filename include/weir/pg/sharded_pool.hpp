// ShardedPool: one pg::Pool on every shard of the runtime, each used only by
// its own shard (no locks, no cross-thread hand-off of connections).
//
//     co_await weir::with_resource(co_await weir::pg::ShardedPool::open({.url = url, .max_size =
//     8}),
//                                  [&](weir::pg::ShardedPool& pools) -> weir::Task<> {
//         co_await weir::on_all_shards([&pools]() -> weir::Task<> {
//             auto conn = co_await pools.acquire();   // this shard's pool
//             co_await conn->query("SELECT 1");
//         });
//     });
//
// The options (max_size included) apply per shard: the database sees up to
// shards x max_size connections. close() closes every shard's pool on its
// own shard (use with_resource, so it always runs). Statistics are per
// shard: local().stats() on each shard. With the HTTP App, opening a plain
// Pool in an on_startup hook (run once per shard) is equivalent.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "weir/core/resource.hpp"
#include "weir/core/task.hpp"
#include "weir/pg/pool.hpp"

namespace weir::pg {

class ShardedPool : public AsyncResource {
public:
    struct State {
        std::vector<std::optional<Pool>> pools;  // by shard; each touched only by its shard
    };

    ShardedPool(ShardedPool&&) noexcept = default;
    ~ShardedPool() = default;

    // Opens a Pool on every shard of the current runtime (errors propagate,
    // after the pools already opened are closed again).
    static Task<ShardedPool> open(PoolOptions options);

    // The calling shard's pool.
    Pool& local();
    Task<PooledConnection> acquire() { return local().acquire(); }
    unsigned shards() const noexcept {
        return state_ ? static_cast<unsigned>(state_->pools.size()) : 0;
    }
    Task<void> close();

private:
    explicit ShardedPool(std::shared_ptr<State> s) noexcept;
    std::shared_ptr<State> state_;
};

}  // namespace weir::pg
