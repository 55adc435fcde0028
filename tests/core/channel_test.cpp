// Channel<T>: capacity and backpressure, FIFO with many producers and
// consumers, close semantics on both sides, and cancellation of senders and
// receivers without losing or inventing values.
#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <weir/core.hpp>
#include <weir/testing/async_test.hpp>

using namespace std::chrono_literals;

namespace {

weir::Task<void> settle(int n = 3) {
    for (int i = 0; i < n; ++i) co_await weir::yield();
}

weir::Task<void> send_all(weir::Channel<int>& ch, int from, int to, int& sent) {
    for (int i = from; i < to; ++i) {
        co_await ch.send(i);
        ++sent;
    }
}

weir::Task<void> receive_all(weir::Channel<int>& ch, std::vector<int>& out) {
    while (auto v = co_await ch.receive()) out.push_back(*v);
}

// Sends one value; records how it ended.
struct SendOutcome {
    bool sent = false;
    bool closed = false;
    bool cancelled = false;
};
weir::Task<void> send_one(weir::Channel<int>& ch, int value, SendOutcome& out) {
    try {
        co_await ch.send(value);
        out.sent = true;
    } catch (const weir::ChannelClosed&) {
        out.closed = true;
    } catch (const weir::Cancelled&) {
        out.cancelled = true;
        throw;
    }
}

struct ReceiveOutcome {
    std::optional<int> value;
    bool returned = false;  // receive() returned (a value or nullopt)
    bool cancelled = false;
};
weir::Task<void> receive_one(weir::Channel<int>& ch, ReceiveOutcome& out) {
    try {
        out.value = co_await ch.receive();
        out.returned = true;
    } catch (const weir::Cancelled&) {
        out.cancelled = true;
        throw;
    }
}

// Producer `id` sends (id, seq) pairs encoded as id * kStride + seq.
constexpr int kStride = 1'000'000;
weir::Task<void> producer(weir::Channel<int>& ch, int id, int count) {
    for (int seq = 0; seq < count; ++seq) {
        co_await ch.send(id * kStride + seq);
        if (seq % 7 == 0) co_await weir::yield();
    }
}
weir::Task<void> consumer(weir::Channel<int>& ch, std::vector<int>& out, int slow_every) {
    int n = 0;
    while (auto v = co_await ch.receive()) {
        out.push_back(*v);
        if (slow_every && ++n % slow_every == 0) co_await weir::yield();
    }
}

// Each consumer must see each producer's values in increasing order.
void expect_per_producer_fifo(const std::vector<int>& seen, int producers) {
    std::vector<int> last(static_cast<std::size_t>(producers), -1);
    for (int v : seen) {
        const auto id = static_cast<std::size_t>(v / kStride);
        const int seq = v % kStride;
        ASSERT_LT(id, last.size());
        EXPECT_GT(seq, last[id]) << "producer " << id << " reordered";
        last[id] = seq;
    }
}

}  // namespace

WEIR_TEST(Channel, RejectsZeroCapacity) {
    bool threw = false;
    try {
        weir::Channel<int> ch(0);
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    EXPECT_TRUE(threw);
    co_return;
}

WEIR_TEST(Channel, BuffersUpToCapacityThenSenderBlocks) {
    weir::Channel<int> ch(3);
    EXPECT_EQ(ch.capacity(), 3u);
    int sent = 0;
    std::vector<int> got;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn(send_all(ch, 0, 10, sent));
        co_await settle();
        EXPECT_EQ(sent, 3);  // blocked on the 4th
        EXPECT_EQ(ch.size(), 3u);
        // Each receive makes room for exactly one more.
        auto v = co_await ch.receive();
        EXPECT_EQ(v, 0);
        EXPECT_EQ(ch.size(), 3u);  // the blocked value moved in at once
        co_await settle();
        EXPECT_EQ(sent, 4);
        EXPECT_EQ(ch.size(), 3u);
        for (int i = 1; i < 10; ++i) {
            auto w = co_await ch.receive();
            EXPECT_EQ(w, i);
        }
        co_return;
    });
    EXPECT_EQ(sent, 10);
    EXPECT_EQ(ch.size(), 0u);
}

