// Task<T>: values, references, void, move-only results, exceptions through
// await chains, symmetric transfer on very long chains, names, laziness.
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "structured_test_util.hpp"

using namespace std::chrono_literals;
using weir::Task;
using weir_test::caught;
using weir_test::expect_error;

namespace {

Task<int> answer() { co_return 42; }

Task<int> add(int a, int b) {
    co_await weir::yield();
    co_return a + b;
}

Task<int> add_sync(int a, int b) { co_return a + b; }

Task<int&> ref_to(int& x) { co_return x; }

Task<const std::string&> longest(const std::string& a, const std::string& b) {
    co_await weir::yield();
    co_return a.size() >= b.size() ? a : b;
}

Task<void> set_to(int& x, int v) {
    co_await weir::yield();
    x = v;
}

Task<std::unique_ptr<int>> make_unique_after_yield(int v) {
    co_await weir::yield();
    auto p = std::make_unique<int>(v);
    co_return p;  // implicitly moved
}

// Move-only and not default-constructible.
class Token {
public:
    explicit Token(int id) : id_(std::make_unique<int>(id)) {}
    Token(Token&&) = default;
    Token& operator=(Token&&) = default;
    int id() const { return *id_; }

private:
    std::unique_ptr<int> id_;
};

Task<Token> make_token(int id) {
    co_await weir::sleep_for(1ms);
    co_return Token(id);
}

struct CustomError : std::runtime_error {
    CustomError(const std::string& what, int depth) : std::runtime_error(what), depth(depth) {}
    int depth;
};

Task<int> throw_at_depth(int depth, bool suspend_first) {
    if (depth == 0) {
        if (suspend_first) co_await weir::sleep_for(1ms);
        throw CustomError("bottom", depth);
    }
    int below = co_await throw_at_depth(depth - 1, suspend_first);
    co_return below + 1;  // never reached
}

Task<int> depth_of(int n) {
    if (n == 0) co_return 0;
    co_return 1 + co_await depth_of(n - 1);
}

// The leaf suspends, so the whole chain is resumed from the loop and then
// unwinds through n final-suspend transfers.
Task<int> depth_of_suspending(int n) {
    if (n == 0) {
        co_await weir::yield();
        co_return 0;
    }
    co_return 1 + co_await depth_of_suspending(n - 1);
}

Task<void> void_leaf(long& counter) {
    ++counter;
    co_return;
}

Task<void> mark(bool& flag) {
    flag = true;
    co_return;
}

Task<int> busy_for(std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {
    }
    co_return 1;
}

}  // namespace

WEIR_TEST(Task, ReturnsValue) {
    EXPECT_EQ(co_await answer(), 42);
    EXPECT_EQ(co_await add(2, 3), 5);
    EXPECT_EQ(co_await add_sync(-1, 1), 0);
}

WEIR_TEST(Task, AwaitsAnLvalueTask) {
    Task<int> t = add(20, 22);
    EXPECT_TRUE(t.valid());
    int v = co_await t;
    EXPECT_EQ(v, 42);
}

WEIR_TEST(Task, ReturnsReference) {
    int x = 1;
    int& r = co_await ref_to(x);
    EXPECT_EQ(&r, &x);
    r = 7;
    EXPECT_EQ(x, 7);

    const std::string a = "short", b = "much longer";
    const std::string& l = co_await longest(a, b);
    EXPECT_EQ(&l, &b);
}

WEIR_TEST(Task, ReturnsVoid) {
    int x = 0;
    co_await set_to(x, 9);
    EXPECT_EQ(x, 9);
}

WEIR_TEST(Task, ReturnsMoveOnly) {
    std::unique_ptr<int> p = co_await make_unique_after_yield(5);
    EXPECT_TRUE(p);
    EXPECT_EQ(*p, 5);

    Token t = co_await make_token(11);
    EXPECT_EQ(t.id(), 11);

    std::vector<Token> tokens;
    for (int i = 0; i < 3; ++i) tokens.push_back(co_await make_token(i));
    EXPECT_EQ(tokens[2].id(), 2);
}

WEIR_TEST(Task, ExceptionPropagatesThroughDeepChain) {
    for (bool suspend_first : {false, true}) {
        auto ep = co_await caught(throw_at_depth(200, suspend_first));
        expect_error<CustomError>(ep, [](const CustomError& e) {
            EXPECT_STREQ(e.what(), "bottom");
            EXPECT_EQ(e.depth, 0);
        });
    }
}

WEIR_TEST(Task, ExceptionIsCatchableInsideTheChain) {
    int caught_at = -1;
    try {
        co_await throw_at_depth(10, true);
    } catch (const CustomError& e) {
        caught_at = e.depth;
    }
    EXPECT_EQ(caught_at, 0);
    // The task keeps working normally after handling it.
    EXPECT_EQ(co_await add(1, 1), 2);
}

