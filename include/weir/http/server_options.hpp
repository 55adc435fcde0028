// ServerOptions: everything serve() and run_server() can be configured with,
// from code or from the command line and environment (from_args).
//
//     auto options = weir::http::ServerOptions::from_args(argc, argv);
//     return weir::http::run_server(handler, options);
//
// Flags take precedence over environment variables, which take precedence
// over the defaults below; `--help` lists them all.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "weir/core/cpu_pool.hpp"
#include "weir/http/metrics.hpp"
#include "weir/http/request_parser.hpp"

namespace weir::http {

class ServerHandle;

struct ServerOptions {
    // Where to listen. Port 0 picks a free port (see on_listening).
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    // Shards for run_server() (0: one per core). serve() uses the shards of
    // the runtime it runs on.
    unsigned threads = 0;
    // run_server(): the runtime's to_cpu pool (RuntimeOptions::cpu_threads and
    // cpu_priority); serve() uses the runtime it runs on.
    unsigned cpu_threads = 0;
    CpuPriority cpu_priority = CpuPriority::background;
    int backlog = 4096;

    // Request limits: head bytes and header count -> 431, URI length -> 414.
    ParserLimits limits;
    std::uint64_t max_body_bytes = 1024 * 1024;  // -> 413
    // Open connections per shard; at the limit the shard stops accepting.
    std::size_t max_connections = 16384;
    // Pipelined requests answered per batch (one write) before the next batch.
    std::size_t max_pipeline = 64;

    // The whole request head must arrive within this time of its first byte
    // (-> 408 and close); also bounds each read of a request body.
    std::chrono::milliseconds header_timeout{10'000};
    // A keep-alive connection idle this long is closed silently; so is one
    // whose response write made no progress this long (client not reading).
    std::chrono::milliseconds idle_timeout{75'000};
    // Graceful shutdown: in-flight requests get this long to finish.
    std::chrono::milliseconds drain_timeout{30'000};
    // Optional deadline of every handler (-> 504); the handler and what it
    // calls see it as current_deadline().
    std::optional<std::chrono::milliseconds> request_timeout;

    // Error responses carry the exception text of a failed handler.
    bool debug = false;

    // Endpoints answered by the server itself (GET/HEAD); empty disables one.
    std::string health_path = "/healthz";
    std::string ready_path = "/readyz";
    std::string metrics_path = "/metrics";
    // Extra /metrics content (pools, caches), gathered on every shard.
    std::vector<MetricsCollector> metrics_collectors;

    // Called on serve()'s shard once every shard listens and ran its startup
    // hook. The handle stays valid until serve() returns.
    std::function<void(ServerHandle&)> on_listening;

    // Parses flags (argv[1..]) and environment variables. Prints the help and
    // exits 0 for --help; prints the error and the usage and exits 2 for a bad
    // flag or value.
    static ServerOptions from_args(int argc, const char* const* argv);

    // The same without exiting: throws std::invalid_argument for a bad flag or
    // value, sets *help (if given) for --help. `getenv` defaults to ::getenv.
    static ServerOptions parse(const std::vector<std::string_view>& args, bool* help = nullptr,
                               const std::function<const char*(const char*)>& getenv = {});

    // The --help text.
    static std::string usage(std::string_view program);
};

}  // namespace weir::http
