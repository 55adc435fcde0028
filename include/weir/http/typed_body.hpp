// Typed JSON bodies: plain structs described with Boost.Describe are read
// from JSON (with FastAPI-style validation errors), written as JSON, and
// turned into JSON Schemas for the OpenAPI document.
//
//     struct Item { std::string name; double price; std::optional<std::string> note; };
//     BOOST_DESCRIBE_STRUCT(Item, (), (name, price, note))
//     struct Order { std::int64_t id; std::vector<Item> items; bool rush; };
//     BOOST_DESCRIBE_STRUCT(Order, (), (id, items, rush))
//
//     // Optional extra checks, found by argument-dependent lookup:
//     void validate(const Order& o, weir::http::Validator& v) {
//         v.check(o.id > 0, "id", "Input should be greater than 0", "greater_than");
//     }
//
//     Order o = weir::http::parse_json<Order>(text);   // throws ValidationError (422)
//     std::string s = weir::http::to_json(o);
//
// Supported member types: bool, integers (range-checked), float/double,
// std::string, std::optional<T> (the only non-required members; null or
// absent is nullopt), std::vector<T>, std::map<std::string, T>, described
// enums (as their names) and nested described structs. Reading is strict:
// no string-to-number coercion; an integral float (3.0) is accepted for an
// integer. Unknown members are ignored unless forbid_extra_fields is set.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <variant>
#include <vector>

#include <boost/describe/class.hpp>  // BOOST_DESCRIBE_STRUCT / BOOST_DESCRIBE_CLASS for users
#include <boost/describe/enum.hpp>   // BOOST_DESCRIBE_ENUM for users
#include <boost/describe/enumerators.hpp>
#include <boost/describe/members.hpp>
#include <boost/describe/modifiers.hpp>
#include <boost/mp11/algorithm.hpp>

#include "weir/http/handler.hpp"
#include "weir/http/json.hpp"
#include "weir/http/response.hpp"

namespace weir::http {

// ---------------------------------------------------------------------------------------------
// Validation errors
// ---------------------------------------------------------------------------------------------

// One element of an error location: a member name or an array index.
using LocElement = std::variant<std::string, std::size_t>;

// One failure, as FastAPI reports it: {"loc":["body","items",0,"price"],"msg":...,"type":...}.
struct ValidationIssue {
    std::vector<LocElement> loc;
    std::string msg;
    std::string type;
};

// {"detail":[{"loc":[...],"msg":"...","type":"..."},...]}
std::string validation_error_json(const std::vector<ValidationIssue>& issues);
// A 422 application/json response with that body.
Response validation_error_response(const std::vector<ValidationIssue>& issues);

// Thrown by parse_json (and throwable by handlers): answered with 422 and the issue list.
class ValidationError : public HttpError {
public:
    explicit ValidationError(std::vector<ValidationIssue> issues);
    const std::vector<ValidationIssue>& issues() const noexcept { return issues_; }

private:
    std::vector<ValidationIssue> issues_;
};

struct JsonReadOptions {
    bool forbid_extra_fields = false;  // unknown members are an error ("extra_forbidden")
    std::string_view root = "body";    // first element of every loc; empty: none
};

namespace detail {

// The reader's position and the issues found so far.
class ReadState {
public:
    ReadState(std::vector<ValidationIssue>& issues, const JsonReadOptions& options);

    void push(std::string_view key) { path_.emplace_back(key); }
    void push(std::size_t index) { path_.emplace_back(index); }
    void pop() noexcept { path_.pop_back(); }

    // An issue at the current position / at member `key` of it.
    void fail(std::string_view msg, std::string_view type);
    void fail_member(std::string_view key, std::string_view msg, std::string_view type);
    void fail_int_range(std::int64_t min, std::uint64_t max);

