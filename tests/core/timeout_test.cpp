// with_timeout / with_deadline, nested deadlines, current_deadline() and
// remaining_time() inheritance.
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "structured_test_util.hpp"

using namespace std::chrono_literals;
using weir::CancelReason;
using weir::Clock;
using weir::Duration;
using weir::Event;
using weir::JoinHandle;
using weir::kNoDeadline;
using weir::Task;
using weir::TaskGroup;
using weir::TimeoutError;
using weir::TimePoint;
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

Task<TimePoint> deadline_seen() {
    co_await weir::yield();
    co_return weir::current_deadline();
}

Task<TimePoint> deadline_seen_deep(int depth) {
    if (depth == 0) co_return co_await deadline_seen();
    co_return co_await deadline_seen_deep(depth - 1);
}

Task<int> returns_without_awaiting(int v) { co_return v; }

// What the middle of two nested timeouts saw.
struct Middle {
    bool saw_cancelled = false;
    CancelReason reason = CancelReason::user;
    bool saw_timeout_error = false;
};

Task<void> middle(Middle& m, Duration inner_timeout) {
    try {
        co_await weir::with_timeout(inner_timeout, forever());
    } catch (const weir::Cancelled& c) {
        m.saw_cancelled = true;
        m.reason = c.reason();
        throw;
    } catch (const TimeoutError&) {
        m.saw_timeout_error = true;
        throw;
    }
}

}  // namespace

WEIR_TEST(Timeout, FiresAndCancelsTheInnerWork) {
    Observed o;
    auto start = Clock::now();
    auto ep = co_await caught(weir::with_timeout(20ms, observed_forever(o)));
    auto elapsed = Clock::now() - start;
    expect_error<TimeoutError>(
        ep, [](const TimeoutError& e) { EXPECT_STREQ(e.what(), "operation timed out"); });
    EXPECT_TRUE(o.cancelled);
    EXPECT_EQ(o.reason, CancelReason::timeout);
    EXPECT_GE(elapsed, 20ms) << "the timeout fired before its deadline";
    // TimeoutError is an ordinary error.
    static_assert(std::is_base_of_v<std::exception, TimeoutError>);
}

WEIR_TEST(Timeout, DoesNotFireWhenWorkFinishesFirst) {
    EXPECT_EQ(co_await weir::with_timeout(10s, value_after(1ms, 3)), 3);
    co_await weir::with_timeout(10s, weir::as_task(weir::sleep_for(1ms)));
    auto p = co_await weir::with_timeout(1h, value_after(0ms, std::make_unique<int>(4)));
    EXPECT_EQ(*p, 4);
    // The deadline timer is gone: the leak check counts armed timers, and
    // the task is not cancelled later on.
    co_await weir::sleep_for(2ms);
}

WEIR_TEST(Timeout, InnerErrorPassesThroughUnchanged) {
    auto ep = co_await caught(
        weir::with_timeout(10s, weir_test::fail_after_yield<std::range_error>("r")));
    expect_error<std::range_error>(ep);
}

WEIR_TEST(Timeout, ZeroAndNegativeTimeouts) {
    for (Duration d : {Duration::zero(), Duration(-5ms)}) {
        Observed o;
        auto ep = co_await caught(weir::with_timeout(d, observed_forever(o)));
        expect_error<TimeoutError>(ep);
        EXPECT_EQ(o.reason, CancelReason::timeout);
        // Work that never reaches an await point still completes.
        EXPECT_EQ(co_await weir::with_timeout(d, returns_without_awaiting(6)), 6);
    }
    // A deadline already in the past behaves the same.
    auto ep = co_await caught(weir::with_deadline(Clock::now() - 1s, forever()));
    expect_error<TimeoutError>(ep);
}

WEIR_TEST(Timeout, InnerTimeoutShorter) {
    // The inner with_timeout fires: the middle sees TimeoutError; the outer
    // one does not fire and just passes the error on.
    Middle m;
    auto ep = co_await caught(weir::with_timeout(10s, middle(m, 5ms)));
    expect_error<TimeoutError>(ep);
    EXPECT_TRUE(m.saw_timeout_error);
    EXPECT_FALSE(m.saw_cancelled);
}

