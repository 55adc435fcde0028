// AsyncResource / with_resource: close() is always awaited, on success,
// error, cancellation and timeout; a resource destroyed open is reported.
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "structured_test_util.hpp"

using namespace std::chrono_literals;
using weir::CancelReason;
using weir::JoinHandle;
using weir::Task;
using weir::TaskGroup;
using weir_test::caught;
using weir_test::expect_cancelled;
using weir_test::expect_error;
using weir_test::fn;
using weir_test::forever;

namespace {

struct Log {
    std::vector<std::string> events;
    int closes = 0;
};

// A connection whose close() must await (e.g. a polite protocol goodbye).
class FakeConn : public weir::AsyncResource {
public:
    FakeConn(Log& log, std::string name)
        : AsyncResource("FakeConn"), log_(&log), name_(std::move(name)) {}
    FakeConn(FakeConn&&) = default;

    Task<void> close() {
        co_await weir::sleep_for(1ms);  // awaits even when the owner is cancelled
        co_await weir::yield();
        log_->events.push_back("close " + name_);
        ++log_->closes;
        mark_closed();
    }
    void use() { log_->events.push_back("use " + name_); }
    const std::string& name() const { return name_; }

private:
    Log* log_;
    std::string name_;
};

Task<FakeConn> open_conn(Log& log, std::string name) {
    co_await weir::yield();
    log.events.push_back("open " + name);
    co_return FakeConn(log, std::move(name));
}

}  // namespace

WEIR_TEST(Resource, CloseIsAwaitedOnSuccess) {
    Log log;
    int v =
        co_await weir::with_resource(co_await open_conn(log, "a"), [&](FakeConn& c) -> Task<int> {
            EXPECT_TRUE(c.is_open());
            c.use();
            co_await weir::sleep_for(1ms);
            co_return 5;
        });
    EXPECT_EQ(v, 5);
    EXPECT_EQ(log.closes, 1);
    EXPECT_EQ(log.events, (std::vector<std::string>{"open a", "use a", "close a"}));
}

WEIR_TEST(Resource, VoidBody) {
    Log log;
    co_await weir::with_resource(FakeConn(log, "v"), [](FakeConn& c) -> Task<void> {
        c.use();
        co_return;
    });
    EXPECT_EQ(log.closes, 1);
}

WEIR_TEST(Resource, CloseIsAwaitedOnError) {
    Log log;
    auto ep = co_await caught(weir::with_resource(FakeConn(log, "e"), [](FakeConn& c) -> Task<int> {
        c.use();
        co_await weir::yield();
        throw std::runtime_error("query failed");
    }));
    expect_error<std::runtime_error>(
        ep, [](const std::runtime_error& e) { EXPECT_STREQ(e.what(), "query failed"); });
    EXPECT_EQ(log.closes, 1);
    EXPECT_EQ(log.events.back(), "close e");
}

WEIR_TEST(Resource, CloseIsAwaitedOnCancellation) {
    Log log;
    bool closed_before_done = false;
    JoinHandle<void> h;
    co_await weir::task_group([&](TaskGroup& g) -> Task<void> {
        h = g.spawn(weir::with_resource(FakeConn(log, "c"), [](FakeConn& c) -> Task<void> {
            c.use();
            co_await forever();
        }));
        co_await weir::sleep_for(1ms);
        h.cancel(CancelReason::peer_disconnected);
        co_await weir::yield();
        EXPECT_FALSE(h.done()) << "the child is still awaiting close()";
        EXPECT_EQ(log.closes, 0);
        co_await caught(weir::as_task(h.join()));
        closed_before_done = log.closes == 1;
    });
    EXPECT_TRUE(closed_before_done);
    expect_cancelled(co_await caught(weir::as_task(h.join())), CancelReason::peer_disconnected);
    EXPECT_EQ(log.events, (std::vector<std::string>{"use c", "close c"}));
}

WEIR_TEST(Resource, CloseIsAwaitedOnTimeout) {
    Log log;
    auto ep = co_await caught(weir::with_timeout(
        2ms, weir::with_resource(FakeConn(log, "t"),
                                 [](FakeConn&) -> Task<void> { co_await forever(); })));
    expect_error<weir::TimeoutError>(ep);
    EXPECT_EQ(log.closes, 1);
}

WEIR_TEST(Resource, NestedResourcesCloseInReverseOrder) {
    Log log;
    co_await weir::with_resource(
        co_await open_conn(log, "outer"), [&](FakeConn& outer) -> Task<void> {
            co_await weir::with_resource(co_await open_conn(log, "inner"),
                                         [&](FakeConn& inner) -> Task<void> {
                                             outer.use();
                                             inner.use();
                                             co_return;
                                         });
            EXPECT_EQ(log.closes, 1);
        });
    EXPECT_EQ(log.events, (std::vector<std::string>{"open outer", "open inner", "use outer",
                                                    "use inner", "close inner", "close outer"}));
}

WEIR_TEST(Resource, ExplicitCloseIsNotALeak) {
    Log log;
    FakeConn c(log, "x");
    EXPECT_TRUE(c.is_open());
    co_await c.close();
    EXPECT_FALSE(c.is_open());
    FakeConn moved_from(log, "m");
    FakeConn target(std::move(moved_from));
    EXPECT_FALSE(moved_from.is_open());  // NOLINT(bugprone-use-after-move)
    EXPECT_TRUE(target.is_open());
    co_await target.close();
    // Leaving the test with nothing open: the WEIR_TEST leak check passes.
}

// Plain TESTs: they leak on purpose, which a WEIR_TEST would report.
TEST(Resource, DestroyedOpenIsCountedAndReported) {
    Log log;
    const auto before = weir::AsyncResource::leaked();
    testing::internal::CaptureStderr();
    { FakeConn c(log, "leaky"); }
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(weir::AsyncResource::leaked(), before + 1);
    EXPECT_NE(err.find("FakeConn"), std::string::npos) << err;
    EXPECT_NE(err.find("still open"), std::string::npos) << err;

    // A moved-from resource is not a leak; the moved-to one is.
    testing::internal::CaptureStderr();
    {
        FakeConn a(log, "a");
        FakeConn b(std::move(a));
    }
    testing::internal::GetCapturedStderr();
    EXPECT_EQ(weir::AsyncResource::leaked(), before + 2);
}

TEST(Resource, LeakInsideARuntimeIsCounted) {
    weir::RuntimeOptions opts;
    opts.shards = 1;
    opts.worker_threads = 1;
    weir::Runtime rt(opts);
    Log log;
    const auto before = weir::AsyncResource::leaked();
    testing::internal::CaptureStderr();
    rt.run(fn([&]() -> Task<void> {
        FakeConn c = co_await open_conn(log, "forgotten");
        c.use();
    }));
    testing::internal::GetCapturedStderr();
    EXPECT_EQ(weir::AsyncResource::leaked(), before + 1);
    // The same program with with_resource leaks nothing.
    rt.run(fn([&]() -> Task<void> {
        co_await weir::with_resource(co_await open_conn(log, "kept"),
                                     [](FakeConn& c) -> Task<void> {
                                         c.use();
                                         co_return;
                                     });
    }));
    EXPECT_EQ(weir::AsyncResource::leaked(), before + 1);
    EXPECT_EQ(log.closes, 1);
    EXPECT_TRUE(rt.check_leaks().clean());
}
