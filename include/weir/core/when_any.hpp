// when_any (alias race): run tasks concurrently; the first to finish wins,
// the rest are cancelled (reason race_lost) and joined before returning.
//
//     auto r = co_await weir::when_any(query_primary(), query_replica());
//     // r.index() says who won; std::get<I>(r) is its value
//
// If the first task to finish failed, its error is rethrown. void tasks
// yield std::monostate.
#pragma once

#include <optional>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "weir/core/detail/group_core.hpp"
#include "weir/core/task.hpp"

namespace weir {

namespace detail {

// Moves the value out of child number `index` (the winner; the losers'
// frames may already be gone, so only the winner's handle is touched).
// Built with emplace rather than a recursive return: clang 16 at -O2 loses
// the alternative index of a std::variant with repeated types returned
// through that recursion.
template <class Variant, class Tuple, std::size_t... I>
Variant take_winner(std::size_t index, Tuple& hs, std::index_sequence<I...>) {
    std::optional<Variant> out;
    ((index == I ? (void)out.emplace(std::in_place_index<I>,
                                     std::move(*std::get<I>(hs).promise().value_))
                 : (void)0),
     ...);
    if (!out) throw std::logic_error("when_any: no winner");
    return std::move(*out);
}

// Releases the winner's reference (kept by GroupCore for us) on exit.
struct WinnerRelease {
    GroupCore& core;
    ~WinnerRelease() {
        if (ChildBase* w = core.winner()) w->release();
    }
};

inline ChildBase* finish_race(GroupCore& core) {
    core.close();
    TaskNode* node = core.parent();
    ChildBase* w = core.winner();
    if (node->pending_cancel() && (!w || w->cancelled_)) throw node->make_cancelled();
    if (!w) throw std::logic_error("when_any: no tasks");
    w->rethrow_outcome();
    return w;
}

}  // namespace detail

template <class... Ts>
Task<std::variant<detail::ValueOf<Ts>...>> when_any(Task<Ts>... tasks) {
    static_assert(sizeof...(Ts) > 0, "when_any needs at least one task");
    using Variant = std::variant<detail::ValueOf<Ts>...>;
    detail::GroupCore core(detail::GroupPolicy::first_wins);
    core.open();
    detail::WinnerRelease release{core};
    std::tuple<std::coroutine_handle<detail::RootPromise<Ts>>...> hs{
        core.spawn(std::move(tasks), nullptr)...};
    co_await core.join();
    detail::ChildBase* w = detail::finish_race(core);
    co_return detail::take_winner<Variant>(w->index_in_group_, hs,
                                           std::index_sequence_for<Ts...>{});
}

// Homogeneous form: returns the winner's index and value.
template <class T>
Task<std::pair<std::size_t, detail::ValueOf<T>>> when_any(std::vector<Task<T>> tasks) {
    detail::GroupCore core(detail::GroupPolicy::first_wins);
    core.open();
    detail::WinnerRelease release{core};
    std::vector<std::coroutine_handle<detail::RootPromise<T>>> hs;
    hs.reserve(tasks.size());
    for (auto& t : tasks) hs.push_back(core.spawn(std::move(t), nullptr));
    co_await core.join();
    detail::ChildBase* w = detail::finish_race(core);
    const std::size_t i = w->index_in_group_;
    co_return std::pair<std::size_t, detail::ValueOf<T>>(i, std::move(*hs[i].promise().value_));
}

template <class... Ts>
auto race(Task<Ts>... tasks) {
    return when_any(std::move(tasks)...);
}

}  // namespace weir
