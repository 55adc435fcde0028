// Timers: sleep_for / sleep_until / yield, 100k concurrent sleeps firing in
// deadline order, cancellation removing timers, and the user_timers count.
#include <random>
#include <vector>

#include <weir/core.hpp>
#include <weir/testing/async_test.hpp>

using namespace std::chrono_literals;

namespace {

std::size_t armed_timers() {
    return weir::Runtime::current()->loop(weir::this_shard()).user_timers();
}

weir::Task<void> sleep_and_record(weir::TimePoint when, std::vector<int>& order, int id) {
    co_await weir::sleep_until(when);
    order.push_back(id);
}

weir::Task<void> sleep_counting_cancel(weir::TimePoint when, std::vector<int>& order,
                                       int& cancelled, int id) {
    try {
        co_await weir::sleep_until(when);
    } catch (const weir::Cancelled& c) {
        EXPECT_EQ(c.reason(), weir::CancelReason::user);
        ++cancelled;
        throw;
    }
    order.push_back(id);
}

std::vector<weir::TimePoint> random_deadlines(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> offset_us(0, 150'000);
    const weir::TimePoint base = weir::Clock::now() + 10ms;
    std::vector<weir::TimePoint> out(n);
    for (auto& d : out) d = base + std::chrono::microseconds(offset_us(rng));
    return out;
}

// Every completion came no earlier than the one before it, by deadline.
void expect_deadline_order(const std::vector<int>& order,
                           const std::vector<weir::TimePoint>& deadlines) {
    std::size_t inversions = 0;
    for (std::size_t k = 1; k < order.size(); ++k) {
        if (deadlines[static_cast<std::size_t>(order[k])] <
            deadlines[static_cast<std::size_t>(order[k - 1])])
            ++inversions;
    }
    EXPECT_EQ(inversions, 0u) << "sleeps completed out of deadline order";
}

}  // namespace

WEIR_TEST(Timer, SleepForWaitsAtLeastTheDuration) {
    const auto start = weir::Clock::now();
    co_await weir::sleep_for(5ms);
    EXPECT_GE(weir::Clock::now() - start, 5ms);
    EXPECT_EQ(armed_timers(), 0u);
}

WEIR_TEST(Timer, ZeroAndPastDeadlinesComplete) {
    co_await weir::sleep_for(0ms);
    co_await weir::sleep_for(-5ms);
    co_await weir::sleep_until(weir::Clock::now() - 1s);
    co_await weir::sleep_until(weir::TimePoint{});
    EXPECT_EQ(armed_timers(), 0u);
}

WEIR_TEST(Timer, ShorterSleepFinishesFirst) {
    std::vector<int> order;
    const auto now = weir::Clock::now();
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn(sleep_and_record(now + 30ms, order, 3));
        g.spawn(sleep_and_record(now + 10ms, order, 1));
        g.spawn(sleep_and_record(now + 20ms, order, 2));
        g.spawn(sleep_and_record(now, order, 0));
        co_return;
    });
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

WEIR_TEST(Timer, CancelledSleepDisarmsItsTimerAtOnce) {
    std::vector<int> order;
    int cancelled = 0;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto h = g.spawn(sleep_counting_cancel(weir::Clock::now() + 1h, order, cancelled, 1));
        co_await weir::yield();
        co_await weir::yield();
        EXPECT_EQ(armed_timers(), 1u);
        h.cancel();
        EXPECT_EQ(armed_timers(), 0u);  // removed by cancel(), not at resume
        co_return;
    });
    EXPECT_EQ(cancelled, 1);
    EXPECT_TRUE(order.empty());
}

WEIR_TEST(Timer, SleepInCancelledTaskThrowsWithoutArming) {
    std::vector<int> order;
    int cancelled = 0;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto h = g.spawn(sleep_counting_cancel(weir::Clock::now() + 1h, order, cancelled, 1));
        h.cancel();
        co_return;
    });
    EXPECT_EQ(cancelled, 1);
    EXPECT_EQ(armed_timers(), 0u);
}

