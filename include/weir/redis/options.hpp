// ConnectionOptions: where and how to connect, usually from a URL.
//
//     auto o = ConnectionOptions::from_url("redis://alice:secret@127.0.0.1:6379/2");
//
// URL forms: redis://[[user]:password@]host[:port][/db][?client_name=x&protocol=2]
// and unix:///path/to/redis.sock[?db=N&password=...]. User and password are
// percent-decoded; IPv6 hosts go in brackets. rediss:// (TLS) is recognised
// but not supported yet: from_url throws UrlError saying so.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "weir/core/clock.hpp"

namespace weir::redis {

class Metrics;

struct ConnectionOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string unix_path{};    // non-empty: connect to this Unix socket instead
    std::string username{};     // ACL user (empty: "default")
    std::string password{};     // empty: no AUTH
    int db = 0;                 // SELECT db when not 0
    std::string client_name{};  // CLIENT SETNAME when not empty
    // 3: HELLO 3 (RESP3), falling back to RESP2 when the server has no HELLO.
    // 2: RESP2 only.
    int protocol = 3;
    std::optional<Duration> connect_timeout = std::chrono::seconds(5);
    // Bounds every command (TimeoutError); nullopt: only inherited deadlines apply.
    std::optional<Duration> command_timeout{};
    // Where commands, latencies and errors are counted (one shard only);
    // null: the connection makes its own.
    std::shared_ptr<Metrics> metrics{};

    // Throws UrlError.
    static ConnectionOptions from_url(std::string_view url);
};

}  // namespace weir::redis
