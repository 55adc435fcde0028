// when_all (tuple and vector forms) and when_any / race.
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "structured_test_util.hpp"

using namespace std::chrono_literals;
using weir::CancelReason;
using weir::Event;
using weir::Task;
using weir_test::caught;
using weir_test::expect_cancelled;
using weir_test::expect_error;
using weir_test::fail_now;
using weir_test::fn;
using weir_test::forever;
using weir_test::Observed;
using weir_test::observed_forever;
using weir_test::value_after;

namespace {

// Waits for cancellation, then runs an awaiting cleanup under a shield and
// sets `cleaned` before rethrowing: lets a test check that a cancelled
// child was joined (its cleanup finished) before the combinator returned.
Task<void> slow_cleanup_on_cancel(Observed& o, bool& cleaned) {
    std::exception_ptr cancelled;
    try {
        co_await observed_forever(o);
    } catch (const weir::Cancelled&) {
        cancelled = std::current_exception();
    }
    co_await weir::shield(weir::as_task(weir::sleep_for(3ms)));
    cleaned = true;
    std::rethrow_exception(cancelled);
}

Task<int> set_after(Event& ev, weir::Duration d, int v) {
    co_await weir::sleep_for(d);
    ev.set();
    co_return v;
}

Task<int> wait_then(Event& ev, int v) {
    co_await ev.wait();
    co_return v;
}

}  // namespace

// ------------------------------------------------------------------ when_all

WEIR_TEST(WhenAll, TupleOfHeterogeneousResults) {
    auto [i, s, v] =
        co_await weir::when_all(value_after(2ms, 1), value_after(1ms, std::string("two")),
                                weir::as_task(weir::sleep_for(1ms)));
    EXPECT_EQ(i, 1);
    EXPECT_EQ(s, "two");
    static_assert(std::is_same_v<decltype(v), std::monostate>);
}

WEIR_TEST(WhenAll, ChildrenRunConcurrently) {
    // Each child waits for an event the other one sets.
    Event a, b;
    auto [x, y] = co_await weir::with_timeout(10s, weir::when_all(fn([&]() -> Task<int> {
                                                                      a.set();
                                                                      co_await b.wait();
                                                                      co_return 1;
                                                                  }),
                                                                  fn([&]() -> Task<int> {
                                                                      b.set();
                                                                      co_await a.wait();
                                                                      co_return 2;
                                                                  })));
    EXPECT_EQ(x, 1);
    EXPECT_EQ(y, 2);
}

WEIR_TEST(WhenAll, MoveOnlyResults) {
    auto [p, q] = co_await weir::when_all(value_after(1ms, std::make_unique<int>(1)),
                                          value_after(0ms, std::make_unique<int>(2)));
    CO_ASSERT_TRUE(p && q);
    EXPECT_EQ(*p + *q, 3);
}

WEIR_TEST(WhenAll, VectorKeepsInputOrder) {
    std::vector<Task<int>> tasks;
    // Later tasks finish first.
    for (int i = 0; i < 20; ++i) tasks.push_back(value_after((20 - i) * 1ms / 2, i));
    std::vector<int> out = co_await weir::when_all(std::move(tasks));
    CO_ASSERT_EQ(out.size(), 20u);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(out[static_cast<std::size_t>(i)], i);
}

WEIR_TEST(WhenAll, VectorOfVoid) {
    int done = 0;
    std::vector<Task<void>> tasks;
    for (int i = 0; i < 5; ++i)
        tasks.push_back(fn([&]() -> Task<void> {
            co_await weir::sleep_for(1ms);
            ++done;
        }));
    std::vector<std::monostate> out = co_await weir::when_all(std::move(tasks));
    EXPECT_EQ(out.size(), 5u);
    EXPECT_EQ(done, 5);
}

WEIR_TEST(WhenAll, EmptyVector) {
    auto out = co_await weir::when_all(std::vector<Task<int>>{});
    EXPECT_TRUE(out.empty());
}

