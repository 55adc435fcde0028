// ClientRequest: one outgoing HTTP/1.1 request (method, URL, headers, query,
// body as bytes, JSON or a stream of pieces), for http::Client::request().
//
//     weir::http::ClientRequest req{.method = "PUT", .url = "http://svc/items/7"};
//     req.query = {{"dry_run", "1"}};
//     req.set_json(R"({"name":"x"})");
//     auto resp = co_await client.request(std::move(req));
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "weir/core/task.hpp"
#include "weir/http/client_options.hpp"

namespace weir::http {

// A streamed request body: each call returns the next piece, nullopt at the
// end. Sent chunked unless ClientRequest::body_length is set. A streamed
// request is never retried (the stream cannot be replayed).
using BodyStream = std::function<Task<std::optional<std::string>>()>;

struct ClientRequest {
    std::string method = "GET";
    std::string url;
    HeaderPairs headers;
    HeaderPairs query;
    std::string body;
    BodyStream body_stream;
    std::optional<std::uint64_t> body_length;  // with body_stream: sent as Content-Length
    RequestOptions options;

    // Sets the body and Content-Type: application/json.
    ClientRequest& set_json(std::string json_text);
    ClientRequest& set_header(std::string name, std::string value);

    // GET, HEAD, OPTIONS, TRACE, PUT, DELETE (RFC 9110 9.2.2), not streamed.
    bool idempotent() const noexcept;
};

}  // namespace weir::http
