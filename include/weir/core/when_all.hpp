// when_all: run a fixed set of tasks concurrently and collect every result.
//
//     auto [user, cart] = co_await weir::when_all(fetch_user(id), fetch_cart(id));
//
// void tasks yield std::monostate. On the first failure the others are
// cancelled and joined, then that first error is rethrown as is (use a
// TaskGroup to see every error). Cancelling the caller cancels all of them.
#pragma once

#include <tuple>
#include <utility>
#include <vector>

#include "weir/core/detail/group_core.hpp"
#include "weir/core/task.hpp"

namespace weir {

namespace detail {

// Joins `core` and rethrows its first error or the caller's cancellation.
inline void finish_join_all(GroupCore& core) {
    core.close();
    if (!core.errors().empty()) std::rethrow_exception(core.errors().front());
    TaskNode* node = core.parent();
    if (node->pending_cancel()) throw node->make_cancelled();
}

template <class T>
struct HeldChild {
    std::coroutine_handle<RootPromise<T>> h;
    explicit HeldChild(std::coroutine_handle<RootPromise<T>> handle) noexcept : h(handle) {
        ++h.promise().refs_;
    }
    HeldChild(HeldChild&& o) noexcept : h(std::exchange(o.h, {})) {}
    HeldChild(const HeldChild&) = delete;
    ~HeldChild() {
        if (h) h.promise().release();
    }
    ValueOf<T> take() {
        auto& p = h.promise();
        p.rethrow_outcome();
        return std::move(*p.value_);
    }
};

}  // namespace detail

template <class... Ts>
Task<std::tuple<detail::ValueOf<Ts>...>> when_all(Task<Ts>... tasks) {
    detail::GroupCore core(detail::GroupPolicy::fail_fast);
    core.open();
    std::tuple<detail::HeldChild<Ts>...> children{
        detail::HeldChild<Ts>(core.spawn(std::move(tasks), nullptr))...};
    co_await core.join();
    detail::finish_join_all(core);
    co_return std::apply([](auto&... c) { return std::make_tuple(c.take()...); }, children);
}

template <class T>
Task<std::vector<detail::ValueOf<T>>> when_all(std::vector<Task<T>> tasks) {
    detail::GroupCore core(detail::GroupPolicy::fail_fast);
    core.open();
    std::vector<detail::HeldChild<T>> children;
    children.reserve(tasks.size());
    for (auto& t : tasks) children.emplace_back(core.spawn(std::move(t), nullptr));
    co_await core.join();
    detail::finish_join_all(core);
    std::vector<detail::ValueOf<T>> out;
    out.reserve(children.size());
    for (auto& c : children) out.push_back(c.take());
    co_return out;
}

}  // namespace weir
