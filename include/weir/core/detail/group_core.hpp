// GroupCore: the bookkeeping shared by TaskGroup, Supervisor, when_all and
// when_any: a cancel scope entered in the parent task, the count of running
// children, their errors, and the parent's wait for all of them to finish.
#pragma once

#include <coroutine>
#include <exception>
#include <vector>

#include "weir/core/cancel_scope.hpp"
#include "weir/core/detail/child_task.hpp"

namespace weir::detail {

enum class GroupPolicy {
    fail_fast,   // a child error cancels the others (TaskGroup, when_all)
    supervise,   // child errors are reported; the others keep running
    first_wins,  // the first child to finish cancels the others (when_any)
};

class GroupCore : public ChildOwner {
public:
    explicit GroupCore(GroupPolicy policy) noexcept : policy_(policy) {}
    GroupCore(const GroupCore&) = delete;
    GroupCore& operator=(const GroupCore&) = delete;

    // Enters the group's scope in the current task.
    void open() noexcept {
        parent_ = current_node();
        scope_.enter(parent_);
    }
    void close() noexcept { scope_.exit(); }

    template <class T>
    std::coroutine_handle<RootPromise<T>> spawn(Task<T> task, const char* name) {
        ++running_;
        auto h = start_child(std::move(task), parent_->loop(), &scope_, this, name);
        h.promise().index_in_group_ = spawned_++;
        return h;
    }

    // Records a failure of the parent's own body: cancels the children.
    void fail(std::exception_ptr e) {
        errors_.push_back(std::move(e));
        scope_.cancel(CancelReason::sibling_failed);
    }

    void child_done(ChildBase& child) noexcept override {
        --running_;
        if (child.failed()) {
            if (policy_ == GroupPolicy::fail_fast) {
                errors_.push_back(child.error_);
                scope_.cancel(CancelReason::sibling_failed);
            } else if (policy_ == GroupPolicy::supervise) {
                if (on_error_) on_error_(child.node_.name(), child.error_);
                ++supervised_failures_;
            }
        }
        if (policy_ == GroupPolicy::first_wins && !winner_) {
            winner_ = &child;
            // A contender that ended cancelled by an outer cancellation won
            // nothing: the others are being cancelled for that same reason.
            if (!child.cancelled_ || !scope_.effective_cancel())
                scope_.cancel(CancelReason::race_lost);
        }
        if (running_ == 0 && joiner_) {
            parent_->loop()->schedule(std::exchange(joiner_, nullptr), parent_);
        }
        // A winner is read after the join, so it keeps the owner's reference.
        if (winner_ != &child) child.release();
    }

    // Waits (not cancellable: children are cancelled through the scope tree
    // instead, and a group always joins them) until no child runs.
    struct JoinAwaiter {
        GroupCore* g;
        bool await_ready() const noexcept { return g->running_ == 0; }
        void await_suspend(std::coroutine_handle<> h) noexcept { g->joiner_ = h; }
        void await_resume() const noexcept {}
    };
    JoinAwaiter join() noexcept { return JoinAwaiter{this}; }

    CancelScope& scope() noexcept { return scope_; }
    TaskNode* parent() const noexcept { return parent_; }
    std::size_t running() const noexcept { return running_; }
    std::vector<std::exception_ptr>& errors() noexcept { return errors_; }
    ChildBase* winner() const noexcept { return winner_; }
    std::size_t supervised_failures() const noexcept { return supervised_failures_; }

    using ErrorHandler = void (*)(const char* task_name, const std::exception_ptr&);
    void set_error_handler(ErrorHandler h) noexcept { on_error_ = h; }

private:
    GroupPolicy policy_;
    CancelScope scope_;
    TaskNode* parent_ = nullptr;
    std::size_t running_ = 0;
    std::uint32_t spawned_ = 0;
    std::coroutine_handle<> joiner_;
    std::vector<std::exception_ptr> errors_;
    ChildBase* winner_ = nullptr;
    std::size_t supervised_failures_ = 0;
    ErrorHandler on_error_ = nullptr;
};

}  // namespace weir::detail
