// Strict incremental HTTP/1.1 request-head parser; see include/weir/http/request_parser.hpp.
//
// Parsing runs in two phases:
//  1. A scan, resumable from an offset, over the bytes received so far (at most max_head_bytes).
//     It looks only at control bytes (found 16 at a time with SSE2): every CR must be followed by
//     LF, every LF preceded by CR, and no other control byte than HTAB may appear in a head. It
//     stops at the first CRLFCRLF (end of the head) or the first offending byte.
//  2. Once the head is complete, one pass over it validates the request line and the header
//     fields, which may now assume well-formed CRLF line ends and no control bytes.
// The request line is validated byte by byte, left to right, so that a prefix of it yields
// either "incomplete" or the final answer; its errors take priority over those of the scan. That
// lets a too-long target (414) be reported before the line ends, and makes the answer the same
// however the input was split across calls.
#include "weir/http/request_parser.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "weir/http/ascii.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace weir::http {
namespace {

constexpr bool is_control(unsigned char c) noexcept { return c < 0x20 || c == 0x7F; }

// Index of the first control byte (< 0x20 or 0x7F) in p[pos, end), or end.
std::size_t find_control(const char* p, std::size_t pos, std::size_t end) noexcept {
#if defined(__SSE2__)
    const __m128i max_control = _mm_set1_epi8(0x1F);
    const __m128i del = _mm_set1_epi8(0x7F);
    while (end - pos >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + pos));
        const __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, max_control), v);  // v <= 0x1F unsigned
        const int mask = _mm_movemask_epi8(_mm_or_si128(low, _mm_cmpeq_epi8(v, del)));
        if (mask != 0)
            return pos + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
        pos += 16;
    }
#endif
    for (; pos < end; ++pos) {
        if (is_control(static_cast<unsigned char>(p[pos]))) return pos;
    }
    return end;
}

// Visible ASCII except '#': a fragment is never sent in a request.
constexpr bool is_target_char(char c) noexcept { return c > 0x20 && c < 0x7F && c != '#'; }

enum class LineState : std::uint8_t { Incomplete, Ok, Error };

struct LineCheck {
    LineState state = LineState::Incomplete;
    ParseError error;
};

constexpr LineCheck line_error(int status, std::string_view reason) noexcept {
    return {LineState::Error, {status, reason}};
}

