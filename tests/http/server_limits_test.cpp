// The HTTP server's limits and strictness over loopback: every limit with its
// status, request smuggling vectors (400 and close), slowloris (408), idle
// keep-alive timeout, maximum connections and accept back-off on EMFILE.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <string>

#include <weir/core.hpp>
#include <weir/http/server.hpp>
#include <weir/testing/async_test.hpp>

#include "server_test_util.hpp"

using namespace std::chrono_literals;
using weir::Task;
using namespace weir::http;
using namespace weir::http::testing;

namespace {

Task<Response> ok_handler(Request& req, Context&) {
    co_return Response::text("ok " + std::to_string(req.body().size()));
}

// Sends `raw`, expects `status` and then the connection to be closed.
Task<void> expect_status_and_close(std::uint16_t port, std::string raw, int status,
                                   std::string what) {
    RawClient c = co_await RawClient::connect(port);
    co_await c.send(raw);
    auto r = co_await c.read_response();
    if (!r) {
        ADD_FAILURE() << what << ": no response";
        co_return;
    }
    EXPECT_EQ(r->status, status) << what << "\n" << r->body;
    EXPECT_TRUE(r->closes()) << what;
    EXPECT_EQ(r->header("content-type"), "application/problem+json") << what;
    {
        const bool closed = co_await c.closed_without_data();
        EXPECT_TRUE(closed) << what;
    }
}

}  // namespace

