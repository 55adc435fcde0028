#include "weir/net/connect.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "weir/core/errors.hpp"
#include "weir/core/timeout.hpp"
#include "weir/core/to_thread.hpp"

namespace weir::net {

namespace {

// Waits for a non-blocking connect to finish (writable), then reads SO_ERROR.
class ConnectAwait final : public detail::IoAwait {
public:
    explicit ConnectAwait(weir::detail::IoHandle* io) noexcept : IoAwait(io, true) {}
    void await_resume() const { check("connect"); }

private:
    bool attempt() override {
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(io_->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
        if (err == EINPROGRESS || err == EALREADY) return false;
        // Still in progress shows as no error and no peer yet.
        if (err == 0) {
            sockaddr_storage peer;
            socklen_t plen = sizeof peer;
            if (::getpeername(io_->fd, reinterpret_cast<sockaddr*>(&peer), &plen) < 0) {
                if (errno == ENOTCONN) return false;
                err = errno;
            }
        }
        error_ = err;
        return true;
    }
};

}  // namespace

Task<std::vector<SocketAddress>> resolve(std::string host, std::uint16_t port) {
    if (auto numeric = SocketAddress::from_ip(host, port)) co_return std::vector{*numeric};
    std::string service = std::to_string(port);
    // Named, not a temporary inside co_await: see "Toolchain" in docs/ARCHITECTURE.md.
    auto lookup = [host, service]() {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
        if (rc != 0)
            throw std::runtime_error("cannot resolve '" + host + "': " + ::gai_strerror(rc));
        std::vector<SocketAddress> out;
        for (addrinfo* ai = res; ai; ai = ai->ai_next)
            out.emplace_back(ai->ai_addr, static_cast<socklen_t>(ai->ai_addrlen));
        ::freeaddrinfo(res);
        return out;
    };
    co_return co_await to_thread(std::move(lookup));
}

Task<Stream> connect(SocketAddress addr) {
    int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw_errno("socket");
    Stream stream(fd);
    if (::connect(fd, addr.data(), addr.size()) < 0) {
        if (errno != EINPROGRESS && errno != EAGAIN)
            throw_errno(errno, "connect " + addr.to_string());
        co_await ConnectAwait(stream.io_handle());
    }
    co_return stream;
}

Task<Stream> connect_tcp(std::string host, std::uint16_t port, std::optional<Duration> timeout) {
    if (timeout) co_return co_await with_timeout(*timeout, connect_tcp(host, port, std::nullopt));
    auto addrs = co_await resolve(host, port);
    std::exception_ptr last;
    for (const auto& a : addrs) {
        try {
            co_return co_await connect(a);
        } catch (const SystemError&) {
            last = std::current_exception();
        }
    }
    if (last) std::rethrow_exception(last);
    throw std::runtime_error("no address for " + host);
}

Task<Stream> connect_unix(std::string path) {
    co_return co_await connect(SocketAddress::unix_path(path));
}

}  // namespace weir::net