WEIR_TEST(Channel, TrySendAndTryReceive) {
    weir::Channel<std::string> ch(2);
    std::string a = "a", b = "b", c = "c";
    EXPECT_TRUE(ch.try_send(a));
    EXPECT_TRUE(ch.try_send(b));
    EXPECT_FALSE(ch.try_send(c));
    EXPECT_EQ(c, "c");  // not consumed when refused
    EXPECT_EQ(ch.try_receive(), "a");
    EXPECT_EQ(ch.try_receive(), "b");
    EXPECT_EQ(ch.try_receive(), std::nullopt);
    ch.close();
    bool threw = false;
    try {
        ch.try_send(c);
    } catch (const weir::ChannelClosed&) {
        threw = true;
    }
    EXPECT_TRUE(threw);
    co_return;
}

WEIR_TEST(Channel, MoveOnlyValues) {
    weir::Channel<std::unique_ptr<int>> ch(1);
    auto five = std::make_unique<int>(5);
    co_await ch.send(std::move(five));
    auto v = co_await ch.receive();
    EXPECT_TRUE(v.has_value());
    EXPECT_EQ(**v, 5);
}

WEIR_TEST(Channel, SendersAndReceiversAreServedFifo) {
    weir::Channel<int> ch(1);
    std::vector<SendOutcome> senders(5);
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        co_await ch.send(100);  // fill
        for (int i = 0; i < 5; ++i) g.spawn(send_one(ch, i, senders[static_cast<std::size_t>(i)]));
        co_await settle();
        std::vector<int> got;
        for (int i = 0; i < 6; ++i) got.push_back(*co_await ch.receive());
        EXPECT_EQ(got, (std::vector<int>{100, 0, 1, 2, 3, 4}));
        co_return;
    });
    for (auto& s : senders) EXPECT_TRUE(s.sent);

    std::vector<ReceiveOutcome> receivers(5);
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        for (auto& r : receivers) g.spawn(receive_one(ch, r));
        co_await settle();
        for (int i = 0; i < 5; ++i) co_await ch.send(i * 10);
        co_return;
    });
    for (std::size_t i = 0; i < receivers.size(); ++i)
        EXPECT_EQ(receivers[i].value, static_cast<int>(i) * 10);
}

WEIR_TEST(Channel, ManyProducersManyConsumersKeepPerProducerOrder) {
    weir::Channel<int> ch(8);
    constexpr int kProducers = 6;
    constexpr int kPerProducer = 2000;
    std::vector<std::vector<int>> seen(4);
    co_await weir::task_group([&](weir::TaskGroup& consumers) -> weir::Task<> {
        for (std::size_t c = 0; c < seen.size(); ++c)
            consumers.spawn(consumer(ch, seen[c], static_cast<int>(c)));
        co_await weir::task_group([&](weir::TaskGroup& producers) -> weir::Task<> {
            for (int p = 0; p < kProducers; ++p) producers.spawn(producer(ch, p, kPerProducer));
            co_return;
        });
        ch.close();
    });
    std::vector<int> all;
    for (auto& s : seen) {
        expect_per_producer_fifo(s, kProducers);
        all.insert(all.end(), s.begin(), s.end());
    }
    std::sort(all.begin(), all.end());
    std::vector<int> expected;
    for (int p = 0; p < kProducers; ++p)
        for (int i = 0; i < kPerProducer; ++i) expected.push_back(p * kStride + i);
    EXPECT_EQ(all, expected);
}

WEIR_TEST(Channel, CloseLetsReceiversDrainThenNullopt) {
    weir::Channel<int> ch(4);
    co_await ch.send(1);
    co_await ch.send(2);
    ch.close();
    EXPECT_TRUE(ch.closed());
    EXPECT_EQ(co_await ch.receive(), 1);
    EXPECT_EQ(co_await ch.receive(), 2);
    EXPECT_EQ(co_await ch.receive(), std::nullopt);
    EXPECT_EQ(co_await ch.receive(), std::nullopt);  // stays closed
    ch.close();                                      // idempotent
}

WEIR_TEST(Channel, CloseWakesWaitingReceiversWithNullopt) {
    weir::Channel<int> ch(2);
    std::vector<ReceiveOutcome> receivers(3);
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        for (auto& r : receivers) g.spawn(receive_one(ch, r));
        co_await settle();
        for (auto& r : receivers) EXPECT_FALSE(r.returned);
        ch.close();
        co_return;
    });
    for (auto& r : receivers) {
        EXPECT_TRUE(r.returned);
        EXPECT_FALSE(r.cancelled);
        EXPECT_EQ(r.value, std::nullopt);
    }
}

