// RuntimeOptions::busy_poll: a shard polls for a while before sleeping. Timers, results posted
// from other threads and cross-shard calls must still arrive, and an idle shard must still go to
// sleep once the budget is spent.
#include <time.h>

#include <chrono>

#include <gtest/gtest.h>

#include <weir/core.hpp>

using namespace std::chrono_literals;

namespace {

weir::RuntimeOptions busy_options(unsigned shards, std::chrono::microseconds budget) {
    weir::RuntimeOptions opts;
    opts.shards = shards;
    opts.worker_threads = 1;
    opts.busy_poll = budget;
    return opts;
}

std::chrono::nanoseconds thread_cpu_time() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

}  // namespace

TEST(BusyPoll, TimersFireAndAnIdleShardStillSleeps) {
    weir::Runtime rt(busy_options(1, 1ms));
    auto body = []() -> weir::Task<std::chrono::nanoseconds> {
        // Timers shorter than the budget end the polling early; longer ones come after sleeping.
        for (int i = 0; i < 5; ++i) co_await weir::sleep_for(200us);
        const auto cpu_before = thread_cpu_time();
        co_await weir::sleep_for(60ms);
        co_return thread_cpu_time() - cpu_before;
    };
    const auto cpu = rt.run(body());
    // Polling for the whole 60 ms would cost ~60 ms of CPU; one budget of 1 ms and a sleep cost
    // about 1 ms. (A preempted thread only uses less, so this cannot fail by load.)
    EXPECT_LT(cpu, 30ms);
}

TEST(BusyPoll, ToThreadAndCrossShardResultsArriveWhilePollingMultiShard) {
    weir::Runtime rt(busy_options(2, 500us));
    auto body = []() -> weir::Task<int> {
        int total = 0;
        for (int i = 0; i < 50; ++i) {
            auto fn = [i] { return i; };
            total += co_await weir::to_thread(std::move(fn));
            auto remote = [i]() -> weir::Task<int> { co_return i; };
            total += co_await weir::submit_to(1, std::move(remote));
        }
        co_return total;
    };
    EXPECT_EQ(rt.run(body()), 2 * (49 * 50 / 2));
}
