// Poller: the readiness backend behind the event loop (epoll today; an
// io_uring backend can implement the same interface without touching users).
//
// A socket registers one IoHandle for its whole life, edge-triggered for
// both directions. When the fd becomes ready, the poller calls the pending
// IoOp's on_ready(), which retries the system call itself and, once it
// completes, schedules the suspended coroutine. Pollers never resume
// coroutines directly, so no user code runs while a batch is dispatched.
#pragma once

#include <chrono>
#include <memory>

namespace weir::detail {

// One pending operation on an fd (read, write, accept, connect).
struct IoOp {
    virtual void on_ready() noexcept = 0;

protected:
    ~IoOp() = default;
};

struct IoHandle {
    int fd = -1;
    IoOp* reader = nullptr;  // pending read-side op, if any
    IoOp* writer = nullptr;  // pending write-side op, if any
    bool internal = false;   // runtime-owned (eventfd, signalfd): not counted
    // False after a read drained the socket: the next data brings a new edge,
    // so a reader may wait for it without trying the system call first.
    bool read_hint = true;
    // Sticky: the peer hung up or an error is pending; reads must always try.
    bool hangup = false;

    void signal_readable(bool hup = false) noexcept {
        read_hint = true;
        hangup = hangup || hup;
        if (IoOp* op = reader) op->on_ready();
    }
    void signal_writable() noexcept {
        if (IoOp* op = writer) op->on_ready();
    }
};

class Poller {
public:
    virtual ~Poller() = default;
    virtual void add(IoHandle* h) = 0;
    virtual void remove(IoHandle* h) noexcept = 0;
    // Waits up to `timeout` (negative: forever, zero: just poll) and
    // dispatches the events that arrived.
    virtual void wait(std::chrono::nanoseconds timeout) = 0;
};

std::unique_ptr<Poller> make_epoll_poller();

}  // namespace weir::detail
