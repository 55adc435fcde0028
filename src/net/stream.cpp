#include "weir/net/stream.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include "weir/core/errors.hpp"
#include "weir/net/detail/send_iov.hpp"

namespace weir::net {

bool Stream::Read::attempt() {
    // Drained before and nothing pending but data: wait for the next edge.
    if (!io_->read_hint && !io_->hangup) return false;
    for (;;) {
        ssize_t n = ::recv(io_->fd, buf_.data(), buf_.size(), 0);
        if (n >= 0) {
            n_ = static_cast<std::size_t>(n);
            // A short read emptied the socket buffer (EOF stays readable).
            if (n > 0 && n_ < buf_.size()) io_->read_hint = false;
            return true;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            io_->read_hint = false;
            return false;
        }
        error_ = errno;
        return true;
    }
}

Stream::Write::Write(weir::detail::IoHandle* io, const iovec* iov, std::size_t count) noexcept
    : IoAwait(io, true), count_(std::min(count, kMaxIov)) {
    std::copy(iov, iov + count_, iov_);
}

bool Stream::Write::attempt() {
    while (first_ < count_) {
        if (iov_[first_].iov_len == 0) {
            ++first_;
            continue;
        }
        const ssize_t n = net::detail::send_iov(io_->fd, iov_ + first_, count_ - first_);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
            error_ = errno;
            return true;
        }
        // Advance over what was written.
        auto left = static_cast<std::size_t>(n);
        while (left > 0 && first_ < count_) {
            if (left >= iov_[first_].iov_len) {
                left -= iov_[first_].iov_len;
                ++first_;
            } else {
                iov_[first_].iov_base = static_cast<char*>(iov_[first_].iov_base) + left;
                iov_[first_].iov_len -= left;
                left = 0;
            }
        }
    }
    return true;
}

Stream::Write Stream::writev_all(std::span<const iovec> bufs) {
    if (bufs.size() > 64) throw std::invalid_argument("writev_all: at most 64 buffers");
    return Write(io_.get(), bufs.data(), bufs.size());
}

void Stream::shutdown_write() {
    if (::shutdown(fd(), SHUT_WR) < 0) throw_errno("shutdown");
}

void Stream::set_nodelay(bool on) {
    int v = on ? 1 : 0;
    if (::setsockopt(fd(), IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) < 0)
        throw_errno("setsockopt(TCP_NODELAY)");
}

SocketAddress Stream::peer_address() const {
    SocketAddress a;
    a.set_size(sizeof(sockaddr_storage));
    if (::getpeername(fd(), a.data(), a.size_ptr()) < 0) throw_errno("getpeername");
    return a;
}

SocketAddress Stream::local_address() const {
    SocketAddress a;
    a.set_size(sizeof(sockaddr_storage));
    if (::getsockname(fd(), a.data(), a.size_ptr()) < 0) throw_errno("getsockname");
    return a;
}

}  // namespace weir::net
