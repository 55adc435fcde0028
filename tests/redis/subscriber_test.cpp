// redis::Subscriber: SUBSCRIBE / PSUBSCRIBE as a stream, under RESP3 and
// RESP2, and resubscription after the connection is killed.
#include "weir/redis/subscriber.hpp"

#include <string>
#include <vector>

#include "redis_test_util.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/task_group.hpp"
#include "weir/core/timeout.hpp"
#include "weir/redis/connection.hpp"
#include "weir/testing/async_test.hpp"

using namespace std::chrono_literals;
using weir::Task;
using weir::redis::Connection;
using weir::redis::Message;
using weir::redis::Subscriber;
using weir::redis::test::key;
using weir::redis::test::url;

namespace {

Task<void> round_trip(const std::string& u) {
    auto sub = co_await Subscriber::connect(u);
    auto pub = co_await Connection::connect(url());
    const std::vector<std::string> channels{key("a"), key("b")};
    const std::vector<std::string> patterns{key("p*")};
    co_await sub.subscribe(channels);
    co_await sub.psubscribe(patterns);
    EXPECT_EQ(co_await pub.publish(key("a"), "one"), 1);
    EXPECT_EQ(co_await pub.publish(key("pxyz"), "two"), 1);
    EXPECT_EQ(co_await pub.publish(key("b"), "three"), 1);
    Message m1 = co_await sub.next();
    EXPECT_EQ(m1.channel, key("a"));
    EXPECT_EQ(m1.payload, "one");
    EXPECT_TRUE(m1.pattern.empty());
    Message m2 = co_await sub.next();
    EXPECT_EQ(m2.channel, key("pxyz"));
    EXPECT_EQ(m2.pattern, key("p*"));
    EXPECT_EQ(m2.payload, "two");
    Message m3 = co_await sub.next();
    EXPECT_EQ(m3.payload, "three");
    const std::vector<std::string> just_a{key("a")};
    co_await sub.unsubscribe(just_a);
    co_await sub.punsubscribe(patterns);
    EXPECT_EQ(co_await pub.publish(key("a"), "nobody"), 0);
    EXPECT_EQ(co_await pub.publish(key("pxyz"), "nobody"), 0);
    EXPECT_EQ(co_await pub.publish(key("b"), "four"), 1);
    EXPECT_EQ((co_await sub.next()).payload, "four");
    // next() is cancellable and leaves the subscriber usable.
    bool timed_out = false;
    try {
        co_await weir::with_timeout(20ms, sub.next());
    } catch (const weir::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(co_await pub.publish(key("b"), "five"), 1);
    EXPECT_EQ((co_await sub.next()).payload, "five");
}

}  // namespace

WEIR_TEST(RedisSubscriber, Resp3) { co_await round_trip(url()); }
WEIR_TEST(RedisSubscriber, Resp2) { co_await round_trip(url() + "?protocol=2"); }

WEIR_TEST(RedisSubscriber, ResubscribesAfterReconnect) {
    auto sub = co_await Subscriber::connect(url() + "?client_name=sub-victim");
    auto pub = co_await Connection::connect(url());
    const std::vector<std::string> channels{key("c")};
    co_await sub.subscribe(channels);
    co_await pub.cmd("CLIENT", "KILL", "TYPE", "pubsub");
    std::string got;
    auto reader = [&]() -> Task<void> {
        Message m = co_await sub.next();
        got = m.payload;
    };
    auto publisher = [&]() -> Task<void> {
        // Until the subscriber is back, publishing reaches nobody.
        while (got.empty()) {
            co_await pub.publish(key("c"), "after");
            co_await weir::sleep_for(5ms);
        }
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        g.spawn(reader());
        g.spawn(publisher());
        co_return;
    });
    EXPECT_EQ(got, "after");
    EXPECT_EQ(sub.reconnects(), 1u);
    EXPECT_EQ(sub.metrics().reconnects, 1u);
}

WEIR_TEST(RedisSubscriber, SubscribeWhileAnotherTaskWaitsInNext) {
    auto sub = co_await Subscriber::connect(url());
    auto pub = co_await Connection::connect(url());
    const std::vector<std::string> first{key("first")}, second{key("second")};
    co_await sub.subscribe(first);
    std::string got;
    auto reader = [&]() -> Task<void> { got = (co_await sub.next()).channel; };
    auto other = [&]() -> Task<void> {
        co_await weir::sleep_for(10ms);  // the reader is driving the socket by now
        co_await sub.subscribe(second);
        co_await pub.publish(key("second"), "x");
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        g.spawn(reader());
        g.spawn(other());
        co_return;
    });
    EXPECT_EQ(got, key("second"));
}
