// Cross-shard calls: submit_to(shard, fn) and on_all_shards(fn).
//
// fn is invoked on the target shard and must return a Task; that task runs
// there as its own top-level task, and the caller awaits its result (or
// error) on its own shard. Cancelling the caller cancels the remote task
// and waits for it to finish, so no work outlives its caller even across
// shards; the caller's deadline is the remote task's current_deadline().
// Values move between threads: give them types that may.
#pragma once

#include <atomic>
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "weir/core/clock.hpp"
#include "weir/core/detail/child_task.hpp"
#include "weir/core/runtime.hpp"
#include "weir/core/task.hpp"
#include "weir/core/when_all.hpp"

namespace weir {

namespace detail {

template <class F>
using SubmitResult = typename std::invoke_result_t<F&>::value_type;

// Shared by the calling shard and the target shard; refcounted because
// either side may be the last to touch it.
template <class F>
class RemoteCall final : public ChildOwner, public Waiter {
public:
    using R = SubmitResult<F>;

    RemoteCall(F fn, EventLoop* origin, EventLoop* target)
        : fn_(std::move(fn)), origin_(origin), target_(target) {
        start_.run = &RemoteCall::on_start;
        done_.run = &RemoteCall::on_done;
        cancel_.run = &RemoteCall::on_cancel_item;
        start_.self = done_.self = cancel_.self = this;
    }

    void ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void unref() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    // Origin side.
    bool await_ready() noexcept {
        // Already cancelled: do not start the remote work at all.
        if (TaskNode* n = current_node(); n && n->pending_cancel()) {
            cancelled_ = n->make_cancelled().reason();
            finished_ = true;
            return true;
        }
        return false;
    }
    void await_suspend(std::coroutine_handle<> h) noexcept {
        waiter_h_ = h;
        waiter_node_ = current_node();
        waiter_node_->waiter_ = this;
        deadline_ = waiter_node_->scope()->effective_deadline();
        ref();  // held by the target until its done item has run
        target_->post(&start_);
    }
    R await_resume() {
        if (error_) std::rethrow_exception(error_);
        if (cancelled_) throw Cancelled(*cancelled_);
        if constexpr (!std::is_void_v<R>) return std::move(*value_);
    }

private:
    // Waiter (origin): forward the cancellation, keep waiting for the end.
    void on_cancel() noexcept override {
        if (cancel_sent_ || finished_) return;
        cancel_sent_ = true;
        cancel_reason_ = waiter_node_->make_cancelled().reason();
        ref();
        target_->post(&cancel_);
    }

    static void on_start(RemoteItem* item) noexcept {
        auto* self = static_cast<BackItem*>(item)->self;
        try {
            self->child_ = start_child(self->fn_(), self->target_, nullptr, self, nullptr);
            // The caller's deadline applies remotely too; the caller enforces
            // it (its cancellation is forwarded), so no second timer races it.
            self->child_.promise().node_.root_scope_.inherit_deadline(self->deadline_);
            return;
        } catch (...) {
            self->error_ = std::current_exception();
        }
        // Post only after the handler ended: leaving it releases this
        // thread's hold on the exception, which the origin may already be
        // rethrowing and freeing.
        self->origin_->post(&self->done_);
    }
    void child_done(ChildBase& c) noexcept override {
        if (c.error_) {
            error_ = std::move(c.error_);  // this side keeps no reference to it
        } else if (c.cancelled_) {
            cancelled_ = c.cancelled_;
        } else {
            try {
                value_.emplace(std::move(*child_.promise().value_));
            } catch (...) {
                error_ = std::current_exception();
            }
        }
        child_ = {};
        c.release();
        origin_->post(&done_);
    }
    static void on_cancel_item(RemoteItem* item) noexcept {
        auto* self = static_cast<BackItem*>(item)->self;
        if (self->child_) self->child_.promise().node_.root_scope_.cancel(self->cancel_reason_);
        self->unref();
    }
    static void on_done(RemoteItem* item) noexcept {
        auto* self = static_cast<BackItem*>(item)->self;
        self->finished_ = true;
        if (self->waiter_node_->waiter_ == self) self->waiter_node_->waiter_ = nullptr;
        self->origin_->schedule(self->waiter_h_, self->waiter_node_);
        self->unref();
    }
    F fn_;
    EventLoop* origin_;
    EventLoop* target_;
    std::atomic<int> refs_{1};
    struct BackItem : RemoteItem {
        RemoteCall* self = nullptr;
    };
    BackItem start_, done_, cancel_;
    std::coroutine_handle<RootPromise<R>> child_{};  // target side
    std::coroutine_handle<> waiter_h_;
    TaskNode* waiter_node_ = nullptr;
    bool cancel_sent_ = false;  // origin side
    bool finished_ = false;     // origin side
    CancelReason cancel_reason_ = CancelReason::user;
    TimePoint deadline_ = kNoDeadline;  // the caller's, set before start_ is posted
    std::exception_ptr error_;
    std::optional<CancelReason> cancelled_;
    std::optional<ValueOf<R>> value_;
};

}  // namespace detail

// Runs fn() (which returns a Task) on `shard` and awaits its result.
template <class F>
Task<detail::SubmitResult<F>> submit_to(unsigned shard, F fn) {
    Runtime* rt = Runtime::current();
    if (!rt || shard >= rt->shard_count()) throw std::out_of_range("submit_to: no such shard");
    auto* call = new detail::RemoteCall<F>(std::move(fn), detail::EventLoop::current(),
                                           &rt->loop(shard));
    struct Unref {
        detail::RemoteCall<F>* c;
        ~Unref() { c->unref(); }
    } unref{call};
    co_return co_await *call;
}

// Runs fn() on every shard concurrently; returns the results by shard.
// The first failure cancels the other shards' tasks, as with when_all.
template <class F>
Task<std::vector<detail::ValueOf<detail::SubmitResult<F>>>> on_all_shards(F fn) {
    Runtime* rt = Runtime::current();
    std::vector<Task<detail::SubmitResult<F>>> calls;
    for (unsigned s = 0; s < rt->shard_count(); ++s) calls.push_back(submit_to(s, fn));
    co_return co_await when_all(std::move(calls));
}

}  // namespace weir
