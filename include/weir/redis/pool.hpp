// Pool: Redis connections for one shard: a shared, automatically pipelined
// connection for ordinary commands, plus exclusive connections on demand
// (WATCH/MULTI, blocking reads such as XREADGROUP BLOCK or BLPOP).
//
//     PoolOptions options;
//     options.url = url;
//     auto body = [&](Pool& redis) -> Task<> {
//         co_await redis.set("k", "v");                 // shared connection, pipelined
//         auto conn = co_await redis.acquire();         // PooledConnection (RAII)
//         const Keys watched{"k"};
//         co_await conn->watch(watched);
//         ...
//     };
//     co_await weir::with_resource(co_await Pool::open(options), body);
//
// Commands run through the Pool itself (it is a Commands sink) share one
// connection, so concurrent tasks are pipelined together. If that connection
// is lost, the command in flight fails with ConnectionError and the next one
// reconnects, retrying with exponential backoff for up to acquire_timeout.
//
// acquire() waits at most acquire_timeout for one of max_size slots
// (PoolTimeout), then hands out an idle connection (checked without a round
// trip) or opens one, with the same backoff. The guard returns the connection
// when it dies; a broken connection, or one with commands still in flight
// (a cancelled command's reply not yet read), is closed instead. min_size
// connections are opened by open(). Use a Pool on the shard that opened it.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "weir/core/resource.hpp"
#include "weir/core/semaphore.hpp"
#include "weir/core/task.hpp"
#include "weir/redis/connection.hpp"
#include "weir/redis/metrics.hpp"

namespace weir::redis {

struct PoolOptions {
    std::string url{};  // parsed into `connection` when not empty
    ConnectionOptions connection{};
    std::size_t min_size = 1;   // exclusive connections opened up front
    std::size_t max_size = 16;  // exclusive connections at most
    std::chrono::milliseconds acquire_timeout{5000};
    std::chrono::milliseconds backoff_initial{10};
    std::chrono::milliseconds backoff_max{500};
};

namespace detail {
struct PoolState;
}

class PooledConnection {
public:
    PooledConnection() noexcept = default;
    PooledConnection(PooledConnection&&) noexcept = default;
    PooledConnection& operator=(PooledConnection&& o) noexcept;
    ~PooledConnection() { release(); }

    Connection& operator*() noexcept { return conn_; }
    Connection* operator->() noexcept { return &conn_; }
    // Returns the connection now (or closes it if broken or busy).
    void release() noexcept;
    // Closes the connection instead of returning it.
    void discard() noexcept;

private:
    friend class Pool;
    PooledConnection(std::shared_ptr<detail::PoolState> s, SemaphorePermit p, Connection c) noexcept
        : state_(std::move(s)), permit_(std::move(p)), conn_(std::move(c)) {}
    std::shared_ptr<detail::PoolState> state_;
    SemaphorePermit permit_;
    Connection conn_;
};

class Pool final : public AsyncResource, public Commands {
public:
    Pool(Pool&&) noexcept = default;
    ~Pool() = default;

    // Opens the shared connection and min_size exclusive ones (errors propagate).
    static Task<Pool> open(PoolOptions options);

    // Runs a command on the shared connection (reconnecting first if it was lost).
    using Commands::cmd;
    Task<Reply> execute(Command c) override;
    Task<std::vector<Reply>> pipeline(Pipeline p);

    // An exclusive connection (PoolTimeout, ConnectionError).
    Task<PooledConnection> acquire();
    Task<void> close();

    PoolMetrics stats() const noexcept;
    // Commands, latency, errors and reconnects of every connection of the pool,
    // plus the pool's state.
    MetricsSnapshot metrics() const;

private:
    explicit Pool(std::shared_ptr<detail::PoolState> s) noexcept;
    std::shared_ptr<detail::PoolState> state_;
};

}  // namespace weir::redis