WEIR_TEST(ServerLimits, EachLimitAnswersWithItsStatus) {
    ServerOptions opt;
    opt.limits.max_head_bytes = 4096;
    opt.limits.max_header_count = 20;
    opt.limits.max_uri_length = 512;
    opt.max_body_bytes = 1000;
    auto body = [](ServerHandle& h) -> Task<void> {
        const auto port = h.port();
        // Header bytes -> 431.
        co_await expect_status_and_close(
            port, get("/", "X-Big: " + std::string(5000, 'a') + "\r\n"), 431, "head too large");
        // Header count -> 431.
        std::string many;
        for (int i = 0; i < 25; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
        co_await expect_status_and_close(port, get("/", many), 431, "too many headers");
        // URI length -> 414.
        co_await expect_status_and_close(port, get("/" + std::string(600, 'u')), 414,
                                         "uri too long");
        // Body (Content-Length) -> 413, answered without reading the body.
        co_await expect_status_and_close(
            port, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n", 413,
            "content-length too large");
        // Body (chunked) -> 413 once the decoded size passes the limit.
        std::string chunked = "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (int i = 0; i < 3; ++i) chunked += "190\r\n" + std::string(400, 'c') + "\r\n";
        chunked += "0\r\n\r\n";
        co_await expect_status_and_close(port, chunked, 413, "chunked too large");
        // At the limit is fine.
        auto fine = co_await request_once(
            port,
            "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'b'));
        EXPECT_EQ(fine.status, 200);
        EXPECT_EQ(fine.body, "ok 1000");
        // Unknown transfer coding -> 501, bad version -> 505, garbage -> 400.
        co_await expect_status_and_close(
            port, "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501,
            "unsupported coding");
        co_await expect_status_and_close(port, "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505, "version");
        co_await expect_status_and_close(port, "NOT HTTP AT ALL\r\n\r\n", 400, "garbage");
        co_await expect_status_and_close(port, "GET / HTTP/1.1\r\n\r\n", 400, "missing Host");
    };
    co_await with_server(ok_handler, opt, body);
}

WEIR_TEST(ServerLimits, SmugglingVectorsGet400AndClose) {
    auto body = [](ServerHandle& h) -> Task<void> {
        const auto port = h.port();
        const std::string post = "POST / HTTP/1.1\r\nHost: t\r\n";
        const std::pair<const char*, std::string> vectors[] = {
            {"CL+TE", post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
            {"TE+CL", post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"},
            {"CL CL", post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"},
            {"CL list", post + "Content-Length: 5, 5\r\n\r\nhello"},
            {"CL non-numeric", post + "Content-Length: 5x\r\n\r\nhello"},
            {"CL signed", post + "Content-Length: +5\r\n\r\nhello"},
            {"TE obfuscated", post + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"},
            {"TE space before colon", post + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n"},
            {"TE duplicate", post +
                                 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "0\r\n\r\n"},
            {"obs-fold", post + "X-A: 1\r\n  folded\r\nContent-Length: 0\r\n\r\n"},
            {"bare LF", "GET / HTTP/1.1\nHost: t\r\n\r\n"},
            {"bare CR", "GET / HTTP/1.1\r\nHost: t\rX: y\r\n\r\n"},
            {"TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
            {"bad chunk size", post + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"},
            {"chunk size too long",
             post + "Transfer-Encoding: chunked\r\n\r\n00000000000000001\r\nx\r\n0\r\n\r\n"},
            {"chunk size signed", post + "Transfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n"},
            {"chunk without CRLF",
             post + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n"},
            {"duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
        };
        for (const auto& [name, raw] : vectors)
            co_await expect_status_and_close(port, raw, 400, name);
    };
    co_await with_server(ok_handler, kDefaultOptions, body);
}

WEIR_TEST(ServerLimits, SlowlorisGets408AndClose) {
    ServerOptions opt;
    opt.header_timeout = 150ms;
    auto body = [](ServerHandle& h) -> Task<void> {
        RawClient c = co_await RawClient::connect(h.port());
        // Trickle a head that never completes.
        co_await c.send("GET / HTTP/1.1\r\n");
        co_await weir::sleep_for(60ms);
        co_await c.send("Host: t\r\n");
        auto r = co_await c.read_response();
        CO_ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 408);
        EXPECT_TRUE(r->closes());
        {
            const bool closed = co_await c.closed_without_data();
            EXPECT_TRUE(closed);
        }

        // A connection that never sends anything is closed silently.
        RawClient silent = co_await RawClient::connect(h.port());
        {
            const bool closed = co_await silent.closed_without_data();
            EXPECT_TRUE(closed);
        }

        // A body that stops arriving: 408 as well.
        RawClient slow_body = co_await RawClient::connect(h.port());
        co_await slow_body.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
        auto rb = co_await slow_body.read_response();
        CO_ASSERT_TRUE(rb.has_value());
        EXPECT_EQ(rb->status, 408);

        auto metrics = co_await request_once(h.port(), get("/metrics"));
        EXPECT_GE(metric_sum(metrics.body, "weir_http_header_timeouts_total"), 2);
    };
    co_await with_server(ok_handler, opt, body);
}

WEIR_TEST(ServerLimits, IdleKeepAliveConnectionIsClosedSilently) {
    ServerOptions opt;
    opt.idle_timeout = 100ms;
    auto body = [](ServerHandle& h) -> Task<void> {
        RawClient c = co_await RawClient::connect(h.port());
        co_await c.send(get("/"));
        auto r = co_await c.read_response();
        CO_ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 200);
        EXPECT_FALSE(r->closes());
        // Then nothing: the server closes without a word.
        {
            const bool closed = co_await c.closed_without_data();
            EXPECT_TRUE(closed);
        }
        auto metrics = co_await request_once(h.port(), get("/metrics"));
        EXPECT_GE(metric_sum(metrics.body, "weir_http_idle_timeouts_total"), 1);
    };
    co_await with_server(ok_handler, opt, body);
}

WEIR_TEST(ServerLimits, MaxConnectionsStopsAcceptingUntilOneCloses) {
    ServerOptions opt;
    opt.max_connections = 2;
    auto body = [](ServerHandle& h) -> Task<void> {
        RawClient a = co_await RawClient::connect(h.port());
        RawClient b = co_await RawClient::connect(h.port());
        co_await a.send(get("/a"));
        co_await b.send(get("/b"));
        {
            auto r_a = co_await a.read_response();
            EXPECT_EQ(r_a ? r_a->status : 0, 200);
        }
        {
            auto r_b = co_await b.read_response();
            EXPECT_EQ(r_b ? r_b->status : 0, 200);
        }
        // The third connection completes its handshake in the kernel's
        // backlog but is not served while two are open.
        RawClient c = co_await RawClient::connect(h.port());
        co_await c.send(get("/c"));
        bool answered = true;
        try {
            co_await c.read_response(false, 150ms);
        } catch (const weir::TimeoutError&) {
            answered = false;
        }
        EXPECT_FALSE(answered);
        // One closes: the third is accepted and answered.
        a.close();
        auto r = co_await c.read_response();
        CO_ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, "ok 0");
    };
    co_await with_server(ok_handler, opt, body);
}

namespace {

// The lowest free file descriptor number: every smaller one is in use.
int lowest_free_fd() {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ::close(fd);
    return fd;
}

}  // namespace

WEIR_TEST(ServerLimits, AcceptBacksOffOnEmfileAndRecovers) {
    auto body = [](ServerHandle& h) -> Task<void> {
        rlimit old{};
        ::getrlimit(RLIMIT_NOFILE, &old);
        struct Restore {
            rlimit r;
            ~Restore() { ::setrlimit(RLIMIT_NOFILE, &r); }
        } restore{old};
        // Room for exactly one client socket and its accepted peer, then one
        // more client socket whose peer cannot be accepted.
        RawClient a = co_await RawClient::connect(h.port());
        co_await a.send(get("/a"));
        {
            auto r_a = co_await a.read_response();
            EXPECT_EQ(r_a ? r_a->status : 0, 200);
        }
        rlimit low = old;
        low.rlim_cur = static_cast<rlim_t>(lowest_free_fd()) + 1;
        CO_ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
        RawClient b = co_await RawClient::connect(h.port());  // takes the last fd
        co_await b.send(get("/b"));
        bool answered = true;
        try {
            co_await b.read_response(false, 200ms);  // accept fails with EMFILE meanwhile
        } catch (const weir::TimeoutError&) {
            answered = false;
        }
        EXPECT_FALSE(answered);
        ::setrlimit(RLIMIT_NOFILE, &old);  // fds available again: the retry succeeds
        auto r = co_await b.read_response();
        CO_ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 200);
        auto metrics = co_await request_once(h.port(), get("/metrics"));
        EXPECT_GE(metric_sum(metrics.body, "weir_http_accept_errors_total"), 1);
    };
    co_await with_server(ok_handler, kDefaultOptions, body);
}

WEIR_TEST(ServerLimits, ClientThatStopsReadingIsDisconnected) {
    // A response far larger than the socket buffers, to a client that never
    // reads: the write stalls, and after idle_timeout without progress the
    // server closes the connection instead of holding it forever.
    auto handler = [](Request&, Context&) -> Task<Response> {
        co_return Response::text(std::string(64 * 1024 * 1024, 'z'));
    };
    ServerOptions opt;
    opt.idle_timeout = 200ms;
    auto body = [](ServerHandle& h) -> Task<void> {
        RawClient c = co_await RawClient::connect(h.port());
        co_await c.send(get("/big"));
        co_await weir::sleep_for(600ms);  // not reading meanwhile
        std::size_t received = 0;
        try {
            std::string all = co_await c.read_until_eof();
            received = all.size();
        } catch (const weir::SystemError&) {
            received = 0;  // reset: also fine, the server gave up
        }
        EXPECT_LT(received, 64u * 1024 * 1024);
        auto m = co_await request_once(h.port(), get("/metrics"));
        EXPECT_EQ(metric_sum(m.body, "weir_http_connections_open"), 1);  // only this one
    };
    co_await with_server(handler, opt, body);
}
