// http::Client against the scripted BadServer: requests, pooling, limits,
// timeouts, stale connections, cancellation, broken responses.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <weir/core.hpp>
#include <weir/http/client.hpp>
#include <weir/http/fan_out.hpp>
#include <weir/testing/async_test.hpp>

#include "bad_server.hpp"

namespace {

using namespace std::chrono_literals;
using weir::Task;
using weir::http::Client;
using weir::http::ClientOptions;
using weir::http::ClientRequest;
using weir::http::ClientResponse;
using weir::http::RequestOptions;
using weir::http::ResponseStream;
using weir::http::testing::BadServer;
using weir::http::testing::with_bad_server;

// Runs body(client, server) with a fresh client (closed afterwards) and server.
template <class F>
Task<void> with_client(const ClientOptions& o, F& f, int close_after = 0) {
    ClientOptions options = o;
    auto body = [&](BadServer& server) -> Task<void> {
        auto inner = [&](Client& client) -> Task<void> { co_await f(client, server); };
        Client client(std::move(options));
        co_await weir::with_resource(std::move(client), inner);
    };
    co_await with_bad_server(body, close_after);
}

const ClientOptions kDefaults{};

WEIR_TEST(HttpClient, GetPostAndHeaders) {
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        auto r = co_await c.get(s.url("/ok"));
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "ok");
        EXPECT_EQ(r.header("content-length"), "2");
        EXPECT_EQ(r.header("X-Missing"), std::nullopt);

        auto p = co_await c.post(s.url("/echo"), "payload");
        EXPECT_EQ(p.body, "payload");
        EXPECT_EQ(p.header("x-method"), "POST");

        RequestOptions ro;
        ro.query = {{"q", "a b&c"}, {"n", "1"}};
        ro.headers = {{"X-Custom", "yes"}};
        auto q = co_await c.get(s.url("/head-echo?x=1"), std::move(ro));
        EXPECT_NE(q.body.find("GET /head-echo?x=1&q=a%20b%26c&n=1 HTTP/1.1\r\n"), std::string::npos)
            << q.body;
        EXPECT_NE(q.body.find("X-Custom: yes\r\n"), std::string::npos);
        EXPECT_NE(q.body.find("Host: 127.0.0.1:" + std::to_string(s.port()) + "\r\n"),
                  std::string::npos);
        EXPECT_NE(q.body.find("User-Agent: weir-http-client"), std::string::npos);

        ClientRequest req;
        req.method = "PUT";
        req.url = s.url("/echo");
        req.set_json(R"({"a":1})");
        auto j = co_await c.request(std::move(req));
        EXPECT_EQ(j.body, R"({"a":1})");
        EXPECT_EQ(j.header("x-method"), "PUT");

        auto h = co_await c.head(s.url("/ok"));
        EXPECT_EQ(h.status, 200);
        EXPECT_EQ(h.body, "");
        auto n = co_await c.get(s.url("/status/204"));
        EXPECT_EQ(n.status, 204);
        auto nf = co_await c.get(s.url("/nothing"));
        EXPECT_EQ(nf.status, 404);
        EXPECT_THROW(nf.raise_for_status(), weir::http::HttpStatusError);

        // All of that over one keep-alive connection.
        EXPECT_EQ(s.accepted, 1);
        auto m = c.metrics();
        EXPECT_EQ(m.connects, 1u);
        EXPECT_EQ(m.reuses, 6u);
        EXPECT_EQ(m.idle, 1u);
        EXPECT_EQ(m.in_use, 0u);
        EXPECT_EQ(m.latency.count, 7u);
        CO_ASSERT_EQ(m.origins.size(), 1u);
        EXPECT_EQ(m.origins[0].statuses[200], 5u);
        EXPECT_EQ(m.origins[0].statuses[404], 1u);
    };
    co_await with_client(kDefaults, f);
}

