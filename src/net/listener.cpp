#include "weir/net/listener.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>

#include "weir/core/errors.hpp"

namespace weir::net {

Listener Listener::bind(const SocketAddress& addr, ListenOptions options) {
    int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw_errno("socket");
    auto fail = [&](const char* what) {
        int err = errno;
        ::close(fd);
        throw_errno(err, std::string(what) + " " + addr.to_string());
    };
    if (!addr.is_unix()) {
        int one = 1;
        if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) fail("SO_REUSEADDR");
        if (options.reuse_port &&
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
            fail("SO_REUSEPORT");
    }
    if (::bind(fd, addr.data(), addr.size()) < 0) fail("bind");
    if (::listen(fd, options.backlog) < 0) fail("listen");
    return Listener(fd);
}

Listener Listener::bind_tcp(std::string_view ip, std::uint16_t port, ListenOptions options) {
    auto addr = SocketAddress::from_ip(ip, port);
    if (!addr) throw std::invalid_argument("not a numeric IP address: " + std::string(ip));
    return bind(*addr, options);
}

Listener Listener::bind_unix(std::string_view path, int backlog) {
    std::string p(path);
    ::unlink(p.c_str());
    return bind(SocketAddress::unix_path(path), ListenOptions{false, backlog});
}

bool Listener::Accept::attempt() {
    for (;;) {
        int fd = ::accept4(io_->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            fd_ = fd;
            return true;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
        error_ = errno;
        return true;
    }
}

SocketAddress Listener::local_address() const {
    SocketAddress a;
    a.set_size(sizeof(sockaddr_storage));
    if (::getsockname(fd(), a.data(), a.size_ptr()) < 0) throw_errno("getsockname");
    return a;
}

}  // namespace weir::net