WEIR_TEST(Channel, CloseFailsWaitingSendersButKeepsBufferedValues) {
    weir::Channel<int> ch(2);
    std::vector<SendOutcome> senders(3);
    co_await ch.send(1);
    co_await ch.send(2);
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        for (std::size_t i = 0; i < senders.size(); ++i)
            g.spawn(send_one(ch, 10 + static_cast<int>(i), senders[i]));
        co_await settle();
        for (auto& s : senders) EXPECT_FALSE(s.sent || s.closed);
        ch.close();
        co_return;
    });
    for (auto& s : senders) {
        EXPECT_TRUE(s.closed);
        EXPECT_FALSE(s.sent);
    }
    // Buffered values survive the close; the refused ones were never enqueued.
    EXPECT_EQ(co_await ch.receive(), 1);
    EXPECT_EQ(co_await ch.receive(), 2);
    EXPECT_EQ(co_await ch.receive(), std::nullopt);
}

WEIR_TEST(Channel, SendAfterCloseThrows) {
    weir::Channel<int> ch(2);
    ch.close();
    SendOutcome out;
    co_await send_one(ch, 1, out);
    EXPECT_TRUE(out.closed);
    EXPECT_EQ(ch.size(), 0u);
}

WEIR_TEST(Channel, CancelledSenderValueIsNotEnqueued) {
    weir::Channel<int> ch(1);
    SendOutcome a, b, c;
    co_await ch.send(1);
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn(send_one(ch, 2, a));
        auto hb = g.spawn(send_one(ch, 3, b));
        g.spawn(send_one(ch, 4, c));
        co_await settle();
        hb.cancel();
        co_await settle();
        EXPECT_TRUE(b.cancelled);
        std::vector<int> got;
        for (int i = 0; i < 3; ++i) got.push_back(*co_await ch.receive());
        EXPECT_EQ(got, (std::vector<int>{1, 2, 4}));
        co_return;
    });
    EXPECT_TRUE(a.sent);
    EXPECT_FALSE(b.sent);
    EXPECT_TRUE(c.sent);
    EXPECT_EQ(ch.size(), 0u);
    EXPECT_EQ(ch.try_receive(), std::nullopt);
}

WEIR_TEST(Channel, SenderCancelledBeforeAwaitSendsNothing) {
    weir::Channel<int> ch(4);
    SendOutcome out;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto h = g.spawn(send_one(ch, 1, out));
        h.cancel();  // there is room, but the task is cancelled
        co_return;
    });
    EXPECT_TRUE(out.cancelled);
    EXPECT_EQ(ch.size(), 0u);
}

WEIR_TEST(Channel, CancelledReceiverDoesNotLoseAValue) {
    weir::Channel<int> ch(1);
    ReceiveOutcome a, b;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto ha = g.spawn(receive_one(ch, a));
        g.spawn(receive_one(ch, b));
        co_await settle();
        ha.cancel();
        co_await settle();
        co_await ch.send(7);  // goes to b, not to the cancelled a
        co_return;
    });
    EXPECT_TRUE(a.cancelled);
    EXPECT_FALSE(a.value.has_value());
    EXPECT_EQ(b.value, 7);
    EXPECT_EQ(ch.size(), 0u);
}

WEIR_TEST(Channel, ReceiverHandedAValueThenCancelledKeepsIt) {
    weir::Channel<int> ch(1);
    ReceiveOutcome a;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto ha = g.spawn(receive_one(ch, a));
        co_await settle();
        co_await ch.send(9);  // handed straight to the waiting receiver
        ha.cancel();          // same turn, before it ran
        co_return;
    });
    EXPECT_EQ(a.value, 9);  // delivered, not dropped
    EXPECT_FALSE(a.cancelled);
    EXPECT_EQ(ch.size(), 0u);
}

WEIR_TEST(Channel, ReceiverCancelledBeforeAwaitLeavesValueBuffered) {
    weir::Channel<int> ch(2);
    co_await ch.send(5);
    ReceiveOutcome a;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto h = g.spawn(receive_one(ch, a));
        h.cancel();
        co_return;
    });
    EXPECT_TRUE(a.cancelled);
    EXPECT_EQ(ch.size(), 1u);
    EXPECT_EQ(ch.try_receive(), 5);
}

