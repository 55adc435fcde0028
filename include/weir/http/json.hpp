// JSON for handlers: a fast writer that appends straight into a std::string,
// and read access to parsed documents (simdjson underneath, kept out of this
// header so including it stays cheap).
//
//     std::string out;
//     weir::http::JsonWriter w(out);
//     w.begin_object().member("message", "Hello, World!").member("n", 42).end_object();
//     // out == R"({"message":"Hello, World!","n":42})"
//
//     auto doc = weir::http::JsonDocument::parse(R"({"a":[1,2.5,"x"]})");
//     doc.root().find("a")->for_each_element([](std::size_t i, weir::http::JsonValue v) {...});
//
// Typed (struct) bodies are read and written by typed_body.hpp on top of this.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace weir::http {

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

// Appends `s` as a quoted JSON string: '"', '\\' and control characters are escaped; other bytes
// (UTF-8 included) are copied as they are.
void append_json_string(std::string& out, std::string_view s);
void append_json_number(std::string& out, std::int64_t v);
void append_json_number(std::string& out, std::uint64_t v);
// Shortest text that reads back as the same double; NaN and infinities become null.
void append_json_number(std::string& out, double v);

// Streams JSON into a string. Commas and colons are placed automatically; the caller is
// responsible for balancing begin_/end_ calls and for calling key() before each object member.
class JsonWriter {
public:
    explicit JsonWriter(std::string& out) noexcept : out_(&out) {}

    JsonWriter& begin_object() {
        separate();
        out_->push_back('{');
        comma_ = false;
        return *this;
    }
    JsonWriter& end_object() {
        out_->push_back('}');
        comma_ = true;
        return *this;
    }
    JsonWriter& begin_array() {
        separate();
        out_->push_back('[');
        comma_ = false;
        return *this;
    }
    JsonWriter& end_array() {
        out_->push_back(']');
        comma_ = true;
        return *this;
    }
    JsonWriter& key(std::string_view k) {
        separate();
        append_json_string(*out_, k);
        out_->push_back(':');
        comma_ = false;
        return *this;
    }

    JsonWriter& value(std::string_view s) {
        separate();
        append_json_string(*out_, s);
        return *this;
    }
    JsonWriter& value(const char* s) { return value(std::string_view(s)); }
    JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
    JsonWriter& value(bool b) {
        separate();
        out_->append(b ? "true" : "false");
        return *this;
    }
    JsonWriter& value(std::nullptr_t) { return null(); }
    JsonWriter& value(char) = delete;  // a one-character string or a number? say which
    template <class T>
    requires(std::integral<T> && !std::same_as<T, bool> &&
             !std::same_as<T, char>) JsonWriter& value(T v) {
        separate();
        if constexpr (std::is_signed_v<T>) {
            append_json_number(*out_, static_cast<std::int64_t>(v));
        } else {
            append_json_number(*out_, static_cast<std::uint64_t>(v));
        }
        return *this;
    }
    template <std::floating_point T>
    JsonWriter& value(T v) {
        separate();
        append_json_number(*out_, static_cast<double>(v));
        return *this;
    }
    JsonWriter& null() {
        separate();
        out_->append("null");
        return *this;
    }
    // A complete, already serialised JSON value, copied verbatim.
    JsonWriter& raw(std::string_view json) {
        separate();
        out_->append(json);
        return *this;
    }

    // key(k) then value(v).
    template <class T>
    JsonWriter& member(std::string_view k, const T& v) {
        key(k);
        return value(v);
    }

    std::string& str() noexcept { return *out_; }

private:
    void separate() {
        if (comma_) out_->push_back(',');
        comma_ = true;
    }

    std::string* out_;
    bool comma_ = false;  // a value was written at this level, the next one needs a ','
};

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

// The text is not valid JSON.
class JsonError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {
struct JsonValueAccess;
}

enum class JsonType : std::uint8_t { Null, Bool, Int64, Uint64, Double, String, Array, Object };

std::string_view to_string(JsonType type) noexcept;  // "null", "boolean", "integer", ...

// A view of one value inside a parsed document (JsonDocument, or the document a typed-body read
// is working on); valid as long as that document. Cheap to copy.
class JsonValue {
public:
    JsonValue() noexcept = default;

    JsonType type() const noexcept;
    bool is_null() const noexcept { return type() == JsonType::Null; }
    bool is_number() const noexcept {
        const JsonType t = type();
        return t == JsonType::Int64 || t == JsonType::Uint64 || t == JsonType::Double;
    }

    // Each returns nullopt when the value is not of that kind. get_int64/get_uint64 accept any
    // integer in range (not doubles); get_double accepts every number.
    std::optional<bool> get_bool() const noexcept;
    std::optional<std::int64_t> get_int64() const noexcept;
    std::optional<std::uint64_t> get_uint64() const noexcept;
    std::optional<double> get_double() const noexcept;
    std::optional<std::string_view> get_string() const noexcept;

    // Member `key` of an object (the first, if repeated); nullopt if absent or not an object.
    std::optional<JsonValue> find(std::string_view key) const noexcept;
    // Element `index` of an array; nullopt if out of range or not an array.
    std::optional<JsonValue> at(std::size_t index) const noexcept;
    // Number of members / elements; 0 for scalars.
    std::size_t size() const noexcept;

    // f(std::string_view key, JsonValue value) for each member of an object, in document order.
    template <class F>
    void for_each_member(F&& f) const {
        each_member(
            [](void* fn, std::string_view k, const JsonValue& v) { (*static_cast<F*>(fn))(k, v); },
            static_cast<void*>(std::addressof(f)));
    }
    // f(std::size_t index, JsonValue value) for each element of an array.
    template <class F>
    void for_each_element(F&& f) const {
        each_element(
            [](void* fn, std::size_t i, const JsonValue& v) { (*static_cast<F*>(fn))(i, v); },
            static_cast<void*>(std::addressof(f)));
    }

    // The value as minified JSON text.
    std::string to_json() const;

private:
    friend struct detail::JsonValueAccess;

    // The simdjson element, stored opaquely (see json.cpp).
    alignas(8) unsigned char raw_[16] = {};

    void each_member(void (*fn)(void*, std::string_view, const JsonValue&), void* ctx) const;
    void each_element(void (*fn)(void*, std::size_t, const JsonValue&), void* ctx) const;
};

// An owned, parsed JSON document.
class JsonDocument {
public:
    // Throws JsonError.
    static JsonDocument parse(std::string_view text);

    JsonDocument(JsonDocument&&) noexcept;
    JsonDocument& operator=(JsonDocument&&) noexcept;
    ~JsonDocument();

    JsonValue root() const noexcept { return root_; }

private:
    struct Impl;
    JsonDocument() noexcept;
    std::unique_ptr<Impl> impl_;
    JsonValue root_;
};

namespace detail {

// Parses `text` with this thread's reusable parser and calls fn(ctx, &root, {}) on success or
// fn(ctx, nullptr, message) when the text is not JSON. The root is valid only during the call.
// Re-entrant (a nested call uses a fresh parser).
void with_parsed_json(std::string_view text,
                      void (*fn)(void* ctx, const JsonValue* root, std::string_view error),
                      void* ctx);

}  // namespace detail

}  // namespace weir::http
