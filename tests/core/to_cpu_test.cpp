// to_cpu: values, void, exceptions, which thread computes and where the task
// resumes, the threads' scheduling class, cancellation while queued (the
// computation is withdrawn) and while running (the task waits, then throws
// Cancelled), a full queue (callers wait for room), and many computations
// from two shards at once.
//
// Every test here uses other threads: the suite name contains "Thread" so the
// TSan stage runs them all.
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <weir/core.hpp>
#include <weir/testing/async_test.hpp>

#include "thread_test_util.hpp"

using namespace std::chrono_literals;
using weir_test::loop_wait_count;
using weir_test::wait_for_flag;

namespace {

class ComputeError : public std::runtime_error {
public:
    explicit ComputeError(int code) : std::runtime_error("compute"), code_(code) {}
    int code() const noexcept { return code_; }

private:
    int code_;
};

// Keeps one CPU thread busy until `release` is set.
weir::Task<void> occupy_cpu_thread(std::atomic<int>& started, std::atomic<bool>& release) {
    auto fn = [&] {
        started.fetch_add(1, std::memory_order_acq_rel);
        EXPECT_TRUE(wait_for_flag(release));
    };
    co_await weir::to_cpu(std::move(fn));
}

struct Outcome {
    std::optional<int> value;
    bool cancelled = false;
    bool fn_finished_before_resume = false;
};

weir::Task<void> gated_computation(std::atomic<int>& started, std::atomic<bool>& release,
                                   std::atomic<bool>& finished, Outcome& out) {
    auto fn = [&] {
        started.fetch_add(1, std::memory_order_acq_rel);
        EXPECT_TRUE(wait_for_flag(release));
        finished.store(true, std::memory_order_release);
        return 42;
    };
    try {
        out.value = co_await weir::to_cpu(std::move(fn));
    } catch (const weir::Cancelled& c) {
        out.cancelled = true;
        EXPECT_EQ(c.reason(), weir::CancelReason::user);
        out.fn_finished_before_resume = finished.load(std::memory_order_acquire);
        throw;
    }
}

std::string thread_name() {
    char name[32] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    return name;
}

}  // namespace

WEIR_TEST(ToCpuThread, ReturnsValuesAndRunsVoidComputations) {
    auto square = [] { return 12 * 12; };
    EXPECT_EQ(co_await weir::to_cpu(square), 144);
    auto text = [] { return std::string(1000, 'x'); };
    EXPECT_EQ((co_await weir::to_cpu(text)).size(), 1000u);
    int effect = 0;
    auto set = [&] { effect = 7; };
    co_await weir::to_cpu(set);
    EXPECT_EQ(effect, 7);
}

WEIR_TEST(ToCpuThread, PropagatesExceptionsWithTheirType) {
    auto fail = []() -> int { throw ComputeError(17); };
    int code = 0;
    try {
        co_await weir::to_cpu(fail);
    } catch (const ComputeError& e) {
        code = e.code();
    }
    EXPECT_EQ(code, 17);
}

WEIR_TEST_SHARDS(ToCpuThread, ComputesOnACpuThreadAndResumesOnTheCallingShard, 2) {
    auto on_shard_one = []() -> weir::Task<void> {
        const auto shard_thread = std::this_thread::get_id();
        auto where = [] { return std::pair{std::this_thread::get_id(), thread_name()}; };
        auto [computed_on, name] = co_await weir::to_cpu(where);
        EXPECT_NE(computed_on, shard_thread);
        EXPECT_EQ(name, "weir-cpu");
        EXPECT_EQ(std::this_thread::get_id(), shard_thread);
        EXPECT_EQ(weir::this_shard(), 1u);
    };
    co_await weir::submit_to(1, on_shard_one);
}

// The default: the shards win every contended core (SCHED_IDLE).
WEIR_TEST(ToCpuThread, ComputesAtBackgroundPriorityByDefault) {
    auto policy = [] { return sched_getscheduler(0); };
    EXPECT_EQ(co_await weir::to_cpu(policy), SCHED_IDLE);
    EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);  // the shard itself is untouched
}

TEST(ToCpuThread, LowAndNormalPrioritiesAreApplied) {
    for (auto priority : {weir::CpuPriority::low, weir::CpuPriority::normal}) {
        weir::RuntimeOptions opts;
        opts.shards = 1;
        opts.cpu_threads = 1;
        opts.cpu_priority = priority;
        const int shard_nice = getpriority(PRIO_PROCESS, 0);
        weir::testing::run_async_test_with(opts, [priority, shard_nice]() -> weir::Task<void> {
            auto seen = [] {
                return std::pair{
                    sched_getscheduler(0),
                    getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)))};
            };
            auto [policy, nice] = co_await weir::to_cpu(seen);
            EXPECT_EQ(policy, SCHED_OTHER);
            EXPECT_EQ(nice, priority == weir::CpuPriority::low ? 19 : shard_nice);
        });
    }
}

// All CPU threads compute at once: three computations that each wait for the
// other two can only finish on three threads.
TEST(ToCpuThread, WholePoolComputesConcurrently) {
    weir::RuntimeOptions opts;
    opts.shards = 1;
    opts.cpu_threads = 3;
    opts.cpu_priority = weir::CpuPriority::normal;
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
        auto [a, b, c] = co_await weir::when_all(weir::to_cpu(rendezvous), weir::to_cpu(rendezvous),
                                                 weir::to_cpu(rendezvous));
        EXPECT_TRUE(a && b && c);
    });
}

