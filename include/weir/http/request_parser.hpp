// Incremental, zero-copy, strict HTTP/1.1 request-head parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "weir/http/parse_error.hpp"
#include "weir/http/request_head.hpp"

namespace weir::http {

struct ParserLimits {
    std::size_t max_head_bytes = 16 * 1024;  // request line + headers + final CRLFCRLF -> 431
    std::size_t max_header_count = 100;      // -> 431
    std::size_t max_uri_length = 8 * 1024;   // request-target -> 414
    std::size_t max_method_length = 32;      // longer tokens cannot be a method we serve -> 501
};

enum class ParseStatus : std::uint8_t { NeedMore, Complete, Error };

struct ParseResult {
    ParseStatus status = ParseStatus::NeedMore;
    ParseError error;  // meaningful only when status == Error

    bool need_more() const noexcept { return status == ParseStatus::NeedMore; }
    bool complete() const noexcept { return status == ParseStatus::Complete; }
    bool failed() const noexcept { return status == ParseStatus::Error; }
};

// Parses one request head from a contiguous buffer that the caller keeps appending to.
//
//   RequestParser parser;
//   for (;;) {
//     append received bytes to buf;
//     ParseResult r = parser.parse(buf);
//     if (r.need_more()) continue;
//     if (r.failed()) { answer r.error.status and close; }
//     use parser.head(); the body starts at buf[parser.head().head_length];
//     drop the head (and body) from buf, then parser.reset() before the next request.
//   }
//
// Between calls the parser remembers only offsets (how far the head has been scanned), never
// pointers, so the caller may reallocate or move the buffer between calls, as long as the bytes
// already passed are unchanged and still at the front. After Complete or Error the result is
// sticky until reset(). The views in head() point into the buffer given to the call that returned
// Complete; they are valid while those bytes stay where they are.
//
// Strict: bare CR or LF, obs-fold, control characters, malformed tokens, ambiguous framing
// (Content-Length with Transfer-Encoding, duplicate or malformed Content-Length, any
// Transfer-Encoding other than a single "chunked") are rejected, with the status to answer.
class RequestParser {
public:
    explicit RequestParser(ParserLimits limits = {}) noexcept : limits_(limits) {}

    ParseResult parse(std::string_view buffer);

    // The parsed head; valid after parse() returned Complete.
    const RequestHead& head() const noexcept { return head_; }

    // Forget the current request (keeps the header overflow capacity) to parse the next one.
    void reset() noexcept;

    const ParserLimits& limits() const noexcept { return limits_; }

private:
    ParseResult fail(ParseError error) noexcept;
    ParseResult parse_head(std::string_view buffer, std::size_t end);

    ParserLimits limits_;
    RequestHead head_;
    ParseResult result_;          // sticky once Complete or Error
    std::size_t scan_pos_ = 0;    // everything before it has been scanned
    std::size_t head_start_ = 0;  // after the empty lines tolerated before the request line
    bool line_ok_ = false;        // the request line is complete and valid
};

}  // namespace weir::http
