// Tests of typed query and path parameters (Query<T>, Path<T>): conversion, 422 errors in
// FastAPI's shape, repeated keys, enums, and their OpenAPI parameter objects.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "app_test_util.hpp"
#include "weir/http/app.hpp"
#include "weir/http/params.hpp"
#include "weir/testing/async_test.hpp"

namespace weir::http {
namespace app_params_test {

using testing::call;

enum class Sort { name, price };
BOOST_DESCRIBE_ENUM(Sort, name, price)

struct Search {
    std::string q;
    std::optional<std::int32_t> limit;
    std::optional<bool> exact;
    std::optional<Sort> sort;
    std::vector<std::string> tag;
    std::optional<double> min_price;
};
BOOST_DESCRIBE_STRUCT(Search, (), (q, limit, exact, sort, tag, min_price))

struct ItemPath {
    std::int64_t id = 0;
    std::string section;
};
BOOST_DESCRIBE_STRUCT(ItemPath, (), (id, section))

struct Counter {
    int calls = 0;
};

App params_app();

// The app, its handler and a shard's Resources/Context, as the server would set them up.
struct ParamsFixture {
    App app = params_app();
    Handler h = app.handler();
    Resources res;
    Counter& counter = res.emplace<Counter>();
    Context ctx{res, 0};
};

App params_app() {
    App app;
    app.get("/search", [](Query<Search> s, Counter& c) -> Task<Response> {
        ++c.calls;
        std::string out = s->q + "|" + std::to_string(s->limit.value_or(10)) + "|" +
                          (s->exact ? (*s->exact ? "exact" : "fuzzy") : "-") + "|" +
                          (s->sort ? (*s->sort == Sort::price ? "price" : "name") : "-") + "|";
        for (const std::string& t : s->tag) out += t + ",";
        out += "|" + (s->min_price ? std::to_string(*s->min_price) : std::string("-"));
        co_return Response::text(out);
    });
    app.get("/sections/{section}/items/{id:int}", [](const Path<ItemPath>& p, Counter& c) {
        ++c.calls;
        return p->section + "#" + std::to_string(p->id);
    });
    return app;
}

WEIR_TEST(TypedParams, QueryModelIsConvertedAndDecoded) {
    ParamsFixture f;
    auto& [app, h, res, counter, ctx] = f;
    Response r = co_await call(h, ctx, "GET",
                               "/search?q=red%20shoe&limit=5&exact=TRUE&sort=price&tag=a&tag=b%26c"
                               "&min_price=2.5&unknown=1");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.body(), "red shoe|5|exact|price|a,b&c,|2.500000");
    r = co_await call(h, ctx, "GET", "/search?q=x");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.body(), "x|10|-|-||-");
    r = co_await call(h, ctx, "GET", "/search?q=&limit=%2B7&exact=off");
    EXPECT_EQ(r.body(), "|7|fuzzy|-||-");
    EXPECT_EQ(counter.calls, 3);
}

WEIR_TEST(TypedParams, BadQueryParametersAre422NamingEachOne) {
    ParamsFixture f;
    auto& [app, h, res, counter, ctx] = f;

    struct Case {
        const char* target;
        const char* expected;  // a fragment of the 422 body
    };
    const std::vector<Case> cases = {
        {"/search",
         R"({"detail":[{"loc":["query","q"],"msg":"Field required","type":"missing"}]})"},
        {"/search?q=a&limit=ten",
         R"({"loc":["query","limit"],"msg":"Input should be a valid integer, unable to parse )"
         R"(string as an integer","type":"int_parsing"})"},
        {"/search?q=a&limit=3000000000", R"({"loc":["query","limit"],)"
                                         R"("msg":"Input is out of range for the integer type",)"
                                         R"("type":"int_range"})"},
        {"/search?q=a&limit=", R"("type":"int_parsing")"},
        {"/search?q=a&limit=1.5", R"("type":"int_parsing")"},
        {"/search?q=a&exact=maybe", R"({"loc":["query","exact"],)"},
        {"/search?q=a&sort=cost", R"({"loc":["query","sort"],)"},
        {"/search?q=a&min_price=cheap", R"("type":"float_parsing")"},
    };
    for (const Case& c : cases) {
        const Response r = co_await call(h, ctx, "GET", c.target);
        EXPECT_EQ(r.status(), 422) << c.target;
        EXPECT_NE(r.body().find(c.expected), std::string::npos) << c.target << " -> " << r.body();
    }
    // Every bad parameter is reported at once.
    const Response r = co_await call(h, ctx, "GET", "/search?limit=x&exact=y");
    EXPECT_EQ(r.status(), 422);
    EXPECT_NE(r.body().find(R"("loc":["query","q"])"), std::string::npos) << r.body();
    EXPECT_NE(r.body().find(R"("loc":["query","limit"])"), std::string::npos) << r.body();
    EXPECT_NE(r.body().find(R"("loc":["query","exact"])"), std::string::npos) << r.body();
    EXPECT_EQ(counter.calls, 0);

    // A malformed percent-escape is a 400, not a 422.
    const Response bad = co_await call(h, ctx, "GET", "/search?q=%zz");
    EXPECT_EQ(bad.status(), 400);
}

WEIR_TEST(TypedParams, PathModelIsTyped) {
    ParamsFixture f;
    auto& [app, h, res, counter, ctx] = f;
    Response r = co_await call(h, ctx, "GET", "/sections/shoes%20new/items/42");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.body(), R"("shoes new#42")");
    // Out of int64 range: the router's {id:int} accepts the digits, the model rejects them.
    r = co_await call(h, ctx, "GET", "/sections/a/items/99999999999999999999");
    EXPECT_TRUE(r.status() == 404 || r.status() == 422) << r.status();
    r = co_await call(h, ctx, "GET", "/sections/a/items/x");
    EXPECT_EQ(r.status(), 404);
    EXPECT_EQ(counter.calls, 1);
}

TEST(TypedParams, OpenApiListsQueryParameters) {
    App app = params_app();
    const std::string doc = app.openapi();
    EXPECT_NE(doc.find(R"({"name":"q","in":"query","required":true,"schema":{"type":"string"}})"),
              std::string::npos)
        << doc;
    EXPECT_NE(
        doc.find(R"({"name":"limit","in":"query","required":false,"schema":{"type":"integer")"),
        std::string::npos)
        << doc;
    EXPECT_NE(doc.find(R"({"name":"tag","in":"query","required":false,"schema":{"type":"array")"),
              std::string::npos)
        << doc;
    EXPECT_NE(doc.find(R"({"name":"id","in":"path","required":true)"), std::string::npos) << doc;
    EXPECT_NE(doc.find(R"("422":{"description":"Validation Error")"), std::string::npos) << doc;
}

}  // namespace app_params_test
}  // namespace weir::http
