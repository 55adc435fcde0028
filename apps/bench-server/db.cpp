#include "db.hpp"

#include <exception>
#include <limits>
#include <utility>

#include "weir/http/handler.hpp"

namespace bench {

namespace {
constexpr const char* kItemQuery = "SELECT name, price FROM items WHERE id = $1";
}

weir::pg::PoolOptions Db::pool_options(std::string url, std::size_t connections) {
    if (connections == 0) connections = 1;
    weir::pg::PoolOptions options;
    options.url = std::move(url);
    options.min_size = connections;
    options.max_size = connections;
    return options;
}

weir::Task<void> Db::open(std::shared_ptr<weir::pg::Pool> pool) {
    co_await pool->open_shard();
    pool_ = std::move(pool);
    std::exception_ptr error;
    try {
        const std::size_t connections = pool_->local().stats().size;  // min_size == max_size
        for (std::size_t i = 0; i < connections; ++i) conns_.push_back(co_await pool_->acquire());
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {
        co_await close();
        std::rethrow_exception(error);
    }
}

weir::Task<weir::pg::Connection*> Db::pick() {
    weir::pg::Connection* best = nullptr;
    std::size_t least = std::numeric_limits<std::size_t>::max();
    bool broken = false;
    for (auto& c : conns_) {
        if (c->is_broken()) {
            broken = true;
            continue;
        }
        if (c->pending() < least) {
            least = c->pending();
            best = &*c;
        }
    }
    if (!broken || (best && replacing_.locked())) co_return best;
    // Replace the broken ones (one task at a time; the others use what is healthy or wait).
    auto guard = co_await replacing_.lock();
    for (auto& c : conns_) {
        if (!c->is_broken()) continue;
        c.discard();
        c = co_await pool_->acquire();
    }
    co_return &*conns_.front();
}

weir::Task<Item> Db::item(int id) {
    weir::pg::Connection* conn = co_await pick();
    weir::pg::Result r = co_await conn->query(weir::pg::read_only, kItemQuery, id);
    if (r.empty()) throw weir::http::HttpError(404, "no item " + std::to_string(id));
    auto row = r[0];
    co_return Item{id, row.get<std::string>(0), row.get<std::string>(1)};
}

weir::Task<void> Db::close() {
    conns_.clear();
    if (pool_) co_await pool_->close_shard();
    pool_.reset();
}

}  // namespace bench