WEIR_TEST(Channel, SenderMovedInThenCancelledStillCountsAsSent) {
    weir::Channel<int> ch(1);
    SendOutcome out;
    co_await ch.send(1);
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto h = g.spawn(send_one(ch, 2, out));
        co_await settle();
        auto v = co_await ch.receive();  // moves the waiting sender's value in
        EXPECT_EQ(v, 1);
        h.cancel();  // same turn: the value is already in the buffer
        co_return;
    });
    EXPECT_TRUE(out.sent);
    EXPECT_FALSE(out.cancelled);
    EXPECT_EQ(ch.try_receive(), 2);
}

WEIR_TEST(Channel, ReceiveTimesOutAndLeavesNoWaiter) {
    weir::Channel<int> ch(1);
    bool timed_out = false;
    try {
        co_await weir::with_timeout(5ms, weir::as_task(ch.receive()));
    } catch (const weir::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    // No stale receiver swallows the next value.
    co_await ch.send(3);
    EXPECT_EQ(ch.size(), 1u);
    EXPECT_EQ(co_await ch.receive(), 3);
}

WEIR_TEST(Channel, HundredThousandItemsArriveIntactAndInOrder) {
    weir::Channel<int> ch(128);
    constexpr int kItems = 100'000;
    int sent = 0;
    std::vector<int> got;
    got.reserve(kItems);
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn(receive_all(ch, got));
        co_await send_all(ch, 0, kItems, sent);
        ch.close();
    });
    EXPECT_EQ(sent, kItems);
    EXPECT_EQ(got.size(), static_cast<std::size_t>(kItems));
    bool in_order = true;
    for (int i = 0; i < static_cast<int>(got.size()); ++i)
        if (got[static_cast<std::size_t>(i)] != i) in_order = false;
    EXPECT_TRUE(in_order);
}

WEIR_TEST(Channel, HundredThousandItemsManyToMany) {
    weir::Channel<int> ch(16);
    constexpr int kProducers = 4;
    constexpr int kPerProducer = 25'000;
    std::vector<std::vector<int>> seen(4);
    co_await weir::task_group([&](weir::TaskGroup& consumers) -> weir::Task<> {
        for (std::size_t c = 0; c < seen.size(); ++c) consumers.spawn(consumer(ch, seen[c], 0));
        co_await weir::task_group([&](weir::TaskGroup& producers) -> weir::Task<> {
            for (int p = 0; p < kProducers; ++p) producers.spawn(producer(ch, p, kPerProducer));
            co_return;
        });
        ch.close();
    });
    std::size_t total = 0;
    long long sum = 0;
    for (auto& s : seen) {
        expect_per_producer_fifo(s, kProducers);
        total += s.size();
        for (int v : s) sum += v % kStride;
    }
    EXPECT_EQ(total, static_cast<std::size_t>(kProducers * kPerProducer));
    const long long per = static_cast<long long>(kPerProducer) * (kPerProducer - 1) / 2;
    EXPECT_EQ(sum, per * kProducers);
}

namespace {

// Holds the loop (no await) until `until`, then sends without waiting.
weir::Task<void> send_late(weir::Channel<int>& ch, int value, weir::TimePoint until) {
    while (weir::Clock::now() <= until) {
    }
    EXPECT_TRUE(ch.try_send(value));
    co_return;
}

}  // namespace

// A value handed to a receiver in the same loop turn as its deadline
// expires is returned, not lost and not replaced by TimeoutError.
WEIR_TEST(Channel, ValueArrivingAtTheDeadlineIsNotLost) {
    weir::Channel<int> ch(1);
    const auto start = weir::Clock::now();
    std::optional<int> got;
    bool timed_out = false;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn(send_late(ch, 11, start + 10ms));
        try {
            got = co_await weir::with_timeout(2ms, weir::as_task(ch.receive()));
        } catch (const weir::TimeoutError&) {
            timed_out = true;
        }
    });
    EXPECT_FALSE(timed_out);
    EXPECT_EQ(got, 11);
    EXPECT_EQ(ch.size(), 0u);
}
