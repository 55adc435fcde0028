#include "weir/pg/shard_pool.hpp"

#include <algorithm>
#include <exception>
#include <list>
#include <utility>
#include <vector>

#include "weir/core/errors.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/timeout.hpp"

namespace weir::pg {

using SteadyClock = std::chrono::steady_clock;

namespace detail {

struct IdleConnection {
    Connection conn;
    SteadyClock::time_point created;
    SteadyClock::time_point idle_since;
};

// A connection lent to query()/execute() on the pool, shared by the
// statements of concurrent callers.
struct Lane {
    Connection conn;
    SemaphorePermit permit;
    SteadyClock::time_point created;
    std::size_t users = 0;  // statements running on it now (it is returned at 0)
    bool draining = false;  // takes no new statements: it goes back when they are done
};

struct PoolState {
    explicit PoolState(PoolOptions o) : options(std::move(o)), slots(options.max_size) {
        if (!options.connection.metrics)
            options.connection.metrics = std::make_shared<QueryMetrics>();
    }
    PoolOptions options;
    Semaphore slots;  // one permit per connection that may exist
    std::vector<IdleConnection> idle;
    bool closed = false;
    PoolStats stats;
    Histogram acquire_wait_us;
    std::list<Lane> lanes;        // shared connections
    std::list<Lane> spare_lanes;  // nodes of retired lanes, reused
    std::size_t lanes_opening = 0;
    unsigned picks = 0;

    bool expired(SteadyClock::time_point created, SteadyClock::time_point now) const noexcept {
        return options.max_lifetime.count() > 0 && now - created >= options.max_lifetime;
    }

    void give_back(Connection c, SteadyClock::time_point created) noexcept {
        const auto now = SteadyClock::now();
        const bool old = expired(created, now);
        // Only a connection known to be idle outside any transaction is reused.
        if (closed || old || c.is_broken() || c.pending() != 0 ||
            c.transaction_status() != TransactionStatus::idle) {
            ++stats.discarded;
            if (old) ++stats.expired;
            c.close();
            return;
        }
        try {
            idle.push_back(IdleConnection{std::move(c), created, now});
        } catch (...) {
            c.close();
        }
    }

