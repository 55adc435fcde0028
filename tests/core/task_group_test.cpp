// TaskGroup: results, join, concurrency, fail-fast cancellation, every error
// in an ExceptionGroup (also nested), outer cancellation, cancel(), many children.
#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "structured_test_util.hpp"

using namespace std::chrono_literals;
using weir::CancelReason;
using weir::Event;
using weir::ExceptionGroup;
using weir::JoinHandle;
using weir::Task;
using weir::TaskGroup;
using weir_test::caught;
using weir_test::expect_cancelled;
using weir_test::expect_error;
using weir_test::fail_after_yield;
using weir_test::fail_now;
using weir_test::fn;
using weir_test::forever;
using weir_test::Observed;
using weir_test::observed_forever;
using weir_test::value_after;

namespace {

struct ErrA : std::runtime_error {
    explicit ErrA(const std::string& what = "A") : std::runtime_error(what) {}
};
struct ErrB : std::logic_error {
    explicit ErrB(const std::string& what = "B") : std::logic_error(what) {}
};
struct ErrC : std::runtime_error {
    explicit ErrC(const std::string& what = "C") : std::runtime_error(what) {}
};
struct ErrD : std::runtime_error {
    explicit ErrD(const std::string& what = "D") : std::runtime_error(what) {}
};

template <class E>
Task<void> throw_now() {
    throw E();
    co_return;
}

// What an error in a group is: its message, or "group[...]" for a nested
// group, recursively, sorted so the check does not depend on completion order.
std::string describe(const std::exception_ptr& ep) {
    try {
        std::rethrow_exception(ep);
    } catch (const ExceptionGroup& g) {
        std::vector<std::string> parts;
        for (const auto& e : g.exceptions()) parts.push_back(describe(e));
        std::sort(parts.begin(), parts.end());
        std::string out = "group[";
        for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? "," : "") + parts[i];
        return out + "]";
    } catch (const std::exception& e) {
        return e.what();
    } catch (const weir::Cancelled&) {
        return "Cancelled";
    }
}

Task<void> append_twice(std::vector<std::string>& log, std::string who, Event& mine,
                        Event& other_done_first) {
    log.push_back(who + "1");
    mine.set();
    co_await other_done_first.wait();
    log.push_back(who + "2");
}

}  // namespace

WEIR_TEST(TaskGroup, ResultsAreReadableAfterTheGroup) {
    JoinHandle<int> a, b;
    JoinHandle<std::string> c;
    JoinHandle<void> d;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        a = g.spawn(value_after(3ms, 1));
        b = g.spawn(value_after(1ms, 2));
        c = g.spawn(value_after(2ms, std::string("three")));
        d = g.spawn(weir::as_task(weir::sleep_for(1ms)));
        EXPECT_EQ(g.running(), 4u);
        co_return;
    });
    EXPECT_TRUE(a.done() && b.done() && c.done() && d.done());
    EXPECT_FALSE(a.failed() || a.cancelled());
    EXPECT_EQ(a.result(), 1);
    EXPECT_EQ(b.result(), 2);
    EXPECT_EQ(c.result(), "three");
    EXPECT_EQ(d.result(), std::monostate{});
}

WEIR_TEST(TaskGroup, BodyValueIsReturned) {
    int v = co_await weir::task_group([](TaskGroup& g) -> Task<int> {
        auto h = g.spawn(value_after(1ms, 20));
        co_return 22 + co_await h.join();
    });
    EXPECT_EQ(v, 42);
}

WEIR_TEST(TaskGroup, JoinWaitsForOneChild) {
    co_await weir::task_group([](TaskGroup& g) -> Task<void> {
        auto slow = g.spawn(value_after(5ms, 5));
        auto fast = g.spawn(value_after(0ms, 1));
        EXPECT_FALSE(slow.done());
        EXPECT_EQ(co_await fast.join(), 1);
        EXPECT_EQ(co_await slow.join(), 5);
        EXPECT_TRUE(slow.done());
        // Joining a finished child returns at once, as often as asked.
        EXPECT_EQ(co_await slow.join(), 5);
    });
}

