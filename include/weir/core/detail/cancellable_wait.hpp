// CancellableWait: the base of every awaitable that suspends until some
// event (timer, permit, message, fd readiness) or a cancellation.
//
// Protocol: await_ready()/await_suspend() first ask cancel_requested(); if
// the task is already cancelled the awaitable does not suspend. Otherwise it
// registers itself (wait list, timer, ...) and park()s. Completion calls
// wake(); cancellation calls on_cancel(), which removes the registration via
// cancel_registration() and schedules the coroutine; await_resume() then
// throws Cancelled through throw_if_cancelled().
#pragma once

#include <coroutine>

#include "weir/core/event_loop.hpp"
#include "weir/core/task_node.hpp"

namespace weir::detail {

class CancellableWait : public Waiter {
public:
    CancellableWait() noexcept : node_(current_node()) {}
    // Movable only before it is awaited (e.g. into as_task's frame).
    CancellableWait(CancellableWait&& o) noexcept
        : node_(o.node_), h_(o.h_), cancelled_(o.cancelled_), reason_(o.reason_) {}
    CancellableWait(const CancellableWait&) = delete;
    CancellableWait& operator=(const CancellableWait&) = delete;

protected:
    ~CancellableWait() = default;

    // Also binds the wait to the task that awaits it, which is not always
    // the one that created it (as_task(ev.wait()) handed to g.spawn()).
    bool cancel_requested() noexcept {
        if (TaskNode* n = current_node()) node_ = n;
        if (!cancelled_ && node_ && node_->pending_cancel()) {
            cancelled_ = true;
            reason_ = node_->make_cancelled().reason();
        }
        return cancelled_;
    }
    void park(std::coroutine_handle<> h) noexcept {
        h_ = h;
        node_->waiter_ = this;
    }
    // Completion: resume the waiting coroutine soon.
    void wake() noexcept {
        if (node_->waiter_ == this) node_->waiter_ = nullptr;
        node_->loop()->schedule(h_, node_);
    }
    // Throws with the reason of the cancellation that interrupted this wait
    // (not of one that reached an inner scope later, e.g. the shutdown of a
    // Supervisor reacting to an outer cancel).
    void throw_if_cancelled() const {
        if (cancelled_) throw Cancelled(reason_);
    }
    EventLoop* loop() const noexcept { return node_->loop(); }

    virtual void cancel_registration() noexcept = 0;

    TaskNode* node_;
    std::coroutine_handle<> h_;
    bool cancelled_ = false;
    CancelReason reason_ = CancelReason::user;

private:
    void on_cancel() noexcept final {
        cancelled_ = true;
        reason_ = node_->make_cancelled().reason();
        cancel_registration();
        node_->loop()->schedule(h_, node_);
    }
};

}  // namespace weir::detail
