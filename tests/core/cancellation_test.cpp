// Cancellation: not a std::exception, level-triggered, racing completion,
// delivered at every kind of await, reasons, propagation to descendants,
// per-reason statistics.
#include <array>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "structured_test_util.hpp"

using namespace std::chrono_literals;
using weir::CancelReason;
using weir::Event;
using weir::JoinHandle;
using weir::Task;
using weir::TaskGroup;
using weir_test::caught;
using weir_test::expect_cancelled;
using weir_test::expect_error;
using weir_test::fn;
using weir_test::forever;
using weir_test::observe;
using weir_test::Observed;
using weir_test::observed_forever;
using weir_test::value_after;

namespace {

static_assert(!std::is_base_of_v<std::exception, weir::Cancelled>,
              "Cancelled must not be catchable as std::exception");

// A chain of three tasks, the innermost waiting forever; each level records
// the Cancelled going through it.
Task<int> level3(Observed& o) {
    co_await observed_forever(o);
    co_return 3;
}
Task<int> level2(Observed& o2, Observed& o3) { co_return co_await observe(o2, level3(o3)) + 2; }
Task<int> level1(Observed& o1, Observed& o2, Observed& o3) {
    co_return co_await observe(o1, level2(o2, o3)) + 1;
}

Task<int> deep_wait(int n) {
    if (n == 0) {
        co_await forever();
        co_return 0;
    }
    co_return 1 + co_await deep_wait(n - 1);
}

Task<void> nested_groups(int depth, std::vector<Observed>& seen, std::size_t& next) {
    Observed& mine = seen[next++];
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        if (depth > 0) {
            g.spawn(nested_groups(depth - 1, seen, next));
            g.spawn(nested_groups(depth - 1, seen, next));
        }
        co_await observed_forever(mine);
    });
}

// Spawns `t` as the only other child, waits until it parked, cancels it
// with `reason`, and returns how it ended.
template <class T>
Task<std::exception_ptr> cancel_while_waiting(Task<T> t, CancelReason reason = CancelReason::user) {
    std::exception_ptr out;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        auto h = g.spawn(std::move(t));
        co_await weir::sleep_for(1ms);
        EXPECT_FALSE(h.done()) << "the child should be parked in its await";
        h.cancel(reason);
        out = co_await caught(weir::as_task(h.join()));
    });
    co_return out;
}

}  // namespace

WEIR_TEST(Cancellation, IsNotCaughtByStdException) {
    bool swallowed = false;
    JoinHandle<void> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([&]() -> Task<void> {
            try {
                co_await forever();
            } catch (const std::exception&) {
                swallowed = true;
            }
        }));
        co_await weir::yield();
        h.cancel();
    });
    EXPECT_FALSE(swallowed);
    EXPECT_TRUE(h.cancelled());
}

WEIR_TEST(Cancellation, WhatAndReasonNames) {
    EXPECT_STREQ(weir::Cancelled(CancelReason::timeout).what(), "cancelled (timeout)");
    EXPECT_STREQ(weir::Cancelled(CancelReason::user).what(), "cancelled");
    EXPECT_EQ(weir::to_string(CancelReason::user), "user");
    EXPECT_EQ(weir::to_string(CancelReason::timeout), "timeout");
    EXPECT_EQ(weir::to_string(CancelReason::shutdown), "shutdown");
    EXPECT_EQ(weir::to_string(CancelReason::peer_disconnected), "peer_disconnected");
    EXPECT_EQ(weir::to_string(CancelReason::sibling_failed), "sibling_failed");
    EXPECT_EQ(weir::to_string(CancelReason::race_lost), "race_lost");
    co_return;
}

