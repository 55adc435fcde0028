// SocketAddress: an IPv4, IPv6 or Unix-domain socket address, parsed from
// and printed as text ("127.0.0.1:8080", "[::1]:8080", "unix:/run/x.sock").
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weir::net {

class SocketAddress {
public:
    SocketAddress() noexcept = default;
    SocketAddress(const sockaddr* sa, socklen_t len) noexcept;

    // Numeric IPv4/IPv6 literal and port; nullopt if `ip` is not numeric.
    static std::optional<SocketAddress> from_ip(std::string_view ip, std::uint16_t port);
    // "host:port", "[v6]:port" or "unix:/path"; numeric hosts only (see resolve()).
    static std::optional<SocketAddress> parse(std::string_view text);
    static SocketAddress unix_path(std::string_view path);

    int family() const noexcept { return storage_.ss_family; }
    bool is_unix() const noexcept { return family() == AF_UNIX; }
    std::uint16_t port() const noexcept;  // 0 for Unix sockets
    std::string to_string() const;

    const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
    socklen_t size() const noexcept { return len_; }
    socklen_t* size_ptr() noexcept { return &len_; }
    void set_size(socklen_t n) noexcept { len_ = n; }

private:
    sockaddr_storage storage_{};
    socklen_t len_ = 0;
};

}  // namespace weir::net