bool starts_with_icase(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Validates the request line at the start of `text` (which need not hold all of it), filling
// `out` when it is complete and valid.
LineCheck check_request_line(std::string_view text, const ParserLimits& limits,
                             RequestHead* out) noexcept {
    const std::size_t n = text.size();
    std::size_t i = 0;

    // method SP
    while (i < n && is_tchar(text[i])) {
        if (++i > limits.max_method_length) return line_error(501, "method too long");
    }
    if (i == n) return {};
    if (i == 0 || text[i] != ' ') return line_error(400, "malformed method");
    const std::size_t method_end = i++;

    // request-target SP
    const std::size_t target_begin = i;
    for (; i < n && text[i] != ' '; ++i) {
        if (!is_target_char(text[i])) return line_error(400, "invalid character in request-target");
        if (i - target_begin >= limits.max_uri_length)
            return line_error(414, "request-target too long");
    }
    if (i == n) return {};
    if (i == target_begin) return line_error(400, "empty request-target");
    const std::size_t target_end = i++;

    // HTTP-version CR
    constexpr std::string_view kProtocol = "HTTP/";
    for (char expected : kProtocol) {
        if (i == n) return {};
        if (text[i++] != expected) return line_error(400, "malformed HTTP version");
    }
    if (i == n) return {};
    const char major = text[i++];
    if (!is_digit(major)) return line_error(400, "malformed HTTP version");
    if (i == n) return {};
    if (text[i++] != '.') return line_error(400, "malformed HTTP version");
    if (i == n) return {};
    const char minor = text[i++];
    if (!is_digit(minor)) return line_error(400, "malformed HTTP version");
    if (i == n) return {};
    if (text[i] != '\r') return line_error(400, "malformed request line");

    // The line is complete: checks that need all of it.
    const std::string_view method = text.substr(0, method_end);
    const std::string_view target = text.substr(target_begin, target_end - target_begin);
    const Method method_id = method_from_token(method);
    std::string_view authority;
    std::string_view path;
    std::string_view query;
    std::string_view rest;  // path and query
    if (target.front() == '/') {
        rest = target;
    } else if (target == "*") {
        if (method_id != Method::Options) return line_error(400, "'*' target is only for OPTIONS");
        path = target;
    } else if (starts_with_icase(target, "http://") || starts_with_icase(target, "https://")) {
        const std::size_t authority_begin = target.find("//") + 2;
        std::size_t authority_end = target.find_first_of("/?", authority_begin);
        if (authority_end == std::string_view::npos) authority_end = target.size();
        if (authority_end == authority_begin)
            return line_error(400, "empty authority in request-target");
        authority = target.substr(authority_begin, authority_end - authority_begin);
        rest = target.substr(authority_end);
        if (rest.empty() || rest.front() == '?') path = "/";  // static: the target has no path
    } else {
        return line_error(400, "malformed request-target");
    }
    if (!rest.empty()) {
        const std::size_t question = rest.find('?');
        if (question == std::string_view::npos) {
            path = rest;
        } else {
            if (question != 0) path = rest.substr(0, question);
            query = rest.substr(question + 1);
        }
    }

    HttpVersion version;
    if (major == '1' && minor == '1') {
        version = HttpVersion::Http11;
    } else if (major == '1' && minor == '0') {
        version = HttpVersion::Http10;
    } else {
        return line_error(505, "HTTP version not supported");
    }

    if (out != nullptr) {
        out->method = method_id;
        out->method_token = method;
        out->target = target;
        out->authority = authority;
        out->path = path;
        out->query = query;
        out->version = version;
    }
    return {LineState::Ok, {}};
}

// Length of the run of token characters at the start of `s`, four at a time while possible.
std::size_t token_length(std::string_view s) noexcept {
    // Non-short-circuit '&' on purpose: four independent loads, one branch.
    const auto t = [s](std::size_t k) { return static_cast<unsigned>(is_tchar(s[k])); };
    std::size_t i = 0;
    while (i + 4 <= s.size() && (t(i) & t(i + 1) & t(i + 2) & t(i + 3)) != 0) i += 4;
    while (i < s.size() && is_tchar(s[i])) ++i;
    return i;
}

// Host: uri-host [":" port], checked only for its character set (RFC 3986 reg-name, IP literal,
// port), which is enough to refuse values that other components could split differently
// ("a b", "a/b", "a@b", "a?b"). Empty is allowed (RFC 9112 section 3.2).
constexpr std::array<bool, 256> make_host_table() noexcept {
    std::array<bool, 256> table{};
    for (int c = '0'; c <= '9'; ++c) table[static_cast<std::size_t>(c)] = true;
    for (int c = 'a'; c <= 'z'; ++c) table[static_cast<std::size_t>(c)] = true;
    for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<std::size_t>(c)] = true;
    for (char c : std::string_view("-._~%!$&'()*+,;=:[]")) {
        table[static_cast<unsigned char>(c)] = true;
    }
    return table;
}

constexpr std::array<bool, 256> kHostChars = make_host_table();

bool is_valid_host(std::string_view value) noexcept {
    for (char c : value) {
        if (!kHostChars[static_cast<unsigned char>(c)]) return false;
    }
    return true;
}

// Content-Length: 1*DIGIT, at most 2^63 - 1. Anything else (sign, inner space, list) fails.
bool parse_content_length(std::string_view value, std::uint64_t& result) noexcept {
    if (value.empty()) return false;
    constexpr std::uint64_t kMax =
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    std::uint64_t n = 0;
    for (char c : value) {
        if (!is_digit(c)) return false;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (n > (kMax - digit) / 10) return false;
        n = n * 10 + digit;
    }
    result = n;
    return true;
}