WEIR_TEST(Task, MillionSequentialAwaitsDoNotGrowTheStack) {
    // Each await completes synchronously: without symmetric transfer the
    // awaiter would be resumed one stack frame deeper every iteration.
    long sum = 0;
    for (int i = 0; i < kManyAwaits; ++i) sum += co_await add_sync(i, 1);
    EXPECT_EQ(sum, static_cast<long>(kManyAwaits) * (kManyAwaits - 1) / 2 + kManyAwaits);

    long counter = 0;
    for (int i = 0; i < kManyAwaits; ++i) co_await void_leaf(counter);
    EXPECT_EQ(counter, kManyAwaits);
}

WEIR_TEST(Task, HundredThousandDeepRecursiveChain) {
    EXPECT_EQ(co_await depth_of(kDeepChain), kDeepChain);
    EXPECT_EQ(co_await depth_of_suspending(kDeepChain), kDeepChain);
}

WEIR_TEST(Task, HundredThousandDeepChainPropagatesException) {
    auto ep = co_await caught(throw_at_depth(kDeepChain, true));
    expect_error<CustomError>(ep);
}

WEIR_TEST(Task, IsLazy) {
    bool ran = false;
    Task<void> t = mark(ran);
    EXPECT_FALSE(ran);
    co_await weir::yield();
    co_await weir::sleep_for(1ms);
    EXPECT_FALSE(ran) << "a task must not run before it is awaited";
    co_await std::move(t);
    EXPECT_TRUE(ran);
}

WEIR_TEST(Task, ExceptionIsDeferredUntilAwait) {
    // Creating a task that throws right away throws nothing yet.
    Task<void> t = weir_test::fail_now("later");
    co_await weir::yield();
    auto ep = co_await caught(std::move(t));
    EXPECT_EQ(weir_test::message_of(ep), "later");
}

WEIR_TEST(Task, UnawaitedTaskIsDestroyedWithoutRunning) {
    bool ran = false;
    {
        Task<void> t = mark(ran);
        EXPECT_TRUE(t.valid());
    }  // frame freed here (the leak check counts frames)
    co_await weir::yield();
    EXPECT_FALSE(ran);
}

WEIR_TEST(Task, MoveTransfersOwnership) {
    Task<int> a = answer();
    Task<int> b = std::move(a);
    EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move)
    EXPECT_TRUE(b.valid());
    Task<int> c;
    EXPECT_FALSE(c.valid());
    EXPECT_FALSE(static_cast<bool>(c));
    c = std::move(b);
    EXPECT_TRUE(c.valid());
    c = answer();  // drops the previous, unstarted frame
    EXPECT_EQ(co_await std::move(c), 42);
}

WEIR_TEST(Task, NamesAreKept) {
    Task<int> unnamed = answer();
    EXPECT_EQ(unnamed.name(), nullptr);
    Task<int> named = answer().named("the-answer");
    EXPECT_STREQ(named.name(), "the-answer");
    Task<int> moved = std::move(named);
    EXPECT_STREQ(moved.name(), "the-answer");
    EXPECT_EQ(co_await std::move(moved), 42);
    co_await std::move(unnamed);
}

// The name of a task started as its own node shows up in slow-callback
// reports. Uses its own runtime to lower the threshold.
TEST(Task, NameAppearsInSlowCallbackReport) {
    std::vector<std::string> names;
    weir::RuntimeOptions opts;
    opts.shards = 1;
    opts.worker_threads = 1;
    opts.slow_callback_threshold = std::chrono::microseconds(1000);
    opts.on_slow_callback = [&](const weir::SlowCallback& s) { names.push_back(s.task_name); };
    weir::Runtime rt(opts);
    rt.run(weir::task_group([](weir::TaskGroup& g) -> Task<void> {
        g.spawn(busy_for(20ms).named("busy-worker"));
        g.spawn(busy_for(20ms), "spawn-name");
        co_return;
    }));
    bool saw_named = false, saw_spawn_name = false;
    for (const auto& n : names) {
        if (n == "busy-worker") saw_named = true;
        if (n == "spawn-name") saw_spawn_name = true;
    }
    EXPECT_TRUE(saw_named);
    EXPECT_TRUE(saw_spawn_name);
    EXPECT_TRUE(rt.check_leaks().clean());
}

TEST(Task, RuntimeRunReturnsValueAndRethrows) {
    weir::RuntimeOptions opts;
    opts.shards = 1;
    opts.worker_threads = 1;
    weir::Runtime rt(opts);
    EXPECT_EQ(rt.run(add(40, 2)), 42);
    EXPECT_THROW(rt.run(throw_at_depth(5, true)), CustomError);
    auto p = rt.run(make_unique_after_yield(3));
    EXPECT_EQ(*p, 3);
    EXPECT_TRUE(rt.check_leaks().clean());
}
