// Cross-shard calls: submit_to(shard, fn) and on_all_shards(fn): values,
// void, errors, where the remote task runs, cancellation crossing shards in
// both directions, and many concurrent calls. The leak check of the test
// helper sums over every shard, so remote tasks must be gone too.
//
// Every test here runs several shards: the suite name contains "CrossShard"
// so the TSan stage runs them all.
#include <atomic>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <weir/core.hpp>
#include <weir/testing/async_test.hpp>

using namespace std::chrono_literals;

namespace {

class RemoteError : public std::runtime_error {
public:
    explicit RemoteError(unsigned shard)
        : std::runtime_error("failed on shard " + std::to_string(shard)), shard_(shard) {}
    unsigned shard() const noexcept { return shard_; }

private:
    unsigned shard_;
};

weir::Task<int> remote_square(int x) {
    co_await weir::yield();
    co_return x* x;
}

weir::Task<bool> loop_wait_flag(const std::atomic<bool>& flag) {
    const auto give_up = weir::Clock::now() + 20s;
    while (!flag.load(std::memory_order_acquire)) {
        if (weir::Clock::now() > give_up) co_return false;
        co_await weir::sleep_for(200us);
    }
    co_return true;
}

// What the remote side of a cancelled call saw.
struct RemoteLog {
    std::atomic<bool> started{false};
    std::atomic<bool> saw_cancel{false};
    std::atomic<int> reason{-1};
    std::atomic<unsigned> shard{99};
    std::atomic<bool> finished{false};  // after its (shielded) cleanup
};

// Sleeps "forever" on the remote shard; on cancellation does an awaited,
// shielded cleanup before rethrowing, so the caller must really wait.
weir::Task<void> remote_sleeper(RemoteLog& log) {
    log.shard = weir::this_shard();
    log.started.store(true, std::memory_order_release);
    try {
        co_await weir::sleep_for(1h);
    } catch (const weir::Cancelled& c) {
        log.reason = static_cast<int>(c.reason());
        log.saw_cancel.store(true, std::memory_order_release);
        throw;
    }
}

weir::Task<void> remote_sleeper_with_cleanup(RemoteLog& log) {
    std::exception_ptr cancelled;
    try {
        co_await remote_sleeper(log);
    } catch (const weir::Cancelled&) {
        cancelled = std::current_exception();
    }
    if (cancelled) {
        co_await weir::shield(weir::as_task(weir::sleep_for(5ms)));
        log.finished.store(true, std::memory_order_release);
        std::rethrow_exception(cancelled);
    }
}

constexpr int kCalls = 500;  // per direction in ManyConcurrentCallsInBothDirections

struct CallerLog {
    bool cancelled = false;
    bool remote_finished_first = false;
    weir::CancelReason reason = weir::CancelReason::user;
};

weir::Task<void> call_remote_sleeper(unsigned shard, RemoteLog& remote, CallerLog& caller) {
    try {
        co_await weir::submit_to(shard, [&remote] { return remote_sleeper_with_cleanup(remote); });
    } catch (const weir::Cancelled& c) {
        caller.cancelled = true;
        caller.reason = c.reason();
        caller.remote_finished_first = remote.finished.load(std::memory_order_acquire);
        throw;
    }
}

}  // namespace

WEIR_TEST_SHARDS(CrossShard, SubmitReturnsAValue, 2) {
    int v = co_await weir::submit_to(1, [] { return remote_square(12); });
    EXPECT_EQ(v, 144);
    std::string s = co_await weir::submit_to(1, []() -> weir::Task<std::string> {
        co_return "from shard " + std::to_string(weir::this_shard());
    });
    EXPECT_EQ(s, "from shard 1");
}

WEIR_TEST_SHARDS(CrossShard, SubmitVoid, 2) {
    std::atomic<int> touched{0};
    co_await weir::submit_to(1, [&touched]() -> weir::Task<void> {
        co_await weir::yield();
        touched.store(static_cast<int>(weir::this_shard()) + 10);
    });
    EXPECT_EQ(touched.load(), 11);
}