WEIR_TEST(Timer, YieldLetsOthersRunInRoundRobin) {
    std::vector<int> trace;
    auto worker = [](std::vector<int>& t, int id) -> weir::Task<> {
        for (int i = 0; i < 3; ++i) {
            t.push_back(id);
            co_await weir::yield();
        }
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn(worker(trace, 1));
        g.spawn(worker(trace, 2));
        co_return;
    });
    EXPECT_EQ(trace, (std::vector<int>{1, 2, 1, 2, 1, 2}));
}

WEIR_TEST(Timer, HundredThousandSleepsCompleteInDeadlineOrder) {
    constexpr std::size_t kSleeps = 100'000;
    const auto deadlines = random_deadlines(kSleeps, 20240601);
    std::vector<int> order;
    order.reserve(kSleeps);
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        for (std::size_t i = 0; i < kSleeps; ++i)
            g.spawn(sleep_and_record(deadlines[i], order, static_cast<int>(i)));
        co_await weir::yield();  // every child has armed its timer by now
        EXPECT_EQ(armed_timers(), kSleeps);
        EXPECT_TRUE(order.empty());
    });
    EXPECT_EQ(order.size(), kSleeps);
    expect_deadline_order(order, deadlines);
    EXPECT_EQ(armed_timers(), 0u);
    // The stats copy is refreshed when the loop polls: a sleep ensures one.
    co_await weir::sleep_for(0ms);
    auto stats = weir::Runtime::current()->stats(0);
    EXPECT_EQ(stats.user_timers, 0u);
    EXPECT_GE(stats.loop_lag_us.count, kSleeps);  // every firing was sampled
}

WEIR_TEST(Timer, CancellingHalfOfHundredThousandSleeps) {
    constexpr std::size_t kSleeps = 100'000;
    const auto deadlines = random_deadlines(kSleeps, 7);
    std::vector<int> order;
    order.reserve(kSleeps);
    int cancelled = 0;
    std::vector<weir::JoinHandle<void>> handles;
    handles.reserve(kSleeps);
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        for (std::size_t i = 0; i < kSleeps; ++i)
            handles.push_back(g.spawn(
                sleep_counting_cancel(deadlines[i], order, cancelled, static_cast<int>(i))));
        co_await weir::yield();
        EXPECT_EQ(armed_timers(), kSleeps);
        for (std::size_t i = 1; i < kSleeps; i += 2) handles[i].cancel();
        EXPECT_EQ(armed_timers(), kSleeps / 2);
        co_await weir::sleep_for(0ms);
        // Some sleeps may have fired meanwhile; the stats copy, refreshed
        // whenever the loop polls (as it did to fire our sleep), agrees with
        // the live count.
        EXPECT_LE(armed_timers(), kSleeps / 2);
        EXPECT_EQ(weir::Runtime::current()->stats(0).user_timers, armed_timers());
        co_return;
    });
    EXPECT_EQ(cancelled, static_cast<int>(kSleeps / 2));
    EXPECT_EQ(order.size(), kSleeps / 2);
    for (int id : order) EXPECT_EQ(id % 2, 0) << "a cancelled sleep completed";
    expect_deadline_order(order, deadlines);
    for (std::size_t i = 0; i < kSleeps; ++i) {
        EXPECT_TRUE(handles[i].done());
        EXPECT_EQ(handles[i].cancelled(), i % 2 == 1);
    }
    handles.clear();
    EXPECT_EQ(armed_timers(), 0u);
    co_await weir::sleep_for(0ms);
    EXPECT_EQ(weir::Runtime::current()->stats(0).user_timers, 0u);
}

WEIR_TEST(Timer, TimeoutDisarmsItsDeadlineWhenWorkFinishesFirst) {
    co_await weir::with_timeout(1h, weir::as_task(weir::sleep_for(1ms)));
    EXPECT_EQ(armed_timers(), 0u);
}

WEIR_TEST_SHARDS(Timer, MultiShardSleepsOnEveryShard, 2) {
    auto results = co_await weir::on_all_shards([]() -> weir::Task<unsigned> {
        co_await weir::sleep_for(2ms);
        co_return weir::this_shard();
    });
    EXPECT_EQ(results, (std::vector<unsigned>{0, 1}));
}