WEIR_TEST(TaskGroup, JoinRethrowsTheChildError) {
    auto ep = co_await caught(weir::task_group([](TaskGroup& g) -> Task<void> {
        auto h = g.spawn(fail_after_yield("child broke"));
        auto inner = co_await caught(weir::as_task(h.join()));
        EXPECT_EQ(weir_test::message_of(inner), "child broke");
        EXPECT_TRUE(h.failed());
        // The group then cancels the body at its next await.
        auto again = co_await caught(weir::as_task(weir::yield()));
        expect_cancelled(again, CancelReason::sibling_failed);
    }));
    expect_error<ExceptionGroup>(ep, [](const ExceptionGroup& g) {
        EXPECT_EQ(g.size(), 1u);
        EXPECT_TRUE(g.contains<std::runtime_error>());
    });
}

WEIR_TEST(TaskGroup, ChildrenRunConcurrently) {
    // Each child can only finish once the other has started: a ping-pong
    // that deadlocks (and times out) unless the two interleave.
    std::vector<std::string> log;
    Event a_started, b_started;
    co_await weir::with_timeout(10s, weir::task_group([&](TaskGroup& g) -> Task<void> {
                                    g.spawn(append_twice(log, "a", a_started, b_started));
                                    g.spawn(append_twice(log, "b", b_started, a_started));
                                    co_return;
                                }));
    // b started before a finished, and a finished only after b started.
    EXPECT_EQ(log, (std::vector<std::string>{"a1", "b1", "b2", "a2"}));
}

WEIR_TEST(TaskGroup, ChildrenRunConcurrentlyWithSleeps) {
    // Wake-up times from one base, so the order does not depend on how
    // fast the children got to their sleep.
    std::vector<int> order;
    const auto base = weir::Clock::now();
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        for (int i : {3, 1, 2}) {
            g.spawn(fn([&order, i, base]() -> Task<void> {
                co_await weir::sleep_until(base + i * 2ms);
                order.push_back(i);
            }));
        }
        co_return;
    });
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

WEIR_TEST(TaskGroup, ChildrenStartOnlyAfterTheBodySuspends) {
    bool child_ran = false;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        g.spawn(fn([&]() -> Task<void> {
            child_ran = true;
            co_return;
        }));
        EXPECT_FALSE(child_ran);  // spawn schedules, it does not run the child inline
        co_await weir::yield();
        EXPECT_TRUE(child_ran);
    });
}

WEIR_TEST(TaskGroup, FailingChildCancelsSiblings) {
    Observed s1, s2;
    JoinHandle<void> h1, h2, bad;
    auto ep = co_await caught(weir::task_group([&](TaskGroup& g) -> Task<void> {
        h1 = g.spawn(observed_forever(s1));
        h2 = g.spawn(observed_forever(s2));
        bad = g.spawn(fail_after_yield("boom"));
        co_return;
    }));
    expect_error<ExceptionGroup>(ep, [](const ExceptionGroup& g) {
        ASSERT_EQ(g.size(), 1u);
        EXPECT_EQ(weir_test::message_of(g.exceptions()[0]), "boom");
    });
    EXPECT_TRUE(s1.cancelled);
    EXPECT_TRUE(s2.cancelled);
    EXPECT_EQ(s1.reason, CancelReason::sibling_failed);
    EXPECT_EQ(s2.reason, CancelReason::sibling_failed);
    EXPECT_TRUE(h1.cancelled());
    EXPECT_FALSE(h1.failed());
    EXPECT_TRUE(bad.failed());
    expect_cancelled(co_await caught(weir::as_task(h2.join())), CancelReason::sibling_failed);
}

WEIR_TEST(TaskGroup, FailingChildCancelsTheBody) {
    Observed body;
    auto ep = co_await caught(weir::task_group([&](TaskGroup& g) -> Task<void> {
        g.spawn(fail_after_yield("boom"));
        co_await observed_forever(body);
    }));
    expect_error<ExceptionGroup>(ep);
    EXPECT_TRUE(body.cancelled);
    EXPECT_EQ(body.reason, CancelReason::sibling_failed);
}