WEIR_TEST(Cancellation, IsLevelTriggered) {
    int throws = 0;
    bool ran_to_end = false;
    JoinHandle<void> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([&]() -> Task<void> {
            try {
                co_await forever();
            } catch (...) {  // forgets to rethrow
                ++throws;
            }
            // Every further cancellable await throws again, whatever its state.
            try {
                co_await weir::sleep_for(1h);
            } catch (...) {
                ++throws;
            }
            try {
                co_await weir::yield();
            } catch (...) {
                ++throws;
            }
            Event set;
            set.set();
            try {
                co_await set.wait();  // would not suspend at all
            } catch (...) {
                ++throws;
            }
            weir::Semaphore free_sem(3);
            try {
                auto p = co_await free_sem.acquire();  // a permit is free
            } catch (...) {
                ++throws;
            }
            EXPECT_EQ(free_sem.available(), 3u);
            weir::Channel<int> ch(2);
            int one = 1;
            ch.try_send(one);
            try {
                co_await ch.receive();  // a value is buffered
            } catch (...) {
                ++throws;
            }
            EXPECT_EQ(ch.size(), 1u);
            ran_to_end = true;
            co_await weir::sleep_for(0ms);  // finally lets it out
        }));
        co_await weir::yield();
        h.cancel();
    });
    EXPECT_EQ(throws, 6);
    EXPECT_TRUE(ran_to_end);
    EXPECT_TRUE(h.cancelled());
}

WEIR_TEST(Cancellation, TaskThatHandlesCancellationCanStillReturn) {
    JoinHandle<int> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([&]() -> Task<int> {
            try {
                co_await forever();
            } catch (const weir::Cancelled&) {
            }
            co_return 5;  // no further await: it finishes normally
        }));
        co_await weir::yield();
        h.cancel();
    });
    EXPECT_FALSE(h.cancelled());
    EXPECT_EQ(h.result(), 5);
}

WEIR_TEST(Cancellation, TaskWithoutAwaitsIsNotInterrupted) {
    JoinHandle<int> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([]() -> Task<int> { co_return 11; }));
        h.cancel();  // before it even started
        co_return;
    });
    EXPECT_FALSE(h.cancelled());
    EXPECT_EQ(h.result(), 11);
}

WEIR_TEST(Cancellation, SelfCancelTakesEffectAtTheNextAwait) {
    bool reached = false, after = false;
    JoinHandle<void> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([&]() -> Task<void> {
            co_await weir::yield();
            h.cancel(CancelReason::shutdown);
            reached = true;
            co_await weir::yield();
            after = true;
        }));
        co_return;
    });
    EXPECT_TRUE(reached);
    EXPECT_FALSE(after);
    expect_cancelled(co_await caught(weir::as_task(h.join())), CancelReason::shutdown);
}

WEIR_TEST(Cancellation, FirstReasonWins) {
    Observed o;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        auto h = g.spawn(observed_forever(o));
        co_await weir::yield();
        h.cancel(CancelReason::peer_disconnected);
        h.cancel(CancelReason::user);
        g.cancel(CancelReason::shutdown);
    });
    EXPECT_EQ(o.times, 1);
    EXPECT_EQ(o.reason, CancelReason::peer_disconnected);
}

// ------------------------------------------------------- racing completion

WEIR_TEST(Cancellation, EventSetAndCancelInTheSameTurnKeepsTheResult) {
    Event ev;
    JoinHandle<int> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([&]() -> Task<int> {
            co_await ev.wait();
            co_return 42;
        }));
        co_await weir::yield();
        ev.set();    // wakes the child ...
        h.cancel();  // ... which is cancelled before it resumes
    });
    EXPECT_FALSE(h.cancelled());
    EXPECT_EQ(h.result(), 42);
}

WEIR_TEST(Cancellation, CancelAfterCompletionInTheSameTurnIsANoop) {
    JoinHandle<int> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([]() -> Task<int> { co_return 1; }));
        co_await weir::yield();  // the child ran to completion meanwhile
        EXPECT_TRUE(h.done());
        h.cancel();
    });
    EXPECT_FALSE(h.cancelled());
    EXPECT_EQ(h.result(), 1);
}

WEIR_TEST(Cancellation, JoinerCancelledAfterTheChildFinishedGetsTheResult) {
    Event ev;
    int got = -1;
    JoinHandle<int> child;
    JoinHandle<void> joiner;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        child = g.spawn(fn([&]() -> Task<int> {
            co_await ev.wait();
            co_return 8;
        }));
        joiner = g.spawn(fn([&]() -> Task<void> { got = co_await child.join(); }));
        co_await weir::sleep_for(1ms);
        ev.set();                // child runs next, finishes, wakes the joiner
        co_await weir::yield();  // we run after the child, before the joiner
        EXPECT_TRUE(child.done());
        joiner.cancel();
    });
    EXPECT_EQ(got, 8);
    EXPECT_FALSE(joiner.cancelled());
}

