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

// A terminated backend answers 57P01 (admin shutdown) and then drops the connection.
bool connection_lost(const Error& e, const Connection& conn) {
    return e.is_connection_error() || e.sqlstate().rfind("57P0", 0) == 0 || conn.is_broken();
}

}  // namespace

Task<Listener> Listener::open(std::string url, ListenerOptions options) {
    Connection conn = co_await Connection::connect(url);
    co_return Listener(std::move(url), options, std::move(conn));
}

Task<void> Listener::listen(std::string channel) {
    if (!conn_.is_broken()) {
        bool lost = false;
        try {
            co_await conn_.execute("LISTEN " + quote_identifier(channel));
        } catch (const Error& e) {
            lost = connection_lost(e, conn_);
            if (!lost) throw;
        }
        if (!lost) {
            channels_.insert(std::move(channel));
            co_return;
        }
    }
    channels_.insert(std::move(channel));
    co_await reconnect();  // LISTENs every channel, this one included
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
            reconnected_ = true;
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
        if (reconnected_) {
            reconnected_ = false;
            Notification gap;
            gap.reconnected = true;
            co_return gap;
        }
        try {
            co_return co_await conn_.next_notification();
        } catch (const Error& e) {
            if (!connection_lost(e, conn_)) throw;
            conn_.close();  // reconnect on the next turn
        }
    }
}

}  // namespace weir::pg