    // The shared connection for the next statement, or nullptr to take another
    // one from the pool: the least busy one, unless every one has
    // pipeline_depth statements in flight and a slot is free right now.
    Lane* pick_lane() noexcept {
        if (lanes.empty()) return nullptr;
        if ((++picks & 255) == 0) {
            // Now and then: connections past max_lifetime stop taking statements.
            const auto now = SteadyClock::now();
            for (Lane& l : lanes)
                if (expired(l.created, now)) l.draining = true;
        }
        Lane* best = least_busy();
        if (best && slots.has_waiters()) {
            // acquire() waits for a slot: one shared connection drains and goes
            // back to the pool, if another one carries on.
            Lane* next = nullptr;
            best->draining = true;
            next = least_busy();
            if (!next) best->draining = false;
            return next ? next : best;
        }
        if (best && (best->conn.pending() < options.pipeline_depth || lanes_opening != 0 ||
                     slots.available() == 0))
            return best;
        return nullptr;
    }
    Lane* least_busy() noexcept {
        Lane* best = nullptr;
        for (Lane& l : lanes) {
            if (l.draining || l.conn.is_broken()) continue;
            if (!best || l.conn.pending() < best->conn.pending()) best = &l;
        }
        return best;
    }
    Lane& add_lane(Connection c, SemaphorePermit p, SteadyClock::time_point created) {
        if (spare_lanes.empty()) {
            lanes.emplace_back();
        } else {
            lanes.splice(lanes.end(), spare_lanes, spare_lanes.begin());
        }
        Lane& l = lanes.back();
        l.conn = std::move(c);
        l.permit = std::move(p);
        l.created = created;
        l.users = 0;
        l.draining = false;
        return l;
    }
    // A statement on `lane` is done: the lane goes back to the pool when it was the last.
    void leave(Lane* lane) noexcept {
        if (--lane->users != 0) return;
        for (auto it = lanes.begin(); it != lanes.end(); ++it) {
            if (&*it != lane) continue;
            --stats.in_use;
            give_back(std::move(lane->conn), lane->created);
            lane->permit.release();
            spare_lanes.splice(spare_lanes.begin(), lanes, it);
            return;
        }
    }
};

// Keeps a statement counted on its lane.
struct LaneUse {
    PoolState* state;
    Lane* lane;
    LaneUse(PoolState* s, Lane* l) noexcept : state(s), lane(l) { ++lane->users; }
    LaneUse(const LaneUse&) = delete;
    LaneUse& operator=(const LaneUse&) = delete;
    ~LaneUse() { state->leave(lane); }
};

}  // namespace detail

PooledConnection& PooledConnection::operator=(PooledConnection&& o) noexcept {
    if (this != &o) {
        release();
        state_ = std::move(o.state_);
        permit_ = std::move(o.permit_);
        conn_ = std::move(o.conn_);
        created_ = o.created_;
    }
    return *this;
}

void PooledConnection::release() noexcept {
    if (state_) {
        --state_->stats.in_use;
        state_->give_back(std::move(conn_), created_);
        state_.reset();
    }
    conn_.close();
    permit_.release();
}

void PooledConnection::discard() noexcept {
    conn_.close();  // give_back counts it as discarded
    release();
}

ShardPool::ShardPool(std::shared_ptr<detail::PoolState> s) noexcept
    : AsyncResource("pg::ShardPool"), state_(std::move(s)) {}

Task<ShardPool> ShardPool::open(PoolOptions options) {
    if (options.max_size == 0) throw std::invalid_argument("pg::ShardPool: max_size must be > 0");
    if (options.min_size > options.max_size) options.min_size = options.max_size;
    auto state = std::make_shared<detail::PoolState>(std::move(options));
    for (std::size_t i = 0; i < state->options.min_size; ++i) {
        auto c = co_await Connection::connect(state->options.url, state->options.connection);
        const auto now = SteadyClock::now();
        state->idle.push_back(detail::IdleConnection{std::move(c), now, now});
        ++state->stats.connects;
    }
    co_return ShardPool(std::move(state));
}

namespace {

// Connects, retrying connection errors with exponential backoff until `deadline`.
Task<Connection> connect_with_backoff(std::shared_ptr<detail::PoolState> state,
                                      SteadyClock::time_point deadline) {
    auto backoff = state->options.reconnect_backoff;
    for (;;) {
        std::string why;
        std::string sqlstate = "08001";
        try {
            const auto left = deadline - SteadyClock::now();
            if (left <= SteadyClock::duration::zero()) throw TimeoutError();
            auto t = Connection::connect(state->options.url, state->options.connection);
            co_return co_await with_timeout(left, std::move(t));
        } catch (const Error& e) {
            if (!e.is_connection_error()) throw;
            why = e.message();
            sqlstate = e.sqlstate();
        } catch (const TimeoutError&) {
            why = "connecting took longer than the acquire deadline";
        }
        ++state->stats.connect_failures;
        if (SteadyClock::now() + backoff >= deadline) {
            ++state->stats.unavailable;
            throw PoolUnavailable(sqlstate,
                                  "pg::ShardPool: server unavailable until the acquire deadline (" +
                                      std::to_string(state->options.acquire_timeout.count()) +
                                      " ms): " + why);
        }
        co_await sleep_for(backoff);
        backoff = std::min(backoff * 2, state->options.reconnect_backoff_max);
    }
}

}  // namespace

Task<PooledConnection> ShardPool::acquire() {
    auto state = state_;
    if (!state || state->closed) throw std::logic_error("pg::ShardPool is closed");
    const auto started = SteadyClock::now();
    const auto deadline = started + state->options.acquire_timeout;
    // A free slot is taken at once; only a wait needs the timer of acquire_for.
    SemaphorePermit permit = state->slots.try_acquire();
    if (!permit) {
        ++state->stats.waiters;
        try {
            permit = co_await state->slots.acquire_for(state->options.acquire_timeout);
        } catch (const TimeoutError&) {
            --state->stats.waiters;
            ++state->stats.timeouts;
            throw PoolTimeout("pg::ShardPool: no connection free within " +
                              std::to_string(state->options.acquire_timeout.count()) + " ms (" +
                              std::to_string(state->options.max_size) + " in use)");
        } catch (...) {
            --state->stats.waiters;
            throw;
        }
        --state->stats.waiters;
    }
    if (state->closed) throw std::logic_error("pg::ShardPool is closed");
    auto hand_out = [&](Connection c, SteadyClock::time_point created) {
        ++state->stats.in_use;
        ++state->stats.acquires;
        const auto waited =
            std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - started);
        state->acquire_wait_us.record(static_cast<std::uint64_t>(waited.count()));
        return PooledConnection(state, std::move(permit), std::move(c), created);
    };
    while (!state->idle.empty()) {
        detail::IdleConnection ic = std::move(state->idle.back());
        state->idle.pop_back();
        const auto now = SteadyClock::now();
        if (state->expired(ic.created, now)) {
            ++state->stats.discarded;
            ++state->stats.expired;
            ic.conn.close();
            continue;
        }
        if (!ic.conn.check_idle()) {
            ++state->stats.discarded;
            ic.conn.close();
            continue;
        }
        if (now - ic.idle_since >= state->options.health_check_after) {
            ++state->stats.health_checks;
            bool healthy = false;
            try {
                auto t = ic.conn.query("SELECT 1");
                const auto left =
                    std::max<SteadyClock::duration>(deadline - now, std::chrono::milliseconds(100));
                co_await with_timeout(left, std::move(t));
                healthy = ic.conn.transaction_status() == TransactionStatus::idle;
            } catch (const std::exception&) {
            }
            if (!healthy) {
                ++state->stats.health_check_failures;
                ++state->stats.discarded;
                ic.conn.close();
                continue;
            }
        }
        co_return hand_out(std::move(ic.conn), ic.created);
    }
    // No usable idle connection: open one, retrying while the server is down.
    Connection c = co_await connect_with_backoff(state, deadline);
    ++state->stats.connects;
    if (state->closed) throw std::logic_error("pg::ShardPool is closed");
    co_return hand_out(std::move(c), SteadyClock::now());
}