WEIR_TEST(Cancellation, GrantedPermitIsKeptOrReturnedNeverLost) {
    weir::Semaphore sem(1);
    bool got_permit = false;
    JoinHandle<void> h;
    auto held = co_await sem.acquire();
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([&]() -> Task<void> {
            auto p = co_await sem.acquire();
            got_permit = true;
            co_await weir::yield();  // cancelled here; p is released on unwind
        }));
        co_await weir::yield();
        EXPECT_TRUE(sem.has_waiters());
        held.release();  // hands the permit to the child ...
        h.cancel();      // ... which is cancelled before it resumes
    });
    EXPECT_TRUE(got_permit);
    EXPECT_TRUE(h.cancelled());
    EXPECT_EQ(sem.available(), 1u);
    EXPECT_FALSE(sem.has_waiters());
}

WEIR_TEST(Cancellation, DeliveredValueIsNotLost) {
    weir::Channel<int> ch(1);
    int got = -1;
    JoinHandle<void> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([&]() -> Task<void> {
            auto v = co_await ch.receive();
            got = v.value_or(-2);
        }));
        co_await weir::yield();
        co_await ch.send(7);  // handed straight to the waiting receiver
        h.cancel();
    });
    EXPECT_EQ(got, 7);
    EXPECT_EQ(ch.size(), 0u);
}

WEIR_TEST(Cancellation, SleepEndingAtTheDeadlineInstant) {
    // Whichever timer fires first, the outcome is a value or a TimeoutError,
    // and nothing is left behind.
    int values = 0, timeouts = 0;
    for (int i = 0; i < 30; ++i) {
        auto tp = weir::Clock::now() + 1ms;
        auto ep = co_await caught(weir::with_deadline(tp, fn([tp, &values]() -> Task<void> {
                                                          co_await weir::sleep_until(tp);
                                                          ++values;
                                                      })));
        if (ep) {
            expect_error<weir::TimeoutError>(ep);
            ++timeouts;
        }
    }
    EXPECT_EQ(values + timeouts, 30);
}

// --------------------------------------------------- cancel at every await

WEIR_TEST(Cancellation, DuringSleep) {
    Observed o;
    auto ep = co_await cancel_while_waiting(observe(o, weir::as_task(weir::sleep_for(1h))));
    expect_cancelled(ep, CancelReason::user);
    EXPECT_TRUE(o.cancelled);
    // The timer is gone (the leak check counts armed timers).
}

WEIR_TEST(Cancellation, DuringSleepUntil) {
    auto ep = co_await cancel_while_waiting(
        weir::as_task(weir::sleep_until(weir::Clock::now() + 1h)), CancelReason::shutdown);
    expect_cancelled(ep, CancelReason::shutdown);
}

WEIR_TEST(Cancellation, DuringEventWait) {
    Event ev;
    auto ep = co_await cancel_while_waiting(fn([&]() -> Task<void> { co_await ev.wait(); }));
    expect_cancelled(ep, CancelReason::user);
    ev.set();  // no stale waiter to wake
    EXPECT_TRUE(ev.is_set());
}

WEIR_TEST(Cancellation, DuringSemaphoreAcquire) {
    weir::Semaphore sem(1);
    auto held = co_await sem.acquire();
    auto ep = co_await cancel_while_waiting(fn([&]() -> Task<void> {
        auto p = co_await sem.acquire();
        ADD_FAILURE() << "should not get a permit";
    }));
    expect_cancelled(ep, CancelReason::user);
    EXPECT_FALSE(sem.has_waiters());
    held.release();
    EXPECT_EQ(sem.available(), 1u) << "the permit must not go to the cancelled waiter";
}

