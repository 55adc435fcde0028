// Tests of the OpenAPI document App generates and serves at /openapi.json.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "app_test_util.hpp"
#include "weir/http/app.hpp"
#include "weir/http/json.hpp"
#include "weir/http/openapi.hpp"
#include "weir/testing/async_test.hpp"

namespace weir::http {
namespace app_openapi_test {

using namespace std::chrono_literals;
using testing::call;

struct Pet {
    std::int64_t id = 0;
    std::string name;
    std::optional<std::string> tag;
};
BOOST_DESCRIBE_STRUCT(Pet, (), (id, name, tag))

struct NewPet {
    std::string name;
    std::optional<std::string> tag;
};
BOOST_DESCRIBE_STRUCT(NewPet, (), (name, tag))

App pet_app(AppOptions options = {}) {
    options.info.title = "Pet store";
    options.info.version = "1.2.3";
    App app(options);
    app.get("/pets", [](Request&) -> Task<std::vector<Pet>> { co_return std::vector<Pet>{}; },
            {.summary = "List pets", .tags = {"pets"}});
    app.post<NewPet>("/pets",
                     [](NewPet p) -> Task<Pet> {
                         co_return Pet{1, p.name, p.tag};
                     },
                     {.summary = "Create a pet", .tags = {"pets"}, .status_code = 201});
    app.get("/pets/{pet_id:int}", [](Request&) -> Task<Pet> { co_return Pet{}; },
            {.timeout = 2s, .description = "One pet by id", .operation_id = "showPet"});
    app.del("/pets/{pet_id:int}",
            [](Request&, Context&) -> Task<Response> { co_return Response::no_content(); });
    app.get("/files/{owner}/{rest:path}",
            [](Request&, Context&) -> Task<Response> { co_return Response::no_content(); });
    app.get("/hidden", [](Request&, Context&) -> Task<Response> { co_return Response(); },
            {.include_in_schema = false});
    return app;
}

WEIR_TEST(OpenApi, ServedAtOpenapiJson) {
    App app = pet_app();
    const Handler h = app.handler();
    Resources res;
    Context ctx(res, 0);
    const Response r = co_await call(h, ctx, "GET", "/openapi.json");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.content_type(), "application/json");
    EXPECT_EQ(r.body(), app.openapi());
    EXPECT_EQ(ctx.route(), "/openapi.json");

    const JsonDocument doc = JsonDocument::parse(r.body());
    const JsonValue root = doc.root();
    EXPECT_EQ(root.find("openapi")->get_string(), "3.1.0");
    EXPECT_EQ(root.find("info")->to_json(), R"({"title":"Pet store","version":"1.2.3"})");

    const JsonValue paths = *root.find("paths");
    std::vector<std::string> keys;
    paths.for_each_member([&](std::string_view k, const JsonValue&) { keys.emplace_back(k); });
    EXPECT_EQ(keys, (std::vector<std::string>{"/pets", "/pets/{pet_id}", "/files/{owner}/{rest}"}));