WEIR_TEST_SHARDS(CrossShard, RemoteTaskRunsOnTheTargetShardsThread, 2) {
    const auto here = std::this_thread::get_id();
    struct Where {
        unsigned shard;
        std::thread::id thread;
    };
    Where w = co_await weir::submit_to(1, []() -> weir::Task<Where> {
        co_return Where{weir::this_shard(), std::this_thread::get_id()};
    });
    EXPECT_EQ(w.shard, 1u);
    EXPECT_NE(w.thread, here);
    // The caller resumes on its own shard and thread.
    EXPECT_EQ(weir::this_shard(), 0u);
    EXPECT_EQ(std::this_thread::get_id(), here);
    // Submitting to one's own shard works as well.
    Where self = co_await weir::submit_to(0, []() -> weir::Task<Where> {
        co_return Where{weir::this_shard(), std::this_thread::get_id()};
    });
    EXPECT_EQ(self.shard, 0u);
    EXPECT_EQ(self.thread, here);
}

WEIR_TEST_SHARDS(CrossShard, RemoteErrorPropagates, 2) {
    bool caught = false;
    try {
        co_await weir::submit_to(1, []() -> weir::Task<int> {
            co_await weir::yield();
            throw RemoteError(weir::this_shard());
        });
    } catch (const RemoteError& e) {
        caught = true;
        EXPECT_EQ(e.shard(), 1u);
    }
    EXPECT_TRUE(caught);
}

WEIR_TEST_SHARDS(CrossShard, FunctionThrowingBeforeReturningATaskPropagates, 2) {
    bool caught = false;
    try {
        co_await weir::submit_to(
            1, []() -> weir::Task<void> { throw std::invalid_argument("no task for you"); });
    } catch (const std::invalid_argument& e) {
        caught = true;
        EXPECT_STREQ(e.what(), "no task for you");
    }
    EXPECT_TRUE(caught);
}

WEIR_TEST_SHARDS(CrossShard, OutOfRangeShardThrows, 2) {
    bool caught = false;
    try {
        co_await weir::submit_to(2, [] { return remote_square(1); });
    } catch (const std::out_of_range&) {
        caught = true;
    }
    EXPECT_TRUE(caught);
    caught = false;
    try {
        co_await weir::submit_to(~0u, [] { return remote_square(1); });
    } catch (const std::out_of_range&) {
        caught = true;
    }
    EXPECT_TRUE(caught);
}

// Cancelling the caller cancels the remote task (which sees Cancelled), and
// the caller finishes only after the remote task has unwound.
WEIR_TEST_SHARDS(CrossShard, CancellingTheCallerCancelsAndJoinsTheRemoteTask, 2) {
    RemoteLog remote;
    CallerLog caller;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto h = g.spawn(call_remote_sleeper(1, remote, caller));
        const bool started = co_await loop_wait_flag(remote.started);
        EXPECT_TRUE(started);
        h.cancel(weir::CancelReason::user);
        co_return;
    });
    EXPECT_TRUE(remote.saw_cancel.load());
    EXPECT_EQ(remote.reason.load(), static_cast<int>(weir::CancelReason::user));
    EXPECT_EQ(remote.shard.load(), 1u);
    EXPECT_TRUE(remote.finished.load());
    EXPECT_TRUE(caller.cancelled);
    EXPECT_TRUE(caller.remote_finished_first);
}

WEIR_TEST_SHARDS(CrossShard, TimeoutAroundARemoteCallCancelsItWithReasonTimeout, 2) {
    RemoteLog remote;
    bool timed_out = false;
    try {
        co_await weir::with_timeout(
            5ms, weir::submit_to(1, [&remote] { return remote_sleeper_with_cleanup(remote); }));
    } catch (const weir::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_TRUE(remote.saw_cancel.load());
    EXPECT_EQ(remote.reason.load(), static_cast<int>(weir::CancelReason::timeout));
    EXPECT_TRUE(remote.finished.load());
}

WEIR_TEST_SHARDS(CrossShard, AlreadyCancelledCallerNeverStartsTheRemoteTask, 2) {
    RemoteLog remote;
    CallerLog caller;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto h = g.spawn(call_remote_sleeper(1, remote, caller));
        h.cancel();
        co_return;
    });
    EXPECT_TRUE(caller.cancelled);
    EXPECT_FALSE(remote.started.load());
}

