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
    CancellableWait(const CancellableWait&) = delete;
    CancellableWait& operator=(const CancellableWait&) = delete;

protected:
    ~CancellableWait() = default;

    bool cancel_requested() noexcept {
        if (node_ && node_->pending_cancel()) cancelled_ = true;
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
    void throw_if_cancelled() const {
        if (cancelled_) throw node_->make_cancelled();
    }
    EventLoop* loop() const noexcept { return node_->loop(); }

    virtual void cancel_registration() noexcept = 0;

    TaskNode* node_;
    std::coroutine_handle<> h_;
    bool cancelled_ = false;

private:
    void on_cancel() noexcept final {
        cancelled_ = true;
        cancel_registration();
        node_->loop()->schedule(h_, node_);
    }
};

}  // namespace weir::detail
