// Semaphore: FIFO fairness, RAII permits, try_acquire, acquire_for and
// cancellation of waiters (no lost permits).
#include <stdexcept>
#include <vector>

#include <weir/core.hpp>
#include <weir/testing/async_test.hpp>

using namespace std::chrono_literals;

namespace {

// Lets every task that is ready now (and what they schedule) run `n` times.
weir::Task<void> settle(int n = 3) {
    for (int i = 0; i < n; ++i) co_await weir::yield();
}

// Takes a permit, records `id`, holds it across a few awaits, releases it.
weir::Task<void> take_and_hold(weir::Semaphore& sem, std::vector<int>& order, int id) {
    auto permit = co_await sem.acquire();
    EXPECT_TRUE(permit.owns());
    order.push_back(id);
    co_await settle(2);
}

// Like take_and_hold, but also records when the permit was got.
weir::Task<void> take_mark(weir::Semaphore& sem, bool& got, int& cancelled_after_grant) {
    auto permit = co_await sem.acquire();
    got = true;
    try {
        co_await weir::yield();  // cancelled by now: level-triggered, throws
    } catch (const weir::Cancelled&) {
        ++cancelled_after_grant;
        throw;
    }
}

weir::Task<void> acquire_then_throw(weir::Semaphore& sem) {
    auto permit = co_await sem.acquire();
    co_await weir::yield();
    throw std::runtime_error("boom");
}

}  // namespace

WEIR_TEST(Semaphore, GrantsWaitersInArrivalOrder) {
    weir::Semaphore sem(1);
    std::vector<int> order;
    auto held = sem.try_acquire();
    EXPECT_TRUE(held.owns());
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        for (int i = 0; i < 8; ++i) g.spawn(take_and_hold(sem, order, i));
        co_await settle();
        EXPECT_TRUE(order.empty());
        EXPECT_TRUE(sem.has_waiters());
        held.release();
    });
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
    EXPECT_EQ(sem.available(), 1u);
    EXPECT_FALSE(sem.has_waiters());
}

WEIR_TEST(Semaphore, ManyPermitsStillFifo) {
    weir::Semaphore sem(3);
    std::vector<int> order;
    std::vector<weir::SemaphorePermit> held;
    for (int i = 0; i < 3; ++i) held.push_back(sem.try_acquire());
    EXPECT_EQ(sem.available(), 0u);
    EXPECT_FALSE(sem.try_acquire().owns());
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        for (int i = 0; i < 10; ++i) g.spawn(take_and_hold(sem, order, i));
        co_await settle();
        held.clear();  // three permits, handed to the three oldest waiters
        co_return;
    });
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    EXPECT_EQ(sem.available(), 3u);
}

// A permit released while someone waits goes straight to that waiter: a
// newcomer arriving in the same turn (when the permit would otherwise be
// free) neither gets it through try_acquire nor overtakes through acquire.
WEIR_TEST(Semaphore, NewcomerCannotOvertakeQueuedWaiter) {
    weir::Semaphore sem(1);
    std::vector<int> order;
    auto held = sem.try_acquire();
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn(take_and_hold(sem, order, 1));
        co_await settle();
        EXPECT_TRUE(sem.has_waiters());
        held.release();
        // The waiter has not run yet, but the permit is already its own.
        EXPECT_EQ(sem.available(), 0u);
        EXPECT_FALSE(sem.try_acquire().owns());
        EXPECT_TRUE(order.empty());
        // A newcomer queues behind it.
        auto mine = co_await sem.acquire();
        order.push_back(2);
        EXPECT_EQ(sem.available(), 0u);
    });
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
    EXPECT_EQ(sem.available(), 1u);
}

WEIR_TEST(Semaphore, NewcomerQueuesBehindWaitersFromEarlierTurns) {
    weir::Semaphore sem(1);
    std::vector<int> order;
    auto held = sem.try_acquire();
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn(take_and_hold(sem, order, 1));
        g.spawn(take_and_hold(sem, order, 2));
        co_await settle();
        held.release();
        // Newcomers spawned after the release start after 1 got the permit.
        g.spawn(take_and_hold(sem, order, 3));
        g.spawn(take_and_hold(sem, order, 4));
        co_return;
    });
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
    EXPECT_EQ(sem.available(), 1u);
}

