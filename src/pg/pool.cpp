#include "weir/pg/pool.hpp"

#include <exception>
#include <utility>
#include <vector>

#include "weir/core/errors.hpp"
#include "weir/core/timeout.hpp"

namespace weir::pg {

namespace detail {

struct PoolState {
    explicit PoolState(PoolOptions o) : options(std::move(o)), slots(options.max_size) {}
    PoolOptions options;
    Semaphore slots;  // one permit per connection that may exist
    std::vector<Connection> idle;
    bool closed = false;
    PoolStats stats;

    void give_back(Connection c) noexcept {
        // Only a connection known to be idle outside any transaction is reused.
        if (closed || c.is_broken() || c.pending() != 0 ||
            c.transaction_status() != TransactionStatus::idle) {
            ++stats.discarded;
            c.close();
            return;
        }
        try {
            idle.push_back(std::move(c));
        } catch (...) {
            c.close();
        }
    }
};

}  // namespace detail

PooledConnection& PooledConnection::operator=(PooledConnection&& o) noexcept {
    if (this != &o) {
        release();
        state_ = std::move(o.state_);
        permit_ = std::move(o.permit_);
        conn_ = std::move(o.conn_);
    }
    return *this;
}

void PooledConnection::release() noexcept {
    if (state_) {
        --state_->stats.in_use;
        state_->give_back(std::move(conn_));
        state_.reset();
    }
    conn_.close();
    permit_.release();
}

void PooledConnection::discard() noexcept {
    conn_.close();  // give_back counts it as discarded
    release();
}

Pool::Pool(std::shared_ptr<detail::PoolState> s) noexcept
    : AsyncResource("pg::Pool"), state_(std::move(s)) {}

Task<Pool> Pool::open(PoolOptions options) {
    if (options.max_size == 0) throw std::invalid_argument("pg::Pool: max_size must be > 0");
    if (options.min_size > options.max_size) options.min_size = options.max_size;
    auto state = std::make_shared<detail::PoolState>(std::move(options));
    for (std::size_t i = 0; i < state->options.min_size; ++i) {
        state->idle.push_back(
            co_await Connection::connect(state->options.url, state->options.connection));
        ++state->stats.connects;
    }
    co_return Pool(std::move(state));
}

Task<PooledConnection> Pool::acquire() {
    auto state = state_;
    if (!state || state->closed) throw std::logic_error("pg::Pool is closed");
    SemaphorePermit permit;
    try {
        permit = co_await state->slots.acquire_for(state->options.acquire_timeout);
    } catch (const TimeoutError&) {
        ++state->stats.timeouts;
        throw PoolTimeout("pg::Pool: no connection free within " +
                          std::to_string(state->options.acquire_timeout.count()) + " ms (" +
                          std::to_string(state->options.max_size) + " in use)");
    }
    if (state->closed) throw std::logic_error("pg::Pool is closed");
    while (!state->idle.empty()) {
        Connection c = std::move(state->idle.back());
        state->idle.pop_back();
        if (c.check_idle()) {
            ++state->stats.in_use;
            co_return PooledConnection(state, std::move(permit), std::move(c));
        }
        ++state->stats.discarded;
        c.close();
    }
    // No usable idle connection: open one (errors surface; the slot is freed).
    Connection c = co_await Connection::connect(state->options.url, state->options.connection);
    ++state->stats.connects;
    if (state->closed) throw std::logic_error("pg::Pool is closed");
    ++state->stats.in_use;
    co_return PooledConnection(state, std::move(permit), std::move(c));
}

Task<void> Pool::close() {
    if (state_) {
        state_->closed = true;
        for (auto& c : state_->idle) c.close();
        state_->idle.clear();
    }
    mark_closed();
    co_return;
}

PoolStats Pool::stats() const noexcept {
    if (!state_) return {};
    PoolStats s = state_->stats;
    s.idle = state_->idle.size();
    s.has_waiters = state_->slots.has_waiters();
    return s;
}

}  // namespace weir::pg
