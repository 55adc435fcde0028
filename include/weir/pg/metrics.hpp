// QueryMetrics: counters and a latency histogram of the queries run on the
// connections that share it (a Pool shares one among all its connections).
// Written by the owning shard only; any thread may read the counters.
//
//     auto m = std::make_shared<weir::pg::QueryMetrics>();
//     auto conn = co_await Connection::connect(url, {.metrics = m});
//     ... m->latency_us.snapshot().quantile_upper_bound_us(0.99) ...
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>

#include "weir/core/histogram.hpp"

namespace weir::pg {

struct QueryMetrics {
    std::atomic<std::uint64_t> queries{0};        // statements completed (ok or error)
    std::atomic<std::uint64_t> errors{0};         // server or connection errors
    std::atomic<std::uint64_t> cancellations{0};  // cancelled while waiting (timeouts included)
    Histogram latency_us;                         // send to result, microseconds
    // Errors by SQLSTATE (owning shard only: read it there).
    std::map<std::string, std::uint64_t> errors_by_sqlstate;
};

}  // namespace weir::pg
