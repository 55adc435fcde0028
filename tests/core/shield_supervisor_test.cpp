// shield (cleanup that awaits while cancelled) and Supervisor / supervise
// (long-lived children whose failures do not cancel their siblings).
#include <stdexcept>
#include <string>
#include <vector>

#include "structured_test_util.hpp"

using namespace std::chrono_literals;
using weir::CancelReason;
using weir::Clock;
using weir::Event;
using weir::JoinHandle;
using weir::Supervisor;
using weir::Task;
using weir::TaskGroup;
using weir::TimeoutError;
using weir_test::caught;
using weir_test::expect_cancelled;
using weir_test::expect_error;
using weir_test::fn;
using weir_test::forever;
using weir_test::Observed;
using weir_test::observed_forever;
using weir_test::value_after;

namespace {

Task<int> cleanup(Event& peer_ack, int& steps) {
    co_await weir::sleep_for(2ms);
    ++steps;
    co_await weir::yield();
    ++steps;
    co_await peer_ack.wait();  // set by another task while we are cancelled
    ++steps;
    co_return steps;
}

// Errors reported through Supervisor::on_error (a plain function pointer).
std::vector<std::string> g_reported;
void record_error(const char* task_name, const std::exception_ptr& e) {
    g_reported.push_back(std::string(task_name) + ": " + weir_test::message_of(e));
}

}  // namespace

// ------------------------------------------------------------------ shield

WEIR_TEST(Shield, CleanupThatAwaitsCompletesWhileCancelled) {
    Event ack;
    int steps = 0;
    int cleanup_result = 0;
    bool cancelled_again = false;
    JoinHandle<void> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([&]() -> Task<void> {
            std::exception_ptr cancelled;
            try {
                co_await forever();
            } catch (const weir::Cancelled&) {
                cancelled = std::current_exception();
            }
            // co_await is not allowed in a handler: clean up after it.
            cleanup_result = co_await weir::shield(cleanup(ack, steps));
            // Outside the shield the cancellation applies again.
            try {
                co_await weir::yield();
            } catch (const weir::Cancelled& c) {
                cancelled_again = true;
                EXPECT_EQ(c.reason(), CancelReason::shutdown);
            }
            std::rethrow_exception(cancelled);
        }));
        co_await weir::yield();
        h.cancel(CancelReason::shutdown);
        co_await weir::sleep_for(5ms);
        EXPECT_FALSE(h.done()) << "the shielded cleanup waits for the ack";
        ack.set();
    });
    EXPECT_EQ(steps, 3);
    EXPECT_EQ(cleanup_result, 3);
    EXPECT_TRUE(cancelled_again);
    EXPECT_TRUE(h.cancelled());
}

WEIR_TEST(Shield, CancellationArrivingDuringTheShieldIsDeferred) {
    bool work_done = false, after_shield = false, after_next_await = false;
    JoinHandle<void> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([&]() -> Task<void> {
            co_await weir::shield(fn([&]() -> Task<void> {
                co_await weir::sleep_for(5ms);
                co_await weir::yield();
                work_done = true;
            }));
            after_shield = true;
            co_await weir::yield();
            after_next_await = true;
        }));
        co_await weir::sleep_for(1ms);
        h.cancel();
    });
    EXPECT_TRUE(work_done);
    EXPECT_TRUE(after_shield);
    EXPECT_FALSE(after_next_await);
    EXPECT_TRUE(h.cancelled());
}

WEIR_TEST(Shield, TimeoutInsideAShieldStillWorksWhileCancelled) {
    bool got_timeout = false;
    JoinHandle<void> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([&]() -> Task<void> {
            std::exception_ptr cancelled;
            try {
                co_await forever();
            } catch (const weir::Cancelled&) {
                cancelled = std::current_exception();
            }
            auto start = Clock::now();
            auto ep = co_await caught(weir::shield(weir::with_timeout(5ms, forever())));
            // The cleanup was bounded by its own timeout: an ordinary
            // TimeoutError, not the outer cancellation.
            expect_error<TimeoutError>(ep);
            got_timeout = ep != nullptr;
            EXPECT_GE(Clock::now() - start, 5ms);
            std::rethrow_exception(cancelled);
        }));
        co_await weir::yield();
        h.cancel();
    });
    EXPECT_TRUE(got_timeout);
    EXPECT_TRUE(h.cancelled());
}

