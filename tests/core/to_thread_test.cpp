// to_thread: values, void, exceptions, which thread runs the call and where
// the task resumes, the pool bound, and cancellation while queued (the call
// is withdrawn) and while running (the task waits, then throws Cancelled).
//
// Every test here uses worker threads: the suite name contains "ToThread"
// so the TSan stage runs them all.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <weir/core.hpp>
#include <weir/testing/async_test.hpp>

#include "thread_test_util.hpp"

using namespace std::chrono_literals;
using weir_test::loop_wait_count;
using weir_test::wait_for_flag;

namespace {

class CustomError : public std::runtime_error {
public:
    explicit CustomError(int code) : std::runtime_error("custom"), code_(code) {}
    int code() const noexcept { return code_; }

private:
    int code_;
};

// Blocks one worker until `release` is set.
weir::Task<void> block_worker(std::atomic<int>& started, std::atomic<bool>& release) {
    co_await weir::to_thread([&] {
        started.fetch_add(1, std::memory_order_acq_rel);
        EXPECT_TRUE(wait_for_flag(release));
    });
}

struct CallOutcome {
    std::optional<int> value;
    bool cancelled = false;
    bool fn_finished_before_resume = false;
};

// A to_thread call whose function waits for `release` and then returns 42.
weir::Task<void> blocking_call(std::atomic<int>& started, std::atomic<bool>& release,
                               std::atomic<bool>& ran, std::atomic<bool>& finished,
                               CallOutcome& out) {
    try {
        out.value = co_await weir::to_thread([&] {
            ran.store(true, std::memory_order_release);
            started.fetch_add(1, std::memory_order_acq_rel);
            EXPECT_TRUE(wait_for_flag(release));
            finished.store(true, std::memory_order_release);
            return 42;
        });
    } catch (const weir::Cancelled& c) {
        out.cancelled = true;
        EXPECT_EQ(c.reason(), weir::CancelReason::user);
        out.fn_finished_before_resume = finished.load(std::memory_order_acquire);
        throw;
    }
}

}  // namespace

WEIR_TEST(ToThread, ReturnsValues) {
    int i = co_await weir::to_thread([] { return 6 * 7; });
    EXPECT_EQ(i, 42);
    std::string s = co_await weir::to_thread([] { return std::string(1000, 'x'); });
    EXPECT_EQ(s.size(), 1000u);
    auto p = co_await weir::to_thread([] { return std::make_unique<int>(9); });
    EXPECT_EQ(*p, 9);
    // Locals captured by reference are safe: the task waits for the call.
    std::vector<int> v{1, 2, 3};
    int sum = co_await weir::to_thread([&] { return v[0] + v[1] + v[2]; });
    EXPECT_EQ(sum, 6);
}

WEIR_TEST(ToThread, VoidCallsHaveTheirEffectsVisibleAfterwards) {
    std::vector<int> out;
    co_await weir::to_thread([&] {
        for (int k = 0; k < 100; ++k) out.push_back(k);
    });
    EXPECT_EQ(out.size(), 100u);
    EXPECT_EQ(out.back(), 99);
}

WEIR_TEST(ToThread, PropagatesExceptions) {
    bool caught = false;
    try {
        co_await weir::to_thread([]() -> int { throw CustomError(17); });
    } catch (const CustomError& e) {
        caught = true;
        EXPECT_EQ(e.code(), 17);
    }
    EXPECT_TRUE(caught);
    caught = false;
    try {
        co_await weir::to_thread([] { throw std::out_of_range("void call failed"); });
    } catch (const std::out_of_range& e) {
        caught = true;
        EXPECT_STREQ(e.what(), "void call failed");
    }
    EXPECT_TRUE(caught);
    // The task is fine afterwards.
    EXPECT_EQ(co_await weir::to_thread([] { return 1; }), 1);
}

WEIR_TEST(ToThread, RunsOnAWorkerAndResumesOnTheCallingThread) {
    const auto loop_thread = std::this_thread::get_id();
    const auto worker_thread = co_await weir::to_thread([] { return std::this_thread::get_id(); });
    EXPECT_NE(worker_thread, loop_thread);
    EXPECT_EQ(std::this_thread::get_id(), loop_thread);
    EXPECT_EQ(weir::this_shard(), 0u);
    // The worker has no event loop of its own.
    const bool worker_has_loop =
        co_await weir::to_thread([] { return weir::detail::EventLoop::current() != nullptr; });
    EXPECT_FALSE(worker_has_loop);
    const bool worker_has_runtime =
        co_await weir::to_thread([] { return weir::Runtime::current() != nullptr; });
    EXPECT_FALSE(worker_has_runtime);
}

