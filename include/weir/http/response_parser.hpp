// Incremental HTTP/1.1 response parser for the client: the status line and
// header fields (ResponseParser), then the body framing (Content-Length,
// chunked, read-to-close, or none) decoded step by step (BodyDecoder).
//
//     ResponseParser parser;
//     parser.set_head_request(method == "HEAD");
//     for (;;) {                                   // append received bytes to buf
//         auto r = parser.parse(buf);              // 1xx interim responses are skipped
//         if (r.complete()) break;                 // parser.head(), body at buf[r.consumed]
//         if (r.failed()) throw ...(r.error);
//     }
//     BodyDecoder body(parser.head().framing, parser.head().content_length);
//     auto s = body.step(rest);                    // Data views, NeedMore, Done or Error
//
// Strict about framing (it decides where the next response starts on a reused
// connection): malformed or conflicting Content-Length is an error; a
// Transfer-Encoding whose last coding is not chunked is read to close.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weir/http/chunked_decoder.hpp"
#include "weir/http/response_headers.hpp"

namespace weir::http {

enum class BodyFraming : std::uint8_t {
    None,        // HEAD, 1xx, 204, 304: no body bytes follow the head
    Length,      // Content-Length
    Chunked,     // Transfer-Encoding: chunked
    UntilClose,  // delimited by the end of the connection
};

struct ResponseHead {
    int version_minor = 1;  // HTTP/1.x
    int status = 0;
    std::string reason;
    // Names as received (case preserved); look them up case-insensitively. Empty for the
    // skipped interim heads.
    ResponseHeaders headers;
    BodyFraming framing = BodyFraming::None;
    std::uint64_t content_length = 0;  // framing == Length
    bool keep_alive = true;            // the connection may carry another request afterwards

    std::optional<std::string_view> header(std::string_view name) const noexcept;
};

struct ResponseLimits {
    std::size_t max_head_bytes = 64 * 1024;  // status line + headers (each response head)
    std::size_t max_header_count = 200;
    std::size_t max_interim_responses = 16;  // 1xx heads skipped before the final one
};

struct ResponseParseResult {
    enum class Status : std::uint8_t { NeedMore, Complete, Error };
    Status status = Status::NeedMore;
    std::size_t consumed = 0;  // Complete: bytes of the buffer used by the head(s)
    std::string_view error;    // Error: a string literal describing the problem

    bool need_more() const noexcept { return status == Status::NeedMore; }
    bool complete() const noexcept { return status == Status::Complete; }
    bool failed() const noexcept { return status == Status::Error; }
};

// Parses one final response head from a buffer the caller keeps appending to
// (the bytes already passed must stay unchanged at its front). Interim 1xx
// responses (other than 101) are consumed and skipped.
class ResponseParser {
public:
    explicit ResponseParser(ResponseLimits limits = {}) noexcept : limits_(limits) {}

    // The response answers a HEAD request: it has no body whatever its headers say.
    void set_head_request(bool head) noexcept { head_request_ = head; }

    ResponseParseResult parse(std::string_view buffer);

    const ResponseHead& head() const noexcept { return head_; }
    ResponseHead& head() noexcept { return head_; }
    std::size_t interim_responses() const noexcept { return interim_; }

    void reset() noexcept;

private:
    ResponseParseResult fail(std::string_view why) noexcept;
    // Parses buffer[start, end) (end points after the final CRLFCRLF).
    bool parse_head(std::string_view head, std::string_view& error);

    ResponseLimits limits_;
    ResponseHead head_;
    ResponseParseResult result_;
    std::size_t start_ = 0;     // where the current head starts (after skipped 1xx heads)
    std::size_t scan_pos_ = 0;  // searched for CRLFCRLF up to here
    std::size_t interim_ = 0;
    bool head_request_ = false;
};

// Decodes a response body according to its framing. step() is zero-copy.
class BodyDecoder {
public:
    enum class Status : std::uint8_t { NeedMore, Data, Done, Error };
    struct Step {
        Status status = Status::NeedMore;
        std::size_t consumed = 0;  // bytes of the input used
        std::string_view data;     // Data: body bytes (a view into the input)
        std::string_view error;    // Error: a string literal
    };

    BodyDecoder() noexcept = default;
    BodyDecoder(BodyFraming framing, std::uint64_t content_length,
                std::uint64_t max_body_bytes = UINT64_MAX) noexcept;

    // Consumes framing up to the next body bytes and returns them (Data), or
    // reports NeedMore (all input consumed), Done (bytes after `consumed`
    // belong to the next response) or Error. Errors are sticky.
    Step step(std::string_view in) noexcept;

    // The connection reached EOF: Done for read-to-close bodies, else Error.
    Step finish_at_eof() noexcept;

    bool done() const noexcept { return done_; }
    std::uint64_t body_bytes() const noexcept { return delivered_; }
    BodyFraming framing() const noexcept { return framing_; }

private:
    Step fail(std::string_view why) noexcept;

    BodyFraming framing_ = BodyFraming::None;
    std::uint64_t remaining_ = 0;
    std::uint64_t delivered_ = 0;
    std::uint64_t max_body_bytes_ = UINT64_MAX;
    ChunkedDecoder chunked_;
    bool done_ = true;
    bool failed_ = false;
    std::string_view error_;
};

}  // namespace weir::http