// Response headers (ResponseHeaders) as the client hands them out: views stay valid across
// moves of the response and of a stream, also after the stream's body was read.
WEIR_TEST(HttpClient, ResponseHeadersOutliveMovesAndTheBody) {
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        auto p = co_await c.post(s.url("/echo"), "payload");
        const std::optional<std::string_view> method = p.headers.get("X-METHOD");
        CO_ASSERT_TRUE(method.has_value());
        EXPECT_EQ(*method, "POST");
        EXPECT_EQ(p.headers.get("content-length"), "7");
        std::size_t n = 0;
        bool saw_method = false;
        for (auto [name, value] : p.headers) {
            EXPECT_FALSE(name.empty());
            if (name == "X-Method") saw_method = value == "POST";
            ++n;
        }
        EXPECT_EQ(n, p.headers.size());
        EXPECT_TRUE(saw_method);
        ClientResponse moved = std::move(p);
        EXPECT_EQ(*method, "POST");
        EXPECT_EQ(moved.header("x-method")->data(), method->data());

        ClientRequest req;
        req.url = s.url("/big/100000");
        auto stream = co_await c.stream(std::move(req));
        const std::optional<std::string_view> coding = stream.header("Transfer-Encoding");
        CO_ASSERT_TRUE(coding.has_value());
        EXPECT_EQ(*coding, "chunked");
        ResponseStream other = std::move(stream);
        auto rest = co_await other.read_all();
        EXPECT_EQ(rest.size(), 100000u);
        EXPECT_TRUE(other.done());
        EXPECT_EQ(*coding, "chunked");
        EXPECT_EQ(other.headers().get("transfer-encoding")->data(), coding->data());
        EXPECT_TRUE(stream.headers().empty());  // the moved-from stream has none
    };
    co_await with_client(kDefaults, f);
}

WEIR_TEST(HttpClient, StreamedRequestBody) {
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        int left = 5;
        ClientRequest req;
        req.method = "POST";
        req.url = s.url("/echo");
        req.body_stream = [&left]() -> Task<std::optional<std::string>> {
            if (left == 0) co_return std::nullopt;
            --left;
            co_return std::string(1000, static_cast<char>('a' + left));
        };
        auto r = co_await c.request(std::move(req));
        EXPECT_EQ(r.body.size(), 5000u);
        EXPECT_EQ(r.body.substr(0, 3), "eee");
        // Large in-memory body (written with writev).
        auto big = co_await c.post(s.url("/echo"), std::string(3 << 20, 'z'));
        EXPECT_EQ(big.body.size(), 3u << 20);
    };
    co_await with_client(kDefaults, f);
}

WEIR_TEST(HttpClient, ReadToCloseAndConnectionClose) {
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        auto r = co_await c.get(s.url("/no-length"));
        EXPECT_EQ(r.body, "until the end");
        auto b = co_await c.get(s.url("/close"));
        EXPECT_EQ(b.body, "bye");
        auto o = co_await c.get(s.url("/ok"));
        EXPECT_EQ(o.body, "ok");
        EXPECT_EQ(s.accepted, 3);  // neither of the first two connections was reused
        EXPECT_EQ(c.metrics().idle, 1u);
    };
    co_await with_client(kDefaults, f);
}

WEIR_TEST(HttpClient, LargeStreamingBody) {
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        ClientRequest req;
        req.url = s.url("/big/20000000");
        auto stream = co_await c.stream(std::move(req));
        EXPECT_EQ(stream.status(), 200);
        std::uint64_t total = 0;
        std::size_t pieces = 0;
        for (;;) {
            auto piece = co_await stream.next();
            if (!piece) break;
            total += piece->size();
            ++pieces;
        }
        EXPECT_EQ(total, 20000000u);
        EXPECT_GT(pieces, 10u);
        EXPECT_TRUE(stream.done());
        // Fully read: the connection went back to the pool and is reused.
        EXPECT_EQ(c.metrics().idle, 1u);
        auto again = co_await c.get(s.url("/count"));
        EXPECT_EQ(again.body, "2");

        // Dropping an unfinished stream closes its connection.
        ClientRequest req2;
        req2.url = s.url("/big/5000000");
        {
            auto partial = co_await c.stream(std::move(req2));
            auto first = co_await partial.next();
            EXPECT_TRUE(first.has_value());
        }
        auto m = c.metrics();
        EXPECT_EQ(m.idle, 0u);
        EXPECT_EQ(m.in_use, 0u);
        auto fresh = co_await c.get(s.url("/count"));
        EXPECT_EQ(fresh.body, "1");

        // The buffered API enforces max_response_bytes.
        RequestOptions ro;
        ClientOptions small;
        (void)ro;
        (void)small;
    };
    co_await with_client(kDefaults, f);
}

