// Async resource lifecycle: the counterpart of Python's async context
// managers, for resources whose cleanup must await (pools, clients,
// connections, locks, rate limiters).
//
// The pattern, used by every pool and client in weir:
//  1. The resource derives from AsyncResource and has `Task<void> close()`,
//     which calls mark_closed() when it is done.
//  2. Code that owns one uses with_resource(), which always awaits close()
//     (shielded from cancellation) after the body, on success, error or
//     cancellation alike, then rethrows what the body threw:
//
//     co_await weir::with_resource(co_await Pool::open(url), [&](Pool& pool) -> Task<> {
//         ...
//     });
//
// A resource destroyed while still open is reported (stderr) and counted in
// AsyncResource::leaked(), so tests can assert that cleanup really ran.
#pragma once

#include <atomic>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "weir/core/detail/child_task.hpp"
#include "weir/core/task.hpp"
#include "weir/core/timeout.hpp"

namespace weir {

class AsyncResource {
public:
    AsyncResource(const AsyncResource&) = delete;
    AsyncResource& operator=(const AsyncResource&) = delete;

    bool is_open() const noexcept { return open_; }

    // Resources destroyed without close() since the process started.
    static std::uint64_t leaked() noexcept { return leaked_.load(std::memory_order_relaxed); }

protected:
    explicit AsyncResource(const char* kind) noexcept : kind_(kind) {}
    AsyncResource(AsyncResource&& o) noexcept
        : kind_(o.kind_), open_(std::exchange(o.open_, false)) {}
    ~AsyncResource() {
        if (open_) report_leak();
    }
    void mark_closed() noexcept { open_ = false; }

private:
    void report_leak() noexcept;
    const char* kind_;
    bool open_ = true;
    static inline std::atomic<std::uint64_t> leaked_{0};
};

// Runs body(resource), then always awaits resource.close() under a shield,
// then returns the body's result or rethrows its exception.
template <class Res, class F>
auto with_resource(Res resource, F body)
    -> Task<typename std::invoke_result_t<F&, Res&>::value_type> {
    using R = typename std::invoke_result_t<F&, Res&>::value_type;
    std::optional<detail::ValueOf<R>> result;
    std::exception_ptr error;
    try {
        if constexpr (std::is_void_v<R>) {
            co_await body(resource);
            result.emplace();
        } else {
            result.emplace(co_await body(resource));
        }
    } catch (...) {
        error = std::current_exception();
    }
    co_await shield(resource.close());
    if (error) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<R>) co_return std::move(*result);
}

}  // namespace weir