WEIR_TEST(WhenAll, FirstErrorIsRethrownAsIsAndTheRestAreCancelledAndJoined) {
    Observed o1, o2;
    bool cleaned1 = false, cleaned2 = false;
    auto ep = co_await caught(weir::when_all(slow_cleanup_on_cancel(o1, cleaned1),
                                             weir_test::fail_after_yield<std::out_of_range>("bad"),
                                             slow_cleanup_on_cancel(o2, cleaned2)));
    expect_error<std::out_of_range>(
        ep, [](const std::out_of_range& e) { EXPECT_STREQ(e.what(), "bad"); });
    EXPECT_TRUE(o1.cancelled && o2.cancelled);
    EXPECT_EQ(o1.reason, CancelReason::sibling_failed);
    EXPECT_EQ(o2.reason, CancelReason::sibling_failed);
    EXPECT_TRUE(cleaned1) << "a cancelled child must be joined before when_all returns";
    EXPECT_TRUE(cleaned2);
}

WEIR_TEST(WhenAll, OnlyTheFirstOfSeveralErrorsIsRethrown) {
    // Both fail without reaching an await point; the first to fail wins.
    auto ep = co_await caught(weir::when_all(fail_now<std::invalid_argument>("first"),
                                             fail_now<std::runtime_error>("second")));
    expect_error<std::invalid_argument>(
        ep, [](const std::invalid_argument& e) { EXPECT_STREQ(e.what(), "first"); });
}

WEIR_TEST(WhenAll, VectorFormFailsFast) {
    Observed o;
    std::vector<Task<void>> tasks;
    tasks.push_back(observed_forever(o));
    tasks.push_back(weir_test::fail_after_yield("vector"));
    auto ep = co_await caught(weir::when_all(std::move(tasks)));
    EXPECT_EQ(weir_test::message_of(ep), "vector");
    EXPECT_EQ(o.reason, CancelReason::sibling_failed);
}

WEIR_TEST(WhenAll, CancellingTheCallerCancelsAll) {
    Observed o1, o2;
    weir::JoinHandle<void> h;
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([&]() -> Task<void> {
            co_await weir::when_all(observed_forever(o1), observed_forever(o2));
        }));
        co_await weir::sleep_for(1ms);
        h.cancel(CancelReason::peer_disconnected);
    });
    EXPECT_TRUE(h.cancelled());
    EXPECT_EQ(o1.reason, CancelReason::peer_disconnected);
    EXPECT_EQ(o2.reason, CancelReason::peer_disconnected);
}

WEIR_TEST(WhenAll, TimeoutAroundWhenAll) {
    Observed o;
    auto ep = co_await caught(weir::with_timeout(
        3ms, weir::when_all(value_after(0ms, 1), weir_test::observe(o, forever()))));
    expect_error<weir::TimeoutError>(ep);
    EXPECT_EQ(o.reason, CancelReason::timeout);
}

// ------------------------------------------------------------------ when_any

WEIR_TEST(WhenAny, FirstToFinishWinsAndLosersAreCancelledAndJoined) {
    Observed o1, o2;
    bool cleaned1 = false, cleaned2 = false;
    auto r = co_await weir::when_any(slow_cleanup_on_cancel(o1, cleaned1), value_after(1ms, 7),
                                     slow_cleanup_on_cancel(o2, cleaned2));
    EXPECT_EQ(r.index(), 1u);
    EXPECT_EQ(std::get<1>(r), 7);
    EXPECT_EQ(o1.reason, CancelReason::race_lost);
    EXPECT_EQ(o2.reason, CancelReason::race_lost);
    EXPECT_TRUE(cleaned1 && cleaned2) << "losers must be joined before when_any returns";
}

WEIR_TEST(WhenAny, HeterogeneousVariant) {
    auto r = co_await weir::when_any(value_after(1h, 1), value_after(0ms, std::string("fast")),
                                     weir::as_task(weir::sleep_for(1h)));
    static_assert(std::is_same_v<decltype(r), std::variant<int, std::string, std::monostate>>);
    CO_ASSERT_EQ(r.index(), 1u);
    EXPECT_EQ(std::get<1>(r), "fast");
}

WEIR_TEST(WhenAny, VoidWinner) {
    Event ev;
    auto r = co_await weir::when_any(forever(), weir::as_task(ev.wait()), fn([&]() -> Task<void> {
                                         ev.set();
                                         co_await forever();
                                     }));
    EXPECT_EQ(r.index(), 1u);
}

WEIR_TEST(WhenAny, FailingWinnerRethrows) {
    Observed o;
    auto ep = co_await caught(weir::when_any(
        observed_forever(o), weir_test::fail_after_yield<std::domain_error>("lost")));
    expect_error<std::domain_error>(ep);
    EXPECT_EQ(o.reason, CancelReason::race_lost);
}

