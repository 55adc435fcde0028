// OpenAPI 3.1 documents generated from routes (App serves one at /openapi.json).
//
// Each operation lists its path parameters with their types ({id:int} -> integer/int64), its
// typed query parameters (Query<T> handler parameters), the
// JSON Schema of a typed request body and of a typed response (described structs become
// #/components/schemas entries, required = the non-optional members), a 422 response for
// typed bodies, a 504 response for routes with a timeout, and its summary, description and tags.
#pragma once

#include <string>
#include <vector>

#include "weir/http/http_method.hpp"
#include "weir/http/json.hpp"
#include "weir/http/typed_body.hpp"

namespace weir::http {

struct OpenApiInfo {
    std::string title = "weir";
    std::string version = "0.1.0";
    std::string description{};
};

using SchemaWriter = void (*)(JsonWriter&, SchemaRegistry&);

struct OpenApiOperation {
    Method method = Method::Get;
    std::string pattern;  // router pattern, e.g. "/items/{id:int}"
    std::string summary;
    std::string description;
    std::vector<std::string> tags;
    std::string operation_id;  // empty: derived from method and path
    int status_code = 200;     // of a successful response
    bool has_timeout = false;
    SchemaWriter request_body = nullptr;      // typed request body, if any
    SchemaWriter response = nullptr;          // typed response body, if any
    SchemaWriter query_parameters = nullptr;  // writes Query<T> parameter objects, if any
};

// The OpenAPI document (JSON text) for `operations`, in order (grouped by path).
std::string openapi_document(const OpenApiInfo& info, const std::vector<OpenApiOperation>& ops);

// "/items/{id:int}" -> "/items/{id}".
std::string openapi_path(std::string_view pattern);

}  // namespace weir::http
