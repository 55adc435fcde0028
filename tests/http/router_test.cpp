// Tests of weir::http::Router: static and typed routes, decoding, priorities, 404/405, HEAD.
#include "weir/http/router.hpp"

#include <stdexcept>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "weir/http/query.hpp"

namespace weir::http {
namespace {

using Kind = Router::MatchKind;

struct Result {
    Kind kind;
    std::size_t target = 0;
    std::string pattern;
    std::uint16_t allowed = 0;
    Request request;
};

Result match(const Router& r, Method m, std::string_view path) {
    Result out;
    const Router::Match mm = r.match(m, path, out.request);
    out.kind = mm.kind;
    out.target = mm.target;
    out.pattern = mm.pattern;
    out.allowed = mm.allowed;
    return out;
}

std::string param(const Result& r, std::string_view name) {
    const auto v = r.request.path_param(name);
    return v ? std::string(*v) : std::string("<none>");
}

TEST(Router, StaticRoutes) {
    Router r;
    r.add(Method::Get, "/", 0);
    r.add(Method::Get, "/plaintext", 1);
    r.add(Method::Get, "/a/b/c", 2);
    r.add(Method::Get, "/a/", 3);
    EXPECT_EQ(match(r, Method::Get, "/").target, 0u);
    EXPECT_EQ(match(r, Method::Get, "/plaintext").target, 1u);
    EXPECT_EQ(match(r, Method::Get, "/plaintext").pattern, "/plaintext");
    EXPECT_EQ(match(r, Method::Get, "/a/b/c").target, 2u);
    EXPECT_EQ(match(r, Method::Get, "/a/").target, 3u);
    EXPECT_EQ(match(r, Method::Get, "/a").kind, Kind::NotFound);
    EXPECT_EQ(match(r, Method::Get, "/plaintext/").kind, Kind::NotFound);
    EXPECT_EQ(match(r, Method::Get, "/a/b").kind, Kind::NotFound);
    EXPECT_EQ(match(r, Method::Get, "").kind, Kind::NotFound);
    EXPECT_EQ(match(r, Method::Get, "*").kind, Kind::NotFound);
    EXPECT_TRUE(match(r, Method::Get, "/plaintext").request.path_params().empty());
}

TEST(Router, ManyStaticRoutes) {
    Router r;
    for (std::size_t i = 0; i < 500; ++i) r.add(Method::Get, "/s/" + std::to_string(i), i);
    for (std::size_t i = 0; i < 500; ++i) {
        EXPECT_EQ(match(r, Method::Get, "/s/" + std::to_string(i)).target, i);
    }
    EXPECT_EQ(match(r, Method::Get, "/s/500").kind, Kind::NotFound);
    EXPECT_EQ(match(r, Method::Get, "/s/").kind, Kind::NotFound);
    EXPECT_EQ(match(r, Method::Post, "/s/7").kind, Kind::MethodNotAllowed);
}

TEST(Router, IntParameters) {
    Router r;
    r.add(Method::Get, "/items/{id:int}", 7);
    const Result ok = match(r, Method::Get, "/items/42");
    EXPECT_EQ(ok.kind, Kind::Found);
    EXPECT_EQ(ok.target, 7u);
    EXPECT_EQ(ok.pattern, "/items/{id:int}");
    EXPECT_EQ(param(ok, "id"), "42");
    EXPECT_EQ(path_param_int(ok.request, "id"), 42);

    EXPECT_EQ(path_param_int(match(r, Method::Get, "/items/-7").request, "id"), -7);
    EXPECT_EQ(path_param_int(match(r, Method::Get, "/items/0").request, "id"), 0);
    EXPECT_EQ(path_param_int(match(r, Method::Get, "/items/9223372036854775807").request, "id"),
              INT64_MAX);
    EXPECT_EQ(path_param_int(match(r, Method::Get, "/items/-9223372036854775808").request, "id"),
              INT64_MIN);
    for (const char* bad :
         {"/items/9223372036854775808", "/items/-9223372036854775809",
          "/items/99999999999999999999999", "/items/abc", "/items/4x", "/items/+5", "/items/-",
          "/items/", "/items/1.5", "/items/%31", "/items/42/", "/items/42/x", "/items"}) {
        EXPECT_EQ(match(r, Method::Get, bad).kind, Kind::NotFound) << bad;
    }
    EXPECT_THROW(path_param_int(ok.request, "nope"), std::logic_error);
}

TEST(Router, StringParametersArePercentDecoded) {
    Router r;
    r.add(Method::Get, "/users/{name}", 1);
    r.add(Method::Get, "/users/{name}/posts/{post:str}", 2);
    EXPECT_EQ(param(match(r, Method::Get, "/users/alice"), "name"), "alice");
    EXPECT_EQ(param(match(r, Method::Get, "/users/j%C3%B6rg"), "name"), "j\xc3\xb6rg");
    EXPECT_EQ(param(match(r, Method::Get, "/users/a%2Fb"), "name"), "a/b");
    EXPECT_EQ(param(match(r, Method::Get, "/users/a+b"), "name"), "a+b");  // '+' is no space
    EXPECT_EQ(param(match(r, Method::Get, "/users/a%20b"), "name"), "a b");
    const Result two = match(r, Method::Get, "/users/bob/posts/hello%21");
    EXPECT_EQ(two.target, 2u);
    EXPECT_EQ(param(two, "name"), "bob");
    EXPECT_EQ(param(two, "post"), "hello!");
    ASSERT_EQ(two.request.path_params().size(), 2u);
    EXPECT_EQ(two.request.path_params()[0].first, "name");             // in path order
    EXPECT_EQ(match(r, Method::Get, "/users/").kind, Kind::NotFound);  // empty segment
    EXPECT_EQ(match(r, Method::Get, "/users//posts/x").kind, Kind::NotFound);
    Request req;
    EXPECT_THROW(r.match(Method::Get, "/users/%zz", req), UrlDecodeError);
}

TEST(Router, PathParametersTakeTheRest) {
    Router r;
    r.add(Method::Get, "/files/{rest:path}", 1);
    EXPECT_EQ(param(match(r, Method::Get, "/files/a/b/c.txt"), "rest"), "a/b/c.txt");
    EXPECT_EQ(param(match(r, Method::Get, "/files/x"), "rest"), "x");
    EXPECT_EQ(param(match(r, Method::Get, "/files/"), "rest"), "");
    EXPECT_EQ(param(match(r, Method::Get, "/files/a%20b/c"), "rest"), "a b/c");
    EXPECT_EQ(match(r, Method::Get, "/files").kind, Kind::NotFound);
    EXPECT_EQ(match(r, Method::Get, "/filesx/a").kind, Kind::NotFound);
}

TEST(Router, MostSpecificFirstWithBacktracking) {
    Router r;
    r.add(Method::Get, "/items/new", 1);
    r.add(Method::Get, "/items/{id:int}", 2);
    r.add(Method::Get, "/items/{name}", 3);
    r.add(Method::Get, "/items/{rest:path}", 4);
    r.add(Method::Get, "/a/{x:int}/b", 5);
    r.add(Method::Get, "/a/{y}/c", 6);
    EXPECT_EQ(match(r, Method::Get, "/items/new").target, 1u);
    EXPECT_EQ(match(r, Method::Get, "/items/12").target, 2u);
    EXPECT_EQ(match(r, Method::Get, "/items/twelve").target, 3u);
    EXPECT_EQ(match(r, Method::Get, "/items/99999999999999999999").target, 3u);  // not an int64
    EXPECT_EQ(match(r, Method::Get, "/items/x/y").target, 4u);
    EXPECT_EQ(match(r, Method::Get, "/a/1/b").target, 5u);
    const Result back = match(r, Method::Get, "/a/1/c");  // the int branch fails on "c"
    EXPECT_EQ(back.target, 6u);
    EXPECT_EQ(param(back, "y"), "1");
    EXPECT_EQ(back.request.path_params().size(), 1u);
}

TEST(Router, MethodNotAllowedListsTheMethodsOfThePath) {
    Router r;
    r.add(Method::Get, "/x", 1);
    r.add(Method::Post, "/x", 2);
    const Result put = match(r, Method::Put, "/x");
    EXPECT_EQ(put.kind, Kind::MethodNotAllowed);
    EXPECT_EQ(Router::allow_header(put.allowed), "GET, HEAD, POST");
    EXPECT_EQ(match(r, Method::Post, "/x").target, 2u);
    EXPECT_EQ(match(r, Method::Other, "/x").kind, Kind::MethodNotAllowed);
    EXPECT_EQ(match(r, Method::Put, "/y").kind, Kind::NotFound);

    // Union over every pattern matching the path; another pattern may serve the method.
    Router u;
    u.add(Method::Get, "/items/{id:int}", 1);
    u.add(Method::Post, "/items/{name}", 2);
    u.add(Method::Delete, "/items/special", 3);
    const Result del = match(u, Method::Delete, "/items/5");
    EXPECT_EQ(del.kind, Kind::MethodNotAllowed);
    EXPECT_EQ(Router::allow_header(del.allowed), "GET, HEAD, POST");
    const Result post = match(u, Method::Post, "/items/5");
    EXPECT_EQ(post.target, 2u);
    EXPECT_EQ(param(post, "name"), "5");
    EXPECT_EQ(Router::allow_header(match(u, Method::Put, "/items/special").allowed),
              "POST, DELETE");
}

TEST(Router, HeadFallsBackToGet) {
    Router r;
    r.add(Method::Get, "/a", 1);
    r.add(Method::Get, "/b", 2);
    r.add(Method::Head, "/b", 3);
    r.add(Method::Post, "/c", 4);
    EXPECT_EQ(match(r, Method::Head, "/a").target, 1u);
    EXPECT_EQ(match(r, Method::Head, "/b").target, 3u);  // an explicit HEAD route wins
    EXPECT_EQ(match(r, Method::Head, "/c").kind, Kind::MethodNotAllowed);
    EXPECT_EQ(Router::allow_header(Router::method_bit(Method::Head)), "HEAD");
}

TEST(Router, RejectsBadPatternsAndDuplicates) {
    Router r;
    for (const char* bad : {"", "items", "/a/{", "/a/{}", "/a/x{y}", "/a/{y}x", "/{a:float}",
                            "/{p:path}/x", "/{a}/{a}", "/{a-b}", "/a}"}) {
        EXPECT_THROW(r.add(Method::Get, bad, 0), std::invalid_argument) << bad;
    }
    EXPECT_THROW(r.add(Method::Other, "/x", 0), std::invalid_argument);
    r.add(Method::Get, "/x", 0);
    EXPECT_THROW(r.add(Method::Get, "/x", 1), std::logic_error);
    r.add(Method::Get, "/u/{name}", 2);
    EXPECT_THROW(r.add(Method::Get, "/u/{name}", 3), std::logic_error);
    EXPECT_THROW(r.add(Method::Post, "/u/{other}", 3), std::logic_error);  // same shape
    r.add(Method::Post, "/u/{name}", 4);
    r.add(Method::Get, "/u/{id:int}", 5);  // a different type is a different shape
}

TEST(Router, PatternParsing) {
    const auto segs = parse_route_pattern("/api/{id:int}/{name}/{rest:path}");
    ASSERT_EQ(segs.size(), 4u);
    EXPECT_FALSE(segs[0].is_param);
    EXPECT_EQ(segs[0].text, "api");
    EXPECT_TRUE(segs[1].is_param);
    EXPECT_EQ(segs[1].type, ParamType::Int);
    EXPECT_EQ(segs[2].type, ParamType::String);
    EXPECT_EQ(segs[3].type, ParamType::Path);
    EXPECT_EQ(segs[3].text, "rest");
}

}  // namespace
}  // namespace weir::http