WEIR_TEST(WhenAny, MoveOnlyWinner) {
    auto r = co_await weir::when_any(value_after(0ms, std::make_unique<int>(5)), forever());
    CO_ASSERT_EQ(r.index(), 0u);
    EXPECT_EQ(*std::get<0>(r), 5);
}

WEIR_TEST(WhenAny, VectorForm) {
    std::vector<Task<int>> tasks;
    for (int i = 0; i < 10; ++i) tasks.push_back(value_after(i == 6 ? 0ms : 1h, i * 10));
    auto [index, value] = co_await weir::when_any(std::move(tasks));
    EXPECT_EQ(index, 6u);
    EXPECT_EQ(value, 60);
}

WEIR_TEST(WhenAny, VectorFormLosersCancelled) {
    std::vector<Observed> seen(4);
    std::vector<Task<int>> tasks;
    for (auto& o : seen) tasks.push_back(weir_test::observe(o, value_after(1h, 0)));
    Event go;
    tasks.push_back(wait_then(go, 99));
    tasks.push_back(set_after(go, 1ms, 1));
    auto [index, value] = co_await weir::when_any(std::move(tasks));
    EXPECT_EQ(index, 5u);  // the setter finishes before the waiter resumes
    EXPECT_EQ(value, 1);
    for (auto& o : seen) EXPECT_EQ(o.reason, CancelReason::race_lost);
}

WEIR_TEST(WhenAny, EmptyVectorIsAnError) {
    auto ep = co_await caught(weir::when_any(std::vector<Task<int>>{}));
    expect_error<std::logic_error>(ep);
}

WEIR_TEST(WhenAny, RaceIsAnAlias) {
    auto r = co_await weir::race(value_after(1h, 1), value_after(0ms, 2));
    EXPECT_EQ(r.index(), 1u);
    EXPECT_EQ(std::get<1>(r), 2);
}

WEIR_TEST(WhenAny, CancellingTheCallerCancelsAll) {
    Observed o1, o2;
    weir::JoinHandle<void> h;
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([&]() -> Task<void> {
            co_await weir::when_any(observed_forever(o1), observed_forever(o2));
        }));
        co_await weir::sleep_for(1ms);
        h.cancel(CancelReason::shutdown);
    });
    EXPECT_TRUE(h.cancelled());
    expect_cancelled(co_await caught(weir::as_task(h.join())), CancelReason::shutdown);
    EXPECT_EQ(o1.reason, CancelReason::shutdown);
    EXPECT_EQ(o2.reason, CancelReason::shutdown);
}

WEIR_TEST(WhenAny, CallerCancelledWhileContendersAreRunnable) {
    // The contenders are not parked when the caller is cancelled; the first
    // to notice ends cancelled, which must not count as winning the race:
    // the other one sees the caller's reason, not race_lost.
    Observed o1, o2;
    weir::JoinHandle<void> h;
    auto spin = []() -> Task<void> {
        for (;;) co_await weir::yield();
    };
    const auto race_lost_before = weir_test::cancelled_count(CancelReason::race_lost);
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([&]() -> Task<void> {
            co_await weir::when_any(weir_test::observe(o1, spin()), weir_test::observe(o2, spin()));
        }));
        co_await weir::yield();
        co_await weir::yield();
        h.cancel(CancelReason::shutdown);
    });
    EXPECT_EQ(o1.reason, CancelReason::shutdown);
    EXPECT_EQ(o2.reason, CancelReason::shutdown);
    EXPECT_EQ(weir_test::cancelled_count(CancelReason::race_lost), race_lost_before);
}

WEIR_TEST(WhenAny, WinnerKeptWhenCallerCancelledInTheSameTurn) {
    // The winner finishes and the caller is cancelled before when_any
    // resumes: the value is still returned (cancellation arrives at the
    // caller's next await).
    Event ev;
    int got = -1;
    bool cancelled_after = false;
    weir::JoinHandle<void> h;
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([&]() -> Task<void> {
            auto r = co_await weir::when_any(wait_then(ev, 5), forever());
            got = std::get<0>(r);
            try {
                co_await weir::yield();
            } catch (const weir::Cancelled&) {
                cancelled_after = true;
                throw;
            }
        }));
        co_await weir::sleep_for(1ms);
        ev.set();    // the first contender is woken ...
        h.cancel();  // ... and the caller cancelled, in the same turn
    });
    EXPECT_EQ(got, 5);
    EXPECT_TRUE(cancelled_after);
    EXPECT_TRUE(h.cancelled());
}