WEIR_TEST(HttpClient, ResponseTooLarge) {
    ClientOptions o;
    o.max_response_bytes = 100000;
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        bool thrown = false;
        try {
            co_await c.get(s.url("/big/1000000"));
        } catch (const weir::http::ResponseTooLarge&) {
            thrown = true;
        }
        EXPECT_TRUE(thrown);
        EXPECT_EQ(c.metrics().idle, 0u);
        EXPECT_EQ(c.metrics().in_use, 0u);
    };
    co_await with_client(o, f);
}

template <class E, class F>
Task<bool> throws(F&& make) {
    try {
        co_await make();
    } catch (const E&) {
        co_return true;
    }
    co_return false;
}

WEIR_TEST(HttpClient, BrokenResponsesAreTypedErrorsAndNeverPooled) {
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        for (const char* path : {"/reset", "/truncated-chunk", "/short-body"}) {
            bool thrown = false;
            try {
                co_await c.get(s.url(path));
            } catch (const weir::http::RemoteProtocolError& e) {
                thrown = true;
            }
            EXPECT_TRUE(thrown) << path;
            auto m = c.metrics();
            EXPECT_EQ(m.idle, 0u) << path;
            EXPECT_EQ(m.in_use, 0u) << path;
        }
        // Wrong Content-Length (more bytes than announced): the answer is cut at the
        // announced length and the connection is not reused.
        auto r = co_await c.get(s.url("/long-body"));
        EXPECT_EQ(r.body, "ok");
        auto next = co_await c.get(s.url("/count"));
        EXPECT_EQ(next.body, "1");
        EXPECT_EQ(s.accepted, 5);
    };
    co_await with_client(kDefaults, f);
}

WEIR_TEST(HttpClient, StaleKeepAliveConnectionIsRetriedOnce) {
    // The server closes each connection after one response, without saying so.
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        for (int i = 0; i < 4; ++i) {
            auto r = co_await c.get(s.url("/count"));
            EXPECT_EQ(r.body, "1");
            co_await weir::sleep_for(20ms);  // let the close arrive (detected before reuse)
        }
        EXPECT_EQ(s.accepted, 4);
        // Without the pause the close may race with the reuse: the request is
        // then retried on a fresh connection; either way every request succeeds.
        for (int i = 0; i < 4; ++i) {
            auto r = co_await c.get(s.url("/count"));
            EXPECT_EQ(r.body, "1");
        }
        auto m = c.metrics();
        EXPECT_EQ(m.connects, 8u);
    };
    co_await with_client(kDefaults, f, /*close_after=*/1);
}

WEIR_TEST(HttpClient, IdleCloseSeenBeforeReuseWithoutPeekForGetsAndWithPeekForPosts) {
    // GETs trust the loop's readiness state (hang-up seen by the poller), POSTs also peek:
    // either way a connection the server closed while idle is never reused, so no request
    // fails and none needs the stale-connection retry.
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        for (int i = 0; i < 3; ++i) {
            auto r = co_await c.get(s.url("/count"));
            EXPECT_EQ(r.body, "1");
            co_await weir::sleep_for(20ms);
        }
        for (int i = 0; i < 3; ++i) {
            auto r = co_await c.post(s.url("/echo"), "x");
            EXPECT_EQ(r.status, 200);
            co_await weir::sleep_for(20ms);
        }
        auto m = c.metrics();
        EXPECT_EQ(m.connects, 6u);
        EXPECT_EQ(m.stale_retries, 0u);
        EXPECT_EQ(s.accepted, 6);
    };
    co_await with_client(kDefaults, f, /*close_after=*/1);
}

