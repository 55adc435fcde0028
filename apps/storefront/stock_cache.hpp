// The stock-level cache in Redis, safe against the fill-after-invalidate race.
//
// A reader that misses the cache reads PostgreSQL and writes the value back. If an order
// commits and invalidates the entry between that read and the write-back, a naive SET would
// put the old level back for a whole TTL. So each product also has a generation counter:
// invalidation bumps it, a reader notes it together with the miss, and the write-back is a
// script that only sets the value if the generation is still the one noted. Header-only so the
// tests exercise the very same functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "weir/core/task.hpp"
#include "weir/redis/commands.hpp"

namespace storefront {

inline std::string stock_key(std::int32_t id) { return "storefront:stock:" + std::to_string(id); }
inline std::string stock_generation_key(std::int32_t id) {
    return "storefront:stock-gen:" + std::to_string(id);
}

struct StockLookup {
    std::optional<std::string> cached;  // the cached level as stored, if any
    std::string generation;             // what a later fill must still find ("0": never bumped)
};

// The cached value and the current generation, in one round trip.
inline weir::Task<StockLookup> lookup_stock(weir::redis::Commands& redis, std::int32_t id) {
    const weir::redis::Keys keys{stock_key(id), stock_generation_key(id)};
    auto values = co_await redis.mget(keys);
    StockLookup out;
    if (!values.empty()) out.cached = std::move(values[0]);
    out.generation = values.size() > 1 && values[1] ? *values[1] : std::string("0");
    co_return out;
}

// Caches `level` unless the product was invalidated since `generation` was read. True if set.
inline weir::Task<bool> fill_stock(weir::redis::Commands& redis, std::int32_t id,
                                   std::int32_t level, std::string generation,
                                   std::chrono::milliseconds ttl) {
    thread_local weir::redis::Script script(
        "if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] then return 0 end "
        "redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1");
    const weir::redis::Keys keys{stock_key(id), stock_generation_key(id)};
    const weir::redis::Keys args{std::move(generation), std::to_string(level),
                                 std::to_string(ttl.count())};
    auto r = co_await redis.eval(script, keys, args);
    co_return r.to_int() == 1;
}

// After a committed change of these products' stock: drops the cached levels and bumps their
// generations, so fills that read the old level are refused.
inline weir::Task<void> invalidate_stock(weir::redis::Commands& redis,
                                         std::vector<std::int32_t> ids) {
    thread_local weir::redis::Script script(
        "for i = 1, #KEYS, 2 do redis.call('DEL', KEYS[i]) redis.call('INCR', KEYS[i + 1]) end "
        "return #KEYS / 2");
    weir::redis::Keys keys;
    for (std::int32_t id : ids) {
        keys.push_back(stock_key(id));
        keys.push_back(stock_generation_key(id));
    }
    co_await redis.eval(script, keys);
}

}  // namespace storefront
