// Listener: LISTEN/NOTIFY as an async stream on a dedicated connection.
//
//     auto listener = co_await weir::pg::Listener::open(url);
//     co_await listener.listen("jobs");
//     for (;;) {
//         weir::pg::Notification n = co_await listener.next();   // n.channel, n.payload
//     }
//
// If the connection is lost, next() reconnects with exponential backoff and
// runs LISTEN again for every channel before it waits again (notifications
// sent while it was disconnected are lost: PostgreSQL does not queue them for
// absent listeners). reconnects() counts these. One task at a time uses a
// Listener; use it on the shard that opened it.
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
    // The next notification of any listened channel.
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
};

}  // namespace weir::pg
