// Outgoing connections: resolve() and connect_tcp() / connect_unix().
//
// Name resolution runs getaddrinfo on the worker pool (to_thread), so it
// never blocks a shard; numeric addresses skip it. connect_tcp tries each
// resolved address in turn and obeys the inherited deadline; pass a timeout
// to bound the connect itself (TimeoutError).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "weir/core/clock.hpp"
#include "weir/core/task.hpp"
#include "weir/net/socket_address.hpp"
#include "weir/net/stream.hpp"

namespace weir::net {

// Host name or numeric address -> addresses (IPv4 and IPv6).
Task<std::vector<SocketAddress>> resolve(std::string host, std::uint16_t port);

// Connects to one address.
Task<Stream> connect(SocketAddress addr);

Task<Stream> connect_tcp(std::string host, std::uint16_t port,
                         std::optional<Duration> timeout = std::nullopt);

Task<Stream> connect_unix(std::string path);

}  // namespace weir::net
