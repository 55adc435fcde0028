// Event (set/clear/wait, many waiters, cancellation) and the async Mutex
// (mutual exclusion across awaits, FIFO hand-off, try_lock).
#include <vector>

#include <weir/core.hpp>
#include <weir/testing/async_test.hpp>

using namespace std::chrono_literals;

namespace {

weir::Task<void> settle(int n = 3) {
    for (int i = 0; i < n; ++i) co_await weir::yield();
}

weir::Task<void> wait_and_record(weir::Event& ev, std::vector<int>& woken, int id) {
    co_await ev.wait();
    woken.push_back(id);
}

weir::Task<void> wait_counting_cancel(weir::Event& ev, int& woken, int& cancelled) {
    try {
        co_await ev.wait();
        ++woken;
    } catch (const weir::Cancelled&) {
        ++cancelled;
        throw;
    }
}

// Holds the lock across several awaits and checks nobody else is inside.
weir::Task<void> critical(weir::Mutex& m, int& inside, int& max_inside, std::vector<int>& order,
                          int id) {
    auto guard = co_await m.lock();
    ++inside;
    if (inside > max_inside) max_inside = inside;
    order.push_back(id);
    co_await weir::yield();
    co_await weir::sleep_for(100us);
    co_await weir::yield();
    EXPECT_EQ(inside, 1);
    --inside;
}

weir::Task<void> lock_and_record(weir::Mutex& m, std::vector<int>& order, int id) {
    auto guard = co_await m.lock();
    order.push_back(id);
    co_await weir::yield();
}

}  // namespace

// ---------------------------------------------------------------- Event

WEIR_TEST(Event, WaitReturnsAtOnceWhileSet) {
    weir::Event ev;
    EXPECT_FALSE(ev.is_set());
    ev.set();
    EXPECT_TRUE(ev.is_set());
    co_await ev.wait();
    co_await ev.wait();  // still set: a level, not a pulse
    EXPECT_TRUE(ev.is_set());
    ev.clear();
    EXPECT_FALSE(ev.is_set());
}

WEIR_TEST(Event, SetWakesWaiterAndClearMakesItBlockAgain) {
    weir::Event ev;
    std::vector<int> woken;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn(wait_and_record(ev, woken, 1));
        co_await settle();
        EXPECT_TRUE(woken.empty());
        ev.set();
        co_await settle();
        EXPECT_EQ(woken, (std::vector<int>{1}));
        ev.clear();
        g.spawn(wait_and_record(ev, woken, 2));
        co_await settle();
        EXPECT_EQ(woken.size(), 1u);  // blocked again after clear()
        ev.set();
    });
    EXPECT_EQ(woken, (std::vector<int>{1, 2}));
}

WEIR_TEST(Event, SetWakesEveryWaiterInOrder) {
    weir::Event ev;
    std::vector<int> woken;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        for (int i = 0; i < 1000; ++i) g.spawn(wait_and_record(ev, woken, i));
        co_await settle();
        EXPECT_TRUE(woken.empty());
        ev.set();
        ev.clear();  // cleared in the same turn: the waiters were already woken
        co_return;
    });
    EXPECT_EQ(woken.size(), 1000u);
    for (std::size_t i = 0; i < woken.size(); ++i) EXPECT_EQ(woken[i], static_cast<int>(i));
}

WEIR_TEST(Event, CancelledWaiterLeavesOthersWaiting) {
    weir::Event ev;
    int woken = 0;
    int cancelled = 0;
    weir::JoinHandle<void> victim;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn(wait_counting_cancel(ev, woken, cancelled));
        victim = g.spawn(wait_counting_cancel(ev, woken, cancelled));
        g.spawn(wait_counting_cancel(ev, woken, cancelled));
        co_await settle();
        victim.cancel(weir::CancelReason::user);
        co_await settle();
        EXPECT_EQ(cancelled, 1);
        EXPECT_TRUE(victim.done());
        EXPECT_EQ(woken, 0);
        ev.set();
    });
    EXPECT_EQ(woken, 2);
    EXPECT_EQ(cancelled, 1);
    EXPECT_TRUE(victim.cancelled());
}

WEIR_TEST(Event, SetAndCancelInSameTurnCompletesTheWait) {
    weir::Event ev;
    int woken = 0;
    int cancelled = 0;
    weir::JoinHandle<void> h;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        h = g.spawn(wait_counting_cancel(ev, woken, cancelled));
        co_await settle();
        ev.set();
        h.cancel();  // already woken: the wait completes, nothing is lost
        co_return;
    });
    EXPECT_EQ(woken, 1);
    EXPECT_EQ(cancelled, 0);
}

WEIR_TEST(Event, WaitInCancelledTaskThrowsEvenWhenSet) {
    weir::Event ev;
    ev.set();
    int woken = 0;
    int cancelled = 0;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto h = g.spawn(wait_counting_cancel(ev, woken, cancelled));
        h.cancel();
        co_return;
    });
    EXPECT_EQ(cancelled, 1);
    EXPECT_EQ(woken, 0);
}

WEIR_TEST(Event, WaitTimesOut) {
    weir::Event ev;
    bool timed_out = false;
    try {
        co_await weir::with_timeout(5ms, weir::as_task(ev.wait()));
    } catch (const weir::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    // The timed-out waiter is gone: set() has nobody to wake.
    ev.set();
    co_await ev.wait();
}

// ---------------------------------------------------------------- Mutex

WEIR_TEST(Mutex, MutualExclusionAcrossAwaits) {
    weir::Mutex m;
    int inside = 0;
    int max_inside = 0;
    std::vector<int> order;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        for (int i = 0; i < 20; ++i) g.spawn(critical(m, inside, max_inside, order, i));
        co_return;
    });
    EXPECT_EQ(max_inside, 1);
    EXPECT_EQ(inside, 0);
    EXPECT_EQ(order.size(), 20u);
    for (std::size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], static_cast<int>(i));
    EXPECT_FALSE(m.locked());
}

WEIR_TEST(Mutex, FifoHandOffAndTryLock) {
    weir::Mutex m;
    std::vector<int> order;
    auto guard = m.try_lock();
    EXPECT_TRUE(guard.owns());
    EXPECT_TRUE(m.locked());
    EXPECT_FALSE(m.try_lock().owns());
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        for (int i = 0; i < 5; ++i) g.spawn(lock_and_record(m, order, i));
        co_await settle();
        EXPECT_TRUE(order.empty());
        guard.release();
        // Handed to the first waiter: still locked, try_lock cannot barge in.
        EXPECT_TRUE(m.locked());
        EXPECT_FALSE(m.try_lock().owns());
        co_return;
    });
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_FALSE(m.locked());
    auto again = m.try_lock();
    EXPECT_TRUE(again.owns());
}

WEIR_TEST(Mutex, CancelledLockerDoesNotKeepTheLock) {
    weir::Mutex m;
    std::vector<int> order;
    auto guard = co_await m.lock();
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto first = g.spawn(lock_and_record(m, order, 1));
        g.spawn(lock_and_record(m, order, 2));
        co_await settle();
        first.cancel();
        guard.release();
        co_return;
    });
    EXPECT_EQ(order, (std::vector<int>{2}));
    EXPECT_FALSE(m.locked());
}

WEIR_TEST(Mutex, LockReleasedWhenHolderFails) {
    weir::Mutex m;
    bool caught = false;
    try {
        co_await [](weir::Mutex& mu) -> weir::Task<> {
            auto g = co_await mu.lock();
            co_await weir::yield();
            throw std::logic_error("inside the lock");
        }(m);
    } catch (const std::logic_error&) {
        caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_FALSE(m.locked());
}