// Cancellation raced against completion: the caller either gets the value
// or Cancelled, and every remote task is gone afterwards (leak check).
WEIR_TEST_SHARDS(CrossShard, CancellationRacingCompletion, 2) {
    int values = 0, cancels = 0;
    for (int round = 0; round < 200; ++round) {
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
            auto h = g.spawn([](int& v, int& c) -> weir::Task<> {
                try {
                    int r = co_await weir::submit_to(1, [] { return remote_square(3); });
                    EXPECT_EQ(r, 9);
                    ++v;
                } catch (const weir::Cancelled&) {
                    ++c;
                    throw;
                }
            }(values, cancels));
            for (int i = 0; i < round % 5; ++i) co_await weir::yield();
            h.cancel();
        });
    }
    EXPECT_EQ(values + cancels, 200);
}

// A remote task cancelled on its own side (its own deadline) reports the
// error to the caller, which is not itself cancelled.
WEIR_TEST_SHARDS(CrossShard, RemoteTimeoutIsAnOrdinaryError, 2) {
    bool timed_out = false;
    try {
        co_await weir::submit_to(1, []() -> weir::Task<void> {
            co_await weir::with_timeout(2ms, weir::as_task(weir::sleep_for(1h)));
        });
    } catch (const weir::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    co_await weir::sleep_for(1ms);  // the caller is not cancelled
}

WEIR_TEST_SHARDS(CrossShard, OnAllShardsRunsEverywhere, 4) {
    auto shards = co_await weir::on_all_shards([]() -> weir::Task<unsigned> {
        co_await weir::sleep_for(1ms);
        co_return weir::this_shard();
    });
    EXPECT_EQ(shards, (std::vector<unsigned>{0, 1, 2, 3}));

    std::atomic<int> ran{0};
    auto units = co_await weir::on_all_shards([&ran]() -> weir::Task<void> {
        ran.fetch_add(1);
        co_return;
    });
    EXPECT_EQ(units.size(), 4u);
    EXPECT_EQ(ran.load(), 4);

    std::vector<std::thread::id> threads = co_await weir::on_all_shards(
        []() -> weir::Task<std::thread::id> { co_return std::this_thread::get_id(); });
    for (std::size_t i = 0; i < threads.size(); ++i)
        for (std::size_t j = i + 1; j < threads.size(); ++j) EXPECT_NE(threads[i], threads[j]);
}

WEIR_TEST_SHARDS(CrossShard, OnAllShardsFailureCancelsTheOthers, 4) {
    std::atomic<int> cancelled{0};
    bool caught = false;
    try {
        co_await weir::on_all_shards([&cancelled]() -> weir::Task<void> {
            if (weir::this_shard() == 2) {
                co_await weir::sleep_for(1ms);
                throw RemoteError(2);
            }
            try {
                co_await weir::sleep_for(1h);
            } catch (const weir::Cancelled&) {
                cancelled.fetch_add(1);
                throw;
            }
        });
    } catch (const RemoteError& e) {
        caught = true;
        EXPECT_EQ(e.shard(), 2u);
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(cancelled.load(), 3);
}

// Many calls in flight in both directions at once, including calls made
// from a remote task back to the caller's shard.
WEIR_TEST_SHARDS(CrossShard, ManyConcurrentCallsInBothDirections, 2) {
    std::atomic<long> ran_on[2] = {0, 0};
    long from0 = 0;
    long from1 = 0;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        // 0 -> 1 -> 0 round trips.
        for (int i = 0; i < kCalls; ++i) {
            g.spawn([](int x, long& out, std::atomic<long>* ran) -> weir::Task<> {
                int r = co_await weir::submit_to(1, [x, ran]() -> weir::Task<int> {
                    ran[weir::this_shard()].fetch_add(1);
                    int back = co_await weir::submit_to(0, [x, ran]() -> weir::Task<int> {
                        ran[weir::this_shard()].fetch_add(1);
                        co_await weir::yield();
                        co_return x + 1;
                    });
                    co_return back * 2;
                });
                out += r;
            }(i, from0, ran_on));
        }
        // Shard 1 fires its own calls at shard 0 meanwhile.
        g.spawn([](long& out, std::atomic<long>* ran) -> weir::Task<> {
            out = co_await weir::submit_to(1, [ran]() -> weir::Task<long> {
                std::vector<weir::Task<int>> calls;
                for (int i = 0; i < kCalls; ++i)
                    calls.push_back(weir::submit_to(0, [i, ran]() -> weir::Task<int> {
                        ran[weir::this_shard()].fetch_add(1);
                        co_return i;
                    }));
                auto results = co_await weir::when_all(std::move(calls));
                long sum = 0;
                for (int r : results) sum += r;
                co_return sum;
            });
        }(from1, ran_on));
        co_return;
    });
    long expected0 = 0;
    for (int i = 0; i < kCalls; ++i) expected0 += 2L * (i + 1);
    EXPECT_EQ(from0, expected0);
    EXPECT_EQ(from1, static_cast<long>(kCalls) * (kCalls - 1) / 2);
    EXPECT_EQ(ran_on[1].load(), kCalls);
    EXPECT_EQ(ran_on[0].load(), 2 * kCalls);
}