WEIR_TEST(HttpClient, StaleRetryAfterRaceOnReusedConnection) {
    // Force the race: the server closes after one response, the client's idle
    // check is bypassed by a request that is sent at once.
    ClientOptions o;
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        int ok = 0;
        for (int i = 0; i < 20; ++i) {
            auto r = co_await c.get(s.url("/ok"));
            ok += r.status == 200;
        }
        EXPECT_EQ(ok, 20);
        auto m = c.metrics();
        EXPECT_EQ(m.connects, 20u);
        EXPECT_EQ(m.connects, static_cast<std::uint64_t>(s.accepted));
        // A POST is not idempotent: never repeated silently.
        int posts_ok = 0, posts_failed = 0;
        for (int i = 0; i < 20; ++i) {
            try {
                auto r = co_await c.post(s.url("/echo"), "x");
                posts_ok += r.status == 200;
            } catch (const weir::http::RemoteProtocolError&) {
                ++posts_failed;
            }
        }
        EXPECT_EQ(posts_ok + posts_failed, 20);
    };
    co_await with_client(o, f, 1);
}

WEIR_TEST(HttpClient, PoolLimitsAndFifoWaiters) {
    ClientOptions o;
    o.max_connections_per_origin = 2;
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        std::vector<int> order;
        auto body = [&](weir::TaskGroup& g) -> Task<void> {
            // No captures: a child task must not refer to a closure that dies first.
            auto one = [](Client& c, BadServer& s, std::vector<int>& order, int i) -> Task<void> {
                auto r = co_await c.get(s.url("/slow-head/30"));
                EXPECT_EQ(r.status, 200);
                order.push_back(i);
            };
            for (int i = 0; i < 10; ++i) g.spawn(one(c, s, order, i));
            co_await weir::sleep_for(10ms);
            auto m = c.metrics();
            EXPECT_EQ(m.in_use, 2u);
            EXPECT_EQ(m.waiters, 8u);
        };
        co_await weir::task_group(body);
        EXPECT_EQ(s.accepted, 2);
        EXPECT_EQ(order.size(), 10u);
        // FIFO: the waiters were served in the order they queued.
        std::vector<int> waiters(order.begin() + 2, order.end());
        EXPECT_TRUE(std::is_sorted(waiters.begin(), waiters.end()));
        auto m = c.metrics();
        EXPECT_EQ(m.connects, 2u);
        EXPECT_EQ(m.reuses, 8u);
        EXPECT_EQ(m.waiters, 0u);
    };
    co_await with_client(o, f);
}

WEIR_TEST(HttpClient, PoolTimeout) {
    ClientOptions o;
    o.max_connections_per_origin = 1;
    o.pool_timeout = 100ms;
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        ClientRequest req;
        req.url = s.url("/slow-body/3000");
        auto held = co_await c.stream(std::move(req));  // holds the only connection
        bool timed_out = false;
        try {
            co_await c.get(s.url("/ok"));
        } catch (const weir::http::PoolTimeout&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_EQ(c.metrics().pool_timeouts, 1u);
        EXPECT_EQ(c.metrics().waiters, 0u);
        held.close();
        auto r = co_await c.get(s.url("/ok"));
        EXPECT_EQ(r.status, 200);
    };
    co_await with_client(o, f);
}

WEIR_TEST(HttpClient, TotalConnectionLimitEvictsIdleOfOtherOrigins) {
    ClientOptions o;
    o.max_connections = 1;
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        // Same server under two origins (127.0.0.1 and localhost).
        auto a = co_await c.get(s.url("/ok"));
        auto b = co_await c.get("http://localhost:" + std::to_string(s.port()) + "/ok");
        EXPECT_EQ(a.status, 200);
        EXPECT_EQ(b.status, 200);
        auto m = c.metrics();
        EXPECT_EQ(m.idle + m.in_use, 1u);
        EXPECT_EQ(m.connects, 2u);
    };
    co_await with_client(o, f);
}

