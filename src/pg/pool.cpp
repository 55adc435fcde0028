#include "weir/pg/pool.hpp"

#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>

#include "weir/core/runtime.hpp"
#include "weir/core/submit.hpp"

namespace weir::pg {

namespace detail {

struct PoolGroup {
    explicit PoolGroup(PoolOptions o) : options(std::move(o)) {}
    PoolOptions options;
    std::once_flag sized;
    // By shard, sized once to the runtime's shard count; each slot touched only by its shard.
    std::vector<std::optional<ShardPool>> pools;

    std::optional<ShardPool>& slot() {
        Runtime* rt = Runtime::current();
        if (!rt) throw std::logic_error("pg::Pool: not on a runtime shard");
        std::call_once(sized, [&] { pools.resize(rt->shard_count()); });
        const unsigned shard = this_shard();
        if (shard >= pools.size())
            throw std::logic_error("pg::Pool: used from another runtime than the one it opened on");
        return pools[shard];
    }
};

}  // namespace detail

namespace {

using detail::PoolGroup;

Task<void> open_on(std::shared_ptr<PoolGroup> g) {
    auto& slot = g->slot();
    if (slot) throw std::logic_error("pg::Pool: this shard's pool is already open");
    ShardPool p = co_await ShardPool::open(g->options);
    slot.emplace(std::move(p));
}

Task<void> close_on(std::shared_ptr<PoolGroup> g) {
    auto& slot = g->slot();
    if (slot) {
        co_await slot->close();
        slot.reset();
    }
}

Task<void> close_everywhere(std::shared_ptr<PoolGroup> g) {
    auto fn = [g] { return close_on(g); };
    co_await on_all_shards(std::move(fn));
}

Task<PoolStats> stats_on(std::shared_ptr<PoolGroup> g) {
    auto& slot = g->slot();
    PoolStats s;
    if (slot) s = slot->stats();
    co_return s;
}

}  // namespace

Pool::Pool(PoolOptions options)
    : AsyncResource("pg::Pool"), group_(std::make_shared<PoolGroup>(std::move(options))) {
    // Its shards' ShardPools are the open resources (each reported if never closed).
    mark_closed();
}

Pool::Pool(std::shared_ptr<PoolGroup> g) noexcept
    : AsyncResource("pg::Pool"), group_(std::move(g)) {}

Pool::~Pool() = default;

Task<Pool> Pool::open(PoolOptions options) {
    if (!Runtime::current()) throw std::logic_error("pg::Pool::open must run on a runtime shard");
    auto group = std::make_shared<PoolGroup>(std::move(options));
    std::exception_ptr error;
    try {
        auto fn = [group] { return open_on(group); };
        co_await on_all_shards(std::move(fn));
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {
        co_await shield(close_everywhere(group));
        std::rethrow_exception(error);
    }
    co_return Pool(std::move(group));
}

Task<void> Pool::open_shard() { return open_on(group_); }

Task<void> Pool::close_shard() { return close_on(group_); }

ShardPool& Pool::local() {
    if (!group_) throw std::logic_error("pg::Pool: moved from");
    auto& slot = group_->slot();
    if (!slot) throw std::logic_error("pg::Pool: no pool open on this shard (closed?)");
    return *slot;
}

unsigned Pool::shards() const noexcept {
    return group_ ? static_cast<unsigned>(group_->pools.size()) : 0;
}

Task<std::vector<PoolStats>> Pool::shard_stats() {
    auto g = group_;
    auto fn = [g] { return stats_on(g); };
    co_return co_await on_all_shards(std::move(fn));
}

Task<PoolStats> Pool::total_stats() {
    PoolStats total;
    for (const PoolStats& s : co_await shard_stats()) total += s;
    co_return total;
}

Task<void> Pool::close() {
    if (group_) co_await close_everywhere(group_);
    mark_closed();
}

PoolStats& operator+=(PoolStats& t, const PoolStats& s) noexcept {
    t.size += s.size;
    t.idle += s.idle;
    t.in_use += s.in_use;
    t.shared += s.shared;
    t.waiters += s.waiters;
    t.has_waiters = t.has_waiters || s.has_waiters;
    t.acquires += s.acquires;
    t.connects += s.connects;
    t.connect_failures += s.connect_failures;
    t.discarded += s.discarded;
    t.expired += s.expired;
    t.health_checks += s.health_checks;
    t.health_check_failures += s.health_check_failures;
    t.timeouts += s.timeouts;
    t.unavailable += s.unavailable;
    for (std::size_t i = 0; i < t.acquire_wait_us.buckets.size(); ++i)
        t.acquire_wait_us.buckets[i] += s.acquire_wait_us.buckets[i];
    t.acquire_wait_us.count += s.acquire_wait_us.count;
    t.acquire_wait_us.sum_us += s.acquire_wait_us.sum_us;
    return t;
}

}  // namespace weir::pg