WEIR_TEST(TaskGroup, CancelledSiblingErrorDuringCleanupIsKept) {
    // A sibling that fails while handling its cancellation is a real error too.
    auto ep = co_await caught(weir::task_group([&](TaskGroup& g) -> Task<void> {
        g.spawn(fn([]() -> Task<void> {
            try {
                co_await forever();
            } catch (const weir::Cancelled&) {
                throw ErrB();
            }
        }));
        g.spawn(fail_after_yield<ErrA>("ignored"));
        co_return;
    }));
    expect_error<ExceptionGroup>(ep, [](const ExceptionGroup& g) {
        EXPECT_EQ(g.size(), 2u);
        EXPECT_TRUE(g.contains<ErrA>());
        EXPECT_TRUE(g.contains<ErrB>());
    });
}

WEIR_TEST(TaskGroup, EveryErrorIsInTheGroup) {
    auto ep = co_await caught(weir::task_group([](TaskGroup& g) -> Task<void> {
        // Neither reaches an await point, so both fail despite the cancellation.
        g.spawn(throw_now<ErrA>());
        g.spawn(throw_now<ErrB>());
        g.spawn(forever());
        co_return;
    }));
    expect_error<ExceptionGroup>(ep, [](const ExceptionGroup& g) {
        EXPECT_EQ(g.size(), 2u);
        EXPECT_EQ(g.exceptions().size(), 2u);
        EXPECT_TRUE(g.contains<ErrA>());
        EXPECT_TRUE(g.contains<ErrB>());
        EXPECT_FALSE(g.contains<ErrC>());
        EXPECT_FALSE(g.contains<weir::TimeoutError>());
        EXPECT_EQ(g.matching<ErrA>().size(), 1u);
        EXPECT_EQ(g.matching<std::runtime_error>().size(), 1u);  // ErrB is a logic_error
        EXPECT_EQ(g.matching<std::exception>().size(), 2u);
        EXPECT_STREQ(g.matching<ErrB>()[0]->what(), "B");
        std::string what = g.what();
        EXPECT_NE(what.find("2 error"), std::string::npos) << what;
        EXPECT_NE(what.find("A"), std::string::npos) << what;
        EXPECT_NE(what.find("B"), std::string::npos) << what;

        // except* ErrA: the ErrB remains and is rethrown as a group.
        try {
            g.rethrow_except<ErrA>();
            ADD_FAILURE() << "rethrow_except<ErrA> should rethrow the ErrB";
        } catch (const ExceptionGroup& rest) {
            EXPECT_EQ(rest.size(), 1u);
            EXPECT_TRUE(rest.contains<ErrB>());
            EXPECT_FALSE(rest.contains<ErrA>());
        }
        // Handling a common base handles everything.
        EXPECT_NO_THROW(g.rethrow_except<std::exception>());
        EXPECT_EQ(g.without<std::exception>().size(), 0u);
        EXPECT_EQ(g.without<ErrB>().size(), 1u);
    });
}

WEIR_TEST(TaskGroup, BodyThrowingCancelsChildren) {
    Observed s1, s2;
    auto ep = co_await caught(weir::task_group([&](TaskGroup& g) -> Task<void> {
        g.spawn(observed_forever(s1));
        g.spawn(observed_forever(s2));
        co_await weir::yield();  // let them start
        EXPECT_TRUE(s1.started && s2.started);
        throw ErrC();
    }));
    expect_error<ExceptionGroup>(ep, [](const ExceptionGroup& g) {
        ASSERT_EQ(g.size(), 1u);
        EXPECT_TRUE(g.contains<ErrC>());
    });
    EXPECT_TRUE(s1.cancelled && s2.cancelled);
    EXPECT_EQ(s1.reason, CancelReason::sibling_failed);
}

WEIR_TEST(TaskGroup, BodyThrowingBeforeChildrenStart) {
    Observed s;
    auto ep = co_await caught(weir::task_group([&](TaskGroup& g) -> Task<void> {
        g.spawn(observed_forever(s));
        throw ErrC();
        co_return;
    }));
    expect_error<ExceptionGroup>(ep);
    EXPECT_TRUE(s.started);  // the child still ran (and met its cancellation)
    EXPECT_TRUE(s.cancelled);
}

