// The HTTP server over loopback with raw sockets: keep-alive, pipelining,
// chunked bodies both ways, Expect: 100-continue, HEAD, HTTP/1.0, errors.
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

// Echoes method, path, query and body; honours a few test paths.
Task<Response> echo_handler(Request& req, Context& ctx) {
    ctx.set_route("/echo");
    std::string out(req.method_name());
    out += ' ';
    out += req.path();
    if (!req.raw_query().empty()) {
        out += '?';
        out += req.raw_query();
    }
    out += " body=";
    out += req.body();
    co_return Response::text(std::move(out));
}

Task<Response> stream_handler(Request&, Context&) {
    auto stream = [](BodyWriter& w) -> Task<void> {
        co_await w.write("alpha,");
        co_await w.write("");
        co_await w.write("beta,");
        co_await w.write("gamma");
    };
    co_return Response::streamed(stream, "text/plain");
}

}  // namespace

WEIR_TEST(ServerProtocol, KeepAliveServesManyRequestsOnOneConnection) {
    auto body = [](ServerHandle& h) -> Task<void> {
        RawClient c = co_await RawClient::connect(h.port());
        for (int i = 0; i < 5; ++i) {
            const std::string path = "/n/" + std::to_string(i);
            co_await c.send(get(path));
            auto r = co_await c.read_response();
            CO_ASSERT_TRUE(r.has_value());
            EXPECT_EQ(r->status, 200);
            EXPECT_EQ(r->body, "GET " + path + " body=");
            EXPECT_FALSE(r->closes());
            EXPECT_EQ(r->header("server"), "weir");
            EXPECT_EQ(r->header("content-type"), "text/plain");
            auto date = r->header("date");
            CO_ASSERT_TRUE(date.has_value());
            EXPECT_EQ(date->size(), 29u);
            EXPECT_EQ(date->substr(26), "GMT");
        }
    };
    co_await with_server(echo_handler, kDefaultOptions, body);
}

WEIR_TEST(ServerProtocol, PipelinedRequestsAreAnsweredInOrder) {
    auto body = [](ServerHandle& h) -> Task<void> {
        RawClient c = co_await RawClient::connect(h.port());
        // Three requests in one write, one with a body.
        co_await c.send(get("/first") +
                        "POST /second HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello" +
                        get("/third?x=1"));
        auto a = co_await c.read_response();
        auto b = co_await c.read_response();
        auto d = co_await c.read_response();
        CO_ASSERT_TRUE(a && b && d);
        EXPECT_EQ(a->body, "GET /first body=");
        EXPECT_EQ(b->body, "POST /second body=hello");
        EXPECT_EQ(d->body, "GET /third?x=1 body=");
        // A request split across writes after a pipelined batch still works.
        const std::string req = get("/fourth");
        co_await c.send(req.substr(0, 7));
        co_await weir::sleep_for(10ms);
        co_await c.send(req.substr(7));
        auto e = co_await c.read_response();
        CO_ASSERT_TRUE(e.has_value());
        EXPECT_EQ(e->body, "GET /fourth body=");
    };
    co_await with_server(echo_handler, kDefaultOptions, body);
}

WEIR_TEST(ServerProtocol, ManyPipelinedRequestsBeyondTheBatchLimit) {
    ServerOptions opt;
    opt.max_pipeline = 4;
    auto body = [](ServerHandle& h) -> Task<void> {
        RawClient c = co_await RawClient::connect(h.port());
        std::string all;
        for (int i = 0; i < 50; ++i) all += get("/p/" + std::to_string(i));
        co_await c.send(all);
        for (int i = 0; i < 50; ++i) {
            auto r = co_await c.read_response();
            CO_ASSERT_TRUE(r.has_value());
            EXPECT_EQ(r->body, "GET /p/" + std::to_string(i) + " body=");
        }
    };
    co_await with_server(echo_handler, opt, body);
}

