// TaskNode: one concurrently running task (what asyncio calls a Task).
//
// A chain of coroutines awaiting each other runs inside one node; new nodes
// are created only by structured constructs (TaskGroup, when_all, when_any,
// submit_to, Runtime::run). The node knows its loop, its innermost cancel
// scope and the awaitable it is currently suspended in (its Waiter), so a
// cancellation can wake it promptly and leave no registration behind.
#pragma once

#include <coroutine>

#include "weir/core/cancel_scope.hpp"
#include "weir/core/cancelled.hpp"

namespace weir::detail {

class EventLoop;

// A suspended, cancellable awaitable. on_cancel() must remove every
// registration the awaitable holds (timer, wait list, fd interest) and
// schedule the suspended coroutine, which then throws Cancelled.
struct Waiter {
    virtual void on_cancel() noexcept = 0;

protected:
    ~Waiter() = default;
};

class TaskNode {
public:
    TaskNode() = default;
    TaskNode(const TaskNode&) = delete;
    TaskNode& operator=(const TaskNode&) = delete;

    EventLoop* loop() const noexcept { return loop_; }
    CancelScope* scope() const noexcept { return scope_; }
    const char* name() const noexcept { return name_ ? name_ : "<unnamed>"; }
    void set_name(const char* n) noexcept { name_ = n; }

    // The scope whose cancellation currently applies to this task, if any.
    const CancelScope* pending_cancel() const noexcept { return scope_->effective_cancel(); }

    Cancelled make_cancelled() const noexcept {
        const CancelScope* s = pending_cancel();
        return Cancelled(s ? s->reason() : CancelReason::user);
    }

    // Called when a scope this task is inside gets cancelled.
    void wake_for_cancel() noexcept {
        if (Waiter* w = waiter_) {
            waiter_ = nullptr;
            w->on_cancel();
        }
    }

    Waiter* waiter_ = nullptr;  // set while suspended in a cancellable await
    EventLoop* loop_ = nullptr;
    CancelScope* scope_ = &root_scope_;
    CancelScope root_scope_;
    const char* name_ = nullptr;
};

// The node whose coroutine is running on this thread right now.
inline thread_local TaskNode* tls_current_node = nullptr;

inline TaskNode* current_node() noexcept { return tls_current_node; }

}  // namespace weir::detail
