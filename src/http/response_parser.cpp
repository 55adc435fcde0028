#include "weir/http/response_parser.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "weir/http/ascii.hpp"

namespace weir::http {

namespace {

inline std::string_view trim_field(std::string_view s) noexcept { return trim_ows(s); }

bool valid_value_char(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return c == '\t' || (u >= 0x20 && u != 0x7f);
}

// True when one of the eight bytes of `w` is below 0x20 or 0x7f (bytes >= 0x80 are obs-text).
bool word_has_control(std::uint64_t w) noexcept {
    constexpr std::uint64_t kOnes = 0x0101010101010101ull;
    constexpr std::uint64_t kHigh = 0x8080808080808080ull;
    const std::uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
    const std::uint64_t x = w ^ (kOnes * 0x7f);
    const std::uint64_t del = (x - kOnes) & ~x & kHigh;
    return (below_space | del) != 0;
}

// Every byte of `v` passes valid_value_char(). Eight bytes at a time: a word with no byte
// below 0x20 and none equal to 0x7f is valid as a whole; a word that has one (a tab, or an
// invalid byte) is checked byte by byte. The last word overlaps the one before it (or, for
// a short value, is padded with spaces), so there is no byte loop for the tail.
bool valid_value(std::string_view v) noexcept {
    const std::size_t n = v.size();
    if (n < 8) {
        std::uint64_t w = 0x2020202020202020ull;
        if (n > 0) std::memcpy(&w, v.data(), n);
        if (!word_has_control(w)) return true;
        for (char c : v)
            if (!valid_value_char(c)) return false;
        return true;
    }
    for (std::size_t i = 0;; i += 8) {
        if (i + 8 > n) i = n - 8;
        std::uint64_t w;
        std::memcpy(&w, v.data() + i, 8);
        if (word_has_control(w)) {
            for (std::size_t j = i; j < i + 8; ++j)
                if (!valid_value_char(v[j])) return false;
        }
        if (i + 8 == n) return true;
    }
}

// Position of the first byte of `s` at or after `i` that a field value cannot hold (below
// 0x20 but a tab, or 0x7f), or s.size(). Eight bytes at a time: the lowest byte that
// word_has_control()'s masks flag is a control byte (a borrow only flags bytes above a real
// one), so each control byte costs one step, and only a tab lets the scan go on past it.
std::size_t find_value_end(std::string_view s, std::size_t i) noexcept {
    constexpr std::uint64_t kOnes = 0x0101010101010101ull;
    constexpr std::uint64_t kHigh = 0x8080808080808080ull;
    const std::size_t n = s.size();
    while (i + 8 <= n) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        const std::uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
        const std::uint64_t x = w ^ (kOnes * 0x7f);
        const std::uint64_t del = (x - kOnes) & ~x & kHigh;
        const std::uint64_t mask = below_space | del;
        if (mask == 0) {
            i += 8;
            continue;
        }
        i += static_cast<std::size_t>(std::countr_zero(mask)) / 8;
        if (s[i] != '\t') return i;
        ++i;
    }
    for (; i < n; ++i)
        if (!valid_value_char(s[i])) return i;
    return n;
}

// Offset of the first CRLFCRLF in `s` at or after `from`, or npos (as s.find("\r\n\r\n", from)).
std::size_t find_head_end(std::string_view s, std::size_t from) noexcept {
    const char* const begin = s.data();
    const char* p = begin + std::min(from, s.size());
    const char* const end = begin + s.size();
    while (end - p >= 4) {
        const auto* cr =
            static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(end - p) - 3));
        if (!cr) break;
        if (cr[1] == '\n' && cr[2] == '\r' && cr[3] == '\n')
            return static_cast<std::size_t>(cr - begin);
        p = cr + 1;
    }
    return std::string_view::npos;
}

// iequals(s, lower) for a `lower` of lowercase letters, digits and '-' and an `s` without
// control bytes (a header name, a checked value): then setting bit 5 of every byte of `s`
// lowers exactly its letters and changes nothing that could become one of `lower`'s bytes
// (only the control bytes 0x0d and 0x10-0x19 turn into '-' or a digit), so one compare per
// eight bytes, inline, does what iequals' letter test does.
inline bool equals_lowercase(std::string_view s, std::string_view lower) noexcept {
    if (s.size() != lower.size()) return false;
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t x, y;
        std::memcpy(&x, s.data() + i, 8);
        std::memcpy(&y, lower.data() + i, 8);
        if ((x | 0x2020202020202020ull) != y) return false;
    }
    for (; i < s.size(); ++i)
        if (static_cast<char>(s[i] | 0x20) != lower[i]) return false;
    return true;
}