WEIR_TEST(Cancellation, DuringMutexLock) {
    weir::Mutex m;
    auto guard = co_await m.lock();
    auto ep =
        co_await cancel_while_waiting(fn([&]() -> Task<void> { auto g = co_await m.lock(); }));
    expect_cancelled(ep, CancelReason::user);
    guard.release();
    EXPECT_FALSE(m.locked());
}

WEIR_TEST(Cancellation, DuringChannelSend) {
    weir::Channel<std::string> ch(1);
    co_await ch.send("first");
    auto ep = co_await cancel_while_waiting(
        fn([&]() -> Task<void> { co_await ch.send("never enqueued"); }));
    expect_cancelled(ep, CancelReason::user);
    EXPECT_EQ(ch.size(), 1u);
    EXPECT_EQ(co_await ch.receive(), std::optional<std::string>("first"));
    EXPECT_EQ(ch.try_receive(), std::nullopt) << "a cancelled send must not enqueue its value";
}

WEIR_TEST(Cancellation, DuringChannelReceive) {
    weir::Channel<int> ch(2);
    auto ep = co_await cancel_while_waiting(fn([&]() -> Task<void> {
        auto v = co_await ch.receive();
        ADD_FAILURE() << "should not receive " << v.value_or(-1);
    }));
    expect_cancelled(ep, CancelReason::user);
    co_await ch.send(5);  // goes to the buffer, not to the cancelled receiver
    EXPECT_EQ(ch.size(), 1u);
    EXPECT_EQ(ch.try_receive(), std::optional<int>(5));
}

WEIR_TEST(Cancellation, DuringJoin) {
    JoinHandle<int> child;
    JoinHandle<void> joiner;
    Observed o;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        child = g.spawn(value_after(5ms, 1));
        joiner =
            g.spawn(fn([&]() -> Task<void> { co_await observe(o, weir::as_task(child.join())); }));
        co_await weir::sleep_for(1ms);
        joiner.cancel(CancelReason::peer_disconnected);
    });
    EXPECT_EQ(o.reason, CancelReason::peer_disconnected);
    EXPECT_TRUE(joiner.cancelled());
    EXPECT_EQ(child.result(), 1) << "cancelling a joiner does not cancel the child";
}

WEIR_TEST(Cancellation, DuringYield) {
    JoinHandle<void> h;
    int yields = 0;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([&]() -> Task<void> {
            for (;;) {
                co_await weir::yield();
                ++yields;
            }
        }));
        co_await weir::yield();
        co_await weir::yield();
        h.cancel();
    });
    EXPECT_TRUE(h.cancelled());
    EXPECT_GE(yields, 1);
}

WEIR_TEST(Cancellation, DuringNestedTaskChain) {
    Observed o1, o2, o3;
    auto ep = co_await cancel_while_waiting(level1(o1, o2, o3), CancelReason::peer_disconnected);
    expect_cancelled(ep, CancelReason::peer_disconnected);
    for (auto* o : {&o1, &o2, &o3}) {
        EXPECT_TRUE(o->cancelled);
        EXPECT_EQ(o->reason, CancelReason::peer_disconnected);
    }
}

WEIR_TEST(Cancellation, OfAHundredThousandDeepChain) {
    auto ep = co_await cancel_while_waiting(deep_wait(kDeepChain));
    expect_cancelled(ep, CancelReason::user);
}

WEIR_TEST(Cancellation, AwaitableWrappedForAnotherTask) {
    // The awaitable is created by the body but awaited by the child: the
    // child must be the one parked, woken and cancelled.
    Event ev;
    weir::Semaphore sem(0);
    weir::Channel<int> ch(1);
    std::array<JoinHandle<void>, 2> hs;
    co_await weir::with_timeout(10s, weir::task_group([&](TaskGroup& g) -> Task<void> {
                                    hs[0] = g.spawn(weir::as_task(ev.wait()));
                                    hs[1] = g.spawn(weir::as_task(weir::sleep_for(1h)));
                                    auto acquire = g.spawn(weir::as_task(sem.acquire()));
                                    auto receive = g.spawn(weir::as_task(ch.receive()));
                                    co_await weir::sleep_for(1ms);
                                    for (auto& h : hs) h.cancel();
                                    acquire.cancel();
                                    receive.cancel();
                                    co_await weir::sleep_for(1ms);
                                    EXPECT_TRUE(acquire.done() && receive.done());
                                    EXPECT_TRUE(hs[0].done() && hs[1].done());
                                    EXPECT_FALSE(sem.has_waiters());
                                }));
    EXPECT_TRUE(hs[0].cancelled());
    EXPECT_TRUE(hs[1].cancelled());
}

