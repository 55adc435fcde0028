// Listener: a listening TCP or Unix-domain socket on one shard.
//
// For thread-per-core servers every shard binds its own listener to the
// same port with SO_REUSEPORT (the default), and the kernel spreads new
// connections across them. accept() is cancellable; accept errors such as
// EMFILE surface as SystemError so the server can back off instead of dying.
#pragma once

#include <string_view>

#include "weir/net/socket_address.hpp"
#include "weir/net/socket_handle.hpp"
#include "weir/net/stream.hpp"

namespace weir::net {

struct ListenOptions {
    bool reuse_port = true;
    int backlog = 4096;
};

class Listener : public SocketHandle {
public:
    Listener() noexcept = default;

    static Listener bind(const SocketAddress& addr, ListenOptions options = {});
    static Listener bind_tcp(std::string_view ip, std::uint16_t port, ListenOptions options = {});
    // Removes a stale socket file first.
    static Listener bind_unix(std::string_view path, int backlog = 4096);

    class Accept final : public detail::IoAwait {
    public:
        explicit Accept(weir::detail::IoHandle* io) noexcept : IoAwait(io, false) {}
        Stream await_resume() {
            check("accept");
            return Stream(fd_);
        }

    private:
        bool attempt() override;
        int fd_ = -1;
    };

    [[nodiscard]] Accept accept() noexcept { return Accept(io_.get()); }
    SocketAddress local_address() const;

private:
    explicit Listener(int fd) : SocketHandle(fd) {}
};

}  // namespace weir::net
