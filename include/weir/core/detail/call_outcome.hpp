// What a call made on another thread (to_thread, to_cpu) produced: its value,
// or the exception it threw, kept until the waiting task takes it.
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace weir::detail {

template <class R>
class CallOutcome {
public:
    // Calls fn and keeps what it returned or threw.
    template <class F>
    void run(F& fn) noexcept {
        try {
            if constexpr (std::is_void_v<R>) {
                fn();
            } else {
                value_.emplace(fn());
            }
        } catch (...) {
            error_ = std::current_exception();
        }
    }

    // The value, or the exception rethrown; once, after run().
    R take() {
        if (error_) std::rethrow_exception(error_);
        if constexpr (!std::is_void_v<R>) return std::move(*value_);
    }

private:
    std::exception_ptr error_;
    std::optional<std::conditional_t<std::is_void_v<R>, std::monostate, R>> value_;
};

}  // namespace weir::detail
