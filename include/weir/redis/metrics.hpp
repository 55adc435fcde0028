// Metrics: counters and a latency histogram for Redis clients of one shard.
//
//     auto m = pool.metrics();            // MetricsSnapshot, a plain struct
//     m.commands["GET"]; m.latency.quantile_upper_bound_us(0.99); m.reconnects;
//
// Connections record into the Metrics object of their ConnectionOptions
// (pools and subscribers share one with all their connections). Writes come
// from the owning shard only; snapshot() copies the values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>

#include "weir/core/histogram.hpp"

namespace weir::redis {

struct PoolMetrics {
    std::size_t idle = 0;
    std::size_t in_use = 0;
    std::size_t max_size = 0;
    bool has_waiters = false;
    std::uint64_t discarded = 0;  // broken or dirty connections closed
    std::uint64_t timeouts = 0;   // acquires that ended in PoolTimeout
};

struct MetricsSnapshot {
    std::map<std::string, std::uint64_t> commands;  // commands sent, by name
    std::uint64_t commands_total = 0;
    std::uint64_t server_errors = 0;      // error replies
    std::uint64_t connection_errors = 0;  // connects failed + connections broken
    std::uint64_t abandoned = 0;          // commands cancelled / timed out before their reply
    std::uint64_t writes = 0;             // write system calls (batching: commands_total / writes)
    std::uint64_t connects = 0;           // successful connects (first ones and reconnects)
    std::uint64_t reconnects = 0;         // connects that replaced a lost connection
    // Command round trip, microseconds: from the write that sent the command
    // (one clock read per write) to its reply (one per read).
    Histogram::Snapshot latency;
    PoolMetrics pool;  // filled by Pool::metrics()
};

class Metrics {
public:
    void command(const std::string& name) {
        ++commands_total_;
        // The few names in use right now (SET and GET, say) skip the hash
        // lookup; the counters of an unordered_map never move.
        for (Recent& r : recent_)
            if (r.counter && r.name == name) {
                ++*r.counter;
                return;
            }
        std::uint64_t& c = commands_[name];
        ++c;
        Recent& slot = recent_[next_recent_++ % kRecent];
        slot.name = name;
        slot.counter = &c;
    }
    void latency_us(std::uint64_t us) noexcept { latency_.record(us); }
    void server_error() noexcept { ++server_errors_; }
    void connection_error() noexcept { ++connection_errors_; }
    void abandoned() noexcept { ++abandoned_; }
    void wrote() noexcept { ++writes_; }
    void connected() noexcept { ++connects_; }
    void reconnected() noexcept { ++reconnects_; }

    MetricsSnapshot snapshot() const {
        MetricsSnapshot s;
        s.commands.insert(commands_.begin(), commands_.end());
        s.commands_total = commands_total_;
        s.server_errors = server_errors_;
        s.connection_errors = connection_errors_;
        s.abandoned = abandoned_;
        s.writes = writes_;
        s.connects = connects_;
        s.reconnects = reconnects_;
        s.latency = latency_.snapshot();
        return s;
    }

    Metrics() = default;
    // Not copyable (the cache points into the map).
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

private:
    static constexpr std::size_t kRecent = 4;
    struct Recent {
        std::string name;
        std::uint64_t* counter = nullptr;
    };
    std::unordered_map<std::string, std::uint64_t> commands_;
    Recent recent_[kRecent];
    std::size_t next_recent_ = 0;
    std::uint64_t commands_total_ = 0;
    std::uint64_t server_errors_ = 0;
    std::uint64_t connection_errors_ = 0;
    std::uint64_t abandoned_ = 0;
    std::uint64_t writes_ = 0;
    std::uint64_t connects_ = 0;
    std::uint64_t reconnects_ = 0;
    Histogram latency_;
};

}  // namespace weir::redis
