// Loop statistics and leak checks: tasks alive/started/cancelled by reason,
// the loop-lag histogram, the slow-callback detector (task name and
// duration), and Runtime::check_leaks() seeing what was left alive.
#include <time.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <weir/core.hpp>
#include <weir/testing/async_test.hpp>

using namespace std::chrono_literals;

namespace {

weir::LoopStats::Snapshot stats0() { return weir::Runtime::current()->stats(0); }

std::uint64_t cancelled(const weir::LoopStats::Snapshot& s, weir::CancelReason r) {
    return s.tasks_cancelled[static_cast<std::size_t>(r)];
}

weir::Task<void> wait_event(weir::Event& ev) { co_await ev.wait(); }

weir::Task<void> sleep_long() { co_await weir::sleep_for(1h); }

weir::Task<void> fail_soon() {
    co_await weir::yield();
    throw std::runtime_error("child failed");
}

// The slow-callback detector may time resumes with the coarse monotonic
// clock, which can under-report by up to its resolution.
std::chrono::nanoseconds coarse_resolution() {
    timespec ts{};
    ::clock_getres(CLOCK_MONOTONIC_COARSE, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// Holds the loop without awaiting (a blocking mistake on purpose) for 20 ms
// as any clock the detector may use sees it.
void busy_wait_20ms() {
    const auto until = std::chrono::steady_clock::now() + 20ms + coarse_resolution();
    while (std::chrono::steady_clock::now() < until) {
    }
}

// Blocks the loop in its last resume, finishing in it.
weir::Task<void> hog_then_finish() {
    co_await weir::yield();
    busy_wait_20ms();
}

// Blocks the loop in a resume and then goes on awaiting.
weir::Task<void> hog_then_continue() {
    co_await weir::yield();
    busy_wait_20ms();
    co_await weir::yield();
    co_await weir::sleep_for(1ms);
}

}  // namespace

WEIR_TEST(LoopStats, CountsTasksAliveAndStarted) {
    const auto before = stats0();
    EXPECT_EQ(before.shard, 0u);
    EXPECT_EQ(before.tasks_alive, 1u);  // the test body itself
    EXPECT_GE(before.tasks_started, 1u);
    weir::Event ev;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        for (int i = 0; i < 10; ++i) g.spawn(wait_event(ev));
        co_await weir::yield();
        const auto during = stats0();
        EXPECT_EQ(during.tasks_alive, 11u);
        EXPECT_EQ(during.tasks_started, before.tasks_started + 10);
        ev.set();
    });
    const auto after = stats0();
    EXPECT_EQ(after.tasks_alive, 1u);
    EXPECT_EQ(after.tasks_started, before.tasks_started + 10);
    // when_all children are tasks too.
    co_await weir::when_all(weir::as_task(weir::yield()), weir::as_task(weir::yield()));
    EXPECT_EQ(stats0().tasks_started, before.tasks_started + 12);
    EXPECT_EQ(stats0().tasks_alive, 1u);
    EXPECT_GT(stats0().iterations, before.iterations);
    EXPECT_GT(stats0().resumes, before.resumes);
}

WEIR_TEST(LoopStats, CountsCancelledTasksByReason) {
    const auto before = stats0();
    // user: cancelled through their handles.
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto a = g.spawn(sleep_long());
        auto b = g.spawn(sleep_long());
        co_await weir::yield();
        a.cancel();
        b.cancel(weir::CancelReason::peer_disconnected);
    });
    // sibling_failed: a failing child cancels its three siblings.
    bool failed = false;
    try {
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
            for (int i = 0; i < 3; ++i) g.spawn(sleep_long());
            g.spawn(fail_soon());
            co_return;
        });
    } catch (const weir::ExceptionGroup&) {
        failed = true;
    }
    EXPECT_TRUE(failed);
    // race_lost: when_any's losers.
    co_await weir::when_any(weir::as_task(weir::yield()), sleep_long(), sleep_long());
    // timeout: a group whose deadline expires cancels its children with it.
    try {
        co_await weir::with_timeout(2ms, weir::task_group([](weir::TaskGroup& g) -> weir::Task<> {
                                        g.spawn(sleep_long());
                                        co_return;
                                    }));
    } catch (const weir::TimeoutError&) {
    }
    const auto after = stats0();
    EXPECT_EQ(
        cancelled(after, weir::CancelReason::user) - cancelled(before, weir::CancelReason::user),
        1u);
    EXPECT_EQ(cancelled(after, weir::CancelReason::peer_disconnected) -
                  cancelled(before, weir::CancelReason::peer_disconnected),
              1u);
    EXPECT_EQ(cancelled(after, weir::CancelReason::sibling_failed) -
                  cancelled(before, weir::CancelReason::sibling_failed),
              3u);
    EXPECT_EQ(cancelled(after, weir::CancelReason::race_lost) -
                  cancelled(before, weir::CancelReason::race_lost),
              2u);
    EXPECT_EQ(cancelled(after, weir::CancelReason::timeout) -
                  cancelled(before, weir::CancelReason::timeout),
              1u);
    EXPECT_EQ(after.tasks_alive, 1u);
}