WEIR_TEST(TaskGroup, NestedGroupsFailingAtSeveralLevels) {
    // outer body throws D; outer child X runs an inner group whose two
    // children throw A and B; outer child Y throws C.
    auto ep = co_await caught(weir::task_group([](TaskGroup& g) -> Task<void> {
        g.spawn(weir::task_group([](TaskGroup& inner) -> Task<void> {
            inner.spawn(throw_now<ErrA>());
            inner.spawn(throw_now<ErrB>());
            inner.spawn(forever());
            co_return;
        }));
        g.spawn(throw_now<ErrC>());
        throw ErrD();
        co_return;
    }));
    expect_error<ExceptionGroup>(ep, [](const ExceptionGroup& g) {
        EXPECT_EQ(describe(std::make_exception_ptr(g)), "group[C,D,group[A,B]]");
        EXPECT_EQ(g.size(), 3u);
        // Searching goes into nested groups.
        EXPECT_EQ(g.matching<ErrA>().size(), 1u);
        EXPECT_EQ(g.matching<ErrB>().size(), 1u);
        EXPECT_EQ(g.matching<std::runtime_error>().size(), 3u);  // A, C, D
        EXPECT_TRUE(g.contains<ErrD>());
        EXPECT_EQ(g.matching<ExceptionGroup>().size(), 1u);

        // except* ErrA: C, D and the nested group minus A remain.
        try {
            g.rethrow_except<ErrA>();
            ADD_FAILURE() << "expected the rest to be rethrown";
        } catch (const ExceptionGroup& rest) {
            EXPECT_EQ(describe(std::make_exception_ptr(rest)), "group[C,D,group[B]]");
            EXPECT_FALSE(rest.contains<ErrA>());
        }
        // except* std::runtime_error: only the nested B (a logic_error) remains.
        try {
            g.rethrow_except<std::runtime_error>();
            ADD_FAILURE() << "expected the nested ErrB to be rethrown";
        } catch (const ExceptionGroup& rest) {
            EXPECT_EQ(describe(std::make_exception_ptr(rest)), "group[group[B]]");
        }
    });
}

WEIR_TEST(TaskGroup, ThreeLevelsOfNesting) {
    auto ep = co_await caught(weir::task_group([](TaskGroup& g1) -> Task<void> {
        g1.spawn(weir::task_group([](TaskGroup& g2) -> Task<void> {
            g2.spawn(weir::task_group([](TaskGroup& g3) -> Task<void> {
                g3.spawn(fail_after_yield<ErrA>("A"));
                co_await forever();
            }));
            co_await forever();
        }));
        g1.spawn(forever());
        co_await forever();
    }));
    expect_error<ExceptionGroup>(ep, [](const ExceptionGroup& g) {
        EXPECT_EQ(describe(std::make_exception_ptr(g)), "group[group[group[A]]]");
        EXPECT_EQ(g.matching<ErrA>().size(), 1u);
        EXPECT_NO_THROW(g.rethrow_except<ErrA>());
    });
}

WEIR_TEST(TaskGroup, OuterCancellationGivesCancelledNotExceptionGroup) {
    Observed c1, c2, body;
    JoinHandle<void> runner;
    co_await weir::task_group([&](TaskGroup& outer) -> Task<void> {
        runner = outer.spawn(weir::task_group([&](TaskGroup& g) -> Task<void> {
            g.spawn(observed_forever(c1));
            g.spawn(observed_forever(c2));
            co_await observed_forever(body);
        }));
        co_await weir::sleep_for(1ms);
        EXPECT_TRUE(c1.started && c2.started && body.started);
        runner.cancel(CancelReason::shutdown);
    });
    EXPECT_TRUE(runner.cancelled());
    EXPECT_FALSE(runner.failed());
    expect_cancelled(co_await caught(weir::as_task(runner.join())), CancelReason::shutdown);
    EXPECT_EQ(c1.reason, CancelReason::shutdown);
    EXPECT_EQ(c2.reason, CancelReason::shutdown);
    EXPECT_EQ(body.reason, CancelReason::shutdown);
}

