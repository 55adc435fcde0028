// Deadlines: with_timeout / with_deadline, and the inherited current_deadline.
//
// with_timeout(d, task) runs `task` in a cancel scope with a deadline; if it
// expires, the inner work is cancelled (reason timeout) and, once it has
// unwound, TimeoutError (an ordinary std::exception) is thrown. Deadlines
// nest: the effective deadline of any operation is the earliest one around
// it, readable with current_deadline() so drivers can hand the remaining
// budget to servers (e.g. PostgreSQL's statement_timeout).
#pragma once

#include <exception>
#include <optional>
#include <type_traits>

#include "weir/core/cancel_scope.hpp"
#include "weir/core/clock.hpp"
#include "weir/core/detail/child_task.hpp"
#include "weir/core/errors.hpp"
#include "weir/core/task.hpp"
#include "weir/core/task_node.hpp"

namespace weir {

// The earliest deadline that applies to the running task (kNoDeadline if none).
inline TimePoint current_deadline() noexcept {
    detail::TaskNode* n = detail::current_node();
    return n ? n->scope()->effective_deadline() : kNoDeadline;
}

// Time left until current_deadline(), or nullopt without a deadline.
inline std::optional<Duration> remaining_time() noexcept {
    TimePoint d = current_deadline();
    if (d == kNoDeadline) return std::nullopt;
    Duration left = d - Clock::now();
    return left.count() > 0 ? left : Duration::zero();
}

// Wraps any awaitable in a Task (so it can be given to with_timeout etc.).
template <class A>
auto as_task(A awaitable) -> Task<decltype(std::declval<A&&>().await_resume())> {
    co_return co_await std::move(awaitable);
}

template <class T>
Task<T> with_deadline(TimePoint deadline, Task<T> task) {
    detail::TaskNode* node = detail::current_node();
    CancelScope scope;
    scope.enter(node);
    scope.set_deadline(deadline);
    std::optional<detail::ValueOf<T>> result;
    std::exception_ptr error;
    bool was_cancelled = false;
    try {
        if constexpr (std::is_void_v<T>) {
            co_await std::move(task);
            result.emplace();
        } else {
            result.emplace(co_await std::move(task));
        }
    } catch (const Cancelled&) {
        was_cancelled = true;
        error = std::current_exception();
    } catch (...) {
        error = std::current_exception();
    }
    const bool expired = scope.cancel_called();
    scope.exit();
    if (error) {
        // Our own deadline, and nobody outside cancelled us: a timeout.
        if (was_cancelled && expired && !node->pending_cancel()) throw TimeoutError();
        std::rethrow_exception(error);
    }
    if constexpr (!std::is_void_v<T>) co_return std::move(*result);
}

template <class T, class Rep, class Period>
Task<T> with_timeout(std::chrono::duration<Rep, Period> timeout, Task<T> task) {
    return with_deadline(Clock::now() + std::chrono::duration_cast<Duration>(timeout),
                         std::move(task));
}

// Runs `task` shielded from outer cancellation: cleanup code that must await
// (sending a protocol-level cancel, closing a connection politely) runs to
// completion even while the surrounding task is being cancelled. Give the
// shielded work its own with_timeout so it cannot hang forever.
template <class T>
Task<T> shield(Task<T> task) {
    detail::TaskNode* node = detail::current_node();
    CancelScope scope;
    scope.enter(node, /*shield=*/true);
    struct Exit {
        CancelScope& s;
        ~Exit() { s.exit(); }
    } exit{scope};
    co_return co_await std::move(task);
}

}  // namespace weir
