// Typed query-string and path parameters: FastAPI's query/path models for App
// handlers. A described struct names the parameters; a handler taking
// Query<T> or Path<T> gets them converted and validated (a bad or missing one
// is answered 422 with FastAPI's error shape before the handler runs), and
// the OpenAPI document lists them with their types.
//
//     struct Search { std::string q; std::optional<int> limit; std::vector<std::string> tag; };
//     BOOST_DESCRIBE_STRUCT(Search, (), (q, limit, tag))
//     struct ItemId { std::int64_t id; };
//     BOOST_DESCRIBE_STRUCT(ItemId, (), (id))
//
//     app.get("/search", [](Query<Search> s) -> Task<Response> { ... s->q ... s->limit.value_or(10)
//     }); app.get("/items/{id:int}", [](Path<ItemId> p, Db& db) -> Task<Item> { ... p->id ... });
//
// Member types: bool (true/false/1/0/yes/no/on/off), integers (range-checked), float/double,
// std::string, described enums (by name), std::optional<T> (absent: nullopt; the only
// optional members) and, for Query, std::vector<T> (a repeated key; absent: empty).
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "weir/http/json.hpp"
#include "weir/http/request.hpp"
#include "weir/http/typed_body.hpp"

namespace weir::http {

// The query parameters of the request, as a T.
template <class T>
struct Query {
    T value;
    T* operator->() noexcept { return &value; }
    const T* operator->() const noexcept { return &value; }
    T& operator*() noexcept { return value; }
    const T& operator*() const noexcept { return value; }
};

// The path parameters captured by the route, as a T.
template <class T>
struct Path {
    T value;
    T* operator->() noexcept { return &value; }
    const T* operator->() const noexcept { return &value; }
    T& operator*() noexcept { return value; }
    const T& operator*() const noexcept { return value; }
};

namespace detail {

template <class T>
struct ParamModel : std::false_type {};
template <class T>
struct ParamModel<Query<T>> : std::true_type {
    using Model = T;
    static constexpr std::string_view location = "query";
};
template <class T>
struct ParamModel<Path<T>> : std::true_type {
    using Model = T;
    static constexpr std::string_view location = "path";
};

// Converts one textual parameter; on failure returns (msg, type) as FastAPI words them.
template <class T>
std::optional<std::pair<std::string_view, std::string_view>> parse_param(std::string_view text,
                                                                         T& out) {
    if constexpr (std::is_same_v<T, std::string>) {
        out.assign(text);
    } else if constexpr (std::is_same_v<T, bool>) {
        static constexpr std::string_view truthy[] = {"true", "1", "yes", "on"};
        static constexpr std::string_view falsy[] = {"false", "0", "no", "off"};
        std::string lower(text);
        for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
        for (std::string_view t : truthy) {
            if (lower == t) {
                out = true;
                return std::nullopt;
            }
        }
        for (std::string_view f : falsy) {
            if (lower == f) {
                out = false;
                return std::nullopt;
            }
        }
        return std::pair{"Input should be a valid boolean, unable to interpret input",
                         "bool_parsing"};
    } else if constexpr (std::is_integral_v<T>) {
        const char* end = text.data() + text.size();
        const char* begin = text.data();
        if (begin != end && *begin == '+') ++begin;
        auto [p, ec] = std::from_chars(begin, end, out);
        if (ec == std::errc::result_out_of_range)
            return std::pair{"Input is out of range for the integer type", "int_range"};
        if (ec != std::errc() || p != end || begin == end)
            return std::pair{
                "Input should be a valid integer, unable to parse string as an integer",
                "int_parsing"};
    } else if constexpr (std::is_floating_point_v<T>) {
        const char* end = text.data() + text.size();
        auto [p, ec] = std::from_chars(text.data(), end, out);
        if (ec != std::errc() || p != end || text.empty())
            return std::pair{"Input should be a valid number, unable to parse string as a number",
                             "float_parsing"};
    } else if constexpr (kDescribedEnum<T>) {
        bool found = false;
        boost::mp11::mp_for_each<boost::describe::describe_enumerators<T>>([&](auto d) {
            if (!found && text == d.name) {
                out = d.value;
                found = true;
            }
        });
        if (!found) return std::pair{"Input should be one of the enumeration's names", "enum"};
    } else {
        static_assert(kAlwaysFalse<T>, "weir::http::Query/Path: unsupported member type");
    }
    return std::nullopt;
}

void add_param_issue(std::vector<ValidationIssue>& issues, std::string_view location,
                     std::string_view name, std::string_view msg, std::string_view type);

// Reads the described struct T from (name, value) pairs; records an issue per bad member.
template <class T, class Pairs>
std::optional<T> read_params(const Pairs& pairs, std::string_view location,
                             std::vector<ValidationIssue>& issues) {
    static_assert(kDescribedStruct<T>, "Query<T>/Path<T>: T must be a described struct");
    T out{};
    const std::size_t before = issues.size();
    boost::mp11::mp_for_each<Members<T>>([&](auto d) {
        using M = std::remove_cvref_t<decltype(out.*d.pointer)>;
        const std::string_view name = d.name;
        auto fail = [&](auto problem) {
            add_param_issue(issues, location, name, problem->first, problem->second);
        };
        if constexpr (IsVector<M>::value) {
            static_assert(!std::is_same_v<M, std::vector<bool>>, "use std::vector<char>");
            for (const auto& [k, v] : pairs) {
                if (std::string_view(k) != name) continue;
                typename M::value_type e{};
                if (auto problem = parse_param(v, e)) return fail(problem);
                (out.*d.pointer).push_back(std::move(e));
            }
        } else {
            bool found = false;
            std::string_view found_view;
            for (const auto& [k, v] : pairs) {
                if (std::string_view(k) == name) {
                    found_view = v;
                    found = true;
                    break;
                }
            }
            if constexpr (IsOptional<M>::value) {
                if (!found) return;
                typename M::value_type e{};
                if (auto problem = parse_param(found_view, e)) return fail(problem);
                out.*d.pointer = std::move(e);
            } else {
                if (!found)
                    return add_param_issue(issues, location, name, "Field required", "missing");
                if (auto problem = parse_param(found_view, out.*d.pointer)) fail(problem);
            }
        }
    });
    if (issues.size() != before) return std::nullopt;
    return out;
}

// Path parameters are (string_view, string) pairs; read_params wants std::string values.
std::vector<std::pair<std::string, std::string>> path_param_pairs(const Request& req);

// Writes one OpenAPI parameter object per member of T.
template <class T>
void write_param_docs(JsonWriter& w, SchemaRegistry& reg, std::string_view location) {
    boost::mp11::mp_for_each<Members<T>>([&](auto d) {
        using M = std::remove_cvref_t<decltype(std::declval<T&>().*d.pointer)>;
        const bool required = location == "path" || (!IsOptional<M>::value && !IsVector<M>::value);
        w.begin_object()
            .member("name", std::string_view(d.name))
            .member("in", location)
            .member("required", required)
            .key("schema");
        if constexpr (IsOptional<M>::value) {
            write_json_schema<typename M::value_type>(w, reg);
        } else {
            write_json_schema<M>(w, reg);
        }
        w.end_object();
    });
}

}  // namespace detail
}  // namespace weir::http
