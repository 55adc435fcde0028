// The HTTP/1.1 server: serve() runs a Handler on every shard of the current
// runtime; run_server() is the whole program around it.
//
//     int main(int argc, char** argv) {
//         weir::http::Handler h = [](weir::http::Request& req, weir::http::Context&)
//             -> weir::Task<weir::http::Response> {
//             co_return weir::http::Response::text("Hello, World!");
//         };
//         return weir::http::run_server(h, weir::http::ServerOptions::from_args(argc, argv));
//     }
//
// Per shard: one SO_REUSEPORT listener, one task per connection, keep-alive
// and pipelining (responses in order, one write per batch), chunked bodies
// both ways, Expect: 100-continue, limits with their statuses, and built-in
// /healthz, /readyz and /metrics. A handler runs inside its own cancel scope:
// it is cancelled (reason peer_disconnected) when the client goes away, and
// gets options.request_timeout as its deadline. A handler error becomes a
// JSON problem response: HttpError its status, TimeoutError 504, anything
// else 500 (with the exception text only when options.debug).
//
// Shutdown: when serve() is cancelled or ServerHandle::stop() is called,
// /readyz turns 503 at once, the listeners close, idle keep-alive
// connections are closed, in-flight requests get options.drain_timeout to
// finish (their responses say Connection: close), what remains is cancelled
// (reason shutdown), and then the shutdown hooks run on every shard.
#pragma once

#include <cstdint>

#include "weir/core/task.hpp"
#include "weir/http/handler.hpp"
#include "weir/http/lifespan.hpp"
#include "weir/http/server_options.hpp"

namespace weir::http {

namespace detail {
struct ServerShared;
}

// A running server as seen from outside serve(): valid from on_listening
// until serve() returns.
class ServerHandle {
public:
    explicit ServerHandle(detail::ServerShared& shared) noexcept : shared_(shared) {}
    ServerHandle(const ServerHandle&) = delete;
    ServerHandle& operator=(const ServerHandle&) = delete;

    // The bound port (useful with port 0).
    std::uint16_t port() const noexcept;
    // True while /readyz answers 200.
    bool ready() const noexcept;
    // Starts the graceful shutdown; serve() then returns normally once done.
    // Callable from any thread, any number of times.
    void stop() noexcept;

private:
    detail::ServerShared& shared_;
};

// Serves `handler` on every shard of the current runtime until cancelled
// or stopped, then shuts down gracefully (see above). Throws if a listener
// cannot be bound or a startup hook fails (after running the shutdown hooks
// of the shards that started).
Task<void> serve(Handler handler, ServerOptions options, Lifespan lifespan = {});

// Runs a server as a program: a Runtime with options.threads shards, prints
// "listening on HOST:PORT" (flushed), serves until SIGINT or SIGTERM, drains
// and returns 0; prints the error and returns 1 if the server fails.
int run_server(Handler handler, ServerOptions options, Lifespan lifespan = {});

}  // namespace weir::http