// The fields of one head while it is parsed: on the stack (parse() never suspends, so this
// is not in a coroutine frame and costs no allocation), on the heap only beyond kInline.
class SpanList {
public:
    static constexpr std::size_t kInline = 32;
    std::size_t size() const noexcept { return n_; }
    void add(const detail::HeaderSpan& s) {
        if (n_ < kInline) [[likely]] {
            inline_[n_++] = s;
        } else {
            add_more(s);
        }
    }
    std::span<const detail::HeaderSpan> spans() const noexcept {
        return {n_ <= kInline ? inline_.data() : more_.data(), n_};
    }

private:
    [[gnu::noinline]] void add_more(const detail::HeaderSpan& s) {
        if (n_ == kInline) more_.assign(inline_.begin(), inline_.end());
        more_.push_back(s);
        ++n_;
    }

    std::size_t n_ = 0;
    std::array<detail::HeaderSpan, kInline> inline_;
    std::vector<detail::HeaderSpan> more_;
};

// Calls fn(token) for each comma-separated, trimmed, non-empty element.
template <class F>
void for_each_token(std::string_view list, F fn) {
    while (!list.empty()) {
        std::size_t comma = list.find(',');
        std::string_view item = trim_field(list.substr(0, comma));
        if (!item.empty()) fn(item);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
}

// Content-Length: 1*DIGIT, or a list of identical values ("5, 5").
bool parse_content_length(std::string_view v, std::uint64_t& out) noexcept {
    bool any = false;
    bool ok = true;
    std::uint64_t first = 0;
    for_each_token(v, [&](std::string_view tok) {
        if (!ok) return;
        std::uint64_t n = 0;
        if (tok.size() > 19) {
            ok = false;
            return;
        }
        for (char c : tok) {
            if (!is_digit(c)) {
                ok = false;
                return;
            }
            n = n * 10 + static_cast<std::uint64_t>(c - '0');
        }
        if (any && n != first) ok = false;
        first = n;
        any = true;
    });
    if (!ok || !any) return false;
    out = first;
    return true;
}

}  // namespace

std::optional<std::string_view> ResponseHead::header(std::string_view name) const noexcept {
    return headers.get(name);
}

void ResponseParser::reset() noexcept {
    head_.status = 0;
    head_.reason.clear();
    head_.headers.clear();
    head_.framing = BodyFraming::None;
    head_.content_length = 0;
    head_.keep_alive = true;
    head_.version_minor = 1;
    result_ = {};
    start_ = 0;
    scan_pos_ = 0;
    interim_ = 0;
    head_request_ = false;
}

ResponseParseResult ResponseParser::fail(std::string_view why) noexcept {
    result_.status = ResponseParseResult::Status::Error;
    result_.error = why;
    result_.consumed = 0;
    return result_;
}

ResponseParseResult ResponseParser::parse(std::string_view buffer) {
    if (result_.status != ResponseParseResult::Status::NeedMore) return result_;
    for (;;) {
        const std::size_t from = std::max(start_, scan_pos_ >= 3 ? scan_pos_ - 3 : 0);
        const std::size_t end = find_head_end(buffer, from);
        if (end == std::string_view::npos) {
            scan_pos_ = buffer.size();
            if (buffer.size() - start_ > limits_.max_head_bytes)
                return fail("response head too large");
            return result_;
        }
        if (end + 4 - start_ > limits_.max_head_bytes) return fail("response head too large");
        std::string_view error;
        if (!parse_head(buffer.substr(start_, end + 2 - start_), error)) return fail(error);
        start_ = end + 4;
        scan_pos_ = start_;
        if (head_.status >= 100 && head_.status < 200 && head_.status != 101) {
            // Interim response (100 Continue, 103 Early Hints): skip it.
            if (++interim_ > limits_.max_interim_responses)
                return fail("too many interim responses");
            continue;
        }
        result_.status = ResponseParseResult::Status::Complete;
        result_.consumed = start_;
        return result_;
    }
}