WEIR_TEST(LoopStats, LoopLagHistogramGetsSamples) {
    const auto before = stats0().loop_lag_us;
    for (int i = 0; i < 5; ++i) co_await weir::sleep_for(1ms);
    const auto after = stats0().loop_lag_us;
    EXPECT_GE(after.count, before.count + 5);  // one sample per fired timer
    std::uint64_t bucket_total = 0;
    for (auto b : after.buckets) bucket_total += b;
    EXPECT_EQ(bucket_total, after.count);
    EXPECT_GE(after.sum_us, before.sum_us);
    EXPECT_GE(after.quantile_upper_bound_us(0.99), after.quantile_upper_bound_us(0.5));
}

WEIR_TEST(LoopStats, LagProbeSamplesAnIdleLoop) {
    // Even without user timers the loop samples its own lag periodically.
    const auto before = stats0().loop_lag_us.count;
    const auto give_up = weir::Clock::now() + 10s;
    weir::Event never;
    while (stats0().loop_lag_us.count == before && weir::Clock::now() < give_up) {
        try {
            co_await weir::with_timeout(50ms, weir::as_task(never.wait()));
        } catch (const weir::TimeoutError&) {
        }
    }
    EXPECT_GT(stats0().loop_lag_us.count, before);
}

TEST(Histogram, BucketsArePowersOfTwoMicroseconds) {
    weir::Histogram h;
    for (std::uint64_t v : {0u, 1u, 2u, 3u, 4u, 5u, 8u, 9u, 1000u}) h.record(v);
    h.record(std::uint64_t{1} << 40);  // beyond the last bound: +Inf
    const auto s = h.snapshot();
    EXPECT_EQ(s.count, 10u);
    EXPECT_EQ(s.buckets[0], 2u);   // 0, 1 (le 1)
    EXPECT_EQ(s.buckets[1], 1u);   // 2 (le 2)
    EXPECT_EQ(s.buckets[2], 2u);   // 3, 4 (le 4)
    EXPECT_EQ(s.buckets[3], 2u);   // 5, 8 (le 8)
    EXPECT_EQ(s.buckets[4], 1u);   // 9 (le 16)
    EXPECT_EQ(s.buckets[10], 1u);  // 1000 (le 1024)
    EXPECT_EQ(s.buckets[weir::Histogram::kBuckets - 1], 1u);
    EXPECT_EQ(s.sum_us, 0u + 1 + 2 + 3 + 4 + 5 + 8 + 9 + 1000 + (std::uint64_t{1} << 40));
    EXPECT_EQ(s.quantile_upper_bound_us(0.5), 4u);
    EXPECT_EQ(weir::Histogram::Snapshot{}.quantile_upper_bound_us(0.5), 0u);
}

// A resume that holds the loop longer than the threshold is reported with
// the task's name and how long it took, also when the task finished in it.
TEST(LoopStats, SlowCallbackIsReportedWithTaskName) {
    std::vector<weir::SlowCallback> reports;
    weir::RuntimeOptions opts;
    opts.shards = 1;
    opts.worker_threads = 1;
    opts.slow_callback_threshold = 5ms;
    opts.on_slow_callback = [&](const weir::SlowCallback& s) { reports.push_back(s); };
    weir::Runtime rt(opts);
    rt.run([]() -> weir::Task<void> {
        co_await weir::task_group([](weir::TaskGroup& g) -> weir::Task<> {
            g.spawn(hog_then_finish().named("hog-finish"));
            co_return;
        });
        co_await weir::task_group([](weir::TaskGroup& g) -> weir::Task<> {
            g.spawn(hog_then_continue(), "hog-continue");  // name given at spawn
            co_return;
        });
    }());
    auto find = [&](const std::string& name) -> const weir::SlowCallback* {
        for (auto& r : reports)
            if (r.task_name == name) return &r;
        return nullptr;
    };
    const auto* finish = find("hog-finish");
    ASSERT_NE(finish, nullptr);
    EXPECT_GE(finish->duration, 20ms);
    EXPECT_EQ(finish->shard, 0u);
    const auto* cont = find("hog-continue");
    ASSERT_NE(cont, nullptr);
    EXPECT_GE(cont->duration, 20ms);

    const auto stats = rt.stats(0);
    EXPECT_GE(stats.slow_callbacks, 2u);
    EXPECT_EQ(stats.slow_callbacks, reports.size());
    bool in_recent = false;
    for (auto& r : stats.recent_slow)
        if (r.task_name == "hog-finish") in_recent = true;
    EXPECT_TRUE(in_recent);
    EXPECT_TRUE(rt.check_leaks().clean());
}

