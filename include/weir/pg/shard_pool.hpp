// ShardPool: a pool of pg::Connections owned by ONE shard (min/max size,
// acquire timeout, discarding of broken connections and reconnection when the
// server is back). Most code wants pg::Pool (weir/pg/pool.hpp), which gives
// every shard of the runtime its own ShardPool; use a ShardPool directly only
// for a pool that one shard alone uses.
//
//     co_await weir::with_resource(co_await weir::pg::ShardPool::open({.url = url}),
//                                  [&](weir::pg::ShardPool& pool) -> weir::Task<> {
//         auto conn = co_await pool.acquire();   // PooledConnection (RAII)
//         auto r = co_await conn->query("SELECT 1");
//     });                                         // returned when `conn` dies
//
// acquire() waits at most acquire_timeout for a free slot (PoolTimeout).
// A connection goes back to the pool when its guard dies, on success,
// exception or cancellation alike; one that is broken, still has requests in
// flight, is inside a transaction (or its state is unknown) or has outlived
// max_lifetime is closed instead, and the slot reconnects on the next
// acquire. Idle connections are checked without a round trip before being
// handed out (a backend that was terminated is detected and replaced), and
// with a `SELECT 1` round trip when they sat idle longer than
// health_check_after. While the server is down, acquire() reconnects with
// exponential backoff until the acquire deadline, then throws PoolUnavailable
// (a pg::Error of class 08 carrying the last connection error).
//
// Statements that need no connection of their own (no transaction, COPY,
// LISTEN or session state) can skip the acquire: query()/execute() on the
// pool run them on connections that concurrent callers share, pipelined
// (sent without waiting for each other's results), so 64 tasks keep a few
// connections busy instead of one each: fewer round trips, system calls,
// wake-ups and backends per statement.
//
//     auto r = co_await pool.query("SELECT name FROM items WHERE id = $1", 42);
//
// A shared connection is taken from the pool like any other (the same
// limits, checks and reconnection) and goes back to it as soon as no
// statement runs on it; another one is taken only when every shared one has
// pipeline_depth statements in flight and a slot is free. Pipelined
// statements answer in order: a slow one delays those behind it on its
// connection (and a cancelled one that has not started yet still runs, with
// its deadline as statement_timeout), so run long statements on a connection
// of their own (acquire()).
//
// A ShardPool, its connections and its metrics belong to the shard that
// opened it (no locks, no cross-thread hand-off): use it only there.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "weir/core/histogram.hpp"
#include "weir/core/resource.hpp"
#include "weir/core/semaphore.hpp"
#include "weir/core/task.hpp"
#include "weir/pg/connection.hpp"
#include "weir/pg/query_api.hpp"

namespace weir::pg {

class PoolTimeout : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The server stayed unreachable until the acquire deadline.
class PoolUnavailable : public Error {
public:
    using Error::Error;
};

struct PoolOptions {
    std::string url;
    std::size_t min_size = 1;
    std::size_t max_size = 10;
    std::chrono::milliseconds acquire_timeout{5000};
    // An idle connection older than this (idle time) gets a SELECT 1 round
    // trip before it is handed out; 0: always.
    std::chrono::milliseconds health_check_after{30'000};
    // Connections older than this are closed when returned or found idle; 0: no limit.
    std::chrono::milliseconds max_lifetime{3'600'000};
    // Reconnection while the server is down: first pause, doubled up to the max.
    std::chrono::milliseconds reconnect_backoff{50};
    std::chrono::milliseconds reconnect_backoff_max{1000};
    // query()/execute() on the pool: statements in flight on one shared
    // connection before another one is taken (if a slot is free).
    std::size_t pipeline_depth = 16;
    // Query metrics of all the pool's connections are recorded in
    // connection.metrics (the pool creates one if it is null).
    ConnectionOptions connection;
};

struct PoolStats {
    std::size_t size = 0;  // open connections: idle + in_use
    std::size_t idle = 0;
    std::size_t in_use = 0;
    std::size_t shared = 0;   // of in_use: connections shared by query()/execute() on the pool
    std::size_t waiters = 0;  // tasks waiting in acquire() for a slot
    bool has_waiters = false;
    std::uint64_t acquires = 0;          // successful acquires
    std::uint64_t connects = 0;          // connections opened
    std::uint64_t connect_failures = 0;  // failed attempts (each backoff step)
    std::uint64_t discarded = 0;         // broken, dirty or expired connections closed
    std::uint64_t expired = 0;           // of which: older than max_lifetime
    std::uint64_t health_checks = 0;     // SELECT 1 round trips on idle connections
    std::uint64_t health_check_failures = 0;
    std::uint64_t timeouts = 0;           // acquires that ended in PoolTimeout
    std::uint64_t unavailable = 0;        // acquires that ended in PoolUnavailable
    Histogram::Snapshot acquire_wait_us;  // time spent in acquire()
};

namespace detail {
struct PoolState;
}  // namespace detail

class PooledConnection {
public:
    PooledConnection() noexcept = default;
    PooledConnection(PooledConnection&&) noexcept = default;
    PooledConnection& operator=(PooledConnection&& o) noexcept;
    ~PooledConnection() { release(); }

    Connection& operator*() noexcept { return conn_; }
    Connection* operator->() noexcept { return &conn_; }
    // Returns the connection now (or closes it if broken).
    void release() noexcept;
    // Closes the connection instead of returning it.
    void discard() noexcept;

private:
    friend class ShardPool;
    PooledConnection(std::shared_ptr<detail::PoolState> s, SemaphorePermit p, Connection c,
                     std::chrono::steady_clock::time_point created) noexcept
        : state_(std::move(s)), permit_(std::move(p)), conn_(std::move(c)), created_(created) {}
    std::shared_ptr<detail::PoolState> state_;
    SemaphorePermit permit_;
    Connection conn_;
    std::chrono::steady_clock::time_point created_{};
};

class ShardPool : public AsyncResource, public detail::QueryApi<ShardPool> {
public:
    ShardPool(ShardPool&&) noexcept = default;
    ~ShardPool() = default;

    // Opens min_size connections on the calling shard (errors propagate).
    static Task<ShardPool> open(PoolOptions options);

    Task<PooledConnection> acquire();

    // One statement on a shared connection (see the top of this file), also
    // as query(sql, args...), query(read_only, sql, args...) and execute(sql,
    // args...) (QueryApi): outside any transaction block; cancellation,
    // deadlines (statement_timeout), metrics and re-prepare as in
    // Connection::query. The read_only form joins the connection's Sync groups
    // (see Connection::query_params(read_only, ...)).
    Task<Result> query_params(std::string sql, Params params);
    Task<Result> query_params(ReadOnly, std::string sql, Params params);
    Task<std::int64_t> execute_params(std::string sql, Params params);

    Task<void> close();
    PoolStats stats() const noexcept;
    // Query counts, errors and latencies of the pool's connections.
    const QueryMetrics& query_metrics() const noexcept;

private:
    explicit ShardPool(std::shared_ptr<detail::PoolState> s) noexcept;
    Task<Result> run_shared(std::string sql, Params params, bool read_only);
    std::shared_ptr<detail::PoolState> state_;
};

}  // namespace weir::pg