WEIR_TEST(ServerProtocol, ChunkedRequestBodyArrivingInPieces) {
    auto body = [](ServerHandle& h) -> Task<void> {
        RawClient c = co_await RawClient::connect(h.port());
        co_await c.send(
            "POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
        co_await weir::sleep_for(5ms);
        co_await c.send("lo\r\n6;ext=1\r\n world\r\n");
        co_await weir::sleep_for(5ms);
        co_await c.send("0\r\nTrailer: x\r\n\r\n" + get("/after"));
        auto r = co_await c.read_response();
        CO_ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, "POST /up body=hello world");
        auto r2 = co_await c.read_response();
        CO_ASSERT_TRUE(r2.has_value());
        EXPECT_EQ(r2->body, "GET /after body=");
    };
    co_await with_server(echo_handler, kDefaultOptions, body);
}

WEIR_TEST(ServerProtocol, LargeChunkedAndContentLengthBodies) {
    auto body = [](ServerHandle& h) -> Task<void> {
        // 300 KiB chunked in 1000-byte chunks, sent in one go, then a
        // 200 KiB Content-Length body: both cross many reads.
        std::string payload;
        for (int i = 0; i < 300 * 1024; ++i) payload += static_cast<char>('a' + i % 26);
        std::string chunked = "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (std::size_t i = 0; i < payload.size(); i += 1000) {
            const std::string piece = payload.substr(i, 1000);
            char size[16];
            std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
            chunked += size + piece + "\r\n";
        }
        chunked += "0\r\n\r\n";
        RawClient c = co_await RawClient::connect(h.port());
        co_await c.send(chunked);
        auto r = co_await c.read_response();
        CO_ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body.size(), std::string("POST /c body=").size() + payload.size());
        EXPECT_TRUE(r->body == "POST /c body=" + payload);

        const std::string big = payload.substr(0, 200 * 1024);
        co_await c.send("PUT /l HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                        std::to_string(big.size()) + "\r\n\r\n" + big);
        auto r2 = co_await c.read_response();
        CO_ASSERT_TRUE(r2.has_value());
        EXPECT_TRUE(r2->body == "PUT /l body=" + big);
    };
    co_await with_server(echo_handler, kDefaultOptions, body);
}

WEIR_TEST(ServerProtocol, StreamedResponseIsChunked) {
    auto body = [](ServerHandle& h) -> Task<void> {
        RawClient c = co_await RawClient::connect(h.port());
        co_await c.send(get("/s") + get("/s"));
        for (int i = 0; i < 2; ++i) {
            auto r = co_await c.read_response();
            CO_ASSERT_TRUE(r.has_value());
            EXPECT_EQ(r->status, 200);
            EXPECT_TRUE(r->chunked);
            EXPECT_FALSE(r->header("content-length").has_value());
            EXPECT_EQ(r->body, "alpha,beta,gamma");
        }
        // HTTP/1.0 gets the raw body, delimited by closing the connection.
        RawClient c10 = co_await RawClient::connect(h.port());
        co_await c10.send("GET /s HTTP/1.0\r\n\r\n");
        auto r10 = co_await c10.read_response();
        CO_ASSERT_TRUE(r10.has_value());
        EXPECT_FALSE(r10->chunked);
        EXPECT_TRUE(r10->closes());
        EXPECT_EQ(r10->body, "alpha,beta,gamma");
        // HEAD: the head only.
        RawClient ch = co_await RawClient::connect(h.port());
        co_await ch.send("HEAD /s HTTP/1.1\r\nHost: t\r\n\r\n" + get("/s"));
        auto rh = co_await ch.read_response(true);
        CO_ASSERT_TRUE(rh.has_value());
        EXPECT_EQ(rh->header("transfer-encoding"), "chunked");
        auto rg = co_await ch.read_response();
        CO_ASSERT_TRUE(rg.has_value());
        EXPECT_EQ(rg->body, "alpha,beta,gamma");
    };
    co_await with_server(stream_handler, kDefaultOptions, body);
}