enum class Coding : std::uint8_t { None, Chunked, Invalid, Unsupported };

// Transfer-Encoding: only a lone "chunked" is accepted. A well-formed list ending in a single
// "chunked" ("gzip, chunked") is valid HTTP that we do not implement (501); everything else
// leaves the body length undeterminable (400).
Coding classify_transfer_encoding(std::string_view value) noexcept {
    if (iequals(value, "chunked")) return Coding::Chunked;
    std::size_t chunked_count = 0;
    bool last_is_chunked = false;
    while (true) {
        const std::size_t comma = value.find(',');
        const std::string_view element = trim_ows(value.substr(0, comma));
        if (element.empty()) return Coding::Invalid;
        for (char c : element) {
            if (!is_tchar(c)) return Coding::Invalid;
        }
        last_is_chunked = iequals(element, "chunked");
        if (last_is_chunked) ++chunked_count;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return (last_is_chunked && chunked_count == 1) ? Coding::Unsupported : Coding::Invalid;
}

// Looks for the "close" and "keep-alive" options in a Connection header value.
void scan_connection(std::string_view value, bool& close, bool& keep_alive) noexcept {
    while (true) {
        const std::size_t comma = value.find(',');
        const std::string_view option = trim_ows(value.substr(0, comma));
        if (iequals(option, "close")) close = true;
        if (iequals(option, "keep-alive")) keep_alive = true;
        if (comma == std::string_view::npos) return;
        value.remove_prefix(comma + 1);
    }
}

}  // namespace

void RequestParser::reset() noexcept {
    head_.clear();
    result_ = {};
    scan_pos_ = 0;
    head_start_ = 0;
    line_ok_ = false;
}

ParseResult RequestParser::fail(ParseError error) noexcept {
    result_ = {ParseStatus::Error, error};
    return result_;
}

ParseResult RequestParser::parse(std::string_view buffer) {
    if (result_.status != ParseStatus::NeedMore) return result_;

    const char* p = buffer.data();
    const std::size_t limit = std::min(buffer.size(), limits_.max_head_bytes);
    std::size_t pos = std::max(scan_pos_, head_start_);
    std::size_t end = 0;  // one past the final CRLFCRLF once found
    ParseError scan_error;

    while (true) {
        pos = find_control(p, pos, limit);
        if (pos == limit) break;
        const char c = p[pos];
        if (c == '\r') {
            if (pos + 1 == limit) break;  // cannot tell yet whether LF follows
            if (p[pos + 1] != '\n') {
                scan_error = {400, "bare CR in request head"};
                break;
            }
            if (pos == head_start_) {  // empty line before the request line: ignored (RFC 9112 2.2)
                pos += 2;
                head_start_ = pos;
                continue;
            }
            if (p[pos - 1] == '\n') {  // that LF ended the previous line, so this is CRLFCRLF
                end = pos + 2;
                break;
            }
            pos += 2;
            continue;
        }
        if (c == '\t') {
            ++pos;
            continue;
        }
        scan_error = (c == '\n') ? ParseError{400, "bare LF in request head"}
                                 : ParseError{400, "control character in request head"};
        break;
    }
    scan_pos_ = pos;

    if (end != 0) return parse_head(buffer, end);

    const bool head_too_large = buffer.size() >= limits_.max_head_bytes;
    const bool must_answer = scan_error.status != 0 || head_too_large;
    // Errors of the request line come first. While waiting for more bytes, it is only worth
    // checking a line long enough to have a too-long target. A CR where the line should start
    // is an empty line still missing its LF, or a bare CR that the scan reports.
    const bool line_started = head_start_ < limit && p[head_start_] != '\r';
    if (!line_ok_ && line_started && (must_answer || buffer.size() > limits_.max_uri_length)) {
        const LineCheck line =
            check_request_line(buffer.substr(head_start_, limit - head_start_), limits_, nullptr);
        if (line.state == LineState::Error) return fail(line.error);
        line_ok_ = line.state == LineState::Ok;
    }
    if (scan_error.status != 0) return fail(scan_error);
    if (head_too_large) return fail({431, "request head too large"});
    return result_;  // NeedMore
}

