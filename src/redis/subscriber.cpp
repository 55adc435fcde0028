#include "weir/redis/subscriber.hpp"

#include <algorithm>
#include <deque>
#include <exception>
#include <set>

#include "connection_impl.hpp"
#include "weir/core/errors.hpp"
#include "weir/core/sleep.hpp"
#include "weir/redis/connection.hpp"

namespace weir::redis {

struct Subscriber::State {
    ConnectionOptions options;
    SubscriberOptions sub_options;
    std::shared_ptr<Connection::Impl> impl;  // null while disconnected
    Connection conn;                         // owns impl
    std::deque<Message> messages;
    std::set<std::string> channels;
    std::set<std::string> patterns;
    std::uint64_t confirmations = 0;  // (p)(un)subscribe frames seen on this connection
    std::uint64_t reconnects = 0;

    // Routes pub/sub frames; false for anything else (a reply to PING...).
    // Tasks parked while another one drives the socket (a subscribe() while
    // next() waits, or the reverse) are woken to re-check their condition.
    bool on_frame(Reply& r) {
        const bool mine = route(r);
        if (mine && impl) impl->wake_all_waiters();
        return mine;
    }
    bool route(Reply& r) {
        if (!r.is_aggregate() || r.size() < 3 || !r[0].is_string()) return false;
        std::string_view kind = r[0].str();
        auto& e = r.elements();
        if (kind == "message") {
            Message m;
            m.channel = e[1].take_str();
            m.payload = e[2].take_str();
            messages.push_back(std::move(m));
            return true;
        }
        if (kind == "pmessage" && r.size() >= 4) {
            Message m;
            m.pattern = e[1].take_str();
            m.channel = e[2].take_str();
            m.payload = e[3].take_str();
            messages.push_back(std::move(m));
            return true;
        }
        if (kind == "subscribe" || kind == "psubscribe" || kind == "unsubscribe" ||
            kind == "punsubscribe") {
            ++confirmations;
            return true;
        }
        return false;
    }

    struct ConfirmWait {
        State* s;
        std::uint64_t target;
    };
    static bool confirmed(void* p) {
        auto* w = static_cast<ConfirmWait*>(p);
        return w->s->confirmations >= w->target;
    }
    static bool has_message(void* p) { return !static_cast<State*>(p)->messages.empty(); }

    // Sends a (P)(UN)SUBSCRIBE and waits for its `expect` confirmations.
    Task<void> send(Command c, std::size_t expect) {
        auto impl_ref = impl;
        if (!impl_ref || impl_ref->broken) co_return;  // next() resubscribes
        impl_ref->submit(&c, 1, 0);
        ConfirmWait w{this, confirmations + expect};
        detail::Waiter waiter;
        co_await impl_ref->wait_until(&confirmed, &w, waiter);
    }

    Task<void> resubscribe() {
        if (!channels.empty()) {
            Command c("SUBSCRIBE");
            for (const auto& ch : channels) c.arg(ch);
            co_await send(std::move(c), channels.size());
        }
        if (!patterns.empty()) {
            Command c("PSUBSCRIBE");
            for (const auto& p : patterns) c.arg(p);
            co_await send(std::move(c), patterns.size());
        }
    }

    Task<void> open_connection() {
        Connection c = co_await Connection::connect(options);
        impl = c.impl_for_subscriber();
        confirmations = 0;
        impl->push_sink = [this](Reply& r) { return on_frame(r); };
        conn = std::move(c);
    }

    Task<void> reconnect() {
        const TimePoint deadline = Clock::now() + sub_options.reconnect_timeout;
        auto delay = sub_options.backoff_initial;
        for (;;) {
            conn.close();
            impl.reset();
            std::exception_ptr error;
            try {
                co_await open_connection();
                co_await resubscribe();
                if (impl && !impl->broken) {
                    ++reconnects;
                    impl->metrics->reconnected();
                    co_return;
                }
                throw ConnectionError("redis pub/sub connection lost while resubscribing");
            } catch (const ConnectionError&) {
                error = std::current_exception();
            } catch (const TimeoutError&) {
                error = std::current_exception();
            }
            if (Clock::now() + delay >= deadline) std::rethrow_exception(error);
            co_await sleep_for(delay);
            delay = std::min(delay * 2, sub_options.backoff_max);
        }
    }
};

Subscriber::~Subscriber() { close(); }

Task<Subscriber> Subscriber::connect(std::string url, SubscriberOptions options) {
    return connect(ConnectionOptions::from_url(url), options);
}

Task<Subscriber> Subscriber::connect(ConnectionOptions connection, SubscriberOptions options) {
    auto s = std::make_shared<State>();
    if (!connection.metrics) connection.metrics = std::make_shared<Metrics>();
    connection.prepare_tls();  // one TLS context for every reconnect
    s->options = std::move(connection);
    s->sub_options = options;
    co_await s->open_connection();
    co_return Subscriber(std::move(s));
}

Task<void> Subscriber::subscribe(std::vector<std::string> channels) {
    auto s = state_;
    if (!s) throw ConnectionError("redis subscriber is closed");
    if (channels.empty()) co_return;
    Command c("SUBSCRIBE");
    for (const auto& ch : channels) {
        c.arg(ch);
        s->channels.insert(ch);
    }
    co_await s->send(std::move(c), channels.size());
}

Task<void> Subscriber::psubscribe(std::vector<std::string> patterns) {
    auto s = state_;
    if (!s) throw ConnectionError("redis subscriber is closed");
    if (patterns.empty()) co_return;
    Command c("PSUBSCRIBE");
    for (const auto& p : patterns) {
        c.arg(p);
        s->patterns.insert(p);
    }
    co_await s->send(std::move(c), patterns.size());
}

Task<void> Subscriber::unsubscribe(std::vector<std::string> channels) {
    auto s = state_;
    if (!s) throw ConnectionError("redis subscriber is closed");
    if (channels.empty()) co_return;
    Command c("UNSUBSCRIBE");
    for (const auto& ch : channels) {
        c.arg(ch);
        s->channels.erase(ch);
    }
    co_await s->send(std::move(c), channels.size());
}

Task<void> Subscriber::punsubscribe(std::vector<std::string> patterns) {
    auto s = state_;
    if (!s) throw ConnectionError("redis subscriber is closed");
    if (patterns.empty()) co_return;
    Command c("PUNSUBSCRIBE");
    for (const auto& p : patterns) {
        c.arg(p);
        s->patterns.erase(p);
    }
    co_await s->send(std::move(c), patterns.size());
}

Task<Message> Subscriber::next() {
    auto s = state_;
    if (!s) throw ConnectionError("redis subscriber is closed");
    for (;;) {
        if (!s->messages.empty()) {
            Message m = std::move(s->messages.front());
            s->messages.pop_front();
            co_return m;
        }
        if (!s->impl || s->impl->broken) co_await s->reconnect();
        auto impl = s->impl;
        detail::Waiter waiter;
        co_await impl->wait_until(&State::has_message, s.get(), waiter);
    }
}

std::size_t Subscriber::buffered() const noexcept { return state_ ? state_->messages.size() : 0; }
std::uint64_t Subscriber::reconnects() const noexcept { return state_ ? state_->reconnects : 0; }

MetricsSnapshot Subscriber::metrics() const {
    return state_ && state_->options.metrics ? state_->options.metrics->snapshot()
                                             : MetricsSnapshot{};
}

void Subscriber::close() noexcept {
    if (!state_) return;
    if (state_->impl) state_->impl->push_sink = nullptr;
    state_->conn.close();
    state_->impl.reset();
    state_.reset();
}

}  // namespace weir::redis