// `head` holds the status line and the header lines, each ending in CRLF.
bool ResponseParser::parse_head(std::string_view head, std::string_view& error) {
    head_.headers.clear();
    head_.reason.clear();
    head_.framing = BodyFraming::None;
    head_.content_length = 0;

    std::size_t eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    // HTTP/1.x SP 3DIGIT [SP reason]
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || !is_digit(line[7]) ||
        line[8] != ' ' || !is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11])) {
        error = "malformed status line";
        return false;
    }
    head_.version_minor = line[7] - '0';
    head_.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (head_.status < 100) {
        error = "malformed status code";
        return false;
    }
    if (line.size() > 12) {
        if (line[12] != ' ') {
            error = "malformed status line";
            return false;
        }
        std::string_view reason = line.substr(13);
        for (char c : reason) {
            if (!valid_value_char(c)) {
                error = "invalid character in reason phrase";
                return false;
            }
        }
        head_.reason.assign(reason);
    }
    // The header lines: the fields are recorded as offsets into them, and the final head's
    // lines copied into head_.headers with those offsets once all are checked.
    const std::string_view text = head;
    if (text.size() > UINT32_MAX) {
        error = "response head too large";
        return false;
    }
    SpanList fields;

    bool have_length = false;
    bool have_te = false;
    bool chunked = false;
    bool conn_close = false;
    bool conn_keep_alive = false;
    std::uint64_t length = 0;
    while (!head.empty()) {
        if (fields.size() >= limits_.max_header_count) {
            error = "too many header fields";
            return false;
        }
        // The usual line in one pass: a token, ':', the value up to the line's CRLF. The
        // token scan stops at the latest at the CR ending `head`, which is no tchar.
        std::size_t colon = 0;
        while (is_tchar(head[colon])) ++colon;
        std::string_view line;
        std::string_view value;
        bool value_checked = false;
        if (colon > 0 && head[colon] == ':') {
            // The value's bytes are checked on the way to its end: the first byte that a
            // value cannot hold is, in a valid line, the CR of its CRLF (there is one: `head`
            // ends in CRLF). Anything else there: the line is judged in full below.
            const std::size_t end = find_value_end(head, colon + 1);
            if (end + 1 < head.size() && head[end] == '\r' && head[end + 1] == '\n') {
                line = head.substr(0, end);
                std::size_t from = colon + 1;
                std::size_t to = end;
                while (from < to && is_ows(head[from])) ++from;
                while (to > from && is_ows(head[to - 1])) --to;
                value = head.substr(from, to - from);
                head.remove_prefix(end + 2);
                value_checked = true;
            }
        }
        if (line.empty()) {
            // Anything else: the line is what comes before the next CRLF, judged in full.
            eol = head.find("\r\n");
            line = head.substr(0, eol);
            head.remove_prefix(eol + 2);
            colon = line.find(':');
            if (colon == std::string_view::npos || colon == 0) {
                error = "malformed header field";  // also obs-fold (leading whitespace)
                return false;
            }
            for (char c : line.substr(0, colon)) {
                if (!is_tchar(c)) {
                    error = "invalid header field name";
                    return false;
                }
            }
        }
        std::string_view name = line.substr(0, colon);
        if (!value_checked) value = trim_field(line.substr(colon + 1));
        if (!value_checked && !valid_value(value)) {
            error = "invalid character in header field value";
            return false;
        }
        // The length picks the one candidate name, if any (most fields are none of them).
        if (name.size() == 14 && equals_lowercase(name, "content-length")) {
            std::uint64_t n = 0;
            if (!parse_content_length(value, n) || (have_length && n != length)) {
                error = "invalid Content-Length";
                return false;
            }
            have_length = true;
            length = n;
        } else if (name.size() == 17 && equals_lowercase(name, "transfer-encoding")) {
            have_te = true;
            // One coding (the usual case) is its own last token.
            if (equals_lowercase(value, "chunked")) {
                chunked = true;
            } else {
                for_each_token(value, [&](std::string_view tok) {
                    chunked = equals_lowercase(tok, "chunked");
                });
            }
        } else if (name.size() == 10 && equals_lowercase(name, "connection")) {
            if (equals_lowercase(value, "keep-alive")) {  // one option, the usual case
                conn_keep_alive = true;
            } else if (equals_lowercase(value, "close")) {
                conn_close = true;
            } else {
                for_each_token(value, [&](std::string_view tok) {
                    if (equals_lowercase(tok, "close")) conn_close = true;
                    if (equals_lowercase(tok, "keep-alive")) conn_keep_alive = true;
                });
            }
        }
        detail::HeaderSpan span;
        span.name_offset = static_cast<std::uint32_t>(name.data() - text.data());
        span.name_size = static_cast<std::uint32_t>(name.size());
        span.value_offset = static_cast<std::uint32_t>(value.data() - text.data());
        span.value_size = static_cast<std::uint32_t>(value.size());
        fields.add(span);
    }
    const int st = head_.status;
    if (!(st >= 100 && st < 200 && st != 101)) {
        // A final head (interim ones are skipped): its fields, in one allocation.
        head_.headers = ResponseHeaders::from_text(text, fields.spans());
    }

    head_.keep_alive = head_.version_minor >= 1 ? !conn_close : (conn_keep_alive && !conn_close);
    const int s = head_.status;
    if (head_request_ || (s >= 100 && s < 200) || s == 204 || s == 304) {
        head_.framing = BodyFraming::None;
        if (s == 101) head_.keep_alive = false;  // protocol switch: not ours to reuse
    } else if (have_te) {
        // Transfer-Encoding overrides Content-Length; such a message may be a smuggling
        // attempt through an intermediary, so never reuse the connection after it.
        if (have_length) head_.keep_alive = false;
        if (chunked) {
            head_.framing = BodyFraming::Chunked;
        } else {
            head_.framing = BodyFraming::UntilClose;
            head_.keep_alive = false;
        }
    } else if (have_length) {
        head_.framing = BodyFraming::Length;
        head_.content_length = length;
    } else {
        head_.framing = BodyFraming::UntilClose;
        head_.keep_alive = false;
    }
    return true;
}

