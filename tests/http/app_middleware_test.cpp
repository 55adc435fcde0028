// Tests of the middleware chain and the built-in middleware (request id, access log, timing,
// CORS, errors), called through App::handler() and compose() without a network.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "app_test_util.hpp"
#include "weir/http/app.hpp"
#include "weir/http/json.hpp"
#include "weir/http/middleware.hpp"
#include "weir/testing/async_test.hpp"

namespace weir::http {
namespace app_middleware_test {

using testing::call;
using testing::CapturedLog;
using testing::header_of;

Task<Response> hello(Request&, Context&) { co_return Response::text("Hello, World!"); }

// A middleware that records when it runs.
Middleware recorder(std::vector<std::string>& events, std::string name) {
    return [&events, name](Request& req, Context& ctx, Next next) -> Task<Response> {
        events.push_back(name + " before");
        Response resp = co_await next(req, ctx);
        events.push_back(name + " after " + std::to_string(resp.status()));
        resp.header("X-Via", name);
        co_return resp;
    };
}

WEIR_TEST(Middleware, RunInOrderAroundTheHandler) {
    std::vector<std::string> events;
    App app;
    app.use(recorder(events, "outer"));
    app.use(recorder(events, "inner"));
    app.get("/x", [&events](Request&, Context&) -> Task<Response> {
        events.push_back("handler");
        co_return Response::text("ok");
    });
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    Response r = co_await call(h, ctx, "GET", "/x");
    EXPECT_EQ(r.body(), "ok");
    EXPECT_EQ(events, (std::vector<std::string>{"outer before", "inner before", "handler",
                                                "inner after 200", "outer after 200"}));
    CO_ASSERT_EQ(r.headers().size(), 2u);
    EXPECT_EQ(r.headers()[0].second, "inner");
    EXPECT_EQ(r.headers()[1].second, "outer");

    // Middleware see routing results as responses (404), with the route recorded.
    events.clear();
    r = co_await call(h, ctx, "GET", "/missing");
    EXPECT_EQ(r.status(), 404);
    EXPECT_EQ(events.back(), "outer after 404");
}

WEIR_TEST(Middleware, CanShortCircuitAndSeeHandlerErrorsAsResponses) {
    std::vector<std::string> events;
    CapturedLog log;
    AppOptions opts;
    opts.error_log = log.sink();
    App app(opts);
    app.use([](Request& req, Context& ctx, Next next) -> Task<Response> {
        if (req.header("Authorization") != "Bearer ok") co_return problem_response(401);
        co_return co_await next(req, ctx);
    });
    app.use(recorder(events, "log"));
    app.get("/secret", [](Request&, Context&) -> Task<Response> {
        throw std::runtime_error("handler bug");
        co_return Response();
    });
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    Response r = co_await call(h, ctx, "GET", "/secret");
    EXPECT_EQ(r.status(), 401);
    EXPECT_TRUE(events.empty());
    r = co_await call(h, ctx, "GET", "/secret", {}, "Authorization: Bearer ok\r\n");
    EXPECT_EQ(r.status(), 500);
    EXPECT_EQ(events, (std::vector<std::string>{"log before", "log after 500"}));
    EXPECT_EQ(log.lines().size(), 1u);
}

WEIR_TEST(Middleware, ExceptionsFromMiddlewareBecomeResponses) {
    CapturedLog log;
    AppOptions opts;
    opts.error_log = log.sink();
    App app(opts);
    std::vector<std::string> events;
    app.use(recorder(events, "outer"));
    app.use(middleware::errors({.debug = false, .log = log.sink()}));
    app.use([](Request& req, Context& ctx, Next next) -> Task<Response> {
        if (req.path() == "/bad") throw HttpError(403, "forbidden here");
        if (req.path() == "/worse") throw std::logic_error("middleware bug");
        co_return co_await next(req, ctx);
    });
    app.get("/bad", hello);
    app.get("/worse", hello);
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    Response r = co_await call(h, ctx, "GET", "/bad");
    EXPECT_EQ(r.status(), 403);
    r = co_await call(h, ctx, "GET", "/worse");
    EXPECT_EQ(r.status(), 500);
    // errors() turned them into responses before the outer middleware saw them.
    EXPECT_EQ(events, (std::vector<std::string>{"outer before", "outer after 403", "outer before",
                                                "outer after 500"}));
    EXPECT_EQ(log.lines().size(), 1u);

    // Without errors(), the App's outermost guard still answers.
    App bare(opts);
    bare.use([](Request&, Context&, Next) -> Task<Response> {
        throw std::runtime_error("x");
        co_return Response();
    });
    const Handler bh = bare.handler();
    r = co_await call(bh, ctx, "GET", "/anything");
    EXPECT_EQ(r.status(), 500);
}

WEIR_TEST(Middleware, ComposeWorksOnAnyHandler) {
    std::vector<std::string> events;
    const Handler h = compose({recorder(events, "a"), recorder(events, "b")}, hello);
    Resources res;
    Context ctx(res, 0);
    const Response r = co_await call(h, ctx, "GET", "/whatever");
    EXPECT_EQ(r.body(), "Hello, World!");
    EXPECT_EQ(events.size(), 4u);
    const Handler plain = compose({}, hello);
    EXPECT_EQ((co_await call(plain, ctx, "GET", "/")).body(), "Hello, World!");
}

WEIR_TEST(Middleware, RequestIdEchoedOrGenerated) {
    std::string seen;
    App app;
    app.use(middleware::request_id());
    app.get("/id", [&seen](Request&, Context& ctx) -> Task<Response> {
        seen = ctx.request_id();
        co_return Response::no_content();
    });
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);

