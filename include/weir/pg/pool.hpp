// Pool: a per-shard pool of pg::Connections (min/max size, acquire timeout,
// discarding of broken connections and reconnection when the server is back).
//
//     co_await weir::with_resource(co_await weir::pg::Pool::open({.url = url}),
//                                  [&](weir::pg::Pool& pool) -> weir::Task<> {
//         auto conn = co_await pool.acquire();   // PooledConnection (RAII)
//         auto r = co_await conn->query("SELECT 1");
//     });                                         // returned when `conn` dies
//
// acquire() waits at most acquire_timeout for a free slot (PoolTimeout).
// A connection goes back to the pool when its guard dies, on success,
// exception or cancellation alike; one that is broken or still has requests
// in flight is closed instead, and the slot reconnects on the next acquire
// (connection errors surface as pg::Error from acquire). Idle connections are
// checked without a round trip before being handed out (a backend that was
// terminated is detected and replaced). Use a Pool on the shard that opened it.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>

#include "weir/core/resource.hpp"
#include "weir/core/semaphore.hpp"
#include "weir/core/task.hpp"
#include "weir/pg/connection.hpp"

namespace weir::pg {

class PoolTimeout : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct PoolOptions {
    std::string url;
    std::size_t min_size = 1;
    std::size_t max_size = 10;
    std::chrono::milliseconds acquire_timeout{5000};
    ConnectionOptions connection;
};

struct PoolStats {
    std::size_t idle = 0;
    std::size_t in_use = 0;
    bool has_waiters = false;
    std::uint64_t connects = 0;   // connections opened
    std::uint64_t discarded = 0;  // broken (or dirty) connections closed
    std::uint64_t timeouts = 0;   // acquires that ended in PoolTimeout
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
    // Returns the connection now (or closes it if broken).
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

class Pool : public AsyncResource {
public:
    Pool(Pool&&) noexcept = default;
    ~Pool() = default;

    // Opens min_size connections (errors propagate).
    static Task<Pool> open(PoolOptions options);

    Task<PooledConnection> acquire();
    Task<void> close();
    PoolStats stats() const noexcept;

private:
    explicit Pool(std::shared_ptr<detail::PoolState> s) noexcept;
    std::shared_ptr<detail::PoolState> state_;
};

}  // namespace weir::pg