WEIR_TEST_SHARDS(ToThread, ResumesOnTheCallingShardFromShardOne, 2) {
    const auto shard0_thread = std::this_thread::get_id();
    struct Seen {
        unsigned shard_before, shard_after;
        std::thread::id before, worker, after;
    };
    Seen seen = co_await weir::submit_to(1, []() -> weir::Task<Seen> {
        Seen s{};
        s.shard_before = weir::this_shard();
        s.before = std::this_thread::get_id();
        s.worker = co_await weir::to_thread([] { return std::this_thread::get_id(); });
        s.shard_after = weir::this_shard();
        s.after = std::this_thread::get_id();
        co_return s;
    });
    EXPECT_EQ(seen.shard_before, 1u);
    EXPECT_EQ(seen.shard_after, 1u);
    EXPECT_EQ(seen.before, seen.after);
    EXPECT_NE(seen.before, shard0_thread);
    EXPECT_NE(seen.worker, seen.before);
    EXPECT_NE(seen.worker, shard0_thread);
}

TEST(ToThread, ConcurrencyIsBoundedByThePoolSize) {
    weir::RuntimeOptions opts;
    opts.shards = 1;
    opts.worker_threads = 3;
    weir::testing::run_async_test_with(opts, []() -> weir::Task<void> {
        std::atomic<int> current{0};
        std::atomic<int> max_seen{0};
        std::atomic<int> calls{0};
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
            for (int i = 0; i < 40; ++i) {
                g.spawn(weir::to_thread([&] {
                    const int now = current.fetch_add(1) + 1;
                    int prev = max_seen.load();
                    while (prev < now && !max_seen.compare_exchange_weak(prev, now)) {
                    }
                    std::this_thread::sleep_for(1ms);
                    calls.fetch_add(1);
                    current.fetch_sub(1);
                }));
            }
            co_return;
        });
        EXPECT_EQ(calls.load(), 40);
        EXPECT_GE(max_seen.load(), 1);
        EXPECT_LE(max_seen.load(), 3);
        EXPECT_EQ(current.load(), 0);
    });
}

// All pool threads really run at once: three calls that each wait for the
// other two can only finish if three workers run them concurrently.
TEST(ToThread, WholePoolRunsConcurrently) {
    weir::RuntimeOptions opts;
    opts.shards = 1;
    opts.worker_threads = 3;
    weir::testing::run_async_test_with(opts, []() -> weir::Task<void> {
        std::atomic<int> arrived{0};
        auto rendezvous = [&] {
            arrived.fetch_add(1);
            const auto give_up = std::chrono::steady_clock::now() + 20s;
            while (arrived.load() < 3) {
                if (std::chrono::steady_clock::now() > give_up) return false;
                std::this_thread::sleep_for(100us);
            }
            return true;
        };
        auto [a, b, c] = co_await weir::when_all(
            weir::to_thread(rendezvous), weir::to_thread(rendezvous), weir::to_thread(rendezvous));
        EXPECT_TRUE(a && b && c);
    });
}

WEIR_TEST(ToThread, ThousandConcurrentCallsAllReturn) {
    std::vector<weir::Task<int>> calls;
    for (int i = 0; i < 1000; ++i) calls.push_back(weir::to_thread([i] { return i * 2; }));
    auto results = co_await weir::when_all(std::move(calls));
    EXPECT_EQ(results.size(), 1000u);
    bool all_right = true;
    for (int i = 0; i < 1000; ++i)
        if (results[static_cast<std::size_t>(i)] != i * 2) all_right = false;
    EXPECT_TRUE(all_right);
}

// Queued behind busy workers, then cancelled: withdrawn, never runs.
WEIR_TEST(ToThread, CancelWhileQueuedWithdrawsTheCall) {
    // The default test runtime has 2 workers: block both.
    std::atomic<int> started{0};
    std::atomic<bool> release{false};
    std::atomic<int> queued_started{0};
    std::atomic<bool> queued_ran{false};
    std::atomic<bool> queued_finished{false};
    std::atomic<bool> never{false};
    CallOutcome out;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn(block_worker(started, release));
        g.spawn(block_worker(started, release));
        const bool both_busy = co_await loop_wait_count(started, 2);
        EXPECT_TRUE(both_busy);
        auto h = g.spawn(blocking_call(queued_started, never, queued_ran, queued_finished, out));
        co_await weir::yield();
        co_await weir::yield();  // the call is submitted and waits in the queue
        EXPECT_FALSE(h.done());
        h.cancel();
        co_await weir::yield();
        co_await weir::yield();
        // Resumed at once: it did not wait for a worker to free up.
        EXPECT_TRUE(h.done());
        EXPECT_TRUE(h.cancelled());
        release.store(true, std::memory_order_release);
    });
    EXPECT_TRUE(out.cancelled);
    EXPECT_FALSE(out.value.has_value());
    // The workers are free now; had the call stayed queued, one would run it.
    EXPECT_EQ(co_await weir::to_thread([] { return 5; }), 5);
    EXPECT_EQ(co_await weir::to_thread([] { return 6; }), 6);
    EXPECT_FALSE(queued_ran.load());
    EXPECT_EQ(queued_started.load(), 0);
}