WEIR_TEST(Semaphore, PermitIsRaii) {
    weir::Semaphore sem(2);
    {
        auto a = co_await sem.acquire();
        EXPECT_EQ(sem.available(), 1u);
        {
            auto b = co_await sem.acquire();
            EXPECT_EQ(sem.available(), 0u);
        }
        EXPECT_EQ(sem.available(), 1u);
        // Moving a permit transfers ownership, it does not release.
        weir::SemaphorePermit moved = std::move(a);
        EXPECT_FALSE(a.owns());  // NOLINT(bugprone-use-after-move)
        EXPECT_TRUE(moved.owns());
        EXPECT_EQ(sem.available(), 1u);
        moved.release();
        EXPECT_FALSE(moved.owns());
        EXPECT_EQ(sem.available(), 2u);
        moved.release();  // idempotent
        EXPECT_EQ(sem.available(), 2u);
    }
    EXPECT_EQ(sem.available(), 2u);
}

WEIR_TEST(Semaphore, PermitReleasedOnException) {
    weir::Semaphore sem(1);
    bool caught = false;
    try {
        co_await acquire_then_throw(sem);
    } catch (const std::runtime_error& e) {
        caught = true;
        EXPECT_STREQ(e.what(), "boom");
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(sem.available(), 1u);
    // And the released permit goes to a waiter when there is one.
    std::vector<int> order;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto held = sem.try_acquire();
        g.spawn(take_and_hold(sem, order, 7));
        co_await settle();
        EXPECT_TRUE(order.empty());
        held = weir::SemaphorePermit();  // move-assign releases the old one
        co_return;
    });
    EXPECT_EQ(order, (std::vector<int>{7}));
    EXPECT_EQ(sem.available(), 1u);
}

WEIR_TEST(Semaphore, TryAcquire) {
    weir::Semaphore sem(2);
    auto a = sem.try_acquire();
    auto b = sem.try_acquire();
    auto c = sem.try_acquire();
    EXPECT_TRUE(a.owns());
    EXPECT_TRUE(b.owns());
    EXPECT_FALSE(c.owns());
    EXPECT_FALSE(static_cast<bool>(c));
    EXPECT_EQ(sem.available(), 0u);
    b.release();
    EXPECT_EQ(sem.available(), 1u);
    auto d = sem.try_acquire();
    EXPECT_TRUE(d.owns());
    EXPECT_EQ(sem.available(), 0u);

    weir::Semaphore zero(0);
    EXPECT_FALSE(zero.try_acquire().owns());
    zero.release();  // release() without a permit adds one
    EXPECT_EQ(zero.available(), 1u);
    EXPECT_TRUE(zero.try_acquire().owns());
    EXPECT_EQ(zero.available(), 1u);  // the temporary permit was returned
    co_return;
}

WEIR_TEST(Semaphore, AcquireForTimesOutAndLeavesTheQueue) {
    weir::Semaphore sem(1);
    auto held = sem.try_acquire();
    bool timed_out = false;
    try {
        auto p = co_await sem.acquire_for(10ms);
        ADD_FAILURE() << "acquired a permit that is held";
    } catch (const weir::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_FALSE(sem.has_waiters());
    EXPECT_EQ(sem.available(), 0u);
    held.release();
    EXPECT_EQ(sem.available(), 1u);  // not handed to the timed-out waiter
    // Not cancelled afterwards: the task goes on awaiting normally.
    co_await weir::sleep_for(1ms);
    auto p = co_await sem.acquire_for(10ms);
    EXPECT_TRUE(p.owns());
    EXPECT_EQ(sem.available(), 0u);
}

WEIR_TEST(Semaphore, AcquireForSucceedsWhenReleasedInTime) {
    weir::Semaphore sem(1);
    auto held = sem.try_acquire();
    bool got = false;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn([](weir::Semaphore& s, bool& flag) -> weir::Task<> {
            auto p = co_await s.acquire_for(10s);
            flag = p.owns();
        }(sem, got));
        co_await settle();
        EXPECT_FALSE(got);
        held.release();
        co_return;
    });
    EXPECT_TRUE(got);
    EXPECT_EQ(sem.available(), 1u);
    EXPECT_EQ(weir::Runtime::current()->loop(0).user_timers(), 0u);  // deadline disarmed
}