    std::size_t issue_count() const noexcept { return issues_->size(); }
    bool forbid_extra() const noexcept { return forbid_extra_; }

private:
    std::vector<ValidationIssue>* issues_;
    std::vector<std::variant<std::string_view, std::size_t>> path_;
    bool forbid_extra_;
};

// Parses `text`; if it is a JSON document, calls read(ctx, root, state), otherwise records
// "missing" (empty body) or "json_invalid".
void read_json_document(std::string_view text, const JsonReadOptions& options,
                        std::vector<ValidationIssue>& issues,
                        void (*read)(void* ctx, const JsonValue& root, ReadState& state),
                        void* ctx);

// "weir::Foo<int>" for typeid(Foo<int>).
std::string demangle(const std::type_info& type);

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <class T>
struct IsVector : std::false_type {};
template <class T, class A>
struct IsVector<std::vector<T, A>> : std::true_type {};
template <class T>
struct IsStringMap : std::false_type {};
template <class T, class C, class A>
struct IsStringMap<std::map<std::string, T, C, A>> : std::true_type {};

template <class T>
inline constexpr bool kDescribedStruct =
    std::is_class_v<T>&& boost::describe::has_describe_members<T>::value;
template <class T>
inline constexpr bool kDescribedEnum =
    std::is_enum_v<T>&& boost::describe::has_describe_enumerators<T>::value;

template <class T>
using Members = boost::describe::describe_members<T, boost::describe::mod_public |
                                                         boost::describe::mod_inherited>;

template <class T>
inline constexpr bool kAlwaysFalse = false;

}  // namespace detail

// Handed to a type's `validate(const T&, Validator&)` hook (found by argument-dependent lookup),
// which runs after the value and all its members were read successfully.
class Validator {
public:
    explicit Validator(detail::ReadState& state) noexcept : state_(&state) {}

    // Records that member `field` of the value is invalid.
    void fail(std::string_view field, std::string_view msg, std::string_view type = "value_error") {
        state_->fail_member(field, msg, type);
    }
    // Records that the value as a whole is invalid.
    void fail_value(std::string_view msg, std::string_view type = "value_error") {
        state_->fail(msg, type);
    }
    // fail(field, msg, type) unless `ok`; returns `ok`.
    bool check(bool ok, std::string_view field, std::string_view msg,
               std::string_view type = "value_error") {
        if (!ok) fail(field, msg, type);
        return ok;
    }

private:
    detail::ReadState* state_;
};

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------
namespace detail {

template <class T>
bool read_value(const JsonValue& v, T& out, ReadState& st);

template <class T>
bool read_integer(const JsonValue& v, T& out, ReadState& st) {
    using Lim = std::numeric_limits<T>;
    switch (v.type()) {
        case JsonType::Int64: {
            const std::int64_t x = *v.get_int64();
            if (std::in_range<T>(x)) {
                out = static_cast<T>(x);
                return true;
            }
            break;
        }
        case JsonType::Uint64: {
            const std::uint64_t x = *v.get_uint64();
            if (std::in_range<T>(x)) {
                out = static_cast<T>(x);
                return true;
            }
            break;
        }
        case JsonType::Double: {
            const double d = *v.get_double();
            if (std::trunc(d) != d) {
                st.fail("Input should be a valid integer, got a number with a fractional part",
                        "int_from_float");
                return false;
            }
            constexpr double kExact = 9007199254740992.0;  // 2^53: integers exact up to here
            if (d >= -kExact && d <= kExact && std::in_range<T>(static_cast<std::int64_t>(d))) {
                out = static_cast<T>(d);
                return true;
            }
            break;
        }
        default:
            st.fail("Input should be a valid integer", "int_type");
            return false;
    }
    st.fail_int_range(static_cast<std::int64_t>(Lim::min()),
                      static_cast<std::uint64_t>(Lim::max()));
    return false;
}

template <class T>
bool read_struct(const JsonValue& v, T& out, ReadState& st) {
    using Ms = Members<T>;
    constexpr std::size_t kCount = boost::mp11::mp_size<Ms>::value;
    if (v.type() != JsonType::Object) {
        st.fail("Input should be a valid object", "model_type");
        return false;
    }
    const std::size_t before = st.issue_count();
    std::array<bool, kCount> seen{};
    v.for_each_member([&](std::string_view key, const JsonValue& field) {
        bool matched = false;
        std::size_t index = 0;
        boost::mp11::mp_for_each<Ms>([&](auto d) {
            if (!matched && key == std::string_view(d.name)) {
                matched = true;
                seen[index] = true;
                st.push(key);
                read_value(field, out.*d.pointer, st);
                st.pop();
            }
            ++index;
        });
        if (!matched && st.forbid_extra()) {
            st.fail_member(key, "Extra inputs are not permitted", "extra_forbidden");
        }
    });
    std::size_t index = 0;
    boost::mp11::mp_for_each<Ms>([&](auto d) {
        using M = std::remove_cvref_t<decltype(out.*d.pointer)>;
        if (!seen[index]) {
            if constexpr (IsOptional<M>::value) {
                (out.*d.pointer).reset();
            } else {
                st.fail_member(d.name, "Field required", "missing");
            }
        }
        ++index;
    });
    if (st.issue_count() != before) return false;
    if constexpr (requires(const T& t, Validator& val) { validate(t, val); }) {
        Validator val(st);
        validate(std::as_const(out), val);
        return st.issue_count() == before;
    }
    return true;
}

template <class E>
bool read_enum(const JsonValue& v, E& out, ReadState& st) {
    bool found = false;
    if (const auto s = v.get_string()) {
        boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto d) {
            if (!found && *s == std::string_view(d.name)) {
                found = true;
                out = d.value;
            }
        });
    }
    if (!found) {
        std::string msg = "Input should be ";
        std::size_t i = 0;
        constexpr std::size_t kCount =
            boost::mp11::mp_size<boost::describe::describe_enumerators<E>>::value;
        boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto d) {
            if (i > 0) msg += (i + 1 == kCount) ? " or " : ", ";
            msg += '\'';
            msg += d.name;
            msg += '\'';
            ++i;
        });
        st.fail(msg, "enum");
    }
    return found;
}

