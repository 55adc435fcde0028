// Db: the benchmark's PostgreSQL access, one per shard (a resource of the App).
//
// In the startup hook it opens the shard's part of the process's weir::pg::Pool
// and keeps `connections` of its connections checked out for the shard's
// lifetime. Every /db query goes to
// the one with the fewest requests in flight, so concurrent requests pipeline
// their queries on a few connections (one round trip carries many) instead of
// each waiting for a connection of its own. A connection that breaks goes
// back to the pool (discarded) and is replaced from it, which reconnects.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "weir/core/mutex.hpp"
#include "weir/core/task.hpp"
#include "weir/pg/pool.hpp"

namespace bench {

struct Item {
    int id = 0;
    std::string name;
    std::string price;  // numeric(.., 2) as decimal text, e.g. "14.69"
};

class Db {
public:
    Db() = default;
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    // The pool options for `connections` connections per shard.
    static weir::pg::PoolOptions pool_options(std::string url, std::size_t connections);
    // Opens this shard's part of `pool` (made with pool_options) and checks out its
    // connections (errors propagate, nothing stays open on this shard).
    weir::Task<void> open(std::shared_ptr<weir::pg::Pool> pool);

    // The row of `items` with this id; throws weir::http::HttpError(404) if none.
    weir::Task<Item> item(int id);
    weir::Task<void> close();

private:
    weir::Task<weir::pg::Connection*> pick();

    std::shared_ptr<weir::pg::Pool> pool_;
    std::vector<weir::pg::PooledConnection> conns_;
    weir::Mutex replacing_;
};

}  // namespace bench