    Response r = co_await call(h, ctx, "GET", "/id", {}, "X-Request-ID: abc-123\r\n");
    EXPECT_EQ(header_of(r, "X-Request-ID"), "abc-123");
    EXPECT_EQ(seen, "abc-123");

    r = co_await call(h, ctx, "GET", "/id");
    const auto generated = header_of(r, "X-Request-ID");
    CO_ASSERT_TRUE(generated.has_value());
    EXPECT_EQ(generated->size(), 32u);
    EXPECT_EQ(generated->find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(seen, *generated);
    r = co_await call(h, ctx, "GET", "/id");
    EXPECT_NE(header_of(r, "X-Request-ID"), generated);  // fresh per request

    // Malformed incoming ids are replaced.
    const std::string long_header = "X-Request-ID: " + std::string(200, 'a') + "\r\n";
    r = co_await call(h, ctx, "GET", "/id", {}, long_header);
    EXPECT_EQ(header_of(r, "X-Request-ID")->size(), 32u);
    r = co_await call(h, ctx, "GET", "/id", {}, "X-Request-ID: has space\r\n");
    EXPECT_EQ(header_of(r, "X-Request-ID")->size(), 32u);
}

WEIR_TEST(Middleware, AccessLogWritesOneJsonLinePerRequest) {
    CapturedLog log;
    App app;
    app.use(middleware::access_log({.sink = log.sink()}));
    app.use(middleware::request_id());
    app.get("/items/{id:int}", hello);
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 1);
    (void)co_await call(h, ctx, "GET", "/items/5?secret=1", {}, "X-Request-ID: rid-1\r\n");
    (void)co_await call(h, ctx, "POST", "/nowhere");
    const auto lines = log.lines();
    CO_ASSERT_EQ(lines.size(), 2u);
    const JsonDocument first = JsonDocument::parse(lines[0]);
    const JsonValue v = first.root();
    EXPECT_EQ(v.find("method")->get_string(), "GET");
    EXPECT_EQ(v.find("path")->get_string(), "/items/5");  // no query string
    EXPECT_EQ(v.find("route")->get_string(), "/items/{id:int}");
    EXPECT_EQ(v.find("status")->get_int64(), 200);
    EXPECT_EQ(v.find("request_id")->get_string(), "rid-1");
    EXPECT_EQ(v.find("shard")->get_int64(), 1);
    EXPECT_GE(*v.find("duration_ms")->get_double(), 0.0);
    EXPECT_EQ(v.find("ts")->get_string()->size(), 24u);  // 2024-01-02T03:04:05.678Z
    const JsonDocument second = JsonDocument::parse(lines[1]);
    EXPECT_EQ(second.root().find("status")->get_int64(), 404);
    EXPECT_EQ(second.root().find("route")->get_string(), "<unmatched>");
}

WEIR_TEST(Middleware, AccessLogRecordsCancelledRequests) {
    CapturedLog log;
    App app;
    app.use(middleware::access_log({.sink = log.sink()}));
    app.get("/gone", [](Request&, Context&) -> Task<Response> {
        throw Cancelled(CancelReason::peer_disconnected);
        co_return Response();
    });
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    bool cancelled = false;
    try {
        (void)co_await call(h, ctx, "GET", "/gone");
    } catch (const Cancelled&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    const auto lines = log.lines();
    CO_ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find(R"("status":499)"), std::string::npos) << lines[0];
}

WEIR_TEST(Middleware, TimingHeaders) {
    App app;
    app.use(middleware::timing({.server_timing = true, .response_time = true}));
    app.get("/t", hello);
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    const Response r = co_await call(h, ctx, "GET", "/t");
    const auto st = header_of(r, "Server-Timing");
    CO_ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->rfind("app;dur=", 0), 0u) << *st;
    const auto rt = header_of(r, "X-Response-Time");
    CO_ASSERT_TRUE(rt.has_value());
    EXPECT_EQ(rt->substr(rt->size() - 2), "ms");
}