WEIR_TEST(Semaphore, CancelledWaiterLeavesQueueAndPermitGoesToNext) {
    weir::Semaphore sem(1);
    std::vector<int> order;
    auto held = sem.try_acquire();
    weir::JoinHandle<void> second;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn(take_and_hold(sem, order, 1));
        second = g.spawn(take_and_hold(sem, order, 2));
        g.spawn(take_and_hold(sem, order, 3));
        co_await settle();
        second.cancel();
        co_await settle();
        EXPECT_TRUE(second.done());
        EXPECT_TRUE(second.cancelled());
        EXPECT_TRUE(sem.has_waiters());  // 1 and 3 still queued
        held.release();
        co_return;
    });
    EXPECT_EQ(order, (std::vector<int>{1, 3}));
    EXPECT_EQ(sem.available(), 1u);
    EXPECT_FALSE(sem.has_waiters());
}

WEIR_TEST(Semaphore, CancellingTheOnlyWaiterKeepsThePermitFree) {
    weir::Semaphore sem(1);
    std::vector<int> order;
    auto held = sem.try_acquire();
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto h = g.spawn(take_and_hold(sem, order, 1));
        co_await settle();
        h.cancel();
        EXPECT_FALSE(sem.has_waiters());  // removed at once, not at resume
        held.release();
        EXPECT_EQ(sem.available(), 1u);
        co_return;
    });
    EXPECT_TRUE(order.empty());
    EXPECT_EQ(sem.available(), 1u);
}

WEIR_TEST(Semaphore, CancelledBeforeAwaitDoesNotTakeAPermit) {
    weir::Semaphore sem(1);
    std::vector<int> order;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto h = g.spawn(take_and_hold(sem, order, 1));
        h.cancel();  // before it ever ran
        co_return;
    });
    EXPECT_TRUE(order.empty());
    EXPECT_EQ(sem.available(), 1u);
}

// Granted (scheduled with the permit) and cancelled in the same turn: the
// waiter keeps the permit, and gives it back when the cancellation unwinds
// it at its next await.
WEIR_TEST(Semaphore, GrantedThenCancelledInSameTurnReturnsThePermit) {
    weir::Semaphore sem(1);
    std::vector<int> order;
    bool got = false;
    int cancelled_after_grant = 0;
    auto held = sem.try_acquire();
    weir::JoinHandle<void> first;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        first = g.spawn(take_mark(sem, got, cancelled_after_grant));
        g.spawn(take_and_hold(sem, order, 2));
        co_await settle();
        held.release();  // granted to `first`
        first.cancel();  // same turn
        EXPECT_EQ(sem.available(), 0u);
        co_return;
    });
    EXPECT_TRUE(got);
    EXPECT_EQ(cancelled_after_grant, 1);
    EXPECT_TRUE(first.cancelled());
    EXPECT_EQ(order, (std::vector<int>{2}));
    EXPECT_EQ(sem.available(), 1u);
    EXPECT_FALSE(sem.has_waiters());
}

// Cancelled then released in the same turn: the cancelled waiter is gone,
// so the permit goes to the next one.
WEIR_TEST(Semaphore, CancelledThenReleasedInSameTurnSkipsTheWaiter) {
    weir::Semaphore sem(1);
    std::vector<int> order;
    bool got = false;
    int cancelled_after_grant = 0;
    auto held = sem.try_acquire();
    weir::JoinHandle<void> first;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        first = g.spawn(take_mark(sem, got, cancelled_after_grant));
        g.spawn(take_and_hold(sem, order, 2));
        co_await settle();
        first.cancel();
        held.release();
        co_return;
    });
    EXPECT_FALSE(got);
    EXPECT_EQ(cancelled_after_grant, 0);
    EXPECT_TRUE(first.cancelled());
    EXPECT_EQ(order, (std::vector<int>{2}));
    EXPECT_EQ(sem.available(), 1u);
}

