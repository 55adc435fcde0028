// Signals as awaitables: wait_for_signal on shard 0 and from another shard,
// several waiters, cancellation, the default policy for an unawaited
// SIGTERM (cancel main with reason shutdown, then terminate), and asking
// for a signal the runtime does not handle.
//
// Only the multi-shard test is named for the TSan stage; the others use
// one shard (the worker pool is idle).
#include <signal.h>
#include <unistd.h>

#include <functional>
#include <optional>
#include <stdexcept>
#include <vector>

#include <weir/core.hpp>
#include <weir/testing/async_test.hpp>

using namespace std::chrono_literals;

namespace {

weir::RuntimeOptions signal_options(unsigned shards = 1) {
    weir::RuntimeOptions opts;
    opts.shards = shards;
    opts.worker_threads = 1;
    opts.signals = {SIGINT, SIGTERM, SIGUSR1, SIGUSR2};
    return opts;
}

// wait_for_signal checks its list when called, so the braced list may be a
// temporary of the spawn() expression.
weir::Task<void> wait_into(weir::Task<int> wait, std::optional<int>& got) {
    got = co_await std::move(wait);
}

weir::Task<void> raise_after_yields(int sig, int yields = 2) {
    for (int i = 0; i < yields; ++i) co_await weir::yield();
    ::kill(::getpid(), sig);
}

}  // namespace

TEST(Signals, WaitForSignalReceivesIt) {
    weir::testing::run_async_test_with(signal_options(), []() -> weir::Task<void> {
        std::optional<int> got;
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
            g.spawn(wait_into(weir::wait_for_signal({SIGUSR1}), got));
            g.spawn(raise_after_yields(SIGUSR1));
            co_return;
        });
        EXPECT_EQ(got, SIGUSR1);
        // Again: the waiter registration is one-shot, a new wait works.
        got.reset();
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
            g.spawn(wait_into(weir::wait_for_signal({SIGUSR1, SIGUSR2}), got));
            g.spawn(raise_after_yields(SIGUSR2));
            co_return;
        });
        EXPECT_EQ(got, SIGUSR2);
    });
}

TEST(Signals, OnlyWaitersForThatSignalWakeAndAllOfThemDo) {
    weir::testing::run_async_test_with(signal_options(), []() -> weir::Task<void> {
        std::optional<int> a, b, c;
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
            g.spawn(wait_into(weir::wait_for_signal({SIGUSR1}), a));
            g.spawn(wait_into(weir::wait_for_signal({SIGUSR2}), b));
            g.spawn(wait_into(weir::wait_for_signal({SIGUSR1}), c));
            co_await weir::yield();
            co_await weir::yield();
            ::kill(::getpid(), SIGUSR1);
            while (!a || !c) co_await weir::sleep_for(1ms);
            EXPECT_FALSE(b.has_value());
            ::kill(::getpid(), SIGUSR2);
        });
        EXPECT_EQ(a, SIGUSR1);
        EXPECT_EQ(b, SIGUSR2);
        EXPECT_EQ(c, SIGUSR1);
    });
}

TEST(Signals, WaitIsCancellableAndLeavesNoWaiterBehind) {
    weir::testing::run_async_test_with(signal_options(), []() -> weir::Task<void> {
        bool timed_out = false;
        try {
            co_await weir::with_timeout(5ms, weir::wait_for_signal(SIGUSR1));
        } catch (const weir::TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        // Cancel one of two waiters; the other still gets the signal (and
        // the cancelled one, gone from the list, is not touched).
        std::optional<int> a, b;
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
            auto ha = g.spawn(wait_into(weir::wait_for_signal({SIGUSR1}), a));
            g.spawn(wait_into(weir::wait_for_signal({SIGUSR1}), b));
            co_await weir::yield();
            co_await weir::yield();
            ha.cancel();
            co_await weir::yield();
            ::kill(::getpid(), SIGUSR1);
        });
        EXPECT_FALSE(a.has_value());
        EXPECT_EQ(b, SIGUSR1);
    });
}