WEIR_TEST(Shield, ShieldedWorkFinishingWithinItsTimeout) {
    JoinHandle<int> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([&]() -> Task<int> {
            try {
                co_await forever();
            } catch (const weir::Cancelled&) {
            }
            co_return co_await weir::shield(weir::with_timeout(1s, value_after(2ms, 12)));
        }));
        co_await weir::yield();
        h.cancel();
    });
    EXPECT_EQ(h.result(), 12);
}

WEIR_TEST(Shield, OuterTimeoutWaitsForTheShieldedWork) {
    bool done = false;
    auto start = Clock::now();
    auto ep = co_await caught(
        weir::with_timeout(1ms, fn([&]() -> Task<void> {
                               co_await weir::shield(weir::as_task(weir::sleep_for(10ms)));
                               done = true;
                               co_await weir::yield();  // the expired deadline applies here
                           })));
    expect_error<TimeoutError>(ep);
    EXPECT_TRUE(done);
    EXPECT_GE(Clock::now() - start, 10ms);
}

WEIR_TEST(Shield, ValuesAndErrorsPassThrough) {
    EXPECT_EQ(co_await weir::shield(value_after(1ms, 5)), 5);
    co_await weir::shield(weir::as_task(weir::yield()));
    auto ep = co_await caught(weir::shield(weir_test::fail_after_yield<std::length_error>("l")));
    expect_error<std::length_error>(ep);
    // The shield scope is gone: a later timeout works normally.
    expect_error<TimeoutError>(co_await caught(weir::with_timeout(1ms, forever())));
}

WEIR_TEST(Shield, HidesTheOuterDeadline) {
    auto tp = Clock::now() + 10s;
    co_await weir::with_deadline(tp, fn([tp]() -> Task<void> {
                                     EXPECT_EQ(weir::current_deadline(), tp);
                                     co_await weir::shield(fn([]() -> Task<void> {
                                         EXPECT_EQ(weir::current_deadline(), weir::kNoDeadline);
                                         auto inner = Clock::now() + 1s;
                                         co_await weir::with_deadline(
                                             inner, fn([inner]() -> Task<void> {
                                                 EXPECT_EQ(weir::current_deadline(), inner);
                                                 co_return;
                                             }));
                                     }));
                                     EXPECT_EQ(weir::current_deadline(), tp);
                                 }));
}

WEIR_TEST(Shield, GroupInsideAShieldIsNotCancelledFromOutside) {
    int finished = 0;
    JoinHandle<void> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(weir::shield(weir::task_group([&](TaskGroup& inner) -> Task<void> {
            for (int i = 0; i < 3; ++i) {
                inner.spawn(fn([&]() -> Task<void> {
                    co_await weir::sleep_for(3ms);
                    ++finished;
                }));
            }
            co_return;
        })));
        co_await weir::sleep_for(1ms);
        h.cancel();
    });
    EXPECT_EQ(finished, 3);
    // The shielded task finished without awaiting anything afterwards.
    EXPECT_FALSE(h.cancelled());
}

WEIR_TEST(Shield, NestedShields) {
    int v = 0;
    JoinHandle<void> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(fn([&]() -> Task<void> {
            v = co_await weir::shield(fn([]() -> Task<int> {
                int a = co_await weir::shield(value_after(3ms, 1));
                co_await weir::sleep_for(1ms);
                co_return a + 1;
            }));
            co_await weir::yield();
        }));
        co_await weir::sleep_for(1ms);
        h.cancel();
    });
    EXPECT_EQ(v, 2);
    EXPECT_TRUE(h.cancelled());
}

// -------------------------------------------------------------- Supervisor

WEIR_TEST(Supervisor, FailingChildDoesNotCancelSiblings) {
    g_reported.clear();
    Observed sibling_obs;
    JoinHandle<int> sibling;
    JoinHandle<void> bad;
    std::size_t failures_seen = 0;
    co_await weir::supervise([&](Supervisor& s) -> Task<void> {
        s.on_error(&record_error);
        bad = s.spawn(weir_test::fail_after_yield("crashed"), "flaky");
        sibling = s.spawn(weir_test::observe(sibling_obs, value_after(5ms, 1)));
        co_await weir::sleep_for(1ms);
        EXPECT_TRUE(bad.done());
        EXPECT_EQ(s.failures(), 1u);
        EXPECT_EQ(co_await sibling.join(), 1);
        failures_seen = s.failures();
    });
    EXPECT_EQ(failures_seen, 1u);
    EXPECT_FALSE(sibling_obs.cancelled);
    EXPECT_EQ(sibling.result(), 1);
    EXPECT_TRUE(bad.failed());
    expect_error<std::runtime_error>(co_await caught(weir::as_task(bad.join())));
    CO_ASSERT_EQ(g_reported.size(), 1u);
    EXPECT_EQ(g_reported[0], "flaky: crashed");
}

