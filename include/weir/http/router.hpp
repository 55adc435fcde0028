// Router: maps a method and a path to a route, capturing typed path parameters.
//
//     Router r;
//     r.add(Method::Get, "/items/{id:int}", 0);      // 64-bit signed integer, else no match
//     r.add(Method::Get, "/users/{name}", 1);        // one segment, percent-decoded
//     r.add(Method::Get, "/files/{rest:path}", 2);   // the rest of the path, may contain '/'
//     Router::Match m = r.match(req.method(), req.path(), req);  // fills req.path_params()
//
// Patterns are '/'-separated; a segment is either literal text or a whole parameter
// {name}, {name:str}, {name:int} or {name:path} (last segment only). Paths without parameters
// are found with one hash lookup. Otherwise segments are matched most specific first (literal,
// then int, then str, then path), backtracking, so "/items/new" can coexist with
// "/items/{id:int}" and "/items/{name}". Literal segments compare with the raw (not decoded)
// path. When some pattern matches the path but none has the method, the result is
// MethodNotAllowed with the methods that would have matched; HEAD falls back to GET.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "weir/http/http_method.hpp"
#include "weir/http/request.hpp"

namespace weir::http {

enum class ParamType : std::uint8_t { String, Int, Path };

std::string_view to_string(ParamType type) noexcept;  // "str", "int", "path"

struct PatternSegment {
    bool is_param = false;
    std::string text;  // literal text, or the parameter name
    ParamType type = ParamType::String;
};

// Splits and checks a route pattern; throws std::invalid_argument naming the problem.
std::vector<PatternSegment> parse_route_pattern(std::string_view pattern);

class Router {
public:
    enum class MatchKind : std::uint8_t { Found, NotFound, MethodNotAllowed };

    struct Match {
        MatchKind kind = MatchKind::NotFound;
        std::size_t target = 0;     // the id given to add() (Found)
        std::string_view pattern;   // the route template (Found), owned by the router
        std::uint16_t allowed = 0;  // method bits of the path (MethodNotAllowed)
    };

    Router();
    Router(Router&&) noexcept;
    Router& operator=(Router&&) noexcept;
    ~Router();

    // Routes `method` on `pattern` to `target`. Throws std::invalid_argument for a malformed
    // pattern or a method that cannot be routed (Method::Other), std::logic_error for a
    // duplicate (same method and pattern) or for a pattern equivalent to another one with
    // different parameter names or types at the same place.
    void add(Method method, std::string_view pattern, std::size_t target);

    // Matches `path` (the raw request path). On Found, appends the parameters to `request`
    // (decoded: throws UrlDecodeError for a bad %-escape).
    Match match(Method method, std::string_view path, Request& request) const;

    static constexpr std::uint16_t method_bit(Method m) noexcept {
        return static_cast<std::uint16_t>(1u << static_cast<unsigned>(m));
    }
    // "GET, HEAD, POST" for an `allowed` mask (HEAD is implied by GET).
    static std::string allow_header(std::uint16_t allowed);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The value of an {name:int} path parameter of a routed request. Throws std::logic_error if
// there is no such parameter (a programming error: the route does not declare it).
std::int64_t path_param_int(const Request& request, std::string_view name);

}  // namespace weir::http
