// Incremental decoder of the chunked transfer coding (RFC 9112 section 7.1) for request bodies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "weir/http/parse_error.hpp"

namespace weir::http {

struct ChunkedLimits {
    std::uint64_t max_body_bytes = 1024 * 1024;  // decoded bytes -> 413
    std::size_t max_extension_bytes = 1024;      // per size line: bytes after the size -> 400
    std::size_t max_trailer_bytes = 8 * 1024;    // whole trailer section -> 431
};

enum class ChunkedStatus : std::uint8_t {
    NeedMore,  // all input consumed, body not finished
    Data,      // step() only: `data` holds decoded bytes, call again with the rest of the input
    Done,      // the final CRLF was consumed; bytes after `consumed` belong to the next request
    Error,
};

struct ChunkedResult {
    ChunkedStatus status = ChunkedStatus::NeedMore;
    std::size_t consumed = 0;  // bytes of the input used by this call
    std::string_view data;     // step() with status Data: a view into the input
    ParseError error;  // status Error: 400, 413 (body too large) or 431 (trailers too large)
};

// Feed it the body bytes as they arrive, split anywhere; it keeps its state across calls.
// Chunk extensions are skipped (bounded), trailer fields are checked and skipped (bounded).
// Strict: sizes must be 1-16 hex digits, lines end in CRLF, chunk data must be followed by CRLF.
class ChunkedDecoder {
public:
    explicit ChunkedDecoder(ChunkedLimits limits = {}) noexcept : limits_(limits) {}

    // Zero-copy: consumes framing bytes up to the next run of chunk data and returns it as a view
    // into `in` (status Data), or consumes everything (NeedMore), or stops after the body (Done).
    ChunkedResult step(std::string_view in) noexcept;

    // Decodes as much of `in` as possible, appending the data to `out`. Returns NeedMore (all of
    // `in` consumed), Done (with `consumed` <= in.size()) or Error (`out` may hold partial data).
    ChunkedResult feed(std::string_view in, std::string& out);

    bool done() const noexcept { return state_ == State::Done; }
    std::uint64_t body_size() const noexcept { return body_size_; }  // decoded bytes so far
    void reset() noexcept;

private:
    enum class State : std::uint8_t {
        Size,          // chunk-size hex digits
        SizeSpace,     // BWS between the size and ';'
        Extension,     // after ';' until CR
        SizeLf,        // LF ending the chunk-size line
        Data,          // chunk data
        DataCr,        // CR after chunk data
        DataLf,        // LF after chunk data
        TrailerStart,  // start of a trailer line or of the final CRLF
        TrailerName,   // field name
        TrailerValue,  // field value until CR
        TrailerLf,     // LF ending a trailer field
        FinalLf,       // LF of the final CRLF
        Done,
        Failed,
    };

    ChunkedResult fail(std::size_t consumed, int status, std::string_view reason) noexcept;

    ChunkedLimits limits_;
    State state_ = State::Size;
    std::uint64_t chunk_size_ = 0;  // size being read, then bytes of the chunk still to deliver
    std::uint64_t body_size_ = 0;
    std::size_t size_digits_ = 0;
    std::size_t line_bytes_ = 0;     // extension bytes of the current size line
    std::size_t trailer_bytes_ = 0;  // bytes of the trailer section so far
    ParseError error_;
};

}  // namespace weir::http
