#include "weir/net/socket_handle.hpp"

#include <unistd.h>

#include <stdexcept>

#include "weir/core/errors.hpp"
#include "weir/core/event_loop.hpp"

namespace weir::net {

SocketHandle::SocketHandle(int fd) {
    loop_ = weir::detail::EventLoop::current();
    if (!loop_) {
        ::close(fd);
        throw std::logic_error("sockets can only be created on a runtime shard");
    }
    io_ = std::make_unique<weir::detail::IoHandle>();
    io_->fd = fd;
    try {
        loop_->add_io(io_.get());
    } catch (...) {
        ::close(fd);
        io_.reset();
        throw;
    }
}

SocketHandle& SocketHandle::operator=(SocketHandle&& o) noexcept {
    if (this != &o) {
        close();
        io_ = std::move(o.io_);
        loop_ = o.loop_;
    }
    return *this;
}

void SocketHandle::close() noexcept {
    if (!io_ || io_->fd < 0) return;
    loop_->remove_io(io_.get());
    ::close(io_->fd);
    io_->fd = -1;
    // Fail whatever still waits on this socket (it sees fd < 0 -> EBADF).
    if (auto* op = io_->reader) op->on_ready();
    if (auto* op = io_->writer) op->on_ready();
}

namespace detail {

void IoAwait::check(const char* what) const {
    throw_if_cancelled();
    if (error_) weir::throw_errno(error_, what);
}

}  // namespace detail
}  // namespace weir::net
