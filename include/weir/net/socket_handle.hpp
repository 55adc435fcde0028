// SocketHandle: an owned, non-blocking socket fd registered with the loop of
// the shard that created it (edge-triggered, both directions, once).
//
// It is the common base of Stream and Listener and holds the awaitables for
// their system calls: each tries the call first and only suspends on EAGAIN;
// the loop retries it on readiness. Every wait is cancellable. Closing a
// socket fails the operations pending on it (EBADF). A socket must be used
// on the shard that created it.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <span>

#include "weir/core/detail/cancellable_wait.hpp"
#include "weir/core/poller.hpp"

namespace weir::net {

class SocketHandle {
public:
    SocketHandle() noexcept = default;
    // Takes ownership of a non-blocking fd and registers it with this shard.
    explicit SocketHandle(int fd);
    SocketHandle(SocketHandle&&) noexcept = default;
    SocketHandle& operator=(SocketHandle&& o) noexcept;
    ~SocketHandle() { close(); }

    bool is_open() const noexcept { return io_ && io_->fd >= 0; }
    int fd() const noexcept { return io_ ? io_->fd : -1; }
    // Closes now; pending operations on it fail with EBADF.
    void close() noexcept;

    // Plumbing for awaitables built outside this class (e.g. connect).
    weir::detail::IoHandle* io_handle() noexcept { return io_.get(); }
    const weir::detail::IoHandle* io_handle() const noexcept { return io_.get(); }

protected:
    std::unique_ptr<weir::detail::IoHandle> io_;
    weir::detail::EventLoop* loop_ = nullptr;
};

namespace detail {

// One system call retried on readiness. Derived classes implement attempt():
// return true when finished (result_ / error_ set), false on EAGAIN.
class IoAwait : public weir::detail::CancellableWait, public weir::detail::IoOp {
public:
    IoAwait(weir::detail::IoHandle* io, bool write_side) noexcept
        : io_(io), write_side_(write_side) {}

    bool await_ready() {
        if (cancel_requested()) return true;
        if (!io_ || io_->fd < 0) {
            error_ = EBADF;
            return true;
        }
        return attempt();
    }
    void await_suspend(std::coroutine_handle<> h) noexcept {
        slot() = this;
        park(h);
    }

protected:
    virtual bool attempt() = 0;
    void check(const char* what) const;  // throws Cancelled / SystemError

    weir::detail::IoHandle* io_;
    int error_ = 0;

private:
    weir::detail::IoOp*& slot() noexcept { return write_side_ ? io_->writer : io_->reader; }
    void on_ready() noexcept final {
        bool finished;
        if (io_->fd < 0) {
            error_ = EBADF;
            finished = true;
        } else {
            finished = attempt();
        }
        if (finished) {
            slot() = nullptr;
            wake();
        }
    }
    void cancel_registration() noexcept final { slot() = nullptr; }
    bool write_side_;
};

}  // namespace detail
}  // namespace weir::net
