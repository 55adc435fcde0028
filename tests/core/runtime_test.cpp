// Runtime: run() returns main's value or rethrows its error, may be called
// again, owns N shards each on its own thread, and run_on_shard_blocking
// reaches a shard from outside.
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <weir/core.hpp>
#include <weir/testing/async_test.hpp>

using namespace std::chrono_literals;

namespace {

weir::RuntimeOptions options(unsigned shards) {
    weir::RuntimeOptions opts;
    opts.shards = shards;
    opts.worker_threads = 1;
    return opts;
}

weir::Task<std::string> greet(std::string who) {
    co_await weir::sleep_for(1ms);
    co_return "hello " + who;
}

weir::Task<int> fail_with(int code) {
    co_await weir::yield();
    throw std::system_error(code, std::generic_category(), "main failed");
}

}  // namespace

TEST(Runtime, RunReturnsMainsValue) {
    weir::Runtime rt(options(1));
    EXPECT_EQ(rt.shard_count(), 1u);
    EXPECT_EQ(rt.run(greet("weir")), "hello weir");
    EXPECT_TRUE(rt.check_leaks().clean());
}

TEST(Runtime, RunRethrowsMainsError) {
    weir::Runtime rt(options(1));
    try {
        rt.run(fail_with(42));
        ADD_FAILURE() << "run() returned";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), 42);
    }
    EXPECT_TRUE(rt.check_leaks().clean());
}

TEST(Runtime, RunRejectsAnEmptyTask) {
    weir::Runtime rt(options(1));
    EXPECT_THROW(rt.run(weir::Task<int>{}), std::invalid_argument);
}

TEST(Runtime, RunsAgainAfterReturning) {
    weir::Runtime rt(options(2));
    for (int i = 0; i < 3; ++i) {
        int v = rt.run([](int x) -> weir::Task<int> {
            co_return co_await weir::submit_to(1, [x]() -> weir::Task<int> { co_return x * 10; });
        }(i));
        EXPECT_EQ(v, i * 10);
    }
    EXPECT_TRUE(rt.check_leaks().clean());
}

TEST(Runtime, MultiShardEachShardHasItsOwnThread) {
    weir::Runtime rt(options(3));
    EXPECT_EQ(rt.shard_count(), 3u);
    std::vector<std::thread::id> ids(3);
    for (unsigned s = 0; s < 3; ++s)
        rt.run_on_shard_blocking(s, [&ids, &rt, s] {
            ids[s] = std::this_thread::get_id();
            EXPECT_EQ(weir::this_shard(), s);
            if (s != 0) {
                EXPECT_EQ(weir::Runtime::current(), &rt);
            }
        });
    EXPECT_EQ(ids[0], std::this_thread::get_id());  // shard 0 is the caller's thread
    EXPECT_NE(ids[1], ids[0]);
    EXPECT_NE(ids[2], ids[0]);
    EXPECT_NE(ids[1], ids[2]);
    EXPECT_EQ(rt.stats(2).shard, 2u);
}

TEST(Runtime, DefaultShardCountIsTheNumberOfCores) {
    weir::RuntimeOptions opts;
    opts.worker_threads = 1;
    opts.handle_signals = false;
    weir::Runtime rt(opts);
    EXPECT_GE(rt.shard_count(), 1u);
    const unsigned hw = std::thread::hardware_concurrency();
    if (hw > 0) {
        EXPECT_LE(rt.shard_count(), hw);
    }
}

// main is an ordinary task: cancelling its work from inside propagates.
TEST(Runtime, MainEndingCancelledRethrowsCancelled) {
    weir::Runtime rt(options(1));
    bool cancelled = false;
    try {
        rt.run([]() -> weir::Task<void> {
            co_await weir::task_group([](weir::TaskGroup& g) -> weir::Task<> {
                g.cancel(weir::CancelReason::shutdown);
                co_await weir::sleep_for(1h);
            });
            // The group swallowed its own cancellation; now cancel for real.
            throw weir::Cancelled(weir::CancelReason::peer_disconnected);
        }());
    } catch (const weir::Cancelled& c) {
        cancelled = true;
        EXPECT_EQ(c.reason(), weir::CancelReason::peer_disconnected);
    }
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(rt.check_leaks().clean());
}
