// JSON writer primitives and the simdjson-backed reader; see include/weir/http/json.hpp.
#include "weir/http/json.hpp"

#include <simdjson.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <new>

namespace weir::http {

namespace dom = simdjson::dom;

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------
namespace {

// 0: copy as is; 1: needs an escape.
constexpr std::array<bool, 256> make_escape_table() noexcept {
    std::array<bool, 256> t{};
    for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = true;
    t['"'] = true;
    t['\\'] = true;
    return t;
}
constexpr std::array<bool, 256> kNeedsEscape = make_escape_table();

void append_escape(std::string& out, unsigned char c) {
    switch (c) {
        case '"':
            out.append("\\\"");
            return;
        case '\\':
            out.append("\\\\");
            return;
        case '\b':
            out.append("\\b");
            return;
        case '\f':
            out.append("\\f");
            return;
        case '\n':
            out.append("\\n");
            return;
        case '\r':
            out.append("\\r");
            return;
        case '\t':
            out.append("\\t");
            return;
        default: {
            static constexpr char kHex[] = "0123456789abcdef";
            const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
            out.append(esc, sizeof esc);
            return;
        }
    }
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    out.reserve(out.size() + s.size() + 2);
    out.push_back('"');
    const char* p = s.data();
    const char* const end = p + s.size();
    const char* run = p;
    for (; p != end; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        if (kNeedsEscape[c]) [[unlikely]] {
            out.append(run, static_cast<std::size_t>(p - run));
            append_escape(out, c);
            run = p + 1;
        }
    }
    out.append(run, static_cast<std::size_t>(end - run));
    out.push_back('"');
}

void append_json_number(std::string& out, std::int64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

void append_json_number(std::string& out, std::uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

void append_json_number(std::string& out, double v) {
    if (!std::isfinite(v)) {
        out.append("null");
        return;
    }
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------
namespace detail {

struct JsonValueAccess {
    static_assert(sizeof(dom::element) <= sizeof(JsonValue::raw_));
    static_assert(alignof(dom::element) <= alignof(JsonValue));
    static_assert(std::is_trivially_copyable_v<dom::element>);

    static dom::element unwrap(const JsonValue& v) noexcept {
        dom::element e;
        std::memcpy(static_cast<void*>(&e), v.raw_, sizeof e);
        return e;
    }
    static JsonValue wrap(dom::element e) noexcept {
        JsonValue v;
        std::memcpy(v.raw_, static_cast<const void*>(&e), sizeof e);
        return v;
    }
};

}  // namespace detail

namespace {

dom::element unwrap(const JsonValue& v) noexcept { return detail::JsonValueAccess::unwrap(v); }
JsonValue wrap(dom::element e) noexcept { return detail::JsonValueAccess::wrap(e); }

}  // namespace

std::string_view to_string(JsonType type) noexcept {
    switch (type) {
        case JsonType::Null:
            return "null";
        case JsonType::Bool:
            return "boolean";
        case JsonType::Int64:
        case JsonType::Uint64:
            return "integer";
        case JsonType::Double:
            return "number";
        case JsonType::String:
            return "string";
        case JsonType::Array:
            return "array";
        case JsonType::Object:
            return "object";
    }
    return "unknown";
}

JsonType JsonValue::type() const noexcept {
    switch (unwrap(*this).type()) {
        case dom::element_type::ARRAY:
            return JsonType::Array;
        case dom::element_type::OBJECT:
            return JsonType::Object;
        case dom::element_type::INT64:
            return JsonType::Int64;
        case dom::element_type::UINT64:
            return JsonType::Uint64;
        case dom::element_type::DOUBLE:
            return JsonType::Double;
        case dom::element_type::STRING:
            return JsonType::String;
        case dom::element_type::BOOL:
            return JsonType::Bool;
        case dom::element_type::NULL_VALUE:
            return JsonType::Null;
    }
    return JsonType::Null;
}

std::optional<bool> JsonValue::get_bool() const noexcept {
    bool b;
    if (unwrap(*this).get_bool().get(b)) return std::nullopt;
    return b;
}

std::optional<std::int64_t> JsonValue::get_int64() const noexcept {
    const dom::element e = unwrap(*this);
    if (!e.is_int64() && !e.is_uint64()) return std::nullopt;  // doubles are not integers here
    std::int64_t v;
    if (e.get_int64().get(v)) return std::nullopt;  // a uint64 above INT64_MAX
    return v;
}

std::optional<std::uint64_t> JsonValue::get_uint64() const noexcept {
    const dom::element e = unwrap(*this);
    if (!e.is_int64() && !e.is_uint64()) return std::nullopt;
    std::uint64_t v;
    if (e.get_uint64().get(v)) return std::nullopt;  // negative
    return v;
}

std::optional<double> JsonValue::get_double() const noexcept {
    double v;
    if (unwrap(*this).get_double().get(v)) return std::nullopt;
    return v;
}

std::optional<std::string_view> JsonValue::get_string() const noexcept {
    std::string_view s;
    if (unwrap(*this).get_string().get(s)) return std::nullopt;
    return s;
}

std::optional<JsonValue> JsonValue::find(std::string_view key) const noexcept {
    dom::object obj;
    if (unwrap(*this).get_object().get(obj)) return std::nullopt;
    dom::element e;
    if (obj.at_key(key).get(e)) return std::nullopt;
    return wrap(e);
}

std::optional<JsonValue> JsonValue::at(std::size_t index) const noexcept {
    dom::array arr;
    if (unwrap(*this).get_array().get(arr)) return std::nullopt;
    dom::element e;
    if (arr.at(index).get(e)) return std::nullopt;
    return wrap(e);
}

std::size_t JsonValue::size() const noexcept {
    const dom::element e = unwrap(*this);
    dom::array arr;
    if (!e.get_array().get(arr)) return arr.size();
    dom::object obj;
    if (!e.get_object().get(obj)) return obj.size();
    return 0;
}

void JsonValue::each_member(void (*fn)(void*, std::string_view, const JsonValue&),
                            void* ctx) const {
    dom::object obj;
    if (unwrap(*this).get_object().get(obj)) return;
    for (dom::key_value_pair kv : obj) fn(ctx, kv.key, wrap(kv.value));
}

void JsonValue::each_element(void (*fn)(void*, std::size_t, const JsonValue&), void* ctx) const {
    dom::array arr;
    if (unwrap(*this).get_array().get(arr)) return;
    std::size_t i = 0;
    for (dom::element e : arr) fn(ctx, i++, wrap(e));
}

std::string JsonValue::to_json() const { return simdjson::minify(unwrap(*this)); }

struct JsonDocument::Impl {
    dom::parser parser;
};

JsonDocument::JsonDocument() noexcept = default;
JsonDocument::JsonDocument(JsonDocument&&) noexcept = default;
JsonDocument& JsonDocument::operator=(JsonDocument&&) noexcept = default;
JsonDocument::~JsonDocument() = default;

JsonDocument JsonDocument::parse(std::string_view text) {
    JsonDocument doc;
    doc.impl_ = std::make_unique<Impl>();
    dom::element root;
    if (const auto err = doc.impl_->parser.parse(text.data(), text.size(), true).get(root)) {
        throw JsonError(std::string("invalid JSON: ") + simdjson::error_message(err));
    }
    doc.root_ = wrap(root);
    return doc;
}

namespace detail {

namespace {

// One parser and one padded input buffer per thread, reused by every typed-body read.
struct ThreadParser {
    dom::parser parser;
    std::string buffer;
    bool busy = false;
};

// Keeps the reused buffers from pinning a huge one-off document forever.
constexpr std::size_t kKeepCapacity = 1 << 20;

}  // namespace

void with_parsed_json(std::string_view text,
                      void (*fn)(void* ctx, const JsonValue* root, std::string_view error),
                      void* ctx) {
    thread_local ThreadParser tp;
    if (tp.busy) {  // re-entered from inside fn: use a private parser
        dom::parser parser;
        dom::element root;
        if (const auto err = parser.parse(text.data(), text.size(), true).get(root)) {
            fn(ctx, nullptr, simdjson::error_message(err));
            return;
        }
        const JsonValue v = wrap(root);
        fn(ctx, &v, {});
        return;
    }
    struct Busy {
        ThreadParser& tp;
        explicit Busy(ThreadParser& t) : tp(t) { tp.busy = true; }
        ~Busy() {
            tp.busy = false;
            if (tp.buffer.capacity() > kKeepCapacity) {
                std::string().swap(tp.buffer);
                tp.parser = dom::parser();  // its tape grew with the document: drop it too
            }
        }
    } busy(tp);
    // Copy into a buffer with SIMDJSON_PADDING spare bytes so the parser needs no allocation.
    tp.buffer.reserve(text.size() + simdjson::SIMDJSON_PADDING);
    tp.buffer.assign(text.data(), text.size());
    dom::element root;
    if (const auto err = tp.parser.parse(tp.buffer.data(), tp.buffer.size(), false).get(root)) {
        fn(ctx, nullptr, simdjson::error_message(err));
        return;
    }
    const JsonValue v = wrap(root);
    fn(ctx, &v, {});
}

}  // namespace detail

}  // namespace weir::http