WEIR_TEST(ServerProtocol, ExpectContinue) {
    auto body = [](ServerHandle& h) -> Task<void> {
        RawClient c = co_await RawClient::connect(h.port());
        co_await c.send(
            "POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
        // The interim response comes before we send the body.
        auto interim = co_await c.read_response();
        CO_ASSERT_TRUE(interim.has_value());
        EXPECT_EQ(interim->status, 100);
        co_await c.send("data");
        auto r = co_await c.read_response();
        CO_ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, "POST /e body=data");

        // Chunked with Expect too.
        co_await c.send(
            "POST /e2 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
            "Expect: 100-continue\r\n\r\n");
        auto interim2 = co_await c.read_response();
        CO_ASSERT_TRUE(interim2.has_value());
        EXPECT_EQ(interim2->status, 100);
        co_await c.send("3\r\nabc\r\n0\r\n\r\n");
        auto r2 = co_await c.read_response();
        CO_ASSERT_TRUE(r2.has_value());
        EXPECT_EQ(r2->body, "POST /e2 body=abc");

        // Too large: 413 at once, no 100, and the connection closes.
        RawClient big = co_await RawClient::connect(h.port());
        co_await big.send(
            "POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999\r\n"
            "Expect: 100-continue\r\n\r\n");
        auto r3 = co_await big.read_response();
        CO_ASSERT_TRUE(r3.has_value());
        EXPECT_EQ(r3->status, 413);
        EXPECT_TRUE(r3->closes());
        {
            const bool closed = co_await big.closed_without_data();
            EXPECT_TRUE(closed);
        }
    };
    co_await with_server(echo_handler, kDefaultOptions, body);
}

WEIR_TEST(ServerProtocol, HeadSendsContentLengthButNoBody) {
    auto body = [](ServerHandle& h) -> Task<void> {
        RawClient c = co_await RawClient::connect(h.port());
        co_await c.send("HEAD /x HTTP/1.1\r\nHost: t\r\n\r\n" + get("/y"));
        auto r = co_await c.read_response(/*head_request=*/true);
        CO_ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 200);
        // The length of what GET would send ("HEAD /x body=" here).
        EXPECT_EQ(r->header("content-length"), std::to_string(std::string("HEAD /x body=").size()));
        EXPECT_TRUE(r->body.empty());
        // The next response follows immediately: no stray body bytes.
        auto r2 = co_await c.read_response();
        CO_ASSERT_TRUE(r2.has_value());
        EXPECT_EQ(r2->body, "GET /y body=");
    };
    co_await with_server(echo_handler, kDefaultOptions, body);
}

WEIR_TEST(ServerProtocol, Http10ClosesUnlessKeepAliveIsAsked) {
    auto body = [](ServerHandle& h) -> Task<void> {
        RawClient c = co_await RawClient::connect(h.port());
        co_await c.send("GET /old HTTP/1.0\r\n\r\n");
        auto r = co_await c.read_response();
        CO_ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->version, "HTTP/1.1");
        EXPECT_TRUE(r->closes());
        EXPECT_EQ(r->body, "GET /old body=");
        {
            const bool closed = co_await c.closed_without_data();
            EXPECT_TRUE(closed);
        }

        RawClient k = co_await RawClient::connect(h.port());
        co_await k.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        auto r1 = co_await k.read_response();
        CO_ASSERT_TRUE(r1.has_value());
        EXPECT_EQ(r1->header("connection"), "keep-alive");
        co_await k.send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        auto r2 = co_await k.read_response();
        CO_ASSERT_TRUE(r2.has_value());
        EXPECT_EQ(r2->body, "GET /b body=");

        // HTTP/1.1 with Connection: close.
        RawClient cl = co_await RawClient::connect(h.port());
        co_await cl.send(get("/c", "Connection: close\r\n"));
        auto r3 = co_await cl.read_response();
        CO_ASSERT_TRUE(r3.has_value());
        EXPECT_TRUE(r3->closes());
        {
            const bool closed = co_await cl.closed_without_data();
            EXPECT_TRUE(closed);
        }
    };
    co_await with_server(echo_handler, kDefaultOptions, body);
}