WEIR_TEST(TaskGroup, TimeoutAroundGroupGivesTimeoutError) {
    Observed c;
    auto ep =
        co_await caught(weir::with_timeout(5ms, weir::task_group([&](TaskGroup& g) -> Task<void> {
                                               g.spawn(observed_forever(c));
                                               co_await forever();
                                           })));
    expect_error<weir::TimeoutError>(ep);
    EXPECT_TRUE(c.cancelled);
    EXPECT_EQ(c.reason, CancelReason::timeout);
}

WEIR_TEST(TaskGroup, GroupCancelStopsEverythingQuietly) {
    Observed c1, c2, body;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        g.spawn(observed_forever(c1));
        g.spawn(observed_forever(c2));
        co_await weir::yield();
        g.cancel();
        co_await observed_forever(body);
    });
    EXPECT_TRUE(c1.cancelled && c2.cancelled && body.cancelled);
    EXPECT_EQ(c1.reason, CancelReason::user);
    EXPECT_EQ(body.reason, CancelReason::user);
    // The enclosing task is not cancelled.
    co_await weir::sleep_for(1ms);
}

WEIR_TEST(TaskGroup, GroupCancelFromAChild) {
    Observed other;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        g.spawn(observed_forever(other));
        g.spawn(fn([&]() -> Task<void> {
            co_await weir::sleep_for(1ms);
            g.cancel(CancelReason::peer_disconnected);
        }));
        co_return;
    });
    EXPECT_EQ(other.reason, CancelReason::peer_disconnected);
}

WEIR_TEST(TaskGroup, JoinHandleCancelsOneChild) {
    Observed victim;
    Event go;
    JoinHandle<void> v;
    JoinHandle<int> survivor;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        v = g.spawn(observed_forever(victim));
        survivor = g.spawn(fn([&]() -> Task<int> {
            co_await go.wait();
            co_return 7;
        }));
        co_await weir::yield();
        v.cancel();
        co_await weir::yield();
        EXPECT_TRUE(v.done());
        EXPECT_FALSE(survivor.done());
        // The body is not cancelled.
        co_await weir::sleep_for(1ms);
        go.set();
    });
    EXPECT_TRUE(v.cancelled());
    EXPECT_FALSE(v.failed());
    EXPECT_EQ(victim.reason, CancelReason::user);
    EXPECT_EQ(survivor.result(), 7);
    try {
        v.result();
        ADD_FAILURE() << "result() of a cancelled child must throw Cancelled";
    } catch (const weir::Cancelled& c) {
        EXPECT_EQ(c.reason(), CancelReason::user);
    }
}

WEIR_TEST(TaskGroup, JoinHandleCancelBeforeTheChildStarts) {
    Observed o;
    JoinHandle<void> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(observed_forever(o));
        h.cancel(CancelReason::peer_disconnected);
        co_return;
    });
    EXPECT_TRUE(h.cancelled());
    EXPECT_EQ(o.reason, CancelReason::peer_disconnected);
}

WEIR_TEST(TaskGroup, CancelledJoinerDoesNotCancelTheChild) {
    JoinHandle<int> child;
    JoinHandle<int> joiner;
    Observed j;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        child = g.spawn(value_after(5ms, 3));
        joiner = g.spawn(observe(j, weir::as_task(child.join())));
        co_await weir::sleep_for(1ms);
        joiner.cancel();
    });
    EXPECT_TRUE(j.cancelled);
    EXPECT_TRUE(joiner.cancelled());
    EXPECT_FALSE(child.cancelled());
    EXPECT_EQ(child.result(), 3);
}

WEIR_TEST(TaskGroup, SeveralTasksJoinTheSameChild) {
    JoinHandle<int> child;
    std::vector<int> seen;
    co_await weir::with_timeout(
        10s, weir::task_group([&](TaskGroup& g) -> Task<void> {
            child = g.spawn(value_after(3ms, 9));
            for (int i = 0; i < 3; ++i) {
                g.spawn(fn([&]() -> Task<void> { seen.push_back(co_await child.join()); }));
            }
            seen.push_back(co_await child.join());
        }));
    EXPECT_EQ(seen, (std::vector<int>{9, 9, 9, 9}));
}

