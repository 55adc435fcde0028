#include "weir/pg/listener.hpp"

#include <algorithm>

#include "weir/core/sleep.hpp"

namespace weir::pg {

namespace {

std::string quote_identifier(const std::string& name) {
    std::string s = "\"";
    for (char c : name) {
        if (c == '"') s += '"';
        s += c;
    }
    s += '"';
    return s;
}

}  // namespace

Task<Listener> Listener::open(std::string url, ListenerOptions options) {
    Connection conn = co_await Connection::connect(url);
    co_return Listener(std::move(url), options, std::move(conn));
}

Task<void> Listener::listen(std::string channel) {
    if (conn_.is_broken()) co_await reconnect();
    co_await conn_.execute("LISTEN " + quote_identifier(channel));
    channels_.insert(std::move(channel));
}

Task<void> Listener::unlisten(std::string channel) {
    channels_.erase(channel);
    if (conn_.is_broken()) co_return;  // the next reconnect will not listen to it
    co_await conn_.execute("UNLISTEN " + quote_identifier(channel));
}

Task<void> Listener::reconnect() {
    auto backoff = options_.reconnect_backoff;
    for (;;) {
        conn_.close();
        try {
            Connection c = co_await Connection::connect(url_);
            for (const auto& ch : channels_) co_await c.execute("LISTEN " + quote_identifier(ch));
            conn_ = std::move(c);
            ++reconnects_;
            co_return;
        } catch (const Error& e) {
            if (!e.is_connection_error()) throw;
        }
        co_await sleep_for(backoff);
        backoff = std::min(backoff * 2, options_.reconnect_backoff_max);
    }
}

Task<Notification> Listener::next() {
    for (;;) {
        if (conn_.is_broken()) co_await reconnect();
        try {
            co_return co_await conn_.next_notification();
        } catch (const Error& e) {
            if (!e.is_connection_error()) throw;
            conn_.close();  // reconnect on the next turn
        }
    }
}

}  // namespace weir::pg
