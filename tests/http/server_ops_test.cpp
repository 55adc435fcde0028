// The HTTP server's operations over loopback: cancellation on client
// disconnect, graceful drain, lifespan hooks and resources, /healthz,
// /readyz, /metrics, several shards, and ServerOptions::parse.
#include <atomic>
#include <string>
#include <vector>

#include <weir/core.hpp>
#include <weir/http/server.hpp>
#include <weir/testing/async_test.hpp>

#include "server_test_util.hpp"

using namespace std::chrono_literals;
using weir::Task;
using namespace weir::http;
using namespace weir::http::testing;

WEIR_TEST(ServerOps, ClientDisconnectCancelsTheHandler) {
    weir::Event cancelled;
    weir::Event entered;
    std::optional<weir::CancelReason> reason;
    int children_cancelled = 0;
    auto handler = [&](Request& req, Context& ctx) -> Task<Response> {
        ctx.set_route("/slow");
        if (req.path() != "/slow") co_return Response::text("fast");
        try {
            // A request-scoped child task is cancelled along with the handler.
            auto group = [&](weir::TaskGroup& g) -> Task<void> {
                // Captureless: the child outlives this body's frame while joined.
                auto child = [](int& cancelled_count) -> Task<void> {
                    try {
                        co_await weir::sleep_for(1h);
                    } catch (const weir::Cancelled&) {
                        ++cancelled_count;
                        throw;
                    }
                };
                g.spawn(child(children_cancelled));
                entered.set();
                co_await weir::sleep_for(1h);
            };
            co_await weir::task_group(group);
        } catch (const weir::Cancelled& c) {
            reason = c.reason();
            cancelled.set();
            throw;
        }
        co_return Response::text("never");
    };
    auto body = [&](ServerHandle& h) -> Task<void> {
        {
            RawClient c = co_await RawClient::connect(h.port());
            co_await c.send(get("/slow"));
            co_await entered.wait();
            c.close();  // hang up while the handler sleeps
        }
        co_await weir::with_timeout(10s, weir::as_task(cancelled.wait()));
        CO_ASSERT_TRUE(reason.has_value());
        EXPECT_EQ(*reason, weir::CancelReason::peer_disconnected);
        EXPECT_EQ(children_cancelled, 1);
        auto m = co_await request_once(h.port(), get("/metrics"));
        EXPECT_EQ(metric_sum(m.body, "weir_http_requests_disconnected_total"), 1);
        EXPECT_EQ(
            metric_sum(m.body, "weir_http_requests_total", {"route=\"/slow\"", "status=\"499\""}),
            1);
        EXPECT_GE(
            metric_sum(m.body, "weir_tasks_cancelled_total", {"reason=\"peer_disconnected\""}), 1);
    };
    co_await with_server(handler, kDefaultOptions, body);
}

