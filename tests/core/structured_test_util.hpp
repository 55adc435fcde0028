// Helpers shared by the task / structured-concurrency / cancellation tests.
#pragma once

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <gtest/gtest.h>

#include <weir/core.hpp>
#include <weir/testing/async_test.hpp>

// CO_ASSERT_TRUE / CO_ASSERT_EQ come from weir/testing/async_test.hpp.

// g++ does not compile symmetric transfer into a tail call under ASan, so
// there every nested await still uses stack: deep-chain tests shrink there.
#if defined(__SANITIZE_ADDRESS__) && !defined(__clang__)
inline constexpr int kDeepChain = 2'000;
inline constexpr int kManyAwaits = 2'000;
#else
inline constexpr int kDeepChain = 100'000;
inline constexpr int kManyAwaits = 1'000'000;
#endif

namespace weir_test {

using namespace std::chrono_literals;

// Turns a coroutine lambda into a Task that owns the lambda, so its
// captures stay alive as long as the task (a lambda temporary invoked
// directly would die at the end of the full expression).
template <class F>
auto fn(F f) -> std::invoke_result_t<F&> {
    co_return co_await f();
}

// Waits until cancelled (the event is never set).
inline weir::Task<void> forever() {
    weir::Event never;
    co_await never.wait();
}

// Throws E(msg) when first resumed, without ever reaching an await point.
template <class E = std::runtime_error>
weir::Task<void> fail_now(std::string msg) {
    throw E(msg);
    co_return;
}

// Throws E(msg) after yielding once.
template <class E = std::runtime_error>
weir::Task<void> fail_after_yield(std::string msg) {
    co_await weir::yield();
    throw E(msg);
}

template <class T>
weir::Task<T> value_after(weir::Duration d, T v) {
    co_await weir::sleep_for(d);
    co_return v;
}

// What a task saw when it was cancelled.
struct Observed {
    bool started = false;
    bool cancelled = false;
    weir::CancelReason reason = weir::CancelReason::user;
    int times = 0;
};

// Runs `inner`, recording a Cancelled that comes out of it, then rethrows it.
template <class T>
weir::Task<T> observe(Observed& o, weir::Task<T> inner) {
    o.started = true;
    try {
        co_return co_await std::move(inner);
    } catch (const weir::Cancelled& c) {
        o.cancelled = true;
        o.reason = c.reason();
        ++o.times;
        throw;
    }
}

inline weir::Task<void> observed_forever(Observed& o) { return observe(o, forever()); }

// Awaits `t` and returns the exception it ended with (null if none).
template <class T>
weir::Task<std::exception_ptr> caught(weir::Task<T> t) {
    std::exception_ptr ep;
    try {
        co_await std::move(t);
    } catch (...) {
        ep = std::current_exception();
    }
    co_return ep;
}

// Rethrows `ep` and hands the E it holds to check(); fails the test if
// `ep` is empty or holds something else.
template <class E, class F>
void expect_error(const std::exception_ptr& ep, F check) {
    if (!ep) {
        ADD_FAILURE() << "expected an exception, got none";
        return;
    }
    try {
        std::rethrow_exception(ep);
    } catch (const E& e) {
        check(e);
    } catch (const weir::Cancelled& c) {
        ADD_FAILURE() << "expected another exception, got Cancelled(" << weir::to_string(c.reason())
                      << ")";
    } catch (const std::exception& e) {
        ADD_FAILURE() << "unexpected exception: " << e.what();
    } catch (...) {
        ADD_FAILURE() << "unexpected non-standard exception";
    }
}

template <class E>
void expect_error(const std::exception_ptr& ep) {
    expect_error<E>(ep, [](const E&) {});
}

inline void expect_cancelled(const std::exception_ptr& ep, weir::CancelReason reason) {
    if (!ep) {
        ADD_FAILURE() << "expected Cancelled, got no exception";
        return;
    }
    try {
        std::rethrow_exception(ep);
    } catch (const weir::Cancelled& c) {
        EXPECT_EQ(weir::to_string(c.reason()), weir::to_string(reason));
    } catch (const std::exception& e) {
        ADD_FAILURE() << "expected Cancelled, got: " << e.what();
    } catch (...) {
        ADD_FAILURE() << "expected Cancelled, got a non-standard exception";
    }
}

inline std::string message_of(const std::exception_ptr& ep) {
    try {
        std::rethrow_exception(ep);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "<non-standard>";
    }
}

// Tasks cancelled so far on shard 0 with `reason`.
inline std::uint64_t cancelled_count(weir::CancelReason reason) {
    return weir::Runtime::current()->stats(0).tasks_cancelled[static_cast<std::size_t>(reason)];
}

}  // namespace weir_test
