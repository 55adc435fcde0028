// Response: what a handler returns. Status, headers and a body that is
// either a complete string (sent with Content-Length) or a stream (sent
// chunked): a coroutine that writes pieces through a BodyWriter.
//
//     co_return weir::http::Response::text("Hello, World!");
//     co_return weir::http::Response::json(R"({"message":"Hello, World!"})");
//
// The server adds Date, Server, Content-Length / Transfer-Encoding and
// Connection itself.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weir/core/task.hpp"

namespace weir::http {

// Streams a response body; each write becomes one chunk on the wire.
class BodyWriter {
public:
    virtual Task<void> write(std::string_view data) = 0;

protected:
    ~BodyWriter() = default;
};

class Response {
public:
    using Stream = std::function<Task<void>(BodyWriter&)>;

    Response() = default;
    explicit Response(int status) : status_(status) {}
    Response(int status, std::string body, std::string content_type)
        : status_(status), body_(std::move(body)), content_type_(std::move(content_type)) {}

    static Response text(std::string body, int status = 200) {
        return Response(status, std::move(body), kStatic, "text/plain");
    }
    static Response json(std::string body, int status = 200) {
        return Response(status, std::move(body), kStatic, "application/json");
    }
    static Response html(std::string body, int status = 200) {
        return Response(status, std::move(body), kStatic, "text/html; charset=utf-8");
    }
    static Response no_content() { return Response(204); }
    // A chunked body produced by `stream` while the response is written.
    static Response streamed(Stream stream, std::string content_type, int status = 200) {
        Response r(status);
        r.stream_ = std::move(stream);
        r.content_type_ = std::move(content_type);
        return r;
    }

    int status() const noexcept { return status_; }
    void set_status(int s) noexcept { status_ = s; }
    const std::string& body() const noexcept { return body_; }
    std::string& body() noexcept { return body_; }
    std::string_view content_type() const noexcept {
        return static_type_.empty() ? std::string_view(content_type_) : static_type_;
    }
    void set_content_type(std::string ct) {
        content_type_ = std::move(ct);
        static_type_ = {};
    }
    const Stream& stream() const noexcept { return stream_; }
    bool is_streamed() const noexcept { return static_cast<bool>(stream_); }

    // Extra headers, in order (names as given; the server does not dedupe).
    Response& header(std::string name, std::string value) {
        headers_.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    const std::vector<std::pair<std::string, std::string>>& headers() const noexcept {
        return headers_;
    }
    std::vector<std::pair<std::string, std::string>>& headers() noexcept { return headers_; }

    // Ask the server to close the connection after this response.
    void set_close(bool c) noexcept { close_ = c; }
    bool close() const noexcept { return close_; }

private:
    // The common types are string literals, kept as views: "application/json" is one byte
    // too long for a std::string's own buffer, which would cost an allocation per response.
    struct StaticTag {};
    static constexpr StaticTag kStatic{};
    Response(int status, std::string body, StaticTag, std::string_view literal_type)
        : status_(status), body_(std::move(body)), static_type_(literal_type) {}

    int status_ = 200;
    std::string body_;
    std::string content_type_;      // set by the caller
    std::string_view static_type_;  // or a literal, when not empty
    std::vector<std::pair<std::string, std::string>> headers_;
    Stream stream_;
    bool close_ = false;
};

// The standard reason phrase for a status code ("OK", "Not Found", ...).
std::string_view reason_phrase(int status) noexcept;

}  // namespace weir::http