WEIR_TEST(HttpClient, IdleExpiryAndMaxIdle) {
    ClientOptions o;
    o.idle_timeout = 50ms;
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        co_await c.get(s.url("/ok"));
        co_await weir::sleep_for(150ms);
        co_await c.get(s.url("/ok"));
        EXPECT_EQ(s.accepted, 2);
    };
    co_await with_client(o, f);

    ClientOptions none;
    none.max_idle_per_origin = 0;
    auto g = [](Client& c, BadServer& s) -> Task<void> {
        co_await c.get(s.url("/ok"));
        co_await c.get(s.url("/ok"));
        EXPECT_EQ(s.accepted, 2);
        EXPECT_EQ(c.metrics().idle, 0u);
    };
    co_await with_client(none, g);
}

WEIR_TEST(HttpClient, ReadTimeouts) {
    ClientOptions o;
    o.read_timeout = 200ms;
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        bool head_timeout = false;
        try {
            co_await c.get(s.url("/slow-head/5000"));
        } catch (const weir::http::ReadTimeout&) {
            head_timeout = true;
        }
        EXPECT_TRUE(head_timeout);
        bool body_timeout = false;
        try {
            co_await c.get(s.url("/slow-body/5000"));
        } catch (const weir::http::ReadTimeout&) {
            body_timeout = true;
        }
        EXPECT_TRUE(body_timeout);
        auto m = c.metrics();
        EXPECT_EQ(m.read_timeouts, 2u);
        EXPECT_EQ(m.idle + m.in_use, 0u);
        // Slow but within the per-read timeout.
        auto r = co_await c.get(s.url("/slow-body/20"));
        EXPECT_EQ(r.body, "0123456789");
    };
    co_await with_client(o, f);
}

WEIR_TEST(HttpClient, TotalAndInheritedDeadline) {
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        RequestOptions ro;
        ro.timeout = 150ms;
        bool total = false;
        try {
            co_await c.get(s.url("/slow-head/5000"), std::move(ro));
        } catch (const weir::http::RequestTimeout&) {
            total = true;
        }
        EXPECT_TRUE(total);
        // The caller's deadline: the runtime's TimeoutError, not a client one.
        bool inherited = false;
        try {
            co_await weir::with_timeout(150ms, c.get(s.url("/slow-head/5000")));
        } catch (const weir::http::ReadTimeout&) {
        } catch (const weir::TimeoutError&) {
            inherited = true;
        }
        EXPECT_TRUE(inherited);
        EXPECT_EQ(c.metrics().idle + c.metrics().in_use, 0u);
    };
    co_await with_client(kDefaults, f);
}

// The body's read timeout is armed only when a read is needed (a body that came with the head
// needs none); the caller's deadline still stops a body that stalls, as itself, not as a
// ReadTimeout, and the connection is not reused.
WEIR_TEST(HttpClient, InheritedDeadlineStopsAStalledBody) {
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        bool inherited = false;
        try {
            co_await weir::with_timeout(150ms, c.get(s.url("/slow-body/5000")));
        } catch (const weir::http::ReadTimeout&) {
        } catch (const weir::TimeoutError&) {
            inherited = true;
        }
        EXPECT_TRUE(inherited);
        EXPECT_EQ(c.metrics().read_timeouts, 0u);
        EXPECT_EQ(c.metrics().idle + c.metrics().in_use, 0u);
        auto r = co_await c.get(s.url("/ok"));
        EXPECT_EQ(r.body, "ok");
    };
    co_await with_client(kDefaults, f);
}

WEIR_TEST(HttpClient, WriteTimeout) {
    ClientOptions o;
    o.write_timeout = 200ms;
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        bool timed_out = false;
        try {
            co_await c.post(s.url("/no-read"), std::string(64 << 20, 'w'));
        } catch (const weir::http::WriteTimeout&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_EQ(c.metrics().write_timeouts, 1u);
    };
    co_await with_client(o, f);
}

