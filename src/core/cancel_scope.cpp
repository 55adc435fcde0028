#include "weir/core/cancel_scope.hpp"

#include <cassert>

#include "weir/core/event_loop.hpp"
#include "weir/core/task_node.hpp"

namespace weir {

CancelScope::~CancelScope() {
    if (timer_.armed() && node_) node_->loop()->remove_timer(&timer_);
    assert(!first_child_ && "a cancel scope outlived by a nested scope or child task");
    if (parent_) unlink();
}

void CancelScope::link_under(CancelScope* parent) noexcept {
    parent_ = parent;
    if (!parent) return;
    next_ = parent->first_child_;
    prev_ = nullptr;
    if (next_) next_->prev_ = this;
    parent->first_child_ = this;
}

void CancelScope::unlink() noexcept {
    if (prev_)
        prev_->next_ = next_;
    else if (parent_)
        parent_->first_child_ = next_;
    if (next_) next_->prev_ = prev_;
    prev_ = next_ = nullptr;
    parent_ = nullptr;
}

void CancelScope::enter(detail::TaskNode* node, bool shield) noexcept {
    node_ = node;
    shield_ = shield;
    link_under(node->scope_);
    node->scope_ = this;
}

void CancelScope::exit() noexcept {
    if (timer_.armed()) node_->loop()->remove_timer(&timer_);
    node_->scope_ = parent_;
    unlink();
}

void CancelScope::attach_root(detail::TaskNode* node, CancelScope* parent) noexcept {
    node_ = node;
    link_under(parent);
}

void CancelScope::detach_root() noexcept {
    if (timer_.armed()) node_->loop()->remove_timer(&timer_);
    unlink();
}

void CancelScope::set_deadline(TimePoint tp) {
    deadline_ = tp;
    auto* loop = node_->loop();
    if (timer_.armed()) loop->remove_timer(&timer_);
    if (tp == kNoDeadline || cancelled_) return;
    if (tp <= Clock::now()) {
        cancel(CancelReason::timeout);  // already expired: no timer round trip
        return;
    }
    timer_.when = tp;
    timer_.fire = &CancelScope::on_deadline;
    timer_.scope = this;
    loop->add_timer(&timer_);
}

void CancelScope::on_deadline(detail::Timer* t) noexcept {
    static_cast<DeadlineTimer*>(t)->scope->cancel(CancelReason::timeout);
}

void CancelScope::cancel(CancelReason reason) noexcept {
    if (cancelled_) return;
    cancelled_ = true;
    reason_ = reason;
    if (timer_.armed() && node_) node_->loop()->remove_timer(&timer_);
    propagate();
}

void CancelScope::propagate() noexcept {
    // Wake the task whose innermost scope this is, then every scope below
    // that is not shielded (a shield stops outer cancellation).
    if (node_ && node_->scope_ == this) node_->wake_for_cancel();
    for (CancelScope* c = first_child_; c;) {
        CancelScope* next = c->next_;
        if (!c->shield_) c->propagate();
        c = next;
    }
}

}  // namespace weir
