// Tests of weir::http::App: routing through handler(), error mapping, dependency injection,
// lifespan hooks and per-route timeouts. Handlers are called directly (no network).
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "app_test_util.hpp"
#include "weir/core/cancelled.hpp"
#include "weir/core/errors.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/timeout.hpp"
#include "weir/http/app.hpp"
#include "weir/testing/async_test.hpp"

namespace weir::http {
namespace app_routing_test {

using namespace std::chrono_literals;
using testing::call;
using testing::CapturedLog;
using testing::header_of;

Task<Response> hello(Request&, Context&) { co_return Response::text("Hello, World!"); }

WEIR_TEST(AppRouting, StaticAndTypedRoutes) {
    App app;
    app.get("/plaintext", hello);
    app.get("/items/{id:int}", [](Request& req, Context& ctx) -> Task<Response> {
        co_return Response::text("item " + std::to_string(path_param_int(req, "id")) + " via " +
                                 std::string(ctx.route()));
    });
    app.get("/users/{name}/files/{rest:path}", [](Request& req, Context&) -> Task<Response> {
        co_return Response::text(std::string(*req.path_param("name")) + "|" +
                                 std::string(*req.path_param("rest")));
    });
    app.post("/echo", [](Request& req, Context&) -> Task<Response> {
        co_return Response::text(req.body());
    });
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);

    Response r = co_await call(h, ctx, "GET", "/plaintext");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.body(), "Hello, World!");
    EXPECT_EQ(r.content_type(), "text/plain");
    EXPECT_EQ(ctx.route(), "/plaintext");

    r = co_await call(h, ctx, "GET", "/items/-12");
    EXPECT_EQ(r.body(), "item -12 via /items/{id:int}");
    EXPECT_EQ(ctx.route(), "/items/{id:int}");

    r = co_await call(h, ctx, "GET", "/users/j%C3%B6rg/files/a/b%20c.txt?x=1");
    EXPECT_EQ(r.body(), "j\xc3\xb6rg|a/b c.txt");

    r = co_await call(h, ctx, "POST", "/echo", "payload");
    EXPECT_EQ(r.body(), "payload");
}

WEIR_TEST(AppRouting, NotFoundAndMethodNotAllowed) {
    App app;
    app.get("/x", hello);
    app.post("/x", hello);
    app.get("/items/{id:int}", hello);
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);

    Response r = co_await call(h, ctx, "GET", "/nope");
    EXPECT_EQ(r.status(), 404);
    EXPECT_EQ(r.content_type(), "application/problem+json");
    EXPECT_EQ(r.body(),
              R"({"type":"about:blank","title":"Not Found","status":404,"detail":"Not Found"})");
    EXPECT_EQ(ctx.route(), "<unmatched>");

    r = co_await call(h, ctx, "GET", "/items/99999999999999999999");  // int64 overflow
    EXPECT_EQ(r.status(), 404);
    r = co_await call(h, ctx, "GET", "/items/abc");
    EXPECT_EQ(r.status(), 404);

    r = co_await call(h, ctx, "DELETE", "/x");
    EXPECT_EQ(r.status(), 405);
    EXPECT_EQ(header_of(r, "Allow"), "GET, HEAD, POST");
    EXPECT_EQ(ctx.route(), "<unmatched>");
    r = co_await call(h, ctx, "PURGE", "/items/1");
    EXPECT_EQ(r.status(), 405);
    EXPECT_EQ(header_of(r, "Allow"), "GET, HEAD");
}

WEIR_TEST(AppRouting, HeadFallsBackToGet) {
    App app;
    app.get("/plaintext", hello);
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    const Response r = co_await call(h, ctx, "HEAD", "/plaintext");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.body(), "Hello, World!");  // the server sends the head only
    EXPECT_EQ(ctx.route(), "/plaintext");
}

WEIR_TEST(AppRouting, QueryParameters) {
    App app;
    app.get("/search", [](Request& req, Context&) -> Task<Response> {
        co_return Response::text(req.query("q").value_or("<none>") + "|" +
                                 std::to_string(req.query_params().size()));
    });
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    Response r = co_await call(h, ctx, "GET", "/search?q=a+b%21&page=2");
    EXPECT_EQ(r.body(), "a b!|2");
    r = co_await call(h, ctx, "GET", "/search");
    EXPECT_EQ(r.body(), "<none>|0");
    r = co_await call(h, ctx, "GET", "/search?q=%zz");  // UrlDecodeError -> 400
    EXPECT_EQ(r.status(), 400);
    EXPECT_EQ(r.content_type(), "application/problem+json");
}

