// Connection: one Redis connection with automatic pipelining.
//
//     auto conn = co_await weir::redis::Connection::connect("redis://127.0.0.1:6379/0");
//     co_await conn.cmd("SET", "k", "v", "EX", 10);
//     std::optional<std::string> v = co_await conn.get("k");   // typed helpers: commands.hpp
//
// Many tasks may use one connection at once: each command is appended to an
// output buffer, and everything queued while the connection is busy goes out
// together in one write; replies are matched to commands in FIFO order. The
// task waiting for the oldest reply drives the socket (no background task),
// so a shard needs few connections for high throughput.
//
// The handshake sends HELLO 3 (RESP3) with AUTH and SETNAME, falling back to
// RESP2 (AUTH, CLIENT SETNAME) when the server does not know HELLO, then
// SELECT for a non-zero db. Error replies throw ServerError; a failure of the
// connection itself throws ConnectionError and fails every pending command,
// and the connection stays broken (pools replace it).
//
// Cancellation and deadlines (with_timeout around the caller, or
// ConnectionOptions::command_timeout) interrupt only the waiting: the
// command's reply is still read and dropped when it arrives, so the
// connection never loses its place in the reply stream. Use a Connection on
// the shard that created it.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "weir/core/task.hpp"
#include "weir/redis/command.hpp"
#include "weir/redis/commands.hpp"
#include "weir/redis/error.hpp"
#include "weir/redis/metrics.hpp"
#include "weir/redis/options.hpp"
#include "weir/redis/pipeline.hpp"
#include "weir/redis/reply.hpp"

namespace weir::redis {

class Connection final : public Commands {
public:
    struct Impl;

    Connection() noexcept = default;
    Connection(Connection&&) noexcept = default;
    Connection& operator=(Connection&&) noexcept = default;
    ~Connection();

    // Connects and runs the handshake. Throws ConnectionError, ServerError
    // (e.g. WRONGPASS), UrlError or TimeoutError.
    static Task<Connection> connect(std::string url);
    static Task<Connection> connect(ConnectionOptions options);

    using Commands::cmd;
    Task<Reply> execute(Command c) override;
    // One round trip; per-command replies (errors as error Replies).
    Task<std::vector<Reply>> pipeline(Pipeline p);
    // MULTI ... EXEC; nullopt when a WATCHed key changed.
    Task<std::optional<std::vector<Reply>>> transaction(Pipeline p);

    bool is_open() const noexcept { return impl_ != nullptr; }
    bool is_broken() const noexcept;
    // Commands sent or queued whose replies have not all arrived (including
    // abandoned ones whose replies will be dropped).
    std::size_t pending() const noexcept;
    // Of those, commands whose caller gave up (cancelled / timed out).
    std::size_t abandoned() const noexcept;
    // Quick check of an idle connection without a round trip (peeks at the
    // socket): false, and the connection marked broken, if the server closed it.
    bool check_idle() noexcept;
    // 2 or 3: the protocol negotiated.
    int protocol() const noexcept;
    const ConnectionOptions& options() const;
    MetricsSnapshot metrics() const;
    // Closes now; pending commands fail with ConnectionError.
    void close() noexcept;

    // Plumbing for Subscriber (the same connection state in pub/sub mode).
    std::shared_ptr<Impl> impl_for_subscriber() const noexcept { return impl_; }

private:
    explicit Connection(std::shared_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
    std::shared_ptr<Impl> impl_;
};

}  // namespace weir::redis