WEIR_TEST(Timeout, InnerTimeoutHandledOuterNotFired) {
    int v = co_await weir::with_timeout(10s, fn([]() -> Task<int> {
                                            try {
                                                co_await weir::with_timeout(2ms, forever());
                                            } catch (const TimeoutError&) {
                                                co_return 7;  // handled at this level
                                            }
                                            co_return 0;
                                        }));
    EXPECT_EQ(v, 7);
}

WEIR_TEST(Timeout, OuterTimeoutShorter) {
    // The outer deadline expires: inside it surfaces as Cancelled (also
    // through the inner with_timeout), and only the outer with_timeout turns
    // it into TimeoutError.
    Middle m;
    auto start = Clock::now();
    auto ep = co_await caught(weir::with_timeout(10ms, middle(m, 10s)));
    expect_error<TimeoutError>(ep);
    EXPECT_TRUE(m.saw_cancelled);
    EXPECT_EQ(m.reason, CancelReason::timeout);
    EXPECT_FALSE(m.saw_timeout_error);
    EXPECT_GE(Clock::now() - start, 10ms);
}

WEIR_TEST(Timeout, UserCancellationIsNotATimeout) {
    Observed o;
    JoinHandle<void> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(weir::with_timeout(10s, observed_forever(o)));
        co_await weir::sleep_for(1ms);
        h.cancel(CancelReason::shutdown);
    });
    EXPECT_TRUE(h.cancelled()) << "an outer cancellation must stay Cancelled";
    EXPECT_EQ(o.reason, CancelReason::shutdown);
}

WEIR_TEST(Timeout, WithDeadline) {
    auto tp = Clock::now() + 10ms;
    auto ep = co_await caught(weir::with_deadline(tp, forever()));
    expect_error<TimeoutError>(ep);
    EXPECT_GE(Clock::now(), tp);
    EXPECT_EQ(co_await weir::with_deadline(Clock::now() + 10s, value_after(0ms, 1)), 1);
}

WEIR_TEST(Timeout, WrappedAwaitable) {
    Event ev;
    auto ep = co_await caught(weir::with_timeout(2ms, weir::as_task(ev.wait())));
    expect_error<TimeoutError>(ep);
    ev.set();  // the waiter was removed
    co_await weir::with_timeout(1s, weir::as_task(ev.wait()));
}

WEIR_TEST(Timeout, InsideAGroupChildIsAnOrdinaryError) {
    auto ep = co_await caught(weir::task_group([](TaskGroup& g) -> Task<void> {
        g.spawn(weir::with_timeout(1ms, forever()));
        co_await forever();
    }));
    expect_error<weir::ExceptionGroup>(ep, [](const weir::ExceptionGroup& g) {
        EXPECT_EQ(g.size(), 1u);
        EXPECT_TRUE(g.contains<TimeoutError>());
    });
}

WEIR_TEST(Timeout, HandledInsideAndKeepsWorking) {
    // After a caught TimeoutError the task is not cancelled any more.
    for (int i = 0; i < 3; ++i) {
        auto ep = co_await caught(weir::with_timeout(1ms, forever()));
        expect_error<TimeoutError>(ep);
    }
    co_await weir::sleep_for(1ms);
    EXPECT_EQ(co_await value_after(1ms, 2), 2);
}

WEIR_TEST(Timeout, InnerWorkThatSwallowsCancellationReturnsItsValue) {
    int v = co_await weir::with_timeout(1ms, fn([]() -> Task<int> {
                                            try {
                                                co_await forever();
                                            } catch (const weir::Cancelled&) {
                                            }
                                            co_return 9;
                                        }));
    EXPECT_EQ(v, 9);
}

// --------------------------------------------------------------- deadlines

WEIR_TEST(Deadline, NoneOutsideAnyTimeout) {
    EXPECT_EQ(weir::current_deadline(), kNoDeadline);
    EXPECT_EQ(weir::remaining_time(), std::nullopt);
    co_return;
}

TEST(Deadline, NoneOutsideAnyTask) {
    EXPECT_EQ(weir::current_deadline(), kNoDeadline);
    EXPECT_EQ(weir::remaining_time(), std::nullopt);
}

