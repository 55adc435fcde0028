#include "weir/pg/sharded_pool.hpp"

#include <exception>
#include <stdexcept>

#include "weir/core/runtime.hpp"
#include "weir/core/submit.hpp"

namespace weir::pg {

namespace {

Task<void> open_here(std::shared_ptr<ShardedPool::State> state, PoolOptions options) {
    Pool p = co_await Pool::open(std::move(options));
    state->pools[this_shard()].emplace(std::move(p));
}

Task<void> close_here(std::shared_ptr<ShardedPool::State> state) {
    auto& slot = state->pools[this_shard()];
    if (slot) {
        co_await slot->close();
        slot.reset();
    }
}

Task<void> close_all(std::shared_ptr<ShardedPool::State> state) {
    auto fn = [state] { return close_here(state); };
    co_await on_all_shards(std::move(fn));
}

}  // namespace

ShardedPool::ShardedPool(std::shared_ptr<State> s) noexcept
    : AsyncResource("pg::ShardedPool"), state_(std::move(s)) {}

Task<ShardedPool> ShardedPool::open(PoolOptions options) {
    Runtime* rt = Runtime::current();
    if (!rt) throw std::logic_error("pg::ShardedPool::open must run on a runtime shard");
    auto state = std::make_shared<State>();
    state->pools.resize(rt->shard_count());
    std::exception_ptr error;
    try {
        auto fn = [state, options] { return open_here(state, options); };
        co_await on_all_shards(std::move(fn));
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {
        co_await shield(close_all(state));
        std::rethrow_exception(error);
    }
    co_return ShardedPool(std::move(state));
}

Pool& ShardedPool::local() {
    const unsigned shard = this_shard();
    if (!state_ || shard >= state_->pools.size() || !state_->pools[shard])
        throw std::logic_error("pg::ShardedPool: no pool on this shard (closed?)");
    return *state_->pools[shard];
}

Task<void> ShardedPool::close() {
    if (state_) co_await close_all(state_);
    mark_closed();
}

}  // namespace weir::pg