WEIR_TEST(AppRouting, BadPercentEscapeInPathIs400) {
    App app;
    app.get("/users/{name}", hello);
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    const Response r = co_await call(h, ctx, "GET", "/users/%zz");
    EXPECT_EQ(r.status(), 400);
}

// ---------------------------------------------------------------------------------------------
// Error mapping
// ---------------------------------------------------------------------------------------------

struct NotAStdException {};

App error_app(CapturedLog& log, bool debug) {
    AppOptions opts;
    opts.debug = debug;
    opts.error_log = log.sink();
    App app(opts);
    app.get("/teapot", [](Request&, Context&) -> Task<Response> {
        throw HttpError(418, "short and stout");
        co_return Response();
    });
    app.get("/boom", [](Request&, Context&) -> Task<Response> {
        throw std::runtime_error("secret database password");
        co_return Response();
    });
    app.get("/odd", [](Request&, Context&) -> Task<Response> {
        throw NotAStdException{};
        co_return Response();
    });
    app.get("/timeout", [](Request&, Context&) -> Task<Response> {
        throw TimeoutError();
        co_return Response();
    });
    app.get("/sync-throw", [](Request&, Context&) -> Response {
        throw std::logic_error("thrown before any co_await");
    });
    return app;
}

WEIR_TEST(AppErrors, MapsExceptionsToProblemResponses) {
    CapturedLog log;
    App app = error_app(log, false);
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);

    Response r = co_await call(h, ctx, "GET", "/teapot");
    EXPECT_EQ(r.status(), 418);
    EXPECT_EQ(r.content_type(), "application/problem+json");
    EXPECT_NE(r.body().find(R"("status":418,"detail":"short and stout")"), std::string::npos)
        << r.body();

    r = co_await call(h, ctx, "GET", "/boom");
    EXPECT_EQ(r.status(), 500);
    EXPECT_EQ(r.body().find("secret"), std::string::npos) << r.body();  // no leak
    EXPECT_NE(r.body().find(R"("detail":"Internal Server Error")"), std::string::npos);

    r = co_await call(h, ctx, "GET", "/odd");
    EXPECT_EQ(r.status(), 500);
    r = co_await call(h, ctx, "GET", "/timeout");
    EXPECT_EQ(r.status(), 504);
    r = co_await call(h, ctx, "GET", "/sync-throw");
    EXPECT_EQ(r.status(), 500);

    // Unexpected errors are logged with the request, expected ones (HttpError, 504) are not.
    const std::vector<std::string> lines = log.lines();
    CO_ASSERT_EQ(lines.size(), 3u);
    EXPECT_NE(lines[0].find("GET /boom (route /boom)"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("std::runtime_error: secret database password"), std::string::npos);
    EXPECT_NE(lines[1].find("/odd"), std::string::npos);
    EXPECT_NE(lines[2].find("thrown before any co_await"), std::string::npos);
}

WEIR_TEST(AppErrors, DebugShowsTheExceptionText) {
    CapturedLog log;
    App app = error_app(log, true);
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    const Response r = co_await call(h, ctx, "GET", "/boom");
    EXPECT_EQ(r.status(), 500);
    EXPECT_NE(r.body().find("std::runtime_error: secret database password"), std::string::npos)
        << r.body();
}