    // GET /pets: summary, tags, typed response.
    const JsonValue list = *paths.find("/pets")->find("get");
    EXPECT_EQ(list.find("summary")->get_string(), "List pets");
    EXPECT_EQ(list.find("tags")->to_json(), R"(["pets"])");
    EXPECT_EQ(list.find("operationId")->get_string(), "get__pets");
    EXPECT_EQ(list.find("responses")->find("200")->find("content")->to_json(),
              R"({"application/json":{"schema":{"type":"array","items":)"
              R"({"$ref":"#/components/schemas/Pet"}}}})");
    EXPECT_FALSE(list.find("requestBody").has_value());
    EXPECT_FALSE(list.find("parameters").has_value());

    // POST /pets: request body, 201, 422.
    const JsonValue create = *paths.find("/pets")->find("post");
    EXPECT_EQ(create.find("requestBody")->to_json(),
              R"({"required":true,"content":{"application/json":{"schema":)"
              R"({"$ref":"#/components/schemas/NewPet"}}}})");
    const JsonValue responses = *create.find("responses");
    EXPECT_EQ(responses.find("201")->find("description")->get_string(), "Created");
    EXPECT_TRUE(responses.find("201")->find("content").has_value());
    EXPECT_EQ(responses.find("422")->find("content")->to_json(),
              R"({"application/json":{"schema":)"
              R"({"$ref":"#/components/schemas/HTTPValidationError"}}})");

    // GET /pets/{pet_id}: typed path parameter, description, operationId, 504.
    const JsonValue show = *paths.find("/pets/{pet_id}")->find("get");
    EXPECT_EQ(show.find("parameters")->to_json(),
              R"([{"name":"pet_id","in":"path","required":true,)"
              R"("schema":{"type":"integer","format":"int64"}}])");
    EXPECT_EQ(show.find("description")->get_string(), "One pet by id");
    EXPECT_EQ(show.find("operationId")->get_string(), "showPet");
    EXPECT_TRUE(show.find("responses")->find("504").has_value());
    EXPECT_FALSE(show.find("summary").has_value());

    // DELETE /pets/{pet_id}: a plain handler has an untyped 200 response.
    const JsonValue del = *paths.find("/pets/{pet_id}")->find("delete");
    EXPECT_EQ(del.find("responses")->to_json(), R"({"200":{"description":"OK"}})");

    const JsonValue files = *paths.find("/files/{owner}/{rest}")->find("get");
    EXPECT_EQ(files.find("parameters")->to_json(),
              R"([{"name":"owner","in":"path","required":true,"schema":{"type":"string"}},)"
              R"({"name":"rest","in":"path","required":true,"schema":{"type":"string"}}])");

    // Components: one schema per described struct, required = non-optional members.
    const JsonValue schemas = *root.find("components")->find("schemas");
    EXPECT_EQ(schemas.find("Pet")->find("required")->to_json(), R"(["id","name"])");
    EXPECT_EQ(schemas.find("NewPet")->find("required")->to_json(), R"(["name"])");
    EXPECT_EQ(schemas.find("Pet")->find("properties")->find("tag")->to_json(),
              R"({"anyOf":[{"type":"string"},{"type":"null"}]})");
    EXPECT_TRUE(schemas.find("HTTPValidationError").has_value());
    EXPECT_TRUE(schemas.find("ValidationError").has_value());

    // Neither the hidden route nor the document's own route is listed.
    EXPECT_FALSE(paths.find("/hidden").has_value());
    EXPECT_FALSE(paths.find("/openapi.json").has_value());
}

WEIR_TEST(OpenApi, CanBeMovedOrDisabled) {
    AppOptions moved;
    moved.openapi_path = "/docs/api.json";
    App a = pet_app(moved);
    const Handler ha = a.handler();
    Resources res;
    Context ctx(res, 0);
    EXPECT_EQ((co_await call(ha, ctx, "GET", "/docs/api.json")).status(), 200);
    EXPECT_EQ((co_await call(ha, ctx, "GET", "/openapi.json")).status(), 404);

    AppOptions off;
    off.openapi_path.clear();
    App b = pet_app(off);
    const Handler hb = b.handler();
    EXPECT_EQ((co_await call(hb, ctx, "GET", "/openapi.json")).status(), 404);

    // An application route at the same path wins.
    App c;
    c.get("/openapi.json",
          [](Request&, Context&) -> Task<Response> { co_return Response::text("mine"); });
    const Handler hc = c.handler();
    EXPECT_EQ((co_await call(hc, ctx, "GET", "/openapi.json")).body(), "mine");
}

TEST(OpenApi, PathConversion) {
    EXPECT_EQ(openapi_path("/"), "/");
    EXPECT_EQ(openapi_path("/a/{id:int}/b/{name}/{p:path}"), "/a/{id}/b/{name}/{p}");
}

}  // namespace app_openapi_test
}  // namespace weir::http
