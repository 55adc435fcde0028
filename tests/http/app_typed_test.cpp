// Tests of typed-body routes: JSON bodies read into described structs, 422 validation errors
// in FastAPI's shape, described structs returned as JSON.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "app_test_util.hpp"
#include "weir/http/app.hpp"
#include "weir/http/json.hpp"
#include "weir/testing/async_test.hpp"

namespace weir::http {
namespace app_typed_test {

using testing::call;

struct Line {
    std::string sku;
    std::int32_t quantity = 0;
};
BOOST_DESCRIBE_STRUCT(Line, (), (sku, quantity))

struct Order {
    std::string customer;
    std::vector<Line> lines;
    std::optional<std::string> note;
    bool gift = false;
};
BOOST_DESCRIBE_STRUCT(Order, (), (customer, lines, note, gift))

void validate(const Line& line, Validator& v) {
    v.check(line.quantity > 0, "quantity", "Input should be greater than 0", "greater_than");
}

struct Receipt {
    std::int64_t order_id = 0;
    std::int32_t items = 0;
    std::string customer;
};
BOOST_DESCRIBE_STRUCT(Receipt, (), (order_id, items, customer))

struct OrderStore {
    std::int64_t next_id = 100;
    std::vector<Order> orders;
};

App order_app(int& calls) {
    App app;
    app.post<Order>("/orders",
                    [&calls](Order order, Context&, OrderStore& store) -> Task<Receipt> {
                        ++calls;
                        Receipt r;
                        r.order_id = store.next_id++;
                        for (const Line& l : order.lines) r.items += l.quantity;
                        r.customer = order.customer;
                        store.orders.push_back(std::move(order));
                        co_return r;
                    },
                    {.status_code = 201});
    app.put<Line>("/lines/{sku}", [](Request& req, const Line& line) -> Task<Response> {
        co_return Response::text(std::string(*req.path_param("sku")) + "=" +
                                 std::to_string(line.quantity));
    });
    app.patch<Line>("/strict", [](Line&&) {}, {.forbid_extra_fields = true});
    app.route<std::vector<Line>>(Method::Post, "/batch", [](std::vector<Line> lines) {
        return static_cast<std::int64_t>(lines.size());
    });
    return app;
}

WEIR_TEST(TypedRoutes, ValidBodyReachesTheHandler) {
    int calls = 0;
    App app = order_app(calls);
    const Handler h = app.handler();
    Resources res;
    OrderStore& store = res.emplace<OrderStore>();
    Context ctx(res, 0);
    const Response r = co_await call(
        h, ctx, "POST", "/orders",
        R"({"customer":"ann","lines":[{"sku":"a","quantity":2},{"sku":"b","quantity":3}],)"
        R"("gift":true})");
    EXPECT_EQ(r.status(), 201);
    EXPECT_EQ(r.content_type(), "application/json");
    EXPECT_EQ(r.body(), R"({"order_id":100,"items":5,"customer":"ann"})");
    EXPECT_EQ(calls, 1);
    CO_ASSERT_EQ(store.orders.size(), 1u);
    EXPECT_FALSE(store.orders[0].note.has_value());
    EXPECT_TRUE(store.orders[0].gift);
}

WEIR_TEST(TypedRoutes, InvalidBodiesAre422NamingTheField) {
    int calls = 0;
    App app = order_app(calls);
    const Handler h = app.handler();
    Resources res;
    res.emplace<OrderStore>();
    Context ctx(res, 0);

    struct Case {
        const char* body;
        const char* expected;  // a fragment of the 422 body
    };
    const std::vector<Case> cases = {
        {"", R"({"detail":[{"loc":["body"],"msg":"Field required","type":"missing"}]})"},
        {R"({"customer":"ann","lines":[)", R"("type":"json_invalid")"},
        {R"({"lines":[],"gift":true})",
         R"({"detail":[{"loc":["body","customer"],"msg":"Field required","type":"missing"}]})"},
        {R"({"customer":7,"lines":[],"gift":true})",
         R"({"loc":["body","customer"],"msg":"Input should be a valid string",)"
         R"("type":"string_type"})"},
        {R"({"customer":"a","lines":[{"sku":"x","quantity":"2"}],"gift":true})",
         R"({"loc":["body","lines",0,"quantity"],"msg":"Input should be a valid integer",)"
         R"("type":"int_type"})"},
        {R"({"customer":"a","lines":[{"sku":"x","quantity":0}],"gift":true})",
         R"({"loc":["body","lines",0,"quantity"],"msg":"Input should be greater than 0",)"
         R"("type":"greater_than"})"},
        {R"({"customer":"a","lines":[{"sku":"x","quantity":3000000000}],"gift":true})",
         R"({"loc":["body","lines",0,"quantity"],)"},
        {R"({"customer":"a","lines":{},"gift":true})",
         R"({"loc":["body","lines"],"msg":"Input should be a valid list","type":"list_type"})"},
        {R"({"customer":"a","lines":[],"gift":"yes"})",
         R"({"loc":["body","gift"],"msg":"Input should be a valid boolean","type":"bool_type"})"},
        {R"("just a string")",
         R"({"loc":["body"],"msg":"Input should be a valid object","type":"model_type"})"},
    };
    for (const Case& c : cases) {
        const Response r = co_await call(h, ctx, "POST", "/orders", c.body);
        EXPECT_EQ(r.status(), 422) << c.body;
        EXPECT_EQ(r.content_type(), "application/json");
        EXPECT_NE(r.body().find(c.expected), std::string::npos)
            << "body " << c.body << "\n got " << r.body();
        // The response is valid JSON of the documented shape.
        const JsonDocument doc = JsonDocument::parse(r.body());
        EXPECT_GE(doc.root().find("detail")->size(), 1u);
    }
    EXPECT_EQ(calls, 0);  // the handler never ran
}

WEIR_TEST(TypedRoutes, OtherShapes) {
    int calls = 0;
    App app = order_app(calls);
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    Response r = co_await call(h, ctx, "PUT", "/lines/a%20b", R"({"sku":"q","quantity":4})");
    EXPECT_EQ(r.body(), "a b=4");

    r = co_await call(h, ctx, "PATCH", "/strict", R"({"sku":"q","quantity":4})");
    EXPECT_EQ(r.status(), 204);
    r = co_await call(h, ctx, "PATCH", "/strict", R"({"sku":"q","quantity":4,"color":"red"})");
    EXPECT_EQ(r.status(), 422);
    EXPECT_NE(r.body().find(R"({"loc":["body","color"],"msg":"Extra inputs are not permitted",)"
                            R"("type":"extra_forbidden"})"),
              std::string::npos)
        << r.body();

    r = co_await call(h, ctx, "POST", "/batch",
                      R"([{"sku":"a","quantity":1},{"sku":"b","quantity":2}])");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.body(), "2");
    r = co_await call(h, ctx, "POST", "/batch", R"([{"sku":"a","quantity":1},{"sku":"b"}])");
    EXPECT_EQ(r.status(), 422);
    EXPECT_NE(r.body().find(R"(["body",1,"quantity"])"), std::string::npos) << r.body();
}

WEIR_TEST(TypedRoutes, HandlersMayThrowValidationErrors) {
    App app;
    app.post("/check", [](Request& req) -> Task<Response> {
        const Line line = parse_json<Line>(req.body());
        co_return Response::text(line.sku);
    });
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    Response r = co_await call(h, ctx, "POST", "/check", R"({"sku":"z","quantity":1})");
    EXPECT_EQ(r.body(), "z");
    r = co_await call(h, ctx, "POST", "/check", R"({"sku":"z"})");
    EXPECT_EQ(r.status(), 422);
    EXPECT_EQ(
        r.body(),
        R"({"detail":[{"loc":["body","quantity"],"msg":"Field required","type":"missing"}]})");
}

}  // namespace app_typed_test
}  // namespace weir::http