WEIR_TEST(AppErrors, CancelledIsNotConverted) {
    App app;
    app.get("/cancel", [](Request&, Context&) -> Task<Response> {
        throw Cancelled(CancelReason::user);
        co_return Response();
    });
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    bool cancelled = false;
    try {
        (void)co_await call(h, ctx, "GET", "/cancel");
    } catch (const Cancelled&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
}

// ---------------------------------------------------------------------------------------------
// Handler shapes and dependency injection
// ---------------------------------------------------------------------------------------------

struct Counter {
    int hits = 0;
};
struct Greeting {
    std::string text;
};
struct Absent {};

struct Answer {
    int value = 0;
    std::string unit;
};
BOOST_DESCRIBE_STRUCT(Answer, (), (value, unit))

WEIR_TEST(AppHandlers, InjectsResourcesByType) {
    App app;
    app.get("/count", [](Request&, Context&, Counter& c, const Greeting& g) -> Task<Response> {
        ++c.hits;
        co_return Response::text(g.text + " " + std::to_string(c.hits));
    });
    // Any order, only what is needed.
    app.get("/reverse", [](Greeting& g, Context& ctx, Counter& c) -> Task<Response> {
        co_return Response::text(g.text + std::to_string(c.hits) + std::to_string(ctx.shard()));
    });
    const Handler h = app.handler();
    Resources res;
    res.emplace<Counter>();
    res.emplace<Greeting>(Greeting{"hi"});
    Context ctx(res, 3);
    Response r = co_await call(h, ctx, "GET", "/count");
    EXPECT_EQ(r.body(), "hi 1");
    r = co_await call(h, ctx, "GET", "/count");
    EXPECT_EQ(r.body(), "hi 2");
    EXPECT_EQ(res.get<Counter>().hits, 2);
    r = co_await call(h, ctx, "GET", "/reverse");
    EXPECT_EQ(r.body(), "hi23");
}

WEIR_TEST(AppHandlers, MissingResourceIsAClear500) {
    CapturedLog log;
    AppOptions opts;
    opts.error_log = log.sink();
    opts.debug = true;
    App app(opts);
    app.get("/needs", [](Request&, Context&, Absent&) -> Task<Response> {
        ADD_FAILURE() << "handler ran without its resource";
        co_return Response();
    });
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    const Response r = co_await call(h, ctx, "GET", "/needs");
    EXPECT_EQ(r.status(), 500);
    EXPECT_NE(r.body().find("no resource of type weir::http::app_routing_test::Absent"),
              std::string::npos)
        << r.body();
    const auto lines = log.lines();
    CO_ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("MissingResource"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("on_startup"), std::string::npos);
}

WEIR_TEST(AppHandlers, ReturnShapes) {
    App app;
    app.get("/struct", [](Request&) -> Task<Answer> { co_return Answer{42, "m"}; });
    app.post("/created",
             [](Context&) -> Task<Answer> {
                 co_return Answer{1, "x"};
             },
             {.status_code = 201});
    app.del("/void", [](Request&) -> Task<void> { co_return; });
    app.get("/sync", [](Request& req) { return Response::text(std::string(req.path())); });
    app.get("/sync-value", [] { return std::vector<int>{1, 2, 3}; });
    app.put("/sync-void", [](Context&) {});
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    Response r = co_await call(h, ctx, "GET", "/struct");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.content_type(), "application/json");
    EXPECT_EQ(r.body(), R"({"value":42,"unit":"m"})");
    r = co_await call(h, ctx, "POST", "/created");
    EXPECT_EQ(r.status(), 201);
    r = co_await call(h, ctx, "DELETE", "/void");
    EXPECT_EQ(r.status(), 204);
    EXPECT_TRUE(r.body().empty());
    r = co_await call(h, ctx, "GET", "/sync");
    EXPECT_EQ(r.body(), "/sync");
    r = co_await call(h, ctx, "GET", "/sync-value");
    EXPECT_EQ(r.body(), "[1,2,3]");
    r = co_await call(h, ctx, "PUT", "/sync-void");
    EXPECT_EQ(r.status(), 204);
}

TEST(AppHandlers, ConfigurationIsFrozenByHandler) {
    App app;
    app.get("/a", hello);
    EXPECT_THROW(app.get("/a", hello), std::logic_error);  // duplicate
    EXPECT_THROW(app.get("no-slash", hello), std::invalid_argument);
    const Handler h = app.handler();
    const Handler again = app.handler();  // idempotent
    EXPECT_THROW(app.get("/b", hello), std::logic_error);
    EXPECT_THROW(app.use(middleware::timing()), std::logic_error);
}

// ---------------------------------------------------------------------------------------------
// Lifespan
// ---------------------------------------------------------------------------------------------

struct Pool {
    std::vector<std::string>* events;
    explicit Pool(std::vector<std::string>* e) : events(e) {}
};

