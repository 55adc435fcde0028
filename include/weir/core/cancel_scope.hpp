// CancelScope: a region of a task's execution that can be cancelled as a
// whole, optionally with a deadline, optionally shielded from outer
// cancellation.
//
// Scopes form one tree across the whole program: a task's nested scopes
// (with_timeout, shield, TaskGroup bodies) hang below each other, and the
// root scope of every child task hangs below the scope that spawned it. So
// cancelling a scope reaches every task started inside it, however deep.
// A task is cancelled when any scope on its path to the root is cancelled,
// unless a shield scope lies in between.
#pragma once

#include "weir/core/cancelled.hpp"
#include "weir/core/clock.hpp"
#include "weir/core/timer_queue.hpp"

namespace weir::detail {
class TaskNode;
}

namespace weir {

class CancelScope {
public:
    CancelScope() = default;
    CancelScope(const CancelScope&) = delete;
    CancelScope& operator=(const CancelScope&) = delete;
    ~CancelScope();

    // Cancels everything inside this scope; idempotent, first reason wins.
    void cancel(CancelReason reason = CancelReason::user) noexcept;

    bool cancel_called() const noexcept { return cancelled_; }
    CancelReason reason() const noexcept { return reason_; }
    bool shielded() const noexcept { return shield_; }
    TimePoint deadline() const noexcept { return deadline_; }

    // Arms (or moves) this scope's deadline: when it passes, the scope is
    // cancelled with reason timeout. Only while the scope is entered.
    void set_deadline(TimePoint tp);
    // Records a deadline that is enforced elsewhere (the caller of a
    // cross-shard call cancels this scope itself when it passes): visible
    // to current_deadline() below, but arms no timer here.
    void inherit_deadline(TimePoint tp) noexcept { deadline_ = tp; }

    // Runtime plumbing: make this the innermost scope of `node`.
    void enter(detail::TaskNode* node, bool shield = false) noexcept;
    // Leave: the parent becomes the innermost scope again.
    void exit() noexcept;
    // Make this the root scope of `node`, below `parent` (another task's scope).
    void attach_root(detail::TaskNode* node, CancelScope* parent) noexcept;
    void detach_root() noexcept;

    CancelScope* parent() const noexcept { return parent_; }

    // First cancelled scope on the way up from here, stopping at a shield.
    const CancelScope* effective_cancel() const noexcept {
        for (const CancelScope* s = this; s; s = s->parent_) {
            if (s->cancelled_) return s;
            if (s->shield_) return nullptr;
        }
        return nullptr;
    }
    // Earliest deadline on the way up from here, stopping at a shield.
    TimePoint effective_deadline() const noexcept {
        TimePoint d = kNoDeadline;
        for (const CancelScope* s = this; s; s = s->parent_) {
            if (s->deadline_ < d) d = s->deadline_;
            if (s->shield_) break;
        }
        return d;
    }

private:
    void link_under(CancelScope* parent) noexcept;
    void unlink() noexcept;
    void propagate() noexcept;
    static void on_deadline(detail::Timer* t) noexcept;

    CancelScope* parent_ = nullptr;
    CancelScope* first_child_ = nullptr;
    CancelScope* next_ = nullptr;
    CancelScope* prev_ = nullptr;
    detail::TaskNode* node_ = nullptr;
    TimePoint deadline_ = kNoDeadline;
    struct DeadlineTimer : detail::Timer {
        CancelScope* scope = nullptr;
    } timer_;
    bool cancelled_ = false;
    bool shield_ = false;
    CancelReason reason_ = CancelReason::user;
};

}  // namespace weir