template <class T>
bool read_value(const JsonValue& v, T& out, ReadState& st) {
    if constexpr (std::is_same_v<T, bool>) {
        if (const auto b = v.get_bool()) {
            out = *b;
            return true;
        }
        st.fail("Input should be a valid boolean", "bool_type");
        return false;
    } else if constexpr (std::is_integral_v<T>) {
        return read_integer(v, out, st);
    } else if constexpr (std::is_floating_point_v<T>) {
        if (const auto d = v.get_double()) {
            out = static_cast<T>(*d);
            return true;
        }
        st.fail("Input should be a valid number", "float_type");
        return false;
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (const auto s = v.get_string()) {
            out.assign(s->data(), s->size());
            return true;
        }
        st.fail("Input should be a valid string", "string_type");
        return false;
    } else if constexpr (IsOptional<T>::value) {
        if (v.is_null()) {
            out.reset();
            return true;
        }
        out.emplace();
        return read_value(v, *out, st);
    } else if constexpr (IsVector<T>::value) {
        if (v.type() != JsonType::Array) {
            st.fail("Input should be a valid list", "list_type");
            return false;
        }
        out.clear();
        out.reserve(v.size());
        bool ok = true;
        v.for_each_element([&](std::size_t i, const JsonValue& e) {
            st.push(i);
            typename T::value_type item{};
            ok = read_value(e, item, st) && ok;
            out.push_back(std::move(item));
            st.pop();
        });
        return ok;
    } else if constexpr (IsStringMap<T>::value) {
        if (v.type() != JsonType::Object) {
            st.fail("Input should be a valid dictionary", "dict_type");
            return false;
        }
        out.clear();
        bool ok = true;
        v.for_each_member([&](std::string_view key, const JsonValue& e) {
            st.push(key);
            ok = read_value(e, out[std::string(key)], st) && ok;
            st.pop();
        });
        return ok;
    } else if constexpr (kDescribedEnum<T>) {
        return read_enum(v, out, st);
    } else if constexpr (kDescribedStruct<T>) {
        return read_struct(v, out, st);
    } else {
        static_assert(kAlwaysFalse<T>,
                      "weir::http typed bodies: unsupported member type (use bool, integers, "
                      "floating point, std::string, std::optional, std::vector, "
                      "std::map<std::string, T>, or a BOOST_DESCRIBE'd struct or enum)");
        return false;
    }
}

}  // namespace detail