WEIR_TEST(AppLifespan, HooksRunInOrderAndFeedInjection) {
    std::vector<std::string> events;
    App app;
    app.on_startup([&events](Resources& res) -> Task<void> {
        events.push_back("start pool");
        res.emplace<Pool>(&events);
        co_return;
    });
    app.on_startup([&events](Resources& res) -> Task<void> {
        events.push_back("start counter");
        res.emplace<Counter>();
        co_await sleep_for(1ms);
    });
    app.on_shutdown([&events](Resources&) -> Task<void> {
        events.push_back("stop pool");
        co_return;
    });
    app.on_shutdown([&events](Resources& res) -> Task<void> {
        events.push_back("stop counter " + std::to_string(res.get<Counter>().hits));
        co_return;
    });
    app.get("/use", [](Pool& p, Counter& c) -> Task<Response> {
        p.events->push_back("request");
        ++c.hits;
        co_return Response::no_content();
    });
    const Lifespan life = app.lifespan();
    const Handler h = app.handler();
    Resources res;  // one shard's
    co_await life.startup(res);
    Context ctx(res, 0);
    const Response r = co_await call(h, ctx, "GET", "/use");
    EXPECT_EQ(r.status(), 204);
    co_await life.shutdown(res);
    EXPECT_EQ(events, (std::vector<std::string>{"start pool", "start counter", "request",
                                                "stop counter 1", "stop pool"}));
}

WEIR_TEST(AppLifespan, ShutdownRunsEveryHookAndReportsTheFirstError) {
    std::vector<std::string> events;
    App app;
    app.on_shutdown([&events](Resources&) -> Task<void> {
        events.push_back("first registered");
        co_return;
    });
    app.on_shutdown([&events](Resources&) -> Task<void> {
        events.push_back("failing");
        throw std::runtime_error("close failed");
        co_return;
    });
    const Lifespan life = app.lifespan();
    Resources res;
    co_await life.startup(res);  // no startup hooks: nothing to do
    bool threw = false;
    try {
        co_await life.shutdown(res);
    } catch (const std::runtime_error& e) {
        threw = std::string(e.what()) == "close failed";
    }
    EXPECT_TRUE(threw);
    EXPECT_EQ(events, (std::vector<std::string>{"failing", "first registered"}));
}

// ---------------------------------------------------------------------------------------------
// Deadlines
// ---------------------------------------------------------------------------------------------

WEIR_TEST(AppDeadlines, RouteTimeoutCancelsTheHandlerAndAnswers504) {
    int cancelled = 0;
    bool finished = false;
    App app;
    app.get("/slow",
            [&](Request&, Context&) -> Task<Response> {
                try {
                    co_await sleep_for(10s);
                } catch (const Cancelled& c) {
                    EXPECT_EQ(c.reason(), CancelReason::timeout);
                    ++cancelled;
                    throw;
                }
                finished = true;
                co_return Response::text("late");
            },
            {.timeout = 20ms});
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    const auto start = Clock::now();
    const Response r = co_await call(h, ctx, "GET", "/slow");
    EXPECT_LT(Clock::now() - start, 5s);  // only to catch a hang, not a timing assertion
    EXPECT_EQ(r.status(), 504);
    EXPECT_EQ(r.content_type(), "application/problem+json");
    EXPECT_NE(r.body().find(R"("title":"Gateway Timeout","status":504)"), std::string::npos)
        << r.body();
    EXPECT_EQ(cancelled, 1);
    EXPECT_FALSE(finished);
    EXPECT_EQ(ctx.route(), "/slow");
}

WEIR_TEST(AppDeadlines, DownstreamAwaitsInheritTheDeadline) {
    TimePoint seen = kNoDeadline;
    TimePoint seen_without = TimePoint::min();
    App app;
    app.get("/bounded",
            [&](Request&, Context&) -> Task<Response> {
                seen = current_deadline();
                co_return Response::no_content();
            },
            {.timeout = std::chrono::seconds(30)});
    app.get("/unbounded", [&](Request&, Context&) -> Task<Response> {
        seen_without = current_deadline();
        co_return Response::no_content();
    });
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    const TimePoint before = Clock::now();
    Response r = co_await call(h, ctx, "GET", "/bounded");
    EXPECT_EQ(r.status(), 204);
    EXPECT_NE(seen, kNoDeadline);
    EXPECT_GE(seen, before + std::chrono::seconds(30));
    EXPECT_LE(seen, Clock::now() + std::chrono::seconds(30));
    r = co_await call(h, ctx, "GET", "/unbounded");
    EXPECT_EQ(seen_without, kNoDeadline);
}

WEIR_TEST(AppDeadlines, FastHandlerUnderTimeoutIsUnaffected) {
    App app;
    app.get("/fast", hello, {.timeout = 5s});
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    const Response r = co_await call(h, ctx, "GET", "/fast");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.body(), "Hello, World!");
}

}  // namespace app_routing_test
}  // namespace weir::http