TEST(LoopStats, FastCallbacksAreNotReported) {
    std::vector<weir::SlowCallback> reports;
    weir::RuntimeOptions opts;
    opts.shards = 1;
    opts.worker_threads = 1;
    opts.slow_callback_threshold = 10s;
    opts.on_slow_callback = [&](const weir::SlowCallback& s) { reports.push_back(s); };
    weir::Runtime rt(opts);
    rt.run([]() -> weir::Task<void> {
        co_await weir::task_group([](weir::TaskGroup& g) -> weir::Task<> {
            g.spawn(hog_then_finish().named("not-slow-enough"));
            co_return;
        });
    }());
    EXPECT_TRUE(reports.empty());
    EXPECT_EQ(rt.stats(0).slow_callbacks, 0u);
}

// check_leaks() sees a timer left armed (here a raw runtime timer, which
// no structured code would leave behind) until it is removed.
TEST(LoopStats, CheckLeaksReportsAnArmedTimer) {
    weir::RuntimeOptions opts;
    opts.shards = 1;
    opts.worker_threads = 1;
    weir::Runtime rt(opts);
    weir::detail::Timer raw;
    raw.fire = [](weir::detail::Timer*) noexcept { ADD_FAILURE() << "the raw timer fired"; };
    raw.when = weir::Clock::now() + 1h;
    rt.run([](weir::detail::Timer& t) -> weir::Task<void> {
        weir::Runtime::current()->loop(0).add_timer(&t);
        co_await weir::sleep_for(1ms);  // the stats copy is refreshed when the loop polls
        EXPECT_EQ(weir::Runtime::current()->stats(0).user_timers, 1u);
    }(raw));
    auto leaks = rt.check_leaks();
    EXPECT_EQ(leaks.user_timers, 1u);
    EXPECT_EQ(leaks.tasks, 0u);
    EXPECT_FALSE(leaks.clean());
    rt.run_on_shard_blocking(0, [&] { rt.loop(0).remove_timer(&raw); });
    leaks = rt.check_leaks();
    EXPECT_EQ(leaks.user_timers, 0u);
    EXPECT_TRUE(leaks.clean());
}

// Internal timers (the lag probe, deadlines' own bookkeeping) are not
// counted as user timers.
TEST(LoopStats, InternalTimersAreNotCounted) {
    weir::RuntimeOptions opts;
    opts.shards = 1;
    opts.worker_threads = 1;
    weir::Runtime rt(opts);
    weir::detail::Timer raw;
    raw.internal = true;
    raw.fire = [](weir::detail::Timer*) noexcept {};
    raw.when = weir::Clock::now() + 1h;
    rt.run_on_shard_blocking(0, [&] { rt.loop(0).add_timer(&raw); });
    EXPECT_EQ(rt.check_leaks().user_timers, 0u);
    rt.run_on_shard_blocking(0, [&] { rt.loop(0).remove_timer(&raw); });
}

// check_leaks() sees a coroutine frame that is still alive.
TEST(LoopStats, CheckLeaksReportsALiveFrame) {
    weir::RuntimeOptions opts;
    opts.shards = 1;
    opts.worker_threads = 1;
    weir::Runtime rt(opts);
    const auto base = rt.check_leaks().frames;
    {
        // Lazy tasks: frames, not running tasks. (Kept in a vector so the
        // compiler cannot elide the frame allocations.)
        std::vector<weir::Task<void>> never_awaited;
        never_awaited.push_back(sleep_long());
        never_awaited.push_back(sleep_long());
        EXPECT_EQ(rt.check_leaks().frames, base + 2);
        EXPECT_EQ(rt.check_leaks().tasks, 0u);
        EXPECT_FALSE(rt.check_leaks().clean());
    }
    EXPECT_EQ(rt.check_leaks().frames, base);
}

// The leak check sums over shards: a task left on shard 1 is seen from 0.
TEST(LoopStats, MultiShardCheckLeaksSumsOverShards) {
    weir::RuntimeOptions opts;
    opts.shards = 2;
    opts.worker_threads = 1;
    weir::Runtime rt(opts);
    weir::detail::Timer raw;
    raw.fire = [](weir::detail::Timer*) noexcept {};
    raw.when = weir::Clock::now() + 1h;
    rt.run_on_shard_blocking(1, [&] { rt.loop(1).add_timer(&raw); });
    EXPECT_EQ(rt.check_leaks().user_timers, 1u);
    rt.run_on_shard_blocking(1, [&] { rt.loop(1).remove_timer(&raw); });
    EXPECT_TRUE(rt.check_leaks().clean());
    // And per-shard stats are per shard.
    rt.run([]() -> weir::Task<void> {
        co_await weir::submit_to(1, []() -> weir::Task<void> {
            co_await weir::when_all(weir::as_task(weir::yield()), weir::as_task(weir::yield()));
        });
    }());
    EXPECT_EQ(rt.stats(1).shard, 1u);
    EXPECT_EQ(rt.stats(1).tasks_started, 3u);  // the remote task and its two children
    EXPECT_EQ(rt.stats(1).tasks_alive, 0u);
    EXPECT_TRUE(rt.check_leaks().clean());
}
