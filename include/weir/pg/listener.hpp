// Listener: LISTEN/NOTIFY as an async stream on a dedicated connection.
//
//     auto listener = co_await weir::pg::Listener::open(url);
//     co_await listener.listen("jobs");
//     co_await resync();                     // read the current state once
//     for (;;) {
//         weir::pg::Notification n = co_await listener.next();
//         if (n.reconnected) co_await resync();   // notifications may have been missed
//         else handle(n.channel, n.payload);
//     }
//
// If the connection is lost, next() reconnects with exponential backoff and
// runs LISTEN again for every channel. PostgreSQL does not queue
// notifications for absent listeners, so those sent while the listener was
// disconnected are lost for good. The loss is not silent: once the listener
// is subscribed again, next() yields one event with `reconnected` set (and no
// channel) before any later notification, so the consumer can re-read what it
// watches (e.g. the table the notifications announce); every notification
// sent after that event reaches it. reconnects() counts the reconnections
// (also usable as a generation number). A reconnection during listen() is
// reported by the next next() likewise. One task at a time uses a Listener;
// use it on the shard that opened it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "weir/core/task.hpp"
#include "weir/pg/connection.hpp"

namespace weir::pg {

struct ListenerOptions {
    std::chrono::milliseconds reconnect_backoff{50};
    std::chrono::milliseconds reconnect_backoff_max{2000};
};

class Listener {
public:
    Listener(Listener&&) noexcept = default;
    Listener& operator=(Listener&&) noexcept = default;
    ~Listener() = default;

    static Task<Listener> open(std::string url, ListenerOptions options = {});

    Task<void> listen(std::string channel);
    Task<void> unlisten(std::string channel);
    // The next notification of any listened channel, or the mark of a reconnection
    // (Notification::reconnected, see above).
    Task<Notification> next();

    std::uint64_t reconnects() const noexcept { return reconnects_; }
    // The backend of the current connection (for tests and diagnostics).
    int backend_pid() const noexcept { return conn_.backend_pid(); }
    void close() noexcept { conn_.close(); }

private:
    Listener(std::string url, ListenerOptions options, Connection conn)
        : url_(std::move(url)), options_(options), conn_(std::move(conn)) {}
    Task<void> reconnect();
    std::string url_;
    ListenerOptions options_;
    Connection conn_;
    std::set<std::string> channels_;
    std::uint64_t reconnects_ = 0;
    bool reconnected_ = false;  // not reported by next() yet
};

}  // namespace weir::pg