WEIR_TEST(HttpClient, ConnectTimeoutAndConnectError) {
    // A listener whose accept queue is full drops further SYNs: connect hangs.
    int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(lfd, 0);
    ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
    const int port = ntohs(a.sin_port);
    std::vector<int> fillers;
    for (int i = 0; i < 4; ++i) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        fillers.push_back(fd);
    }
    co_await weir::sleep_for(50ms);
    ClientOptions o;
    o.connect_timeout = 200ms;
    Client c(o);
    bool timed_out = false;
    try {
        co_await c.get("http://127.0.0.1:" + std::to_string(port) + "/");
    } catch (const weir::http::ConnectTimeout&) {
        timed_out = true;
    } catch (const std::exception& e) {
        ADD_FAILURE() << "unexpected: " << e.what();
    }
    EXPECT_TRUE(timed_out);
    for (int fd : fillers) ::close(fd);
    ::close(lfd);
    // Nothing listens on that port any more: connection refused.
    bool refused = false;
    try {
        co_await c.get("http://127.0.0.1:" + std::to_string(port) + "/");
    } catch (const weir::http::ConnectError& e) {
        refused = e.error_number() == ECONNREFUSED;
    }
    EXPECT_TRUE(refused);
    bool bad_url = false;
    try {
        co_await c.get("ftp://x/");
    } catch (const weir::http::InvalidUrl&) {
        bad_url = true;
    }
    EXPECT_TRUE(bad_url);
    auto m = c.metrics();
    EXPECT_EQ(m.in_use + m.idle, 0u);
    co_await c.close();
}

WEIR_TEST(HttpClient, CancellationMidRequestLeavesPoolClean) {
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        for (const char* path : {"/slow-head/3000", "/slow-body/3000"}) {
            auto body = [&](weir::TaskGroup& g) -> Task<void> {
                auto req = [](Client& c, std::string url) -> Task<void> { co_await c.get(url); };
                g.spawn(req(c, s.url(path)));
                co_await weir::sleep_for(100ms);
                EXPECT_EQ(c.metrics().in_use, 1u);
                g.cancel();
            };
            co_await weir::task_group(body);
            auto m = c.metrics();
            EXPECT_EQ(m.in_use, 0u) << path;
            EXPECT_EQ(m.idle, 0u) << path;  // half-read: closed, not pooled
        }
        auto r = co_await c.get(s.url("/count"));
        EXPECT_EQ(r.body, "1");  // a fresh connection
        EXPECT_EQ(s.accepted, 3);
    };
    co_await with_client(kDefaults, f);
}

WEIR_TEST(HttpClient, Redirects) {
    ClientOptions o;
    o.follow_redirects = true;
    o.max_redirects = 3;
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        auto r = co_await c.get(s.url("/redirect/3"));
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "done");
        EXPECT_EQ(r.url, s.url("/redirect/0"));
        bool too_many = false;
        try {
            co_await c.get(s.url("/redirect/4"));
        } catch (const weir::http::TooManyRedirects&) {
            too_many = true;
        }
        EXPECT_TRUE(too_many);
        // 303 turns a POST into a GET without body.
        auto p = co_await c.post(s.url("/see-other"), "data");
        EXPECT_EQ(p.header("x-method"), "GET");
        EXPECT_EQ(p.body, "");
        // Opt-out per request.
        RequestOptions ro;
        ro.follow_redirects = false;
        auto n = co_await c.get(s.url("/redirect/1"), std::move(ro));
        EXPECT_EQ(n.status, 302);
        EXPECT_EQ(s.accepted, 1);
        // A Location that cannot go into a request line is refused, not sent.
        const int before = s.requests;
        bool refused = false;
        try {
            co_await c.get(s.url("/bad-location"));
        } catch (const weir::http::InvalidUrl&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
        EXPECT_EQ(s.requests, before + 1);  // the redirect itself only
    };
    co_await with_client(o, f);
}

