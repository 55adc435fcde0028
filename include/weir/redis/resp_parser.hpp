// RespParser: an incremental RESP2 + RESP3 reply parser.
//
//     RespParser p;
//     std::size_t used = 0;
//     while (auto reply = p.parse(buffered_bytes, used)) { ...; drop `used` bytes; }
//
// parse() consumes as many bytes as it can and keeps its state between
// calls, so a reply may arrive split at any byte: bulk string bodies are
// appended as they come (a 100 MB value costs no rescans) and aggregates are
// built on an explicit stack. It returns a reply once one is complete, with
// `used` set to the bytes consumed; it returns nullopt when it needs more
// input, having consumed everything it could (an incomplete header line is
// left unconsumed: present it again with more bytes behind it).
//
// A bulk body's storage grows with the bytes that arrive (what is buffered plus
// kReserveAhead at first, then at least doubling, the announced length once it
// is within kGrowJump of that, never more): a header announcing a huge length
// reserves little by itself.
//
// Big bulk strings need not pass through the caller's buffer: while at least
// kDirectMin bytes of a bulk body are missing, body_space() is the next piece
// (at most kDirectPiece) of the reply's own storage still to fill; the caller
// may read socket bytes straight into it and report them with body_filled(n)
// (what it does not fill is dropped), then go on with parse() for what
// follows (the CRLF, further replies). Everything else is copied from
// parse()'s input.
//
// Supported: every RESP2 type, and RESP3 null, double, boolean, big number,
// bulk error, verbatim string, map, set, push, attributes (attached to the
// next value) and streamed strings/aggregates ($? ;n and *?/%?/~? ... .).
// Invalid input throws ProtocolError; the parser must then be reset() (the
// connection is unusable anyway). Limits bound memory and nesting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "weir/redis/reply.hpp"

namespace weir::redis {

struct RespLimits {
    std::size_t max_bulk_length = 512u * 1024 * 1024;  // redis' proto-max-bulk-len default
    std::size_t max_line_length = 64 * 1024;           // header / simple string lines
    std::size_t max_depth = 128;                       // nesting of aggregates
    std::size_t max_elements = 64u * 1024 * 1024;      // per aggregate
};

class RespParser {
public:
    explicit RespParser(RespLimits limits = {}) : limits_(limits) {}

    // See the header comment. Throws ProtocolError on invalid input.
    std::optional<Reply> parse(std::string_view in, std::size_t& used);

    // Direct body reads (see the header comment).
    static constexpr std::size_t kDirectMin = 16 * 1024;
    static constexpr std::size_t kDirectPiece = 256 * 1024;  // body_space() at most
    std::span<char> body_space() noexcept;
    void body_filled(std::size_t n) noexcept;

    // Storage reserved beyond the bytes received when a bulk body starts; growth goes
    // straight to the announced length once that is at most kGrowJump times the next step.
    static constexpr std::size_t kReserveAhead = 1024 * 1024;
    static constexpr std::size_t kGrowJump = 4;
    // The capacity held by the bulk value being received (0 between values; for tests).
    std::size_t body_capacity() noexcept {
        return state_ == State::header && !streaming_string_ ? 0 : bulk_.mutable_str().capacity();
    }

    // True between replies (no partial value held).
    bool idle() const noexcept {
        return stack_.empty() && state_ == State::header && !pending_attrs_ && !streaming_string_;
    }
    void reset() noexcept;

private:
    enum class State : std::uint8_t { header, bulk_body, bulk_crlf };
    struct Frame {
        Reply value;
        std::int64_t remaining = 0;  // elements still expected (streamed: -1)
        bool attribute = false;      // an attribute map that annotates the next value
    };

    // Adds a finished value to the enclosing aggregate; true if that
    // finished a top-level reply (moved to `out`).
    bool complete(Reply v, std::optional<Reply>& out);
    // A whole top-level +, : or $ reply at the start of `in` (idle parser only):
    // true and the reply in `out`; false leaves everything to the general path.
    bool parse_whole_simple(std::string_view in, std::size_t& used, std::optional<Reply>& out);
    Reply start(ReplyType t, std::string s = {});
    void attach(Reply& r);
    // `buffered`: the input bytes already there behind the header.
    void start_body(std::size_t n, std::size_t buffered);
    // Makes the body's capacity at least `need` (see start_body).
    void grow_body(std::size_t need);

    RespLimits limits_;
    State state_ = State::header;
    std::vector<Frame> stack_;
    Reply bulk_;                     // bulk-ish value being filled
    std::size_t bulk_left_ = 0;      // body bytes still expected
    std::size_t bulk_fill_ = 0;      // where the next body byte goes in bulk_'s string
    bool streaming_string_ = false;  // inside $? ... ;0
    bool chunk_ = false;             // the body being read is a ;n chunk of bulk_
    std::optional<std::vector<Reply>> pending_attrs_;
};

}  // namespace weir::redis