// Waiting from shard 1 goes through shard 0, which owns the signalfd.
TEST(Signals, MultiShardWaitFromShardOne) {
    weir::testing::run_async_test_with(signal_options(2), []() -> weir::Task<void> {
        auto* rt = weir::Runtime::current();
        const auto started_before = rt->stats(0).tasks_started;
        struct Got {
            int sig;
            unsigned shard;
        };
        Got got{0, 99};
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
            g.spawn([](Got& out) -> weir::Task<> {
                out = co_await weir::submit_to(1, []() -> weir::Task<Got> {
                    int sig = co_await weir::wait_for_signal(SIGUSR1);
                    co_return Got{sig, weir::this_shard()};
                });
            }(got));
            g.spawn([](weir::Runtime* r, std::uint64_t before) -> weir::Task<> {
                // Two tasks of this group, then the waiter that shard 1
                // forwards to shard 0: once it is started it is queued
                // ahead of us, and one more yield lets it register.
                const auto give_up = weir::Clock::now() + 20s;
                while (r->stats(0).tasks_started < before + 3 && weir::Clock::now() < give_up)
                    co_await weir::sleep_for(200us);
                EXPECT_GE(r->stats(0).tasks_started, before + 3);
                co_await weir::yield();
                co_await weir::yield();
                ::kill(::getpid(), SIGUSR1);
            }(rt, started_before));
            co_return;
        });
        EXPECT_EQ(got.sig, SIGUSR1);
        EXPECT_EQ(got.shard, 1u);
    });
}

// The default policy: a SIGTERM nobody waits for cancels main with reason
// shutdown; main sees Cancelled and run() rethrows it.
TEST(Signals, UnwaitedSigtermCancelsMainWithReasonShutdown) {
    weir::RuntimeOptions opts;
    opts.shards = 1;
    opts.worker_threads = 1;
    weir::Runtime rt(opts);
    std::optional<weir::CancelReason> seen;
    bool run_threw_cancelled = false;
    try {
        rt.run([](std::optional<weir::CancelReason>& reason) -> weir::Task<void> {
            co_await weir::yield();
            ::kill(::getpid(), SIGTERM);
            try {
                co_await weir::sleep_for(30s);
            } catch (const weir::Cancelled& c) {
                reason = c.reason();
                throw;
            }
        }(seen));
    } catch (const weir::Cancelled& c) {
        run_threw_cancelled = true;
        EXPECT_EQ(c.reason(), weir::CancelReason::shutdown);
    }
    EXPECT_TRUE(run_threw_cancelled);
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(*seen, weir::CancelReason::shutdown);
    const auto stats = rt.stats(0);
    EXPECT_EQ(stats.tasks_cancelled[static_cast<std::size_t>(weir::CancelReason::shutdown)], 1u);
    EXPECT_TRUE(rt.check_leaks().clean());
}

// A SIGTERM that a task waits for does not cancel main.
TEST(Signals, AwaitedSigtermDoesNotCancelMain) {
    weir::RuntimeOptions opts;
    opts.shards = 1;
    opts.worker_threads = 1;
    weir::Runtime rt(opts);
    int got = rt.run([]() -> weir::Task<int> {
        std::optional<int> sig;
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
            g.spawn(wait_into(weir::wait_for_signal({SIGINT, SIGTERM}), sig));
            g.spawn(raise_after_yields(SIGTERM));
            co_return;
        });
        co_await weir::sleep_for(1ms);  // not cancelled
        co_return sig.value_or(0);
    }());
    EXPECT_EQ(got, SIGTERM);
}

// After the first unawaited signal asked main to stop, a second one ends
// the process the way the signal normally would.
TEST(SignalsDeathTest, SecondUnwaitedSigtermTerminates) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            weir::RuntimeOptions opts;
            opts.shards = 1;
            opts.worker_threads = 1;
            weir::Runtime rt(opts);
            try {
                rt.run([]() -> weir::Task<void> {
                    ::kill(::getpid(), SIGTERM);
                    bool cancelled = false;
                    try {
                        co_await weir::sleep_for(30s);
                    } catch (const weir::Cancelled&) {
                        cancelled = true;
                    }
                    if (!cancelled) std::_Exit(3);
                    // Ignore the request (shielded) and get a second signal.
                    co_await weir::shield([]() -> weir::Task<void> {
                        ::kill(::getpid(), SIGTERM);
                        co_await weir::sleep_for(30s);
                    }());
                }());
            } catch (...) {
            }
            std::_Exit(4);
        },
        ::testing::KilledBySignal(SIGTERM), "");
}

WEIR_TEST(Signals, SignalNotInOptionsThrows) {
    bool threw = false;
    try {
        co_await weir::wait_for_signal(SIGUSR2);  // default options: SIGINT, SIGTERM
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    EXPECT_TRUE(threw);
    threw = false;
    try {
        co_await weir::wait_for_signal(SIGTERM, SIGUSR1);  // one of them is not handled
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    EXPECT_TRUE(threw);
}

TEST(Signals, WaitWithoutSignalHandlingThrows) {
    weir::RuntimeOptions opts;
    opts.shards = 1;
    opts.worker_threads = 1;
    opts.handle_signals = false;
    weir::testing::run_async_test_with(opts, []() -> weir::Task<void> {
        bool threw = false;
        try {
            co_await weir::wait_for_signal(SIGTERM);
        } catch (const std::logic_error&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
    });
}
