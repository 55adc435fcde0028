// OpenAPI document generation; see include/weir/http/openapi.hpp.
#include "weir/http/openapi.hpp"

#include <algorithm>
#include <cctype>

#include "weir/http/response.hpp"
#include "weir/http/router.hpp"

namespace weir::http {

namespace {

std::string lower_method(Method m) {
    std::string s(method_name(m));
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// FastAPI-like: get_items__id_ for GET /items/{id}.
std::string default_operation_id(Method m, std::string_view path) {
    std::string id = lower_method(m);
    id += '_';
    for (char c : path) {
        id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    }
    return id;
}

void write_validation_schemas(SchemaRegistry& reg) {
    reg.add("ValidationError",
            R"({"type":"object","title":"ValidationError","properties":{)"
            R"("loc":{"type":"array","items":{"anyOf":[{"type":"string"},{"type":"integer"}]}},)"
            R"("msg":{"type":"string"},"type":{"type":"string"}},)"
            R"("required":["loc","msg","type"]})");
    reg.add(
        "HTTPValidationError",
        R"({"type":"object","title":"HTTPValidationError","properties":{)"
        R"("detail":{"type":"array","items":{"$ref":"#/components/schemas/ValidationError"}}}})");
}

void write_operation(JsonWriter& w, const OpenApiOperation& op,
                     const std::vector<PatternSegment>& segments, const std::string& path,
                     SchemaRegistry& reg) {
    w.key(lower_method(op.method)).begin_object();
    if (!op.tags.empty()) {
        w.key("tags").begin_array();
        for (const std::string& t : op.tags) w.value(t);
        w.end_array();
    }
    if (!op.summary.empty()) w.member("summary", op.summary);
    if (!op.description.empty()) w.member("description", op.description);
    w.member("operationId",
             op.operation_id.empty() ? default_operation_id(op.method, path) : op.operation_id);

    bool any_param = false;
    for (const PatternSegment& s : segments) {
        if (!s.is_param) continue;
        if (!any_param) w.key("parameters").begin_array();
        any_param = true;
        w.begin_object()
            .member("name", s.text)
            .member("in", "path")
            .member("required", true)
            .key("schema")
            .begin_object();
        if (s.type == ParamType::Int) {
            w.member("type", "integer").member("format", "int64");
        } else {
            w.member("type", "string");
        }
        w.end_object().end_object();
    }
    if (op.query_parameters) {
        if (!any_param) w.key("parameters").begin_array();
        any_param = true;
        op.query_parameters(w, reg);
    }
    if (any_param) w.end_array();

    if (op.request_body) {
        w.key("requestBody").begin_object().member("required", true).key("content").begin_object();
        w.key("application/json").begin_object().key("schema");
        op.request_body(w, reg);
        w.end_object().end_object().end_object();
    }

    w.key("responses").begin_object();
    const int ok = op.response ? op.status_code : 200;
    w.key(std::to_string(ok)).begin_object();
    const std::string_view reason = reason_phrase(ok);
    w.member("description", reason.empty() ? std::string_view("Successful Response") : reason);
    if (op.response) {
        w.key("content").begin_object().key("application/json").begin_object().key("schema");
        op.response(w, reg);
        w.end_object().end_object();
    }
    w.end_object();
    if (op.request_body || op.query_parameters) {
        w.key("422").begin_object().member("description", "Validation Error");
        w.key("content").begin_object().key("application/json").begin_object();
        w.key("schema").begin_object();
        w.member("$ref", "#/components/schemas/HTTPValidationError");
        w.end_object().end_object().end_object().end_object();
        write_validation_schemas(reg);
    }
    if (op.has_timeout) {
        w.key("504").begin_object().member("description", "Gateway Timeout").end_object();
    }
    w.end_object();  // responses
    w.end_object();  // operation
}

}  // namespace

std::string openapi_path(std::string_view pattern) {
    std::string out;
    for (const PatternSegment& s : parse_route_pattern(pattern)) {
        out += '/';
        if (s.is_param) {
            out += '{';
            out += s.text;
            out += '}';
        } else {
            out += s.text;
        }
    }
    return out;
}

std::string openapi_document(const OpenApiInfo& info, const std::vector<OpenApiOperation>& ops) {
    // Group operations by path, keeping the order in which paths first appear.
    std::vector<std::pair<std::string, std::vector<const OpenApiOperation*>>> paths;
    for (const OpenApiOperation& op : ops) {
        const std::string path = openapi_path(op.pattern);
        auto it = std::find_if(paths.begin(), paths.end(),
                               [&](const auto& p) { return p.first == path; });
        if (it == paths.end()) {
            paths.emplace_back(path, std::vector<const OpenApiOperation*>{});
            it = paths.end() - 1;
        }
        it->second.push_back(&op);
    }

    SchemaRegistry reg;
    std::string out;
    out.reserve(1024);
    JsonWriter w(out);
    w.begin_object().member("openapi", "3.1.0");
    w.key("info").begin_object().member("title", info.title).member("version", info.version);
    if (!info.description.empty()) w.member("description", info.description);
    w.end_object();
    w.key("paths").begin_object();
    for (const auto& [path, path_ops] : paths) {
        w.key(path).begin_object();
        for (const OpenApiOperation* op : path_ops) {
            write_operation(w, *op, parse_route_pattern(op->pattern), path, reg);
        }
        w.end_object();
    }
    w.end_object();
    if (!reg.schemas().empty()) {
        w.key("components").begin_object().key("schemas").begin_object();
        for (const auto& [name, schema] : reg.schemas()) w.key(name).raw(schema);
        w.end_object().end_object();
    }
    w.end_object();
    return out;
}

}  // namespace weir::http