WEIR_TEST(HttpClient, RetriesWithBackoffForIdempotentRequests) {
    ClientOptions o;
    o.retry.max_retries = 2;
    o.retry.initial_backoff = 5ms;
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        auto r = co_await c.get(s.url("/status/503"));
        EXPECT_EQ(r.status, 503);
        EXPECT_EQ(s.requests, 3);  // first try + 2 retries
        EXPECT_EQ(c.metrics().retries, 2u);
        auto p = co_await c.post(s.url("/status/503"), "");
        EXPECT_EQ(p.status, 503);
        EXPECT_EQ(s.requests, 4);  // POST: not retried
        bool failed = false;
        try {
            co_await c.get(s.url("/reset"));
        } catch (const weir::http::RemoteProtocolError&) {
            failed = true;
        }
        EXPECT_TRUE(failed);
        EXPECT_EQ(s.requests, 7);
    };
    co_await with_client(o, f);
}

WEIR_TEST(HttpClient, CircuitBreaker) {
    ClientOptions o;
    o.circuit_breaker.enabled = true;
    o.circuit_breaker.failure_threshold = 3;
    o.circuit_breaker.cool_down = 200ms;
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        for (int i = 0; i < 3; ++i) {
            auto r = co_await c.get(s.url("/status/500"));
            EXPECT_EQ(r.status, 500);
        }
        bool open = false;
        try {
            co_await c.get(s.url("/ok"));
        } catch (const weir::http::CircuitOpen&) {
            open = true;
        }
        EXPECT_TRUE(open);
        EXPECT_EQ(s.requests, 3);
        EXPECT_TRUE(c.metrics().origins.at(0).circuit_open);
        co_await weir::sleep_for(300ms);
        auto probe = co_await c.get(s.url("/ok"));  // the probe closes it
        EXPECT_EQ(probe.status, 200);
        auto after = co_await c.get(s.url("/ok"));
        EXPECT_EQ(after.status, 200);
        EXPECT_EQ(c.metrics().circuit_rejections, 1u);
    };
    co_await with_client(o, f);
}

WEIR_TEST(HttpClient, BoundedFanOut) {
    ClientOptions o;
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        std::vector<std::string> urls;
        for (int i = 0; i < 40; ++i) urls.push_back(s.url(i % 10 == 9 ? "/reset" : "/slow-head/5"));
        std::size_t peak = 0;
        auto fetch = [&](const std::string& url) -> Task<weir::http::ClientResponse> {
            peak = std::max(peak, c.metrics().in_use + 1);
            co_return co_await c.get(url);
        };
        auto results = co_await weir::http::map_bounded(urls, 5, fetch);
        CO_ASSERT_EQ(results.size(), 40u);
        int ok = 0, failed = 0;
        for (auto& r : results) {
            if (r.ok()) {
                ++ok;
                EXPECT_EQ(r.get().status, 200);
            } else {
                ++failed;
                EXPECT_FALSE(r.what().empty());
            }
        }
        EXPECT_EQ(ok, 36);
        EXPECT_EQ(failed, 4);
        EXPECT_LE(peak, 5u);
        EXPECT_LE(c.metrics().connects, 9u);
    };
    co_await with_client(o, f);
}

WEIR_TEST(HttpClient, Ipv6AndMaxRequestsPerConnection) {
    ClientOptions o;
    o.max_requests_per_connection = 2;
    auto f = [](Client& c, BadServer& s) -> Task<void> {
        for (int i = 0; i < 4; ++i) {
            auto r = co_await c.get(s.url("/head-echo"));
            EXPECT_EQ(r.status, 200);
            EXPECT_NE(r.body.find("Host: [::1]:"), std::string::npos);
        }
        EXPECT_EQ(s.accepted, 2);
    };
    ClientOptions options = o;
    auto body = [&](BadServer& server) -> Task<void> {
        auto inner = [&](Client& client) -> Task<void> { co_await f(client, server); };
        Client client(std::move(options));
        co_await weir::with_resource(std::move(client), inner);
    };
    co_await with_bad_server(body, 0, "::1");
}

WEIR_TEST(HttpClient, ClosedClientRejectsRequests) {
    Client c;
    co_await c.close();
    bool closed = false;
    try {
        co_await c.get("http://127.0.0.1:1/");
    } catch (const weir::http::ClientClosed&) {
        closed = true;
    }
    EXPECT_TRUE(closed);
}

}  // namespace