// Queued behind busy threads, then cancelled: withdrawn at once, never runs.
WEIR_TEST(ToCpuThread, CancelWhileQueuedWithdrawsTheComputation) {
    std::atomic<int> started{0};
    std::atomic<bool> release{false};
    std::atomic<int> queued_started{0};
    std::atomic<bool> never{false};
    std::atomic<bool> queued_finished{false};
    Outcome out;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        // The test runtime has 2 CPU threads: occupy both.
        g.spawn(occupy_cpu_thread(started, release));
        g.spawn(occupy_cpu_thread(started, release));
        const bool both_busy = co_await loop_wait_count(started, 2);
        EXPECT_TRUE(both_busy);
        auto h = g.spawn(gated_computation(queued_started, never, queued_finished, out));
        co_await weir::yield();
        co_await weir::yield();  // submitted, waiting in the queue
        EXPECT_FALSE(h.done());
        h.cancel();
        co_await weir::yield();
        co_await weir::yield();
        EXPECT_TRUE(h.done());  // did not wait for a thread to free up
        EXPECT_TRUE(h.cancelled());
        release.store(true, std::memory_order_release);
    });
    EXPECT_TRUE(out.cancelled);
    EXPECT_FALSE(out.value.has_value());
    // The threads are free again and pass over the withdrawn job (and free it:
    // ASan would report it otherwise).
    auto five = [] { return 5; };
    auto six = [] { return 6; };
    EXPECT_EQ(co_await weir::to_cpu(five), 5);
    EXPECT_EQ(co_await weir::to_cpu(six), 6);
    EXPECT_EQ(queued_started.load(), 0);
}

// Running when cancelled: the task waits for the computation, discards its
// result and throws Cancelled.
WEIR_TEST(ToCpuThread, CancelWhileRunningWaitsForTheComputationThenThrows) {
    std::atomic<int> started{0};
    std::atomic<bool> release{false};
    std::atomic<bool> finished{false};
    Outcome out;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto h = g.spawn(gated_computation(started, release, finished, out));
        const bool running = co_await loop_wait_count(started, 1);
        EXPECT_TRUE(running);
        h.cancel();
        for (int i = 0; i < 5; ++i) co_await weir::sleep_for(1ms);
        EXPECT_FALSE(h.done()) << "the task must wait for the running computation";
        release.store(true, std::memory_order_release);
    });
    EXPECT_TRUE(finished.load());
    EXPECT_TRUE(out.cancelled);
    EXPECT_TRUE(out.fn_finished_before_resume);
    EXPECT_FALSE(out.value.has_value());
}

WEIR_TEST(ToCpuThread, CancelledBeforeItStartsNeverComputes) {
    std::atomic<int> started{0};
    std::atomic<bool> release{true};
    std::atomic<bool> finished{false};
    Outcome out;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto h = g.spawn(gated_computation(started, release, finished, out));
        h.cancel();
        co_return;
    });
    EXPECT_TRUE(out.cancelled);
    EXPECT_EQ(started.load(), 0);
}

// A queue of 2 and one thread: 50 callers at once all get their results,
// those that found the queue full after waiting for room.
TEST(ToCpuThread, CallersWaitForRoomWhenTheQueueIsFull) {
    weir::RuntimeOptions opts;
    opts.shards = 1;
    opts.cpu_threads = 1;
    opts.cpu_queue = 2;
    weir::testing::run_async_test_with(opts, []() -> weir::Task<void> {
        std::vector<weir::Task<int>> calls;
        for (int i = 0; i < 50; ++i) {
            auto fn = [i] {
                std::this_thread::sleep_for(100us);
                return i * 3;
            };
            calls.push_back(weir::to_cpu(std::move(fn)));
        }
        auto results = co_await weir::when_all(std::move(calls));
        bool all_right = results.size() == 50;
        for (int i = 0; i < 50 && all_right; ++i)
            all_right = results[static_cast<std::size_t>(i)] == i * 3;
        EXPECT_TRUE(all_right);
    });
}

// Both shards submit and collect hundreds of computations at once (TSan
// checks the queue, the wake-ups and the lock-free hand-off back).
TEST(ToCpuThread, ManyComputationsFromTwoShardsMultiShard) {
    weir::RuntimeOptions opts;
    opts.shards = 2;
    opts.cpu_threads = 2;
    weir::testing::run_async_test_with(opts, []() -> weir::Task<void> {
        auto burst = []() -> weir::Task<long> {
            std::vector<weir::Task<long>> calls;
            for (long i = 0; i < 400; ++i) {
                auto fn = [i] {
                    long x = 0;
                    for (long k = 0; k <= i; ++k) x += k;
                    return x;
                };
                calls.push_back(weir::to_cpu(std::move(fn)));
            }
            auto results = co_await weir::when_all(std::move(calls));
            long sum = 0;
            for (long r : results) sum += r;
            co_return sum;
        };
        auto mine = burst();
        auto theirs = weir::submit_to(1, burst);
        auto [a, b] = co_await weir::when_all(std::move(mine), std::move(theirs));
        long want = 0;
        for (long i = 0; i < 400; ++i) want += i * (i + 1) / 2;
        EXPECT_EQ(a, want);
        EXPECT_EQ(b, want);
    });
}