WEIR_TEST(ServerOps, HealthReadyAndMetricsEndpoints) {
    auto handler = [](Request& req, Context& ctx) -> Task<Response> {
        if (req.path() == "/items/7") ctx.set_route("/items/{id}");
        co_return Response::text("x");
    };
    ServerOptions opt;
    opt.metrics_collectors.push_back([](MetricsWriter& w, Resources&, unsigned shard) {
        const std::string s = std::to_string(shard);
        w.gauge("test_pool_in_use", "Connections lent out.", {{"shard", s}}, 3);
    });
    auto body = [](ServerHandle& h) -> Task<void> {
        auto health = co_await request_once(h.port(), get("/healthz"));
        EXPECT_EQ(health.status, 200);
        auto ready = co_await request_once(h.port(), get("/readyz"));
        EXPECT_EQ(ready.status, 200);
        EXPECT_TRUE(h.ready());
        for (int i = 0; i < 3; ++i) co_await request_once(h.port(), get("/items/7"));
        co_await request_once(h.port(), get("/other"));
        auto m = co_await request_once(h.port(), get("/metrics"));
        EXPECT_EQ(m.status, 200);
        EXPECT_EQ(m.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
        const std::string& t = m.body;
        EXPECT_NE(t.find("# TYPE weir_http_requests_total counter"), std::string::npos);
        EXPECT_EQ(metric_sum(t, "weir_http_requests_total",
                             {"route=\"/items/{id}\"", "status=\"200\"", "shard=\"0\""}),
                  3);
        EXPECT_EQ(metric_sum(t, "weir_http_requests_total", {"route=\"<unmatched>\""}), 1);
        EXPECT_EQ(metric_sum(t, "weir_http_requests_total", {"route=\"/healthz\""}), 1);
        EXPECT_EQ(
            metric_sum(t, "weir_http_request_duration_seconds_count", {"route=\"/items/{id}\""}),
            3);
        EXPECT_EQ(metric_sum(t, "weir_http_request_duration_seconds_bucket",
                             {"route=\"/items/{id}\"", "le=\"+Inf\""}),
                  3);
        EXPECT_EQ(metric_sum(t, "weir_http_requests_in_flight"), 1);  // this one
        EXPECT_GE(metric_sum(t, "weir_http_connections_open"), 1);
        EXPECT_GE(metric_sum(t, "weir_loop_lag_seconds_count"), 0);
        EXPECT_NE(t.find("# TYPE weir_loop_lag_seconds histogram"), std::string::npos);
        EXPECT_GE(metric_sum(t, "weir_tasks_cancelled_total", {"reason=\"shutdown\""}), 0);
        EXPECT_GE(metric_sum(t, "weir_slow_callbacks_total"), 0);
        EXPECT_EQ(metric_sum(t, "weir_http_ready"), 1);
        EXPECT_EQ(metric_sum(t, "test_pool_in_use"), 3);
        // Every family has exactly one TYPE line.
        EXPECT_EQ(t.find("# TYPE weir_http_requests_total"),
                  t.rfind("# TYPE weir_http_requests_total"));
    };
    co_await with_server(handler, opt, body);
}

namespace {

struct Counter {
    int value = 0;
};

}  // namespace

WEIR_TEST(ServerOps, GracefulDrainFinishesInFlightRequestsAndRunsShutdownHooks) {
    int startups = 0, shutdowns = 0;
    int entered = 0;
    weir::Event all_entered;
    Lifespan life;
    life.startup = [&](Resources& r) -> Task<void> {
        ++startups;
        r.emplace<Counter>();
        co_return;
    };
    life.shutdown = [&](Resources& r) -> Task<void> {
        EXPECT_NE(r.find<Counter>(), nullptr);
        ++shutdowns;
        co_return;
    };
    auto handler = [&](Request& req, Context& ctx) -> Task<Response> {
        ++ctx.get<Counter>().value;
        if (req.path() == "/slow") {
            if (++entered == 3) all_entered.set();
            co_await weir::sleep_for(200ms);  // still in flight when the drain starts
        }
        co_return Response::text("done");
    };
    ServerOptions opt;
    opt.host = "127.0.0.1";
    opt.port = 0;
    weir::Event listening;
    ServerHandle* handle = nullptr;
    opt.on_listening = [&](ServerHandle& h) {
        handle = &h;
        listening.set();
    };
    std::uint16_t port = 0;
    auto group = [&](weir::TaskGroup& g) -> Task<void> {
        Task<void> server = serve(handler, opt, life);
        g.spawn(std::move(server));
        co_await listening.wait();
        port = handle->port();
        EXPECT_EQ(startups, 1);
        // An idle keep-alive connection...
        RawClient idle = co_await RawClient::connect(port);
        co_await idle.send(get("/quick"));
        {
            auto r_idle = co_await idle.read_response();
            EXPECT_EQ(r_idle ? r_idle->status : 0, 200);
        }
        // ...one in the middle of sending a request head (not idle: it will
        // finish after the drain started, and see /readyz fail)...
        RawClient probe = co_await RawClient::connect(port);
        co_await probe.send(get("/healthz"));
        {
            auto r_probe = co_await probe.read_response();
            EXPECT_EQ(r_probe ? r_probe->status : 0, 200);
        }
        co_await probe.send("GET /readyz HTTP/1.1\r\nHost: t\r\n");

        // ...and three requests in flight.
        std::vector<RawResponse> results(3);
        auto clients = [&](weir::TaskGroup& cg) -> Task<void> {
            // Captureless: a coroutine lambda's captures die with the closure.
            auto one = [](std::uint16_t p, RawResponse& out) -> Task<void> {
                out = co_await request_once(p, get("/slow"));
            };
            for (auto& r : results) cg.spawn(one(port, r));
            co_await all_entered.wait();
            handle->stop();  // graceful: drain, then serve() returns normally
            // A request completed during the drain: not ready, and told to leave.
            co_await probe.send("\r\n");
            auto ready = co_await probe.read_response();
            CO_ASSERT_TRUE(ready.has_value());
            EXPECT_EQ(ready->status, 503);
            EXPECT_TRUE(ready->closes());
            // The idle connection is closed at once.
            {
                const bool closed = co_await idle.closed_without_data(2s);
                EXPECT_TRUE(closed);
            }
            // New connections are refused once the listener is closed.
            bool refused = false;
            for (int attempt = 0; attempt < 200 && !refused; ++attempt) {
                try {
                    RawClient late = co_await RawClient::connect(port);
                    late.close();
                    co_await weir::sleep_for(5ms);
                } catch (const weir::SystemError& e) {
                    refused = e.error_number() == ECONNREFUSED;
                }
            }
            EXPECT_TRUE(refused);
        };
        co_await weir::task_group(clients);
        for (const auto& r : results) {
            EXPECT_EQ(r.status, 200);
            EXPECT_EQ(r.body, "done");
            EXPECT_TRUE(r.closes());  // draining: Connection: close
        }
    };
    co_await weir::task_group(group);  // serve() returned by itself after stop()
    EXPECT_EQ(shutdowns, 1);
    EXPECT_EQ(entered, 3);
}

WEIR_TEST(ServerOps, CancellingServeDrainsThenCancelsWhatRemains) {
    int shutdowns = 0;
    weir::Event entered;
    std::optional<weir::CancelReason> reason;
    Lifespan life;
    life.shutdown = [&](Resources&) -> Task<void> {
        ++shutdowns;
        co_return;
    };
    auto handler = [&](Request&, Context&) -> Task<Response> {
        entered.set();
        try {
            co_await weir::sleep_for(1h);  // outlives the drain deadline
        } catch (const weir::Cancelled& c) {
            reason = c.reason();
            throw;
        }
        co_return Response::text("never");
    };
    ServerOptions opt;
    opt.drain_timeout = 100ms;
    // The client stays connected until the server is gone (closing it would
    // cancel the handler for a disconnect instead).
    std::optional<RawClient> client;
    auto body = [&](ServerHandle& h) -> Task<void> {
        client = co_await RawClient::connect(h.port());
        co_await client->send(get("/forever"));
        co_await entered.wait();
        // with_server cancels serve() after this body: the drain waits 100 ms,
        // then cancels the handler with reason shutdown.
    };
    co_await with_server(handler, opt, body, life);
    CO_ASSERT_TRUE(reason.has_value());
    EXPECT_EQ(*reason, weir::CancelReason::shutdown);
    EXPECT_EQ(shutdowns, 1);
    // No response was sent: the connection was just closed.
    {
        const bool closed = co_await client->closed_without_data();
        EXPECT_TRUE(closed);
    }
}

WEIR_TEST(ServerOps, StartupFailureRunsNoServerAndSurfacesTheError) {
    Lifespan life;
    life.startup = [](Resources&) -> Task<void> {
        throw std::runtime_error("database unreachable");
        co_return;
    };
    auto handler = [](Request&, Context&) -> Task<Response> { co_return Response::text("x"); };
    ServerOptions opt;
    opt.port = 0;
    bool threw = false;
    try {
        co_await serve(handler, opt, life);
    } catch (const std::runtime_error& e) {
        threw = std::string(e.what()) == "database unreachable";
    }
    EXPECT_TRUE(threw);
}

WEIR_TEST(ServerOps, BindFailureIsReported) {
    auto listener = weir::net::Listener::bind_tcp("127.0.0.1", 0, {false, 16});
    ServerOptions opt;
    opt.port = listener.local_address().port();  // taken, without SO_REUSEPORT
    auto handler = [](Request&, Context&) -> Task<Response> { co_return Response::text("x"); };
    bool threw = false;
    try {
        co_await serve(handler, opt);
    } catch (const weir::SystemError& e) {
        threw = e.error_number() == EADDRINUSE;
    }
    EXPECT_TRUE(threw);
}

WEIR_TEST_SHARDS(ServerOpsMultiShard, ServesOnEveryShardWithPerShardResources, 2) {
    std::atomic<int> startups{0}, shutdowns{0};
    Lifespan life;
    life.startup = [&](Resources& r) -> Task<void> {
        startups.fetch_add(1);
        r.emplace<Counter>().value = static_cast<int>(weir::this_shard()) * 1000;
        co_return;
    };
    life.shutdown = [&](Resources&) -> Task<void> {
        shutdowns.fetch_add(1);
        co_return;
    };
    auto handler = [](Request&, Context& ctx) -> Task<Response> {
        const int v = ++ctx.get<Counter>().value;
        EXPECT_EQ(ctx.shard(), weir::this_shard());
        co_return Response::text(std::to_string(ctx.shard()) + ":" + std::to_string(v));
    };
    auto body = [&](ServerHandle& h) -> Task<void> {
        EXPECT_EQ(startups.load(), 2);
        // Many connections: the kernel spreads them over both listeners.
        std::vector<std::string> seen;
        auto clients = [&](weir::TaskGroup& g) -> Task<void> {
            auto one = [](std::uint16_t port, std::vector<std::string>& out) -> Task<void> {
                auto r = co_await request_once(port, get("/"));
                EXPECT_EQ(r.status, 200);
                out.push_back(r.body.substr(0, 1));
            };
            for (int i = 0; i < 40; ++i) g.spawn(one(h.port(), seen));
            co_return;
        };
        co_await weir::task_group(clients);
        EXPECT_EQ(seen.size(), 40u);
        auto m = co_await request_once(h.port(), get("/metrics"));
        // /metrics gathers every shard, whichever one answers.
        EXPECT_NE(m.body.find("shard=\"0\""), std::string::npos);
        EXPECT_NE(m.body.find("shard=\"1\""), std::string::npos);
        EXPECT_EQ(metric_sum(m.body, "weir_http_requests_total", {"route=\"<unmatched>\""}), 40);
        EXPECT_NE(m.body.find("weir_loop_lag_seconds_count{shard=\"1\"}"), std::string::npos);
    };
    co_await with_server(handler, kDefaultOptions, body, life);
    EXPECT_EQ(shutdowns.load(), 2);
}

WEIR_TEST_SHARDS(ServerOpsMultiShard, StopFromAnotherThreadDrainsAllShards, 2) {
    auto handler = [](Request&, Context&) -> Task<Response> { co_return Response::text("x"); };
    ServerOptions opt;
    opt.port = 0;
    ServerHandle* handle = nullptr;
    weir::Event listening;
    opt.on_listening = [&](ServerHandle& h) {
        handle = &h;
        listening.set();
    };
    auto group = [&](weir::TaskGroup& g) -> Task<void> {
        Task<void> server = serve(handler, opt);
        g.spawn(std::move(server));
        co_await listening.wait();
        auto r = co_await request_once(handle->port(), get("/"));
        EXPECT_EQ(r.status, 200);
        ServerHandle* h = handle;
        auto stop = [h] { h->stop(); };  // from a worker thread
        co_await weir::to_thread(stop);
    };
    co_await weir::task_group(group);
}

TEST(ServerOptionsParse, FlagsEnvironmentAndHelp) {
    auto env = [](const char* name) -> const char* {
        const std::string n = name;
        if (n == "PORT") return "9000";
        if (n == "WEIR_THREADS") return "3";
        if (n == "WEIR_IDLE_TIMEOUT") return "500ms";
        if (n == "WEIR_CPU_PRIORITY") return "low";
        return nullptr;
    };
    bool help = true;
    ServerOptions o = ServerOptions::parse(
        {"--host", "0.0.0.0", "--port=8081", "--max-body-bytes", "2Mi", "--header-timeout", "2.5",
         "--debug", "--request-timeout", "3s", "--max-connections", "7"},
        &help, env);
    EXPECT_FALSE(help);
    EXPECT_EQ(o.host, "0.0.0.0");
    EXPECT_EQ(o.port, 8081);  // the flag beats PORT
    EXPECT_EQ(o.threads, 3u);
    EXPECT_EQ(o.max_body_bytes, 2u * 1024 * 1024);
    EXPECT_EQ(o.header_timeout, 2500ms);
    EXPECT_EQ(o.idle_timeout, 500ms);
    EXPECT_TRUE(o.debug);
    EXPECT_EQ(o.request_timeout, std::optional<std::chrono::milliseconds>(3000ms));
    EXPECT_EQ(o.max_connections, 7u);
    EXPECT_EQ(o.cpu_priority, weir::CpuPriority::low);  // from WEIR_CPU_PRIORITY
    EXPECT_EQ(o.cpu_threads, 0u);
    ServerOptions cpu =
        ServerOptions::parse({"--cpu-threads", "3", "--cpu-priority=normal"}, nullptr, env);
    EXPECT_EQ(cpu.cpu_threads, 3u);
    EXPECT_EQ(cpu.cpu_priority, weir::CpuPriority::normal);
    EXPECT_EQ(ServerOptions::parse({}, nullptr, [](const char*) -> const char* { return nullptr; })
                  .cpu_priority,
              weir::CpuPriority::background);
    EXPECT_THROW(ServerOptions::parse({"--cpu-priority", "idle"}, nullptr, env),
                 std::invalid_argument);

    ServerOptions::parse({"--help"}, &help, env);
    EXPECT_TRUE(help);
    EXPECT_THROW(ServerOptions::parse({"--nope"}, nullptr, env), std::invalid_argument);
    EXPECT_THROW(ServerOptions::parse({"--port", "70000"}, nullptr, env), std::invalid_argument);
    EXPECT_THROW(ServerOptions::parse({"--port"}, nullptr, env), std::invalid_argument);
    EXPECT_THROW(ServerOptions::parse({"--idle-timeout", "soon"}, nullptr, env),
                 std::invalid_argument);
    const std::string usage = ServerOptions::usage("hello");
    for (const char* flag : {"--host",
                             "--port",
                             "--threads",
                             "--max-connections",
                             "--max-body-bytes",
                             "--max-header-bytes",
                             "--max-header-count",
                             "--max-uri-length",
                             "--max-pipeline",
                             "--header-timeout",
                             "--idle-timeout",
                             "--drain-timeout",
                             "--request-timeout",
                             "--debug",
                             "--cpu-threads",
                             "--cpu-priority",
                             "--help",
                             "HOST",
                             "PORT",
                             "WEIR_THREADS"})
        EXPECT_NE(usage.find(flag), std::string::npos) << flag;
}