App cors_app(middleware::CorsOptions options) {
    App app;
    app.use(middleware::cors(std::move(options)));
    app.get("/data", hello);
    app.post("/data", hello);
    return app;
}

WEIR_TEST(Cors, PreflightIsAnsweredByTheMiddleware) {
    App app = cors_app({.allow_origins = {"https://a.example"},
                        .allow_methods = {"GET", "POST"},
                        .allow_headers = {"Content-Type", "X-Token"},
                        .max_age = 300});
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    Response r = co_await call(h, ctx, "OPTIONS", "/data", {},
                               "Origin: https://a.example\r\n"
                               "Access-Control-Request-Method: POST\r\n"
                               "Access-Control-Request-Headers: content-type, x-token\r\n");
    EXPECT_EQ(r.status(), 204);
    EXPECT_EQ(header_of(r, "Access-Control-Allow-Origin"), "https://a.example");
    EXPECT_EQ(header_of(r, "Vary"), "Origin");
    EXPECT_EQ(header_of(r, "Access-Control-Allow-Methods"), "GET, POST");
    EXPECT_EQ(header_of(r, "Access-Control-Allow-Headers"), "Content-Type, X-Token");
    EXPECT_EQ(header_of(r, "Access-Control-Max-Age"), "300");

    r = co_await call(h, ctx, "OPTIONS", "/data", {},
                      "Origin: https://evil.example\r\nAccess-Control-Request-Method: POST\r\n");
    EXPECT_EQ(r.status(), 400);
    EXPECT_EQ(r.body(), "Disallowed CORS origin");
    EXPECT_FALSE(header_of(r, "Access-Control-Allow-Origin").has_value());

    r = co_await call(h, ctx, "OPTIONS", "/data", {},
                      "Origin: https://a.example\r\nAccess-Control-Request-Method: DELETE\r\n"
                      "Access-Control-Request-Headers: X-Other\r\n");
    EXPECT_EQ(r.status(), 400);
    EXPECT_EQ(r.body(), "Disallowed CORS method, headers");

    // A plain OPTIONS (no preflight headers) goes to the router: 405 here.
    r = co_await call(h, ctx, "OPTIONS", "/data", {}, "Origin: https://a.example\r\n");
    EXPECT_EQ(r.status(), 405);
}

WEIR_TEST(Cors, SimpleRequestsGetAllowOrigin) {
    App app = cors_app({.allow_origins = {"https://a.example"},
                        .expose_headers = {"X-Total"},
                        .allow_credentials = true});
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    Response r = co_await call(h, ctx, "GET", "/data", {}, "Origin: https://a.example\r\n");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(header_of(r, "Access-Control-Allow-Origin"), "https://a.example");
    EXPECT_EQ(header_of(r, "Access-Control-Allow-Credentials"), "true");
    EXPECT_EQ(header_of(r, "Access-Control-Expose-Headers"), "X-Total");

    r = co_await call(h, ctx, "GET", "/data", {}, "Origin: https://other.example\r\n");
    EXPECT_EQ(r.status(), 200);
    EXPECT_FALSE(header_of(r, "Access-Control-Allow-Origin").has_value());

    r = co_await call(h, ctx, "GET", "/data");  // same-origin / non-browser: untouched
    EXPECT_TRUE(r.headers().empty());
}

WEIR_TEST(Cors, WildcardOrigins) {
    App app = cors_app({.allow_headers = {"*"}});
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    Response r = co_await call(h, ctx, "GET", "/data", {}, "Origin: https://any.example\r\n");
    EXPECT_EQ(header_of(r, "Access-Control-Allow-Origin"), "*");
    EXPECT_FALSE(header_of(r, "Vary").has_value());
    r = co_await call(h, ctx, "OPTIONS", "/data", {},
                      "Origin: https://any.example\r\nAccess-Control-Request-Method: PATCH\r\n"
                      "Access-Control-Request-Headers: X-Anything\r\n");
    EXPECT_EQ(r.status(), 204);
    EXPECT_EQ(header_of(r, "Access-Control-Allow-Origin"), "*");
    EXPECT_EQ(header_of(r, "Access-Control-Allow-Headers"), "X-Anything");
}

}  // namespace app_middleware_test
}  // namespace weir::http