WEIR_TEST(Deadline, ReadableInsideAndInheritedByNestedAwaits) {
    auto tp = Clock::now() + 10s;
    co_await weir::with_deadline(tp, fn([tp]() -> Task<void> {
                                     EXPECT_EQ(weir::current_deadline(), tp);
                                     auto left = weir::remaining_time();
                                     CO_ASSERT_TRUE(left.has_value());
                                     EXPECT_GT(*left, Duration::zero());
                                     EXPECT_LE(*left, Duration(10s));
                                     EXPECT_EQ(co_await deadline_seen(), tp);
                                     EXPECT_EQ(co_await deadline_seen_deep(50), tp);
                                 }));
    EXPECT_EQ(weir::current_deadline(), kNoDeadline) << "the deadline ends with its scope";
}

WEIR_TEST(Deadline, EarliestOfNestedDeadlinesApplies) {
    auto outer = Clock::now() + 10s;
    auto inner_later = outer + 10s;
    auto inner_sooner = outer - 5s;
    co_await weir::with_deadline(
        outer, fn([&]() -> Task<void> {
            EXPECT_EQ(co_await weir::with_deadline(inner_later, deadline_seen()), outer);
            EXPECT_EQ(co_await weir::with_deadline(inner_sooner, deadline_seen()), inner_sooner);
            EXPECT_EQ(weir::current_deadline(), outer);
        }));
}

WEIR_TEST(Deadline, InheritedByGroupChildrenAndGrandchildren) {
    auto tp = Clock::now() + 10s;
    JoinHandle<TimePoint> child, grandchild_seen;
    TimePoint grandchild = {};
    std::vector<TimePoint> from_when_all;
    co_await weir::with_deadline(tp, weir::task_group([&](TaskGroup& g) -> Task<void> {
                                     child = g.spawn(deadline_seen());
                                     g.spawn(weir::task_group([&](TaskGroup& inner) -> Task<void> {
                                         auto h = inner.spawn(deadline_seen_deep(3));
                                         grandchild = co_await h.join();
                                     }));
                                     auto [a, b] =
                                         co_await weir::when_all(deadline_seen(), deadline_seen());
                                     from_when_all = {a, b};
                                 }));
    EXPECT_EQ(child.result(), tp);
    EXPECT_EQ(grandchild, tp);
    EXPECT_EQ(from_when_all, (std::vector<TimePoint>{tp, tp}));
}

WEIR_TEST(Deadline, ChildWithItsOwnShorterDeadline) {
    auto tp = Clock::now() + 10s;
    TimePoint child_outer{}, child_inner{};
    auto inner_tp = Clock::now() + 1s;
    co_await weir::with_deadline(tp, weir::task_group([&](TaskGroup& g) -> Task<void> {
                                     g.spawn(fn([&]() -> Task<void> {
                                         child_outer = weir::current_deadline();
                                         child_inner = co_await weir::with_deadline(
                                             inner_tp, deadline_seen());
                                     }));
                                     co_return;
                                 }));
    EXPECT_EQ(child_outer, tp);
    EXPECT_EQ(child_inner, inner_tp);
}

WEIR_TEST(Deadline, GroupChildrenAreCancelledWithReasonTimeout) {
    Observed c1, c2;
    auto ep = co_await caught(
        weir::with_timeout(3ms, weir::task_group([&](TaskGroup& g) -> Task<void> {
                               g.spawn(observed_forever(c1));
                               g.spawn(weir::task_group([&](TaskGroup& inner) -> Task<void> {
                                   inner.spawn(observed_forever(c2));
                                   co_return;
                               }));
                               co_return;
                           })));
    expect_error<TimeoutError>(ep);
    EXPECT_EQ(c1.reason, CancelReason::timeout);
    EXPECT_EQ(c2.reason, CancelReason::timeout);
}

WEIR_TEST(Deadline, RemainingTimeShrinks) {
    co_await weir::with_timeout(10s, fn([]() -> Task<void> {
                                    auto first = *weir::remaining_time();
                                    co_await weir::sleep_for(2ms);
                                    auto second = *weir::remaining_time();
                                    EXPECT_LT(second, first);
                                    EXPECT_LE(first - second, first);  // no overflow nonsense
                                }));
}