// -------------------------------------------------- reasons and propagation

WEIR_TEST(Cancellation, ReasonReachesEveryDescendant) {
    for (auto reason :
         {CancelReason::user, CancelReason::shutdown, CancelReason::peer_disconnected}) {
        std::vector<Observed> seen(7);  // 1 + 2 + 4 tasks in a tree of groups
        std::size_t next = 0;
        co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
            auto tree = g.spawn(nested_groups(2, seen, next));
            Event go;
            auto other = g.spawn(fn([&]() -> Task<int> {
                co_await go.wait();
                co_return 0;
            }));
            co_await weir::sleep_for(1ms);
            EXPECT_EQ(next, seen.size());
            tree.cancel(reason);
            expect_cancelled(co_await caught(weir::as_task(tree.join())), reason);
            EXPECT_FALSE(other.done());  // siblings outside the cancelled task are untouched
            go.set();
            EXPECT_EQ(co_await other.join(), 0);
        });
        for (auto& o : seen) {
            EXPECT_TRUE(o.cancelled);
            EXPECT_EQ(o.reason, reason);
        }
    }
}

WEIR_TEST(Cancellation, StatsCountCancelledTasksPerReason) {
    using R = CancelReason;
    std::array<std::uint64_t, weir::kCancelReasonCount> before{};
    for (std::size_t i = 0; i < before.size(); ++i)
        before[i] = weir_test::cancelled_count(static_cast<R>(i));

    // user x3, peer_disconnected x1
    co_await weir::task_group([](TaskGroup& g) -> Task<void> {
        std::vector<JoinHandle<void>> hs;
        for (int i = 0; i < 4; ++i) hs.push_back(g.spawn(forever()));
        co_await weir::yield();
        for (int i = 0; i < 3; ++i) hs[static_cast<std::size_t>(i)].cancel();
        hs[3].cancel(R::peer_disconnected);
    });
    // sibling_failed x2
    co_await caught(weir::task_group([](TaskGroup& g) -> Task<void> {
        g.spawn(forever());
        g.spawn(forever());
        g.spawn(weir_test::fail_after_yield("x"));
        co_return;
    }));
    // race_lost x2
    co_await weir::when_any(value_after(0ms, 1), value_after(1h, 2), value_after(1h, 3));
    // timeout x2 (the group body runs in this task, which is not a new task)
    co_await caught(weir::with_timeout(1ms, weir::task_group([](TaskGroup& g) -> Task<void> {
                                           g.spawn(forever());
                                           g.spawn(forever());
                                           co_await forever();
                                       })));
    // shutdown x2
    co_await weir::supervise([](weir::Supervisor& s) -> Task<void> {
        s.spawn(forever());
        s.spawn(forever());
        co_await weir::yield();
    });

    std::array<std::uint64_t, weir::kCancelReasonCount> expected{};
    expected[static_cast<std::size_t>(R::user)] = 3;
    expected[static_cast<std::size_t>(R::peer_disconnected)] = 1;
    expected[static_cast<std::size_t>(R::sibling_failed)] = 2;
    expected[static_cast<std::size_t>(R::race_lost)] = 2;
    expected[static_cast<std::size_t>(R::timeout)] = 2;
    expected[static_cast<std::size_t>(R::shutdown)] = 2;
    for (std::size_t i = 0; i < before.size(); ++i) {
        EXPECT_EQ(weir_test::cancelled_count(static_cast<R>(i)) - before[i], expected[i])
            << "reason " << weir::to_string(static_cast<R>(i));
    }
    auto snap = weir::Runtime::current()->stats(0);
    EXPECT_EQ(snap.tasks_alive, 1u);  // only the test body itself
}
