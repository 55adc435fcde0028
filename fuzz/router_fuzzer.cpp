// libFuzzer target for weir::http::Router, which sees every request's raw path: matching either
// answers (found / not found / method not allowed) or throws UrlDecodeError for a bad %-escape in
// a captured segment; a found route's parameters have the pattern's names, {id:int} values are
// whole 64-bit integers, {name} values are not empty, literal-only routes match only their own
// path, and the same input always gives the same answer.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "weir/http/query.hpp"
#include "weir/http/request.hpp"
#include "weir/http/router.hpp"

namespace {

using weir::http::Method;
using weir::http::Request;
using weir::http::Router;

struct Route {
    Method method;
    const char* pattern;
};

constexpr Route kRoutes[] = {
    {Method::Get, "/"},
    {Method::Get, "/items"},
    {Method::Post, "/items"},
    {Method::Get, "/items/new"},
    {Method::Get, "/items/{id:int}"},
    {Method::Delete, "/items/{id:int}"},
    {Method::Get, "/items/{name}"},
    {Method::Get, "/items/{id:int}/reviews/{rid:int}"},
    {Method::Put, "/users/{user}/settings"},
    {Method::Get, "/files/{rest:path}"},
    {Method::Get, "/a/b/c/d"},
};

const Router& router() {
    static const Router r = [] {
        Router built;
        for (std::size_t i = 0; i < std::size(kRoutes); ++i)
            built.add(kRoutes[i].method, kRoutes[i].pattern, i);
        return built;
    }();
    return r;
}

bool is_int64(std::string_view s) {
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size();
}

struct Answer {
    Router::MatchKind kind = Router::MatchKind::NotFound;
    std::size_t target = 0;
    std::uint16_t allowed = 0;
    bool decode_error = false;
    std::vector<std::pair<std::string, std::string>> params;
    bool operator==(const Answer&) const = default;
};

Answer ask(Method method, std::string_view path) {
    Answer a;
    Request request;
    try {
        const Router::Match m = router().match(method, path, request);
        a.kind = m.kind;
        a.target = m.target;
        a.allowed = m.allowed;
        if (m.kind == Router::MatchKind::Found) FUZZ_CHECK(m.pattern == kRoutes[m.target].pattern);
    } catch (const weir::http::UrlDecodeError&) {
        a.decode_error = true;
    }
    for (const auto& [name, value] : request.path_params()) a.params.emplace_back(name, value);
    return a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto method = static_cast<Method>(data[0] % static_cast<unsigned>(Method::Other));
    const weir::fuzz::HeapBuffer input(
        std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
    const std::string_view path = input.view();

    const Answer a = ask(method, path);
    FUZZ_CHECK(a == ask(method, path));
    if (a.decode_error || a.kind != Router::MatchKind::Found) {
        if (a.kind == Router::MatchKind::MethodNotAllowed) FUZZ_CHECK(a.allowed != 0);
        return 0;
    }
    FUZZ_CHECK(a.target < std::size(kRoutes));
    const std::string_view pattern = kRoutes[a.target].pattern;
    FUZZ_CHECK(kRoutes[a.target].method == method ||
               (method == Method::Head && kRoutes[a.target].method == Method::Get));
    if (pattern.find('{') == std::string_view::npos) {
        FUZZ_CHECK(a.params.empty());
        FUZZ_CHECK(path == pattern);
        return 0;
    }
    for (const auto& [name, value] : a.params) {
        const std::string open = "{" + name;
        const std::size_t at = pattern.find(open);
        FUZZ_CHECK(at != std::string_view::npos);
        const std::string_view rest = pattern.substr(at + open.size());
        if (rest.starts_with(":int}")) {
            FUZZ_CHECK(is_int64(value));
        } else if (rest.starts_with("}")) {
            FUZZ_CHECK(!value.empty());
        }
    }
    return 0;
}
