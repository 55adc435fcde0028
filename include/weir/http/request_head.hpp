// A parsed HTTP/1.x request head: request line, headers and the facts derived from them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "weir/http/header_list.hpp"
#include "weir/http/http_method.hpp"

namespace weir::http {

enum class HttpVersion : std::uint8_t { Http10, Http11 };

// Every string_view points into the buffer passed to RequestParser::parse() and stays valid only
// as long as those bytes are neither modified nor moved. The one exception: `path` is the static
// string "/" for an absolute-form target without a path ("GET http://host HTTP/1.1").
struct RequestHead {
    Method method = Method::Other;
    std::string_view method_token;  // the raw method, e.g. "GET" or "PURGE"
    std::string_view target;        // the raw request-target
    std::string_view authority;     // host[:port] of an absolute-form target, else empty
    std::string_view path;          // target up to '?' ("*" for "OPTIONS *"); not percent-decoded
    std::string_view query;         // raw text after the first '?', without it; empty if none
    HttpVersion version = HttpVersion::Http11;
    HeaderList headers;
    std::size_t head_length = 0;  // bytes of the buffer taken by the head, final CRLFCRLF included

    bool keep_alive = false;                      // after HTTP version defaults and Connection
    std::optional<std::uint64_t> content_length;  // present and valid (never together with chunked)
    bool chunked = false;                         // Transfer-Encoding: chunked
    bool expect_continue = false;                 // Expect: 100-continue on an HTTP/1.1 request
    bool has_host = false;

    std::optional<std::string_view> find_header(std::string_view name) const noexcept {
        return headers.find(name);
    }

    // True if a message body follows the head (chunked, or a non-zero Content-Length).
    bool has_body() const noexcept { return chunked || content_length.value_or(0) != 0; }

    void clear() noexcept {
        method = Method::Other;
        method_token = target = authority = path = query = {};
        version = HttpVersion::Http11;
        headers.clear();
        head_length = 0;
        keep_alive = false;
        content_length.reset();
        chunked = expect_continue = has_host = false;
    }
};

}  // namespace weir::http