// Cancelling a whole crowd of waiters in random order never loses or
// duplicates a permit.
WEIR_TEST(Semaphore, MassCancellationLosesNoPermits) {
    weir::Semaphore sem(3);
    std::vector<int> order;
    std::vector<weir::JoinHandle<void>> handles;
    std::vector<weir::SemaphorePermit> held;
    for (int i = 0; i < 3; ++i) held.push_back(sem.try_acquire());
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        for (int i = 0; i < 200; ++i) handles.push_back(g.spawn(take_and_hold(sem, order, i)));
        co_await settle();
        // Release one permit per round while cancelling every third waiter.
        for (int i = 0; i < 200; i += 3) {
            handles[static_cast<std::size_t>(i)].cancel();
            if (!held.empty()) held.pop_back();
            co_await weir::yield();
        }
        co_return;
    });
    std::vector<int> expected;
    for (int i = 0; i < 200; ++i)
        if (i % 3 != 0) expected.push_back(i);
    // Waiters 0 and 3 may have been granted before being cancelled: they
    // would then appear in order; all others must be exactly the survivors.
    std::vector<int> survivors;
    for (int v : order)
        if (v % 3 != 0) survivors.push_back(v);
    EXPECT_EQ(survivors, expected);
    EXPECT_EQ(sem.available(), 3u);
    EXPECT_FALSE(sem.has_waiters());
}

WEIR_TEST(Semaphore, CancelledTaskGroupReleasesAllWaiters) {
    weir::Semaphore sem(1);
    std::vector<int> order;
    auto held = sem.try_acquire();
    bool cancelled = false;
    try {
        co_await weir::with_timeout(20ms, weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
                                        for (int i = 0; i < 5; ++i)
                                            g.spawn(take_and_hold(sem, order, i));
                                        co_return;
                                    }));
    } catch (const weir::TimeoutError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(order.empty());
    EXPECT_FALSE(sem.has_waiters());
    held.release();
    EXPECT_EQ(sem.available(), 1u);
}

namespace {

// Holds the loop (no await) until `until`, then releases `permit`: the
// release lands after a deadline has passed but before its timer fires.
weir::Task<void> release_late(weir::SemaphorePermit& permit, weir::TimePoint until) {
    while (weir::Clock::now() <= until) {
    }
    permit.release();
    co_return;
}

}  // namespace

// Granted in the same loop turn as its deadline expires: the grant came
// first, so acquire_for returns the permit instead of a TimeoutError.
WEIR_TEST(Semaphore, AcquireForGrantedAtTheDeadlineKeepsThePermit) {
    weir::Semaphore sem(1);
    auto held = sem.try_acquire();
    const auto start = weir::Clock::now();
    bool got = false;
    bool timed_out = false;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn(release_late(held, start + 10ms));
        try {
            auto p = co_await sem.acquire_for(2ms);
            got = p.owns();
            EXPECT_EQ(sem.available(), 0u);
        } catch (const weir::TimeoutError&) {
            timed_out = true;
        }
    });
    EXPECT_TRUE(got);
    EXPECT_FALSE(timed_out);
    EXPECT_EQ(sem.available(), 1u);
    EXPECT_FALSE(sem.has_waiters());
}

// The other order: the deadline fired first, so the late release finds no
// waiter and the permit stays free.
WEIR_TEST(Semaphore, ReleaseAfterAcquireForTimedOutKeepsThePermitFree) {
    weir::Semaphore sem(1);
    auto held = sem.try_acquire();
    bool timed_out = false;
    try {
        auto p = co_await sem.acquire_for(1ms);
    } catch (const weir::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    held.release();
    EXPECT_EQ(sem.available(), 1u);
}
