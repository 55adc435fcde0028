// ConnectionOptions: where and how to connect, usually from a URL.
//
//     auto o = ConnectionOptions::from_url("redis://alice:secret@127.0.0.1:6379/2");
//
// URL forms: redis://[[user]:password@]host[:port][/db][?client_name=x&protocol=2],
// rediss://... (the same over TLS) and unix:///path/to/redis.sock[?db=N&password=...].
// User and password are percent-decoded; IPv6 hosts go in brackets.
//
// TLS (rediss://, or tls.enabled): the server certificate is checked against
// the system CA store (or tls.ca_file) and the host name (or tls.server_name),
// unless tls.verify is off. Query parameters set the TLS options too:
//
//     rediss://127.0.0.1:6380/0?ca_file=/etc/redis/ca.crt&cert_file=c.crt&key_file=c.key
//     rediss://cache.internal:6380?verify=0            (no verification: tests only)
//
// (ca_file, ca_path, cert_file, key_file, server_name, verify=0|1; redis-py's
// ssl_ca_certs, ssl_certfile, ssl_keyfile and ssl_cert_reqs=none|required too).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "weir/core/clock.hpp"
#include "weir/net/tls.hpp"

namespace weir::redis {

class Metrics;

struct TlsOptions {
    bool enabled = false;       // rediss://
    bool verify = true;         // check the certificate chain and the server name
    std::string ca_file{};      // PEM bundle of trusted CAs; empty: the system store
    std::string ca_path{};      // directory of hashed CA certificates
    std::string cert_file{};    // client certificate (PEM), for tls-auth-clients
    std::string key_file{};     // its private key (empty: in cert_file)
    std::string server_name{};  // SNI and the name verified; empty: the host
    // Built from the fields above by the first connect and then shared (a Pool
    // or Subscriber builds it once for all its connections); set it to share
    // one context more widely.
    net::TlsContext context{};
};

struct ConnectionOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string unix_path{};    // non-empty: connect to this Unix socket instead
    std::string username{};     // ACL user (empty: "default")
    std::string password{};     // empty: no AUTH
    int db = 0;                 // SELECT db when not 0
    std::string client_name{};  // CLIENT SETNAME when not empty
    TlsOptions tls{};
    // 3: HELLO 3 (RESP3), falling back to RESP2 when the server has no HELLO.
    // 2: RESP2 only.
    int protocol = 3;
    std::optional<Duration> connect_timeout = std::chrono::seconds(5);
    // Bounds every command (TimeoutError); nullopt: only inherited deadlines apply.
    std::optional<Duration> command_timeout{};
    // Where commands, latencies and errors are counted (one shard only);
    // null: the connection makes its own.
    std::shared_ptr<Metrics> metrics{};

    // Reads replies' big bulk strings (>= 16 KiB still missing) straight from
    // the socket into the reply, without a copy through the read buffer. Off
    // only to compare (benchmarks).
    bool direct_reads = true;

    // Throws UrlError.
    static ConnectionOptions from_url(std::string_view url);

    // Builds tls.context from the TLS fields when TLS is on and there is none yet. connect()
    // does it on its own copy; call it first to share one context among the connections made
    // from these options (a Pool, a Subscriber and a jobs::Worker do). Throws TlsError when
    // a CA, certificate or key file cannot be loaded.
    void prepare_tls();
};

}  // namespace weir::redis