WEIR_TEST(ServerProtocol, HandlerErrorsBecomeProblemResponses) {
    auto handler = [](Request& req, Context&) -> Task<Response> {
        if (req.path() == "/http") throw HttpError(418, "short and stout");
        if (req.path() == "/boom") throw std::runtime_error("secret internals");
        if (req.path() == "/timeout") throw weir::TimeoutError();
        if (req.path() == "/query") {
            auto v = req.query("a");  // malformed escape -> UrlDecodeError -> 400
            co_return Response::text(v.value_or("-"));
        }
        if (req.path() == "/close") {
            Response r = Response::text("bye");
            r.set_close(true);
            co_return r;
        }
        if (req.path() == "/headers") {
            Response r = Response::json("{}", 201);
            r.header("X-One", "1").header("X-Bad", "a\r\nInjected: yes");
            co_return r;
        }
        if (req.path() == "/nocontent") co_return Response::no_content();
        co_return Response::text("fine");
    };
    auto body = [](ServerHandle& h) -> Task<void> {
        auto r = co_await request_once(h.port(), get("/http"));
        EXPECT_EQ(r.status, 418);
        EXPECT_EQ(r.header("content-type"), "application/problem+json");
        EXPECT_NE(r.body.find("\"detail\":\"short and stout\""), std::string::npos) << r.body;
        EXPECT_NE(r.body.find("\"status\":418"), std::string::npos);

        auto r500 = co_await request_once(h.port(), get("/boom"));
        EXPECT_EQ(r500.status, 500);
        EXPECT_EQ(r500.body.find("secret"), std::string::npos) << r500.body;

        auto r504 = co_await request_once(h.port(), get("/timeout"));
        EXPECT_EQ(r504.status, 504);

        auto r400 = co_await request_once(h.port(), get("/query?a=%zz"));
        EXPECT_EQ(r400.status, 400);
        auto ok = co_await request_once(h.port(), get("/query?a=x%20y"));
        EXPECT_EQ(ok.body, "x y");

        RawClient c = co_await RawClient::connect(h.port());
        co_await c.send(get("/close"));
        auto rc = co_await c.read_response();
        CO_ASSERT_TRUE(rc.has_value());
        EXPECT_TRUE(rc->closes());
        {
            const bool closed = co_await c.closed_without_data();
            EXPECT_TRUE(closed);
        }

        auto rh = co_await request_once(h.port(), get("/headers"));
        EXPECT_EQ(rh.status, 201);
        EXPECT_EQ(rh.header("x-one"), "1");
        EXPECT_FALSE(rh.header("x-bad").has_value());
        EXPECT_FALSE(rh.header("injected").has_value());

        auto r204 = co_await request_once(h.port(), get("/nocontent"));
        EXPECT_EQ(r204.status, 204);
        EXPECT_FALSE(r204.header("content-length").has_value());
    };
    co_await with_server(handler, kDefaultOptions, body);
}

WEIR_TEST(ServerProtocol, DebugModeShowsExceptionText) {
    auto handler = [](Request&, Context&) -> Task<Response> {
        throw std::runtime_error("visible internals");
        co_return Response::text("unreachable");
    };
    ServerOptions opt;
    opt.debug = true;
    auto body = [](ServerHandle& h) -> Task<void> {
        auto r = co_await request_once(h.port(), get("/"));
        EXPECT_EQ(r.status, 500);
        EXPECT_NE(r.body.find("visible internals"), std::string::npos) << r.body;
    };
    co_await with_server(handler, opt, body);
}

WEIR_TEST(ServerProtocol, RequestTimeoutGives504AndIsTheHandlersDeadline) {
    auto handler = [](Request& req, Context&) -> Task<Response> {
        if (req.path() == "/deadline") {
            // The deadline is visible to everything the handler calls.
            EXPECT_NE(weir::current_deadline(), weir::kNoDeadline);
            co_return Response::text("has deadline");
        }
        co_await weir::sleep_for(1h);
        co_return Response::text("too late");
    };
    ServerOptions opt;
    opt.request_timeout = 50ms;
    auto body = [](ServerHandle& h) -> Task<void> {
        RawClient c = co_await RawClient::connect(h.port());
        co_await c.send(get("/slow"));
        auto r = co_await c.read_response();
        CO_ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 504);
        // The connection stays usable.
        co_await c.send(get("/deadline"));
        auto r2 = co_await c.read_response();
        CO_ASSERT_TRUE(r2.has_value());
        EXPECT_EQ(r2->body, "has deadline");
    };
    co_await with_server(handler, opt, body);
}
