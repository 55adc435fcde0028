#include "weir/redis/pool.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <utility>
#include <vector>

#include "connection_impl.hpp"
#include "weir/core/errors.hpp"
#include "weir/core/mutex.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/timeout.hpp"

namespace weir::redis {

namespace detail {

struct PoolState {
    explicit PoolState(PoolOptions o) : options(std::move(o)), slots(options.max_size) {}
    PoolOptions options;
    std::shared_ptr<Metrics> metrics;
    Semaphore slots;  // one permit per exclusive connection that may exist
    std::vector<Connection> idle;
    Connection shared;
    Mutex shared_lock;  // single-flight reconnect of `shared`
    bool closed = false;
    PoolMetrics stats;

    void give_back(Connection c) noexcept {
        if (closed || c.is_broken() || c.pending() != 0) {
            if (c.is_open()) ++stats.discarded;
            c.close();
            return;
        }
        try {
            idle.push_back(std::move(c));
        } catch (...) {
            c.close();
        }
    }

    // Connects, retrying with exponential backoff until `deadline`; a
    // connect that replaces a lost connection counts as a reconnect.
    Task<Connection> connect(TimePoint deadline, bool replacing) {
        auto delay = options.backoff_initial;
        for (;;) {
            std::exception_ptr error;
            try {
                Connection c = co_await Connection::connect(options.connection);
                if (replacing) metrics->reconnected();
                co_return c;
            } catch (const TlsVerifyError&) {
                throw;  // retrying cannot help
            } catch (const ConnectionError&) {
                error = std::current_exception();
            } catch (const TimeoutError&) {
                error = std::current_exception();
            } catch (const ServerError& e) {
                // Still loading its data set after a restart: retry; anything else is final.
                if (e.prefix() != "LOADING") throw;
                error = std::current_exception();
            }
            if (closed || Clock::now() + delay >= deadline) std::rethrow_exception(error);
            co_await sleep_for(delay);
            delay = std::min(delay * 2, options.backoff_max);
        }
    }
};

}  // namespace detail

namespace {

// Without a round trip: did the server close an idle connection?
bool looks_alive(Connection& c) { return c.check_idle(); }

}  // namespace

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
    if (state_ && conn_.is_open()) ++state_->stats.discarded;
    conn_.close();
    release();
}

Pool::Pool(std::shared_ptr<detail::PoolState> s) noexcept
    : AsyncResource("redis::Pool"), state_(std::move(s)) {}

Task<Pool> Pool::open(PoolOptions options) {
    if (options.max_size == 0) throw std::invalid_argument("redis::Pool: max_size must be > 0");
    if (options.min_size > options.max_size) options.min_size = options.max_size;
    if (!options.url.empty()) {
        auto metrics = options.connection.metrics;
        auto timeout = options.connection.command_timeout;
        options.connection = ConnectionOptions::from_url(options.url);
        options.connection.metrics = metrics;
        options.connection.command_timeout = timeout;
    }
    if (!options.connection.metrics) options.connection.metrics = std::make_shared<Metrics>();
    options.connection.prepare_tls();  // one TLS context for all the pool's connections
    auto state = std::make_shared<detail::PoolState>(std::move(options));
    state->metrics = state->options.connection.metrics;
    state->shared = co_await Connection::connect(state->options.connection);
    for (std::size_t i = 0; i < state->options.min_size; ++i)
        state->idle.push_back(co_await Connection::connect(state->options.connection));
    co_return Pool(std::move(state));
}

Task<Reply> Pool::execute(Command c) {
    auto state = state_;
    if (!state || state->closed) throw std::logic_error("redis::Pool is closed");
    if (state->shared.is_broken()) {
        auto guard = co_await state->shared_lock.lock();
        if (state->shared.is_broken()) {
            state->shared.close();
            const TimePoint deadline = Clock::now() + state->options.acquire_timeout;
            state->shared = co_await state->connect(deadline, true);
        }
    }
    co_return co_await state->shared.execute(std::move(c));
}

Task<std::vector<Reply>> Pool::pipeline(Pipeline p) {
    auto state = state_;
    if (!state || state->closed) throw std::logic_error("redis::Pool is closed");
    if (state->shared.is_broken()) {
        auto guard = co_await state->shared_lock.lock();
        if (state->shared.is_broken()) {
            state->shared.close();
            const TimePoint deadline = Clock::now() + state->options.acquire_timeout;
            state->shared = co_await state->connect(deadline, true);
        }
    }
    co_return co_await state->shared.pipeline(std::move(p));
}

Task<PooledConnection> Pool::acquire() {
    auto state = state_;
    if (!state || state->closed) throw std::logic_error("redis::Pool is closed");
    const TimePoint deadline = Clock::now() + state->options.acquire_timeout;
    SemaphorePermit permit;
    try {
        permit = co_await state->slots.acquire_for(state->options.acquire_timeout);
    } catch (const TimeoutError&) {
        ++state->stats.timeouts;
        throw PoolTimeout("redis::Pool: no connection free within " +
                          std::to_string(state->options.acquire_timeout.count()) + " ms (" +
                          std::to_string(state->options.max_size) + " in use)");
    }
    if (state->closed) throw std::logic_error("redis::Pool is closed");
    bool replacing = false;
    while (!state->idle.empty()) {
        Connection c = std::move(state->idle.back());
        state->idle.pop_back();
        if (looks_alive(c)) {
            ++state->stats.in_use;
            co_return PooledConnection(state, std::move(permit), std::move(c));
        }
        ++state->stats.discarded;
        replacing = true;
        c.close();
    }
    Connection c = co_await state->connect(deadline, replacing);
    if (state->closed) throw std::logic_error("redis::Pool is closed");
    ++state->stats.in_use;
    co_return PooledConnection(state, std::move(permit), std::move(c));
}

Task<void> Pool::close() {
    if (state_) {
        state_->closed = true;
        for (auto& c : state_->idle) c.close();
        state_->idle.clear();
        state_->shared.close();
    }
    mark_closed();
    co_return;
}

PoolMetrics Pool::stats() const noexcept {
    if (!state_) return {};
    PoolMetrics s = state_->stats;
    s.idle = state_->idle.size();
    s.max_size = state_->options.max_size;
    s.has_waiters = state_->slots.has_waiters();
    return s;
}

MetricsSnapshot Pool::metrics() const {
    if (!state_) return {};
    MetricsSnapshot m = state_->metrics->snapshot();
    m.pool = stats();
    return m;
}

}  // namespace weir::redis
