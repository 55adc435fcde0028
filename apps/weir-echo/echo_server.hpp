// A TCP echo server on every shard: one SO_REUSEPORT listener per shard, one
// task per connection inside the shard's TaskGroup. Shared by weir-echo and
// weir-demo.
#pragma once

#include <weir/core.hpp>
#include <weir/net.hpp>

namespace echo {

inline weir::Task<void> echo_connection(weir::net::Stream conn) {
    conn.set_nodelay(true);
    char buf[16 * 1024];
    try {
        for (;;) {
            std::size_t n = co_await conn.read_some(std::span<char>(buf));
            if (n == 0) break;
            co_await conn.write_all(std::string_view(buf, n));
        }
    } catch (const weir::SystemError&) {
        // A reset or broken connection ends this connection only.
    }
}

inline weir::Task<void> serve_listener(weir::net::Listener listener) {
    co_await weir::task_group([&](weir::TaskGroup& connections) -> weir::Task<> {
        for (;;) {
            weir::net::Stream conn = co_await listener.accept();
            connections.spawn(echo_connection(std::move(conn)).named("echo-connection"));
        }
    });
}

// Serves `first` (already bound on shard 0) and a listener on the same port
// on every other shard, until cancelled.
inline weir::Task<void> serve_all_shards(weir::net::Listener& first, std::string host,
                                         std::uint16_t port) {
    auto per_shard = [&first, host, port]() -> weir::Task<void> {
        if (weir::this_shard() == 0) return serve_listener(std::move(first));
        return serve_listener(weir::net::Listener::bind_tcp(host, port));
    };
    co_await weir::on_all_shards(per_shard);
}

}  // namespace echo