WEIR_TEST(TaskGroup, ResultCanBeReadMoreThanOnce) {
    JoinHandle<std::string> child;
    std::vector<std::string> seen;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        child = g.spawn(value_after(2ms, std::string("a long enough string to be on the heap")));
        g.spawn(fn([&]() -> Task<void> { seen.push_back(co_await child.join()); }));
        seen.push_back(co_await child.join());
        seen.push_back(co_await child.join());
    });
    seen.push_back(child.result());
    JoinHandle<std::string> copy = child;
    seen.push_back(copy.result());
    CO_ASSERT_EQ(seen.size(), 5u);
    for (const auto& s : seen) EXPECT_EQ(s, "a long enough string to be on the heap");
}

WEIR_TEST(TaskGroup, MoveOnlyResultIsMovedOut) {
    JoinHandle<std::unique_ptr<int>> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(value_after(1ms, std::make_unique<int>(8)));
        co_return;
    });
    std::unique_ptr<int> p = h.result();
    CO_ASSERT_TRUE(p != nullptr);
    EXPECT_EQ(*p, 8);
}

WEIR_TEST(TaskGroup, CancelledJoinerLeavesOtherJoinersRegistered) {
    JoinHandle<int> child;
    JoinHandle<int> j1;
    int got = 0;
    co_await weir::with_timeout(
        10s, weir::task_group([&](TaskGroup& g) -> Task<void> {
            child = g.spawn(value_after(5ms, 4));
            j1 = g.spawn(weir::as_task(child.join()));
            g.spawn(fn([&]() -> Task<void> { got = co_await child.join(); }));
            co_await weir::sleep_for(1ms);
            j1.cancel();
        }));
    EXPECT_TRUE(j1.cancelled());
    EXPECT_EQ(got, 4);
}

WEIR_TEST(TaskGroup, ChildrenCanSpawnSiblings) {
    int count = 0;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        g.spawn(fn([&]() -> Task<void> {
            co_await weir::yield();
            for (int i = 0; i < 5; ++i) {
                g.spawn(fn([&]() -> Task<void> {
                    co_await weir::sleep_for(1ms);
                    ++count;
                }));
            }
        }));
        co_return;
    });
    EXPECT_EQ(count, 5);
}

WEIR_TEST(TaskGroup, TenThousandChildren) {
    constexpr int kChildren = 10'000;
    long sum = 0;
    std::vector<JoinHandle<int>> handles;
    handles.reserve(kChildren);
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        for (int i = 0; i < kChildren; ++i) {
            handles.push_back(g.spawn(fn([&sum, i]() -> Task<int> {
                co_await weir::yield();
                co_await weir::sleep_for(1ms);
                sum += i;
                co_return i;
            })));
        }
        EXPECT_EQ(g.running(), static_cast<std::size_t>(kChildren));
        co_return;
    });
    EXPECT_EQ(sum, static_cast<long>(kChildren) * (kChildren - 1) / 2);
    long from_handles = 0;
    for (auto& h : handles) from_handles += h.result();
    EXPECT_EQ(from_handles, sum);
}

WEIR_TEST(TaskGroup, TenThousandChildrenCancelledByOneFailure) {
    constexpr int kChildren = 10'000;
    int cancelled = 0;
    auto ep = co_await caught(weir::task_group([&](TaskGroup& g) -> Task<void> {
        for (int i = 0; i < kChildren; ++i) {
            g.spawn(fn([&]() -> Task<void> {
                try {
                    co_await forever();
                } catch (const weir::Cancelled&) {
                    ++cancelled;
                    throw;
                }
            }));
        }
        co_await weir::yield();
        g.spawn(fail_now("one bad apple"));
    }));
    expect_error<ExceptionGroup>(ep, [](const ExceptionGroup& g) { EXPECT_EQ(g.size(), 1u); });
    EXPECT_EQ(cancelled, kChildren);
}

WEIR_TEST(TaskGroup, EmptyGroup) {
    co_await weir::task_group([](TaskGroup&) -> Task<void> { co_return; });
    int v = co_await weir::task_group([](TaskGroup&) -> Task<int> { co_return 3; });
    EXPECT_EQ(v, 3);
}
