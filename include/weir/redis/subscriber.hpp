// Subscriber: Redis pub/sub (SUBSCRIBE / PSUBSCRIBE) as an async stream on a
// dedicated connection.
//
//     auto sub = co_await Subscriber::connect(url);
//     const std::vector<std::string> channels{"news"}, patterns{"user:*"};
//     co_await sub.subscribe(channels);
//     co_await sub.psubscribe(patterns);
//     for (;;) {
//         Message m = co_await sub.next();      // m.channel, m.payload, m.pattern
//     }
//
// subscribe() returns once the server confirmed every channel, so messages
// published afterwards are delivered. next() waits for the next message
// (cancellable, obeys deadlines). When the connection is lost, next()
// reconnects with exponential backoff and subscribes again to every channel
// and pattern; messages published meanwhile are lost (pub/sub keeps nothing).
// If the server stays unreachable for reconnect_timeout, next() throws
// ConnectionError (call it again to keep trying). Works with RESP3 (push
// frames) and RESP2. Use a Subscriber on the shard that created it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "weir/core/task.hpp"
#include "weir/redis/metrics.hpp"
#include "weir/redis/options.hpp"

namespace weir::redis {

struct Message {
    std::string channel;
    std::string payload;
    std::string pattern;  // the matching pattern for PSUBSCRIBE messages, else empty
};

struct SubscriberOptions {
    std::chrono::milliseconds reconnect_timeout{5000};
    std::chrono::milliseconds backoff_initial{10};
    std::chrono::milliseconds backoff_max{500};
};

class Subscriber {
public:
    struct State;

    Subscriber() noexcept = default;
    Subscriber(Subscriber&&) noexcept = default;
    Subscriber& operator=(Subscriber&&) noexcept = default;
    ~Subscriber();

    static Task<Subscriber> connect(std::string url, SubscriberOptions options = {});
    static Task<Subscriber> connect(ConnectionOptions connection, SubscriberOptions options = {});

    Task<void> subscribe(std::vector<std::string> channels);
    Task<void> psubscribe(std::vector<std::string> patterns);
    Task<void> unsubscribe(std::vector<std::string> channels);
    Task<void> punsubscribe(std::vector<std::string> patterns);

    // The next message (reconnecting and resubscribing when needed).
    Task<Message> next();

    // Messages received but not yet returned by next().
    std::size_t buffered() const noexcept;
    std::uint64_t reconnects() const noexcept;
    MetricsSnapshot metrics() const;
    void close() noexcept;

private:
    explicit Subscriber(std::shared_ptr<State> s) noexcept : state_(std::move(s)) {}
    std::shared_ptr<State> state_;
};

}  // namespace weir::redis