ParseResult RequestParser::parse_head(std::string_view buffer, std::size_t end) {
    head_.clear();
    const std::string_view head = buffer.substr(head_start_, end - head_start_);
    const LineCheck line = check_request_line(head, limits_, &head_);
    if (line.state != LineState::Ok) {
        return fail(line.state == LineState::Error ? line.error
                                                   : ParseError{400, "malformed request line"});
    }

    const bool http11 = head_.version == HttpVersion::Http11;
    bool content_length_seen = false;
    bool transfer_encoding_seen = false;
    Coding coding = Coding::None;
    bool connection_close = false;
    bool connection_keep_alive = false;

    // The scan guarantees that every CR is followed by LF and that the head ends in CRLFCRLF.
    std::size_t pos =
        static_cast<std::size_t>(
            static_cast<const char*>(std::memchr(head.data(), '\r', head.size())) - head.data()) +
        2;
    while (true) {
        const auto* cr =
            static_cast<const char*>(std::memchr(head.data() + pos, '\r', head.size() - pos));
        const auto eol = static_cast<std::size_t>(cr - head.data());
        if (eol == pos) break;  // the empty line ending the head
        const std::string_view field = head.substr(pos, eol - pos);
        pos = eol + 2;

        if (is_ows(field.front()))
            return fail({400, "obsolete line folding or leading whitespace"});
        std::size_t colon = token_length(field);
        if (colon == field.size()) return fail({400, "header line without colon"});
        if (field[colon] != ':') {
            return fail(is_ows(field[colon]) ? ParseError{400, "whitespace before colon in header"}
                                             : ParseError{400, "invalid character in header name"});
        }
        if (colon == 0) return fail({400, "empty header name"});
        if (head_.headers.size() == limits_.max_header_count) {
            return fail({431, "too many header fields"});
        }
        const std::string_view name = field.substr(0, colon);
        const std::string_view value = trim_ows(field.substr(colon + 1));
        head_.headers.push_back({name, value});

        switch (name.size()) {
            case 4:
                if (iequals(name, "host")) {
                    if (head_.has_host) return fail({400, "duplicate Host header"});
                    if (!is_valid_host(value)) return fail({400, "invalid Host header"});
                    head_.has_host = true;
                }
                break;
            case 6:
                if (iequals(name, "expect") && http11 && iequals(value, "100-continue")) {
                    head_.expect_continue = true;
                }
                break;
            case 10:
                if (iequals(name, "connection")) {
                    scan_connection(value, connection_close, connection_keep_alive);
                }
                break;
            case 14:
                if (iequals(name, "content-length")) {
                    if (content_length_seen) return fail({400, "duplicate Content-Length"});
                    content_length_seen = true;
                    std::uint64_t length = 0;
                    if (!parse_content_length(value, length))
                        return fail({400, "invalid Content-Length"});
                    head_.content_length = length;
                }
                break;
            case 17:
                if (iequals(name, "transfer-encoding")) {
                    if (transfer_encoding_seen) return fail({400, "duplicate Transfer-Encoding"});
                    transfer_encoding_seen = true;
                    coding = classify_transfer_encoding(value);
                }
                break;
            default:
                break;
        }
    }

    if (transfer_encoding_seen) {
        if (content_length_seen) return fail({400, "both Content-Length and Transfer-Encoding"});
        if (!http11) return fail({400, "Transfer-Encoding in an HTTP/1.0 request"});
        if (coding == Coding::Invalid) return fail({400, "invalid Transfer-Encoding"});
    }
    if (http11 && !head_.has_host) return fail({400, "missing Host header"});
    if (coding == Coding::Unsupported) return fail({501, "unsupported transfer coding"});

    head_.chunked = coding == Coding::Chunked;
    head_.keep_alive = !connection_close && (http11 || connection_keep_alive);
    head_.head_length = end;
    result_ = {ParseStatus::Complete, {}};
    return result_;
}

}  // namespace weir::http
