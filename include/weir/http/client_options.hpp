// Configuration of the HTTP client (ClientOptions, per client) and of single
// requests (RequestOptions, overriding the client's where set). Every field
// has a usable default: limits above httpx's, timeouts like httpx's (5 s)
// except read (30 s), no total timeout (the inherited deadline still applies).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "weir/core/clock.hpp"
#include "weir/net/tls.hpp"

namespace weir::http {

using namespace std::chrono_literals;

using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

// Retries of idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE, TRACE) after
// connection errors, timeouts other than the pool's, and the listed statuses.
// Backoff: initial * multiplier^n, capped, with full jitter; never past the deadline.
struct RetryPolicy {
    int max_retries = 0;  // 0: off (the single stale-connection retry is separate)
    std::chrono::milliseconds initial_backoff{100};
    std::chrono::milliseconds max_backoff{5'000};
    double multiplier = 2.0;
    bool jitter = true;
    std::vector<int> retry_statuses{502, 503, 504};
};

// Per-origin circuit breaker: after `failure_threshold` consecutive failures
// (connection errors, timeouts, 5xx) requests fail fast with CircuitOpen for
// `cool_down`; then one probe request is let through, and its success closes it.
struct CircuitBreakerOptions {
    bool enabled = false;
    int failure_threshold = 5;
    std::chrono::milliseconds cool_down{5'000};
};

struct ClientOptions {
    // Pool limits (per origin = scheme, host, port).
    std::size_t max_connections_per_origin = 256;
    std::size_t max_connections = 1024;              // all origins together
    std::size_t max_idle_per_origin = 128;           // kept alive between requests
    std::chrono::milliseconds idle_timeout{30'000};  // idle connections older are closed
    std::uint64_t max_requests_per_connection = 0;   // 0: unlimited

    // Timeouts (nullopt: none). The inherited deadline (weir::current_deadline)
    // always applies on top, and a total `timeout` bounds the whole request.
    std::optional<Duration> connect_timeout = std::chrono::seconds(5);
    std::optional<Duration> read_timeout = std::chrono::seconds(30);  // between bytes
    std::optional<Duration> write_timeout = std::chrono::seconds(30);
    std::optional<Duration> pool_timeout = std::chrono::seconds(5);  // -> PoolTimeout
    std::optional<Duration> timeout;                                 // -> RequestTimeout

    // Response limits.
    std::size_t max_head_bytes = 64 * 1024;
    std::uint64_t max_response_bytes = 64ull << 20;  // decoded body -> ResponseTooLarge

    // Content-Encoding: ask for gzip/deflate and decode transparently.
    bool decompress = true;
    // Redirects are opt-in: follow at most max_redirects 3xx answers.
    bool follow_redirects = false;
    int max_redirects = 10;

    RetryPolicy retry;
    CircuitBreakerOptions circuit_breaker;

    // DNS answers are cached this long (0: no cache).
    std::chrono::milliseconds dns_ttl{30'000};

    // https:// origins.
    net::TlsClientOptions tls;

    // Sent with every request unless the request sets the same header.
    HeaderPairs default_headers;
    std::string user_agent = "weir-http-client/0.1";
};

struct RequestOptions {
    HeaderPairs headers;
    HeaderPairs query;  // appended to the URL's query, percent-encoded

    std::optional<Duration> timeout;  // total, for this request
    std::optional<Duration> connect_timeout;
    std::optional<Duration> read_timeout;
    std::optional<Duration> write_timeout;
    std::optional<Duration> pool_timeout;

    std::optional<bool> follow_redirects;
    std::optional<RetryPolicy> retry;
};

}  // namespace weir::http
