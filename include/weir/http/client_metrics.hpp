// Counters and gauges of an http::Client (Client::metrics()): per origin and
// in total, plus a latency histogram of whole requests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "weir/core/histogram.hpp"

namespace weir::http {

struct OriginMetrics {
    std::string origin;  // scheme://host:port
    std::uint64_t requests = 0;
    std::map<int, std::uint64_t> statuses;  // completed responses by status
    std::uint64_t errors = 0;               // requests that failed without a response
    std::uint64_t connects = 0;
    std::uint64_t reuses = 0;
    std::size_t in_use = 0;  // connections lent out (including ones being connected)
    std::size_t idle = 0;
    std::size_t waiters = 0;  // requests queued for a connection
    bool circuit_open = false;
};

struct ClientMetrics {
    std::vector<OriginMetrics> origins;
    std::uint64_t requests = 0;
    std::uint64_t connects = 0;
    std::uint64_t reuses = 0;
    std::uint64_t stale_retries = 0;  // requests repeated after a stale keep-alive connection
    std::uint64_t retries = 0;        // RetryPolicy retries
    std::uint64_t redirects = 0;
    std::uint64_t pool_timeouts = 0;
    std::uint64_t connect_timeouts = 0;
    std::uint64_t read_timeouts = 0;
    std::uint64_t write_timeouts = 0;
    std::uint64_t request_timeouts = 0;
    std::uint64_t circuit_rejections = 0;
    std::size_t in_use = 0;
    std::size_t idle = 0;
    std::size_t waiters = 0;
    Histogram::Snapshot latency;  // microseconds, whole request incl. body

    std::uint64_t timeouts() const noexcept {
        return pool_timeouts + connect_timeouts + read_timeouts + write_timeouts + request_timeouts;
    }
};

}  // namespace weir::http
