// Non-template parts of typed JSON bodies; see include/weir/http/typed_body.hpp.
#include "weir/http/typed_body.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace weir::http {

// ---------------------------------------------------------------------------------------------
// Validation errors
// ---------------------------------------------------------------------------------------------

std::string validation_error_json(const std::vector<ValidationIssue>& issues) {
    std::string out;
    out.reserve(64 + issues.size() * 96);
    JsonWriter w(out);
    w.begin_object().key("detail").begin_array();
    for (const ValidationIssue& issue : issues) {
        w.begin_object().key("loc").begin_array();
        for (const LocElement& e : issue.loc) {
            if (const auto* s = std::get_if<std::string>(&e)) {
                w.value(*s);
            } else {
                w.value(std::get<std::size_t>(e));
            }
        }
        w.end_array();
        w.member("msg", issue.msg).member("type", issue.type).end_object();
    }
    w.end_array().end_object();
    return out;
}

Response validation_error_response(const std::vector<ValidationIssue>& issues) {
    return Response::json(validation_error_json(issues), 422);
}

namespace {

std::string summarize(const std::vector<ValidationIssue>& issues) {
    std::string s = std::to_string(issues.size());
    s += issues.size() == 1 ? " validation error" : " validation errors";
    if (!issues.empty()) {
        s += ": ";
        s += issues.front().msg;
    }
    return s;
}

}  // namespace

ValidationError::ValidationError(std::vector<ValidationIssue> issues)
    : HttpError(422, summarize(issues)), issues_(std::move(issues)) {}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------
namespace detail {

ReadState::ReadState(std::vector<ValidationIssue>& issues, const JsonReadOptions& options)
    : issues_(&issues), forbid_extra_(options.forbid_extra_fields) {
    path_.reserve(8);
    if (!options.root.empty()) path_.emplace_back(options.root);
}

void ReadState::fail(std::string_view msg, std::string_view type) {
    ValidationIssue issue;
    issue.loc.reserve(path_.size() + 1);
    for (const auto& e : path_) {
        if (const auto* s = std::get_if<std::string_view>(&e)) {
            issue.loc.emplace_back(std::string(*s));
        } else {
            issue.loc.emplace_back(std::get<std::size_t>(e));
        }
    }
    issue.msg = msg;
    issue.type = type;
    issues_->push_back(std::move(issue));
}

void ReadState::fail_member(std::string_view key, std::string_view msg, std::string_view type) {
    push(key);
    fail(msg, type);
    pop();
}

void ReadState::fail_int_range(std::int64_t min, std::uint64_t max) {
    std::string msg = "Input should be an integer between ";
    msg += std::to_string(min);
    msg += " and ";
    msg += std::to_string(max);
    fail(msg, "int_range");
}

void read_json_document(std::string_view text, const JsonReadOptions& options,
                        std::vector<ValidationIssue>& issues,
                        void (*read)(void* ctx, const JsonValue& root, ReadState& state),
                        void* ctx) {
    ReadState state(issues, options);
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        state.fail("Field required", "missing");
        return;
    }
    struct Call {
        void (*read)(void*, const JsonValue&, ReadState&);
        void* ctx;
        ReadState* state;
    } call{read, ctx, &state};
    with_parsed_json(
        text,
        [](void* c, const JsonValue* root, std::string_view error) {
            auto& call = *static_cast<Call*>(c);
            if (!root) {
                std::string msg = "JSON decode error: ";
                msg += error;
                call.state->fail(msg, "json_invalid");
                return;
            }
            call.read(call.ctx, *root, *call.state);
        },
        &call);
}

std::string demangle(const std::type_info& type) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(
        abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
    return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Schema registry
// ---------------------------------------------------------------------------------------------
namespace {

bool is_ident(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// "app::(anonymous namespace)::Page<app::Item>" -> "Page<Item>" (short) or the whole name.
std::string type_display_name(const std::type_info& type, bool qualified) {
    std::string name = detail::demangle(type);
    for (std::size_t at; (at = name.find("(anonymous namespace)::")) != std::string::npos;) {
        name.erase(at, 23);
    }
    if (qualified) return name;
    std::string out;
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (name[i] == ':' && i + 1 < name.size() && name[i + 1] == ':') {
            while (!out.empty() && is_ident(out.back())) out.pop_back();  // drop the qualifier
            ++i;
        } else {
            out.push_back(name[i]);
        }
    }
    return out;
}

// Component names must match ^[a-zA-Z0-9._-]+$.
std::string sanitize(std::string_view name) {
    std::string out;
    for (char c : name) {
        if (is_ident(c) || c == '.' || c == '-') {
            out.push_back(c);
        } else if (c == ':') {
            if (out.empty() || out.back() != '.') out.push_back('.');
        } else if (c == '<' || c == ',') {
            out.push_back('_');
        }
        // '>', spaces, '*', '&' are dropped.
    }
    return out.empty() ? std::string("Schema") : out;
}

}  // namespace

SchemaRegistry::Reservation SchemaRegistry::reserve(const std::type_info& type) {
    for (const auto& [t, name] : types_) {
        if (*t == type) return {name, false};
    }
    auto taken = [&](const std::string& n) {
        for (const auto& entry : schemas_)
            if (entry.first == n) return true;
        return false;
    };
    std::string name = sanitize(type_display_name(type, false));
    if (taken(name)) name = sanitize(type_display_name(type, true));
    if (taken(name)) {
        const std::string base = name;
        for (int i = 2; taken(name); ++i) name = base + "_" + std::to_string(i);
    }
    types_.emplace_back(&type, name);
    schemas_.emplace_back(name, std::string());  // keeps first-use order; filled by define()
    return {std::move(name), true};
}

void SchemaRegistry::define(std::string_view name, std::string schema) {
    for (auto& [n, s] : schemas_) {
        if (n == name) {
            s = std::move(schema);
            return;
        }
    }
    schemas_.emplace_back(std::string(name), std::move(schema));
}

void SchemaRegistry::add(std::string name, std::string schema) {
    for (const auto& entry : schemas_)
        if (entry.first == name) return;
    schemas_.emplace_back(std::move(name), std::move(schema));
}

}  // namespace weir::http
