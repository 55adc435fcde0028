// JoinHandle<T>: a reference to a child task spawned into a TaskGroup or
// Supervisor: its result after it finished, an await for it, or a cancel.
#pragma once

#include <coroutine>
#include <type_traits>
#include <utility>

#include "weir/core/detail/cancellable_wait.hpp"
#include "weir/core/detail/child_task.hpp"

namespace weir {

template <class T>
class JoinHandle {
public:
    using Handle = std::coroutine_handle<detail::RootPromise<T>>;

    JoinHandle() noexcept = default;
    explicit JoinHandle(Handle h) noexcept : h_(h) { ++h_.promise().refs_; }
    JoinHandle(const JoinHandle& o) noexcept : h_(o.h_) {
        if (h_) ++h_.promise().refs_;
    }
    JoinHandle(JoinHandle&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    JoinHandle& operator=(JoinHandle o) noexcept {
        std::swap(h_, o.h_);
        return *this;
    }
    ~JoinHandle() {
        if (h_) h_.promise().release();
    }

    bool done() const noexcept { return h_.promise().done_; }
    bool cancelled() const noexcept { return h_.promise().cancelled_.has_value(); }
    bool failed() const noexcept { return h_.promise().failed(); }

    // Cancels this child (and everything it started).
    void cancel(CancelReason reason = CancelReason::user) noexcept {
        if (!done()) h_.promise().node_.root_scope_.cancel(reason);
    }

    // The child's value; rethrows its error or Cancelled. Only once done().
    // A copyable value is copied, so result() and join() can be read any
    // number of times, by any number of tasks; a move-only one is moved out
    // (read it once).
    detail::ValueOf<T> result() {
        auto& p = h_.promise();
        p.rethrow_outcome();
        return read_value(p);
    }

    class JoinAwaiter final : public detail::CancellableWait, public detail::JoinWaiter {
    public:
        explicit JoinAwaiter(Handle h) noexcept : h_child_(h) {}
        bool await_ready() noexcept { return h_child_.promise().done_ || cancel_requested(); }
        void await_suspend(std::coroutine_handle<> h) noexcept {
            h_child_.promise().join_waiters_.push_back(this);
            park(h);
        }
        detail::ValueOf<T> await_resume() {
            throw_if_cancelled();
            auto& p = h_child_.promise();
            p.rethrow_outcome();
            return read_value(p);
        }

    private:
        void cancel_registration() noexcept override {
            h_child_.promise().join_waiters_.remove(this);
        }
        void on_child_done() noexcept override { wake(); }
        Handle h_child_;
    };

    // Waits for the child to finish and returns its result (rethrowing its
    // error). Cancellable: cancelling the waiter does not cancel the child.
    JoinAwaiter join() const noexcept { return JoinAwaiter(h_); }

private:
    static detail::ValueOf<T> read_value(detail::RootPromise<T>& p) {
        if constexpr (std::is_copy_constructible_v<detail::ValueOf<T>>)
            return *p.value_;
        else
            return std::move(*p.value_);
    }
    Handle h_{};
};

}  // namespace weir
