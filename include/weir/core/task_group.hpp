// TaskGroup: structured concurrency for a dynamic set of child tasks (the
// counterpart of asyncio.TaskGroup / a Trio nursery).
//
//     co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
//         auto user = g.spawn(fetch_user(id));
//         auto cart = g.spawn(fetch_cart(id));
//         co_return;
//     });
//
// The body runs in the calling task; children run concurrently. The group
// is always joined before task_group() returns: children cannot outlive it.
// When a child (or the body) fails, the rest are cancelled, all are joined,
// and an ExceptionGroup with every error is thrown. If the group is
// cancelled from outside, Cancelled propagates instead.
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "weir/core/detail/group_core.hpp"
#include "weir/core/exception_group.hpp"
#include "weir/core/join_handle.hpp"
#include "weir/core/task.hpp"

namespace weir {

class TaskGroup {
public:
    TaskGroup() noexcept : core_(detail::GroupPolicy::fail_fast) {}

    // Starts `task` as a child. Its result is available from the handle
    // after it finished (always true once task_group() returned).
    template <class T>
    JoinHandle<T> spawn(Task<T> task, const char* name = nullptr) {
        return JoinHandle<T>(core_.spawn(std::move(task), name));
    }

    // Cancels every child and the body.
    void cancel(CancelReason reason = CancelReason::user) noexcept { core_.scope().cancel(reason); }

    std::size_t running() const noexcept { return core_.running(); }

    detail::GroupCore& core() noexcept { return core_; }

protected:
    explicit TaskGroup(detail::GroupPolicy p) noexcept : core_(p) {}
    detail::GroupCore core_;
};

namespace detail {

// Runs body() in the current task inside `core`'s scope, then joins the
// children whatever happened, then reports: every error as an
// ExceptionGroup, else outer cancellation, else the body's result.
// With `stop_children_after_body`, children still running when the body
// returns are cancelled (reason shutdown) before the join (Supervisor).
template <class R, class Body>
Task<R> run_group(GroupCore& core, Body body, bool stop_children_after_body) {
    core.open();
    std::optional<ValueOf<R>> result;
    bool body_cancelled = false;
    std::exception_ptr body_error;
    try {
        if constexpr (std::is_void_v<R>) {
            co_await body();
            result.emplace();
        } else {
            result.emplace(co_await body());
        }
    } catch (const Cancelled&) {
        body_cancelled = true;
    } catch (...) {
        body_error = std::current_exception();
    }
    if (body_error) core.fail(body_error);
    if (stop_children_after_body) core.scope().cancel(CancelReason::shutdown);
    co_await core.join();
    core.close();

    if (!core.errors().empty()) throw ExceptionGroup(std::move(core.errors()));
    TaskNode* node = core.parent();
    if (node->pending_cancel()) throw node->make_cancelled();
    if (body_cancelled) {
        // Only the group itself was cancelled (TaskGroup::cancel()).
        if constexpr (std::is_void_v<R>) {
            co_return;
        } else {
            throw Cancelled(core.scope().reason());
        }
    }
    if constexpr (!std::is_void_v<R>) co_return std::move(*result);
}

template <class F, class G>
using BodyResult = typename std::invoke_result_t<F&, G&>::value_type;

}  // namespace detail

// The body gets the group; its return value becomes task_group()'s.
template <class F>
auto task_group(F body) -> Task<detail::BodyResult<F, TaskGroup>> {
    using R = detail::BodyResult<F, TaskGroup>;
    TaskGroup group;
    co_return co_await detail::run_group<R>(
        group.core(), [&] { return body(group); }, false);
}

}  // namespace weir