WEIR_TEST(Supervisor, CountsEveryFailure) {
    g_reported.clear();
    std::size_t failures = 0;
    co_await weir::supervise([&](Supervisor& s) -> Task<void> {
        s.on_error(&record_error);
        for (int i = 0; i < 5; ++i) s.spawn(weir_test::fail_after_yield("f" + std::to_string(i)));
        s.spawn(weir_test::fail_now<std::logic_error>("now"));
        co_await weir::sleep_for(2ms);
        failures = s.failures();
    });
    EXPECT_EQ(failures, 6u);
    EXPECT_EQ(g_reported.size(), 6u);
}

WEIR_TEST(Supervisor, RemainingChildrenAreCancelledWithShutdownWhenTheBodyReturns) {
    Observed a, b;
    JoinHandle<int> quick;
    int v = co_await weir::supervise([&](Supervisor& s) -> Task<int> {
        s.spawn(observed_forever(a));
        s.spawn(observed_forever(b));
        quick = s.spawn(fn([]() -> Task<int> {
            co_await weir::yield();
            co_return 3;
        }));
        co_await weir::sleep_for(1ms);
        co_return 17;
    });
    EXPECT_EQ(v, 17);
    EXPECT_TRUE(a.cancelled && b.cancelled);
    EXPECT_EQ(a.reason, CancelReason::shutdown);
    EXPECT_EQ(b.reason, CancelReason::shutdown);
    EXPECT_EQ(quick.result(), 3);
}

WEIR_TEST(Supervisor, ChildrenAreJoinedBeforeSuperviseReturns) {
    bool cleaned = false;
    co_await weir::supervise([&](Supervisor& s) -> Task<void> {
        s.spawn(fn([&]() -> Task<void> {
            std::exception_ptr c;
            try {
                co_await forever();
            } catch (const weir::Cancelled&) {
                c = std::current_exception();
            }
            co_await weir::shield(weir::as_task(weir::sleep_for(3ms)));
            cleaned = true;
            std::rethrow_exception(c);
        }));
        co_return;
    });
    EXPECT_TRUE(cleaned);
}

WEIR_TEST(Supervisor, BodyErrorIsRaisedAndChildrenCancelled) {
    Observed child;
    auto ep = co_await caught(weir::supervise([&](Supervisor& s) -> Task<void> {
        s.on_error(&record_error);
        s.spawn(observed_forever(child));
        s.spawn(weir_test::fail_now("child error, only reported"));
        co_await weir::sleep_for(1ms);
        throw std::invalid_argument("body");
    }));
    expect_error<weir::ExceptionGroup>(ep, [](const weir::ExceptionGroup& g) {
        EXPECT_EQ(g.size(), 1u);
        EXPECT_TRUE(g.contains<std::invalid_argument>());
    });
    EXPECT_TRUE(child.cancelled);
}

WEIR_TEST(Supervisor, OuterCancellationPropagatesAsCancelled) {
    Observed child;
    JoinHandle<void> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(weir::supervise([&](Supervisor& s) -> Task<void> {
            s.spawn(observed_forever(child));
            co_await forever();
        }));
        co_await weir::sleep_for(1ms);
        h.cancel(CancelReason::peer_disconnected);
    });
    expect_cancelled(co_await caught(weir::as_task(h.join())), CancelReason::peer_disconnected);
    EXPECT_EQ(child.reason, CancelReason::peer_disconnected);
}

WEIR_TEST(Supervisor, DefaultReportGoesToStderrWithTheTaskName) {
    testing::internal::CaptureStderr();
    co_await weir::supervise([](Supervisor& s) -> Task<void> {
        s.spawn(weir_test::fail_after_yield("cache is stale").named("refresher"));
        co_await weir::sleep_for(1ms);
    });
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("refresher"), std::string::npos) << err;
    EXPECT_NE(err.find("cache is stale"), std::string::npos) << err;
}