// Running when cancelled: the task waits for the call to return, discards
// its result and throws Cancelled.
WEIR_TEST(ToThread, CancelWhileRunningWaitsForTheCallThenThrows) {
    std::atomic<int> started{0};
    std::atomic<bool> release{false};
    std::atomic<bool> ran{false};
    std::atomic<bool> finished{false};
    CallOutcome out;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto h = g.spawn(blocking_call(started, release, ran, finished, out));
        const bool running = co_await loop_wait_count(started, 1);
        EXPECT_TRUE(running);
        h.cancel();
        for (int i = 0; i < 5; ++i) co_await weir::sleep_for(1ms);
        EXPECT_FALSE(h.done()) << "the task must wait for the running call";
        EXPECT_FALSE(out.cancelled);
        release.store(true, std::memory_order_release);
    });
    EXPECT_TRUE(ran.load());
    EXPECT_TRUE(finished.load());
    EXPECT_TRUE(out.cancelled);
    EXPECT_TRUE(out.fn_finished_before_resume);
    EXPECT_FALSE(out.value.has_value());  // the 42 was discarded
}

WEIR_TEST(ToThread, CancelledBeforeTheCallNeverRunsIt) {
    std::atomic<int> started{0};
    std::atomic<bool> release{true};
    std::atomic<bool> ran{false};
    std::atomic<bool> finished{false};
    CallOutcome out;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto h = g.spawn(blocking_call(started, release, ran, finished, out));
        h.cancel();
        co_return;
    });
    EXPECT_TRUE(out.cancelled);
    EXPECT_FALSE(ran.load());
}

WEIR_TEST(ToThread, TimeoutAroundARunningCallWaitsForIt) {
    std::atomic<bool> started{false};
    std::atomic<bool> release{false};
    std::atomic<bool> finished{false};
    bool timed_out = false;
    bool finished_at_timeout = false;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        // Releases the call well after the timeout fired (or at once if the
        // call was still queued at the timeout, withdrawn and never started).
        g.spawn([](std::atomic<bool>& st, std::atomic<bool>& rel, bool& to) -> weir::Task<> {
            while (!st.load() && !to) co_await weir::sleep_for(200us);
            if (st.load()) co_await weir::sleep_for(30ms);
            rel.store(true, std::memory_order_release);
        }(started, release, timed_out));
        try {
            co_await weir::with_timeout(5ms, weir::to_thread([&] {
                                            started.store(true);
                                            EXPECT_TRUE(wait_for_flag(release));
                                            finished.store(true);
                                            return 1;
                                        }));
        } catch (const weir::TimeoutError&) {
            timed_out = true;
            finished_at_timeout = finished.load();
        }
    });
    EXPECT_TRUE(timed_out);
    // Started: the timeout waited for it. Still queued: withdrawn, never ran.
    if (started.load()) {
        EXPECT_TRUE(finished_at_timeout);
    } else {
        EXPECT_FALSE(finished.load());
    }
}

// A call finishing in the same turn as the cancellation arrives: whichever
// way the race goes, the task ends cleanly (value or Cancelled), nothing
// leaks, and the pool keeps working.
WEIR_TEST(ToThread, CancellationRacingCompletion) {
    int values = 0;
    int cancels = 0;
    for (int round = 0; round < 200; ++round) {
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
            auto h = g.spawn([](int& v, int& c) -> weir::Task<> {
                try {
                    int r = co_await weir::to_thread([] { return 3; });
                    EXPECT_EQ(r, 3);
                    ++v;
                } catch (const weir::Cancelled&) {
                    ++c;
                    throw;
                }
            }(values, cancels));
            for (int i = 0; i < round % 4; ++i) co_await weir::yield();
            h.cancel();
        });
    }
    EXPECT_EQ(values + cancels, 200);
}
