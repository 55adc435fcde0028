// Bounded fan-out: run fn(item) for many items with at most `limit` in flight
// (TaskGroup + Semaphore), collecting a result or an error per item, for the
// "100,000 URLs" case: no burst floods the downstream service, memory stays
// bounded (a task exists only while it holds a permit), and one failure does
// not cancel the others.
//
//     auto results = co_await weir::http::map_bounded(urls, 50,
//         [&](const std::string& url) { return client.get(url); });
//     for (auto& r : results) if (r.ok()) use(r.value->status); else log(r.what());
//
// Cancellation of the caller cancels every item in flight (Cancelled is never
// stored as a per-item error).
#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "weir/core/cancelled.hpp"
#include "weir/core/semaphore.hpp"
#include "weir/core/task.hpp"
#include "weir/core/task_group.hpp"

namespace weir::http {

template <class T>
struct Outcome {
    std::optional<T> value;
    std::exception_ptr error;

    bool ok() const noexcept { return value.has_value(); }
    // The value, or the stored error rethrown.
    T& get() {
        if (error) std::rethrow_exception(error);
        return *value;
    }
    // The error's what() ("" when ok).
    std::string what() const {
        if (!error) return {};
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            return e.what();
        } catch (...) {
            return "unknown error";
        }
    }
};

namespace detail {

template <class R, class F, class Item>
Task<void> run_bounded_item(SemaphorePermit permit, F& fn, const Item& item, Outcome<R>& out) {
    SemaphorePermit held = std::move(permit);
    try {
        out.value.emplace(co_await fn(item));
    } catch (const Cancelled&) {
        throw;
    } catch (...) {
        out.error = std::current_exception();
    }
}

}  // namespace detail

template <class Items, class F>
auto map_bounded(const Items& items, std::size_t limit, F fn) -> Task<std::vector<
    Outcome<typename std::invoke_result_t<F&, decltype(*std::begin(items))>::value_type>>> {
    using R = typename std::invoke_result_t<F&, decltype(*std::begin(items))>::value_type;
    std::vector<Outcome<R>> out(std::size(items));
    Semaphore sem(limit == 0 ? 1 : limit);
    auto body = [&](TaskGroup& g) -> Task<void> {
        std::size_t i = 0;
        for (const auto& item : items) {
            SemaphorePermit permit = co_await sem.acquire();
            g.spawn(detail::run_bounded_item<R>(std::move(permit), fn, item, out[i]));
            ++i;
        }
    };
    co_await task_group(body);
    co_return out;
}

}  // namespace weir::http