// Reads a T from JSON text; on failure returns nullopt and appends the issues.
template <class T>
std::optional<T> read_json(std::string_view text, std::vector<ValidationIssue>& issues,
                           const JsonReadOptions& options = {}) {
    struct Target {
        std::optional<T> value;
    } target;
    detail::read_json_document(
        text, options, issues,
        [](void* ctx, const JsonValue& root, detail::ReadState& st) {
            auto& t = *static_cast<Target*>(ctx);
            T value{};
            if (detail::read_value(root, value, st)) t.value.emplace(std::move(value));
        },
        &target);
    return std::move(target.value);
}

// Reads a T from JSON text; throws ValidationError (-> 422) listing every issue.
template <class T>
T parse_json(std::string_view text, const JsonReadOptions& options = {}) {
    std::vector<ValidationIssue> issues;
    std::optional<T> value = read_json<T>(text, issues, options);
    if (!value) throw ValidationError(std::move(issues));
    return std::move(*value);
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

// Writes any supported value (the reading types, plus std::string_view and const char*).
template <class T>
void write_json(JsonWriter& w, const T& v) {
    using detail::IsOptional, detail::IsVector, detail::IsStringMap;
    if constexpr (std::is_same_v<T, bool> || std::is_arithmetic_v<T>) {
        w.value(v);
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
        w.value(std::string_view(v));
    } else if constexpr (IsOptional<T>::value) {
        if (v) {
            write_json(w, *v);
        } else {
            w.null();
        }
    } else if constexpr (IsVector<T>::value) {
        w.begin_array();
        for (const auto& e : v) write_json(w, static_cast<const typename T::value_type&>(e));
        w.end_array();
    } else if constexpr (IsStringMap<T>::value) {
        w.begin_object();
        for (const auto& [k, e] : v) {
            w.key(k);
            write_json(w, e);
        }
        w.end_object();
    } else if constexpr (detail::kDescribedEnum<T>) {
        const char* name = nullptr;
        boost::mp11::mp_for_each<boost::describe::describe_enumerators<T>>([&](auto d) {
            if (!name && v == d.value) name = d.name;
        });
        if (name) {
            w.value(std::string_view(name));
        } else {
            w.value(static_cast<std::underlying_type_t<T>>(v));
        }
    } else if constexpr (detail::kDescribedStruct<T>) {
        w.begin_object();
        boost::mp11::mp_for_each<detail::Members<T>>([&](auto d) {
            w.key(d.name);
            write_json(w, v.*d.pointer);
        });
        w.end_object();
    } else {
        static_assert(detail::kAlwaysFalse<T>, "weir::http::write_json: unsupported type");
    }
}

template <class T>
void append_json(std::string& out, const T& v) {
    JsonWriter w(out);
    write_json(w, v);
}

template <class T>
std::string to_json(const T& v) {
    std::string out;
    append_json(out, v);
    return out;
}

// True for the types write_json / read_json handle (used by App to pick JSON responses).
template <class T>
inline constexpr bool kJsonSerializable =
    std::is_arithmetic_v<T> || std::is_same_v<T, std::string> || detail::IsOptional<T>::value ||
    detail::IsVector<T>::value || detail::IsStringMap<T>::value || detail::kDescribedEnum<T> ||
    detail::kDescribedStruct<T>;

// ---------------------------------------------------------------------------------------------
// JSON Schema (OpenAPI 3.1 dialect)
// ---------------------------------------------------------------------------------------------

// Collects the named schemas (one per described struct) referenced as
// "#/components/schemas/<name>". Names are the unqualified type names, qualified only if two
// types would collide.
class SchemaRegistry {
public:
    struct Reservation {
        std::string name;
        bool fresh;  // first time: the caller must define() the schema
    };
    Reservation reserve(const std::type_info& type);
    void define(std::string_view name, std::string schema);
    // Adds a schema under a fixed name (if absent).
    void add(std::string name, std::string schema);

    // (name, schema JSON) in order of first use.
    const std::vector<std::pair<std::string, std::string>>& schemas() const noexcept {
        return schemas_;
    }

private:
    std::vector<std::pair<const std::type_info*, std::string>> types_;
    std::vector<std::pair<std::string, std::string>> schemas_;
};

// Writes the schema of T (a $ref for described structs, registering them).
template <class T>
void write_json_schema(JsonWriter& w, SchemaRegistry& reg) {
    using detail::IsOptional, detail::IsVector, detail::IsStringMap;
    if constexpr (std::is_same_v<T, bool>) {
        w.begin_object().member("type", "boolean").end_object();
    } else if constexpr (std::is_integral_v<T>) {
        w.begin_object().member("type", "integer");
        if constexpr (sizeof(T) <= 4 && std::is_signed_v<T>) {
            w.member("format", "int32");
        } else if constexpr (std::is_signed_v<T>) {
            w.member("format", "int64");
        } else {
            w.member("minimum", 0);
            if constexpr (sizeof(T) < 8) w.member("maximum", std::numeric_limits<T>::max());
        }
        w.end_object();
    } else if constexpr (std::is_floating_point_v<T>) {
        w.begin_object()
            .member("type", "number")
            .member("format", sizeof(T) <= 4 ? "float" : "double")
            .end_object();
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
        w.begin_object().member("type", "string").end_object();
    } else if constexpr (IsOptional<T>::value) {
        w.begin_object().key("anyOf").begin_array();
        write_json_schema<typename T::value_type>(w, reg);
        w.begin_object().member("type", "null").end_object();
        w.end_array().end_object();
    } else if constexpr (IsVector<T>::value) {
        w.begin_object().member("type", "array").key("items");
        write_json_schema<typename T::value_type>(w, reg);
        w.end_object();
    } else if constexpr (IsStringMap<T>::value) {
        w.begin_object().member("type", "object").key("additionalProperties");
        write_json_schema<typename T::mapped_type>(w, reg);
        w.end_object();
    } else if constexpr (detail::kDescribedEnum<T>) {
        w.begin_object().member("type", "string").key("enum").begin_array();
        boost::mp11::mp_for_each<boost::describe::describe_enumerators<T>>(
            [&](auto d) { w.value(std::string_view(d.name)); });
        w.end_array().end_object();
    } else if constexpr (detail::kDescribedStruct<T>) {
        SchemaRegistry::Reservation r = reg.reserve(typeid(T));
        if (r.fresh) {
            std::string schema;
            JsonWriter sw(schema);
            sw.begin_object().member("type", "object").member("title", r.name);
            sw.key("properties").begin_object();
            boost::mp11::mp_for_each<detail::Members<T>>([&](auto d) {
                using M = std::remove_cvref_t<decltype(std::declval<const T&>().*d.pointer)>;
                sw.key(d.name);
                write_json_schema<M>(sw, reg);
            });
            sw.end_object();
            bool any_required = false;
            boost::mp11::mp_for_each<detail::Members<T>>([&](auto d) {
                using M = std::remove_cvref_t<decltype(std::declval<const T&>().*d.pointer)>;
                if constexpr (!IsOptional<M>::value) {
                    if (!any_required) sw.key("required").begin_array();
                    any_required = true;
                    sw.value(std::string_view(d.name));
                }
            });
            if (any_required) sw.end_array();
            sw.end_object();
            reg.define(r.name, std::move(schema));
        }
        std::string ref = "#/components/schemas/";
        ref += r.name;
        w.begin_object().member("$ref", ref).end_object();
    } else {
        static_assert(detail::kAlwaysFalse<T>, "weir::http::write_json_schema: unsupported type");
    }
}

}  // namespace weir::http
