// Async tests for GoogleTest (the pytest-asyncio counterpart).
//
//     WEIR_TEST(Semaphore, HandsPermitsInFifoOrder) {
//         weir::Semaphore sem(1);
//         ...
//         co_return;
//     }
//
// Each test body is a coroutine run on a fresh Runtime (1 shard by default;
// WEIR_TEST_SHARDS for more). When it returns, the test fails if any task,
// user timer, fd registration, coroutine frame or AsyncResource is still
// alive: structured concurrency is checked, not assumed.
#pragma once

#include <exception>
#include <functional>
#include <utility>

#include <gtest/gtest.h>

#include "weir/core/resource.hpp"
#include "weir/core/runtime.hpp"
#include "weir/core/task.hpp"

namespace weir::testing {

// Runs body() on a fresh Runtime built from `opts` and checks for leaks (see above).
inline void run_async_test_with(RuntimeOptions opts, const std::function<Task<void>()>& body) {
    const auto leaked_before = AsyncResource::leaked();
    Runtime rt(std::move(opts));
    try {
        rt.run(body());
    } catch (const Cancelled& c) {
        ADD_FAILURE() << "test body ended with Cancelled (" << to_string(c.reason()) << ")";
    }
    const RuntimeLeaks leaks = rt.check_leaks();
    EXPECT_EQ(leaks.tasks, 0u) << "tasks still alive after the test body returned";
    EXPECT_EQ(leaks.user_timers, 0u) << "timers still armed after the test body returned";
    EXPECT_EQ(leaks.io_handles, 0u) << "sockets still registered after the test body returned";
    EXPECT_EQ(leaks.frames, 0) << "coroutine frames still alive after the test body returned";
    EXPECT_EQ(AsyncResource::leaked(), leaked_before) << "an AsyncResource was not closed";
}

// The runtime of WEIR_TEST: `shards` shards, 2 to_thread workers, 2 to_cpu threads.
inline void run_async_test(const std::function<Task<void>()>& body, unsigned shards = 1) {
    RuntimeOptions opts;
    opts.shards = shards;
    opts.worker_threads = 2;
    opts.cpu_threads = 2;
    run_async_test_with(std::move(opts), body);
}

}  // namespace weir::testing

#define WEIR_TEST_IMPL_(Suite, Name, Shards)                                       \
    static ::weir::Task<void> weir_test_body_##Suite##_##Name();                   \
    TEST(Suite, Name) {                                                            \
        ::weir::testing::run_async_test(&weir_test_body_##Suite##_##Name, Shards); \
    }                                                                              \
    static ::weir::Task<void> weir_test_body_##Suite##_##Name()

// ASSERT_* cannot be used inside a coroutine (it expands to `return`);
// these record a fatal failure and leave the test body with co_return.
#define CO_ASSERT_TRUE(cond)                                     \
    do {                                                         \
        if (!(cond)) {                                           \
            ADD_FAILURE() << "CO_ASSERT_TRUE(" #cond ") failed"; \
            co_return;                                           \
        }                                                        \
    } while (0)
#define CO_ASSERT_EQ(a, b)            \
    do {                              \
        EXPECT_EQ(a, b);              \
        if (!((a) == (b))) co_return; \
    } while (0)
#define CO_ASSERT_NE(a, b)         \
    do {                           \
        EXPECT_NE(a, b);           \
        if ((a) == (b)) co_return; \
    } while (0)

// A coroutine test on a one-shard runtime.
#define WEIR_TEST(Suite, Name) WEIR_TEST_IMPL_(Suite, Name, 1)
// A coroutine test on a runtime with `Shards` shards.
#define WEIR_TEST_SHARDS(Suite, Name, Shards) WEIR_TEST_IMPL_(Suite, Name, Shards)