BodyDecoder::BodyDecoder(BodyFraming framing, std::uint64_t content_length,
                         std::uint64_t max_body_bytes) noexcept
    : framing_(framing),
      remaining_(content_length),
      max_body_bytes_(max_body_bytes),
      chunked_(ChunkedLimits{max_body_bytes, 4096, 64 * 1024}),
      done_(framing == BodyFraming::None ||
            (framing == BodyFraming::Length && content_length == 0)) {
    if (framing == BodyFraming::Length && content_length > max_body_bytes) {
        failed_ = true;
        done_ = false;
        error_ = "response body too large";
    }
}

BodyDecoder::Step BodyDecoder::fail(std::string_view why) noexcept {
    failed_ = true;
    done_ = false;
    error_ = why;
    Step s;
    s.status = Status::Error;
    s.error = why;
    return s;
}

BodyDecoder::Step BodyDecoder::step(std::string_view in) noexcept {
    Step s;
    if (failed_) {
        s.status = Status::Error;
        s.error = error_;
        return s;
    }
    if (done_) {
        s.status = Status::Done;
        return s;
    }
    switch (framing_) {
        case BodyFraming::None:
            s.status = Status::Done;
            return s;
        case BodyFraming::Length: {
            if (in.empty()) return s;
            const std::size_t n =
                static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size()));
            remaining_ -= n;
            delivered_ += n;
            s.status = Status::Data;
            s.consumed = n;
            s.data = in.substr(0, n);
            if (remaining_ == 0) done_ = true;
            return s;
        }
        case BodyFraming::UntilClose: {
            if (in.empty()) return s;
            if (in.size() > max_body_bytes_ - delivered_) return fail("response body too large");
            delivered_ += in.size();
            s.status = Status::Data;
            s.consumed = in.size();
            s.data = in;
            return s;
        }
        case BodyFraming::Chunked: {
            const ChunkedResult r = chunked_.step(in);
            s.consumed = r.consumed;
            switch (r.status) {
                case ChunkedStatus::NeedMore:
                    s.status = Status::NeedMore;
                    return s;
                case ChunkedStatus::Data:
                    delivered_ += r.data.size();
                    s.status = Status::Data;
                    s.data = r.data;
                    return s;
                case ChunkedStatus::Done:
                    done_ = true;
                    s.status = Status::Done;
                    return s;
                case ChunkedStatus::Error: {
                    Step e =
                        fail(r.error.status == 413 ? std::string_view("response body too large")
                                                   : std::string_view("malformed chunked body"));
                    e.consumed = r.consumed;
                    return e;
                }
            }
        }
    }
    return s;
}

BodyDecoder::Step BodyDecoder::finish_at_eof() noexcept {
    if (failed_) {
        Step s;
        s.status = Status::Error;
        s.error = error_;
        return s;
    }
    if (done_ || framing_ == BodyFraming::UntilClose) {
        done_ = true;
        Step s;
        s.status = Status::Done;
        return s;
    }
    return fail(framing_ == BodyFraming::Chunked ? "connection closed inside a chunked body"
                                                 : "connection closed before the end of the body");
}

}  // namespace weir::http