Task<Result> ShardPool::query_params(std::string sql, Params params) {
    return run_shared(std::move(sql), std::move(params), false);
}

Task<Result> ShardPool::query_params(ReadOnly, std::string sql, Params params) {
    return run_shared(std::move(sql), std::move(params), true);
}

Task<std::int64_t> ShardPool::execute_params(std::string sql, Params params) {
    Result r = co_await run_shared(std::move(sql), std::move(params), false);
    co_return r.affected_rows();
}

Task<Result> ShardPool::run_shared(std::string sql, Params params, bool read_only) {
    auto state = state_;
    if (!state || state->closed) throw std::logic_error("pg::ShardPool is closed");
    detail::Lane* lane = state->pick_lane();
    if (!lane) {
        ++state->lanes_opening;
        PooledConnection pc;
        std::exception_ptr error;
        try {
            pc = co_await acquire();
        } catch (...) {
            error = std::current_exception();
        }
        --state->lanes_opening;
        if (error) std::rethrow_exception(error);
        // The guard's connection and slot become the lane's (still counted in use).
        lane = &state->add_lane(std::move(pc.conn_), std::move(pc.permit_), pc.created_);
        pc.state_.reset();
    }
    detail::LaneUse use(state.get(), lane);
    Result r;
    if (read_only) {
        r = co_await lane->conn.query_params(weir::pg::read_only, std::move(sql),
                                             std::move(params));
    } else {
        r = co_await lane->conn.query_params(std::move(sql), std::move(params));
    }
    // The last statement out takes the connection back to the pool: first
    // whatever is still in flight on it (the Sync closing a read_only group)
    // must be read, or the pool would discard it as busy.
    if (lane->users == 1 && lane->conn.pending() != 0 && !lane->conn.is_broken())
        co_await lane->conn.drain();
    co_return r;
}

Task<void> ShardPool::close() {
    if (state_) {
        state_->closed = true;
        for (auto& c : state_->idle) c.conn.close();
        state_->idle.clear();
    }
    mark_closed();
    co_return;
}

PoolStats ShardPool::stats() const noexcept {
    if (!state_) return {};
    PoolStats s = state_->stats;
    s.idle = state_->idle.size();
    s.size = s.idle + s.in_use;
    s.shared = state_->lanes.size();
    s.has_waiters = state_->slots.has_waiters();
    s.acquire_wait_us = state_->acquire_wait_us.snapshot();
    return s;
}

const QueryMetrics& ShardPool::query_metrics() const noexcept {
    static const QueryMetrics none;
    return state_ ? *state_->options.connection.metrics : none;
}

}  // namespace weir::pg