// Cancelling a fan-out of many remote calls cancels them all and joins them.
WEIR_TEST_SHARDS(CrossShard, CancellingManyRemoteCallsJoinsThemAll, 4) {
    std::atomic<int> started{0};
    std::atomic<int> cancelled{0};
    bool timed_out = false;
    try {
        co_await weir::with_timeout(
            20ms, weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
                for (int i = 0; i < 200; ++i) {
                    g.spawn(weir::submit_to(1 + static_cast<unsigned>(i) % 3,
                                            [&started, &cancelled]() -> weir::Task<void> {
                                                started.fetch_add(1);
                                                try {
                                                    co_await weir::sleep_for(1h);
                                                } catch (const weir::Cancelled&) {
                                                    cancelled.fetch_add(1);
                                                    throw;
                                                }
                                            }));
                }
                co_return;
            }));
    } catch (const weir::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    // Each remote task either never started (cancelled in flight) or saw
    // the cancellation; none is still running (the helper's leak check).
    EXPECT_EQ(started.load(), cancelled.load());
}

WEIR_TEST_SHARDS(CrossShard, MoveOnlyResultsCrossShards, 2) {
    auto p = co_await weir::submit_to(1, []() -> weir::Task<std::unique_ptr<int>> {
        co_return std::make_unique<int>(static_cast<int>(weir::this_shard()) + 40);
    });
    EXPECT_EQ(*p, 41);
    // Arguments captured by the function object travel too.
    // (Named before the await: g++ 12 destroys a closure with non-trivial
    // captures twice inside a co_await expression.)
    auto big = std::make_shared<std::vector<int>>(1000, 7);
    auto sum_remote = [big]() -> weir::Task<long> {
        long s = 0;
        for (int v : *big) s += v;
        co_return s;
    };
    long sum = co_await weir::submit_to(1, sum_remote);
    EXPECT_EQ(sum, 7000);
}

// The caller's deadline is inherited by the remote task (current_deadline()
// there), so drivers on the other shard can pass the remaining budget on.
WEIR_TEST_SHARDS(CrossShard, RemoteTaskInheritsTheCallersDeadline, 2) {
    const auto none = co_await weir::submit_to(
        1, []() -> weir::Task<weir::TimePoint> { co_return weir::current_deadline(); });
    EXPECT_EQ(none, weir::kNoDeadline);

    const auto before = weir::Clock::now();
    const auto seen = co_await weir::with_timeout(
        10s, weir::submit_to(
                 1, []() -> weir::Task<weir::TimePoint> { co_return weir::current_deadline(); }));
    EXPECT_NE(seen, weir::kNoDeadline);
    EXPECT_GE(seen, before + 10s);
    EXPECT_LE(seen, weir::Clock::now() + 10s);

    // Nested remotely: the earlier of the two deadlines applies.
    struct Pair {
        weir::TimePoint outer, inner;
    };
    const auto p = co_await weir::with_timeout(
        10s, weir::submit_to(1, []() -> weir::Task<Pair> {
            const auto outer = weir::current_deadline();
            const auto inner = co_await weir::with_timeout(
                1h, []() -> weir::Task<weir::TimePoint> { co_return weir::current_deadline(); }());
            co_return Pair{outer, inner};
        }));
    EXPECT_EQ(p.inner, p.outer);
    EXPECT_NE(p.outer, weir::kNoDeadline);
}
