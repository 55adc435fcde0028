#include "weir/redis/resp_parser.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "weir/redis/error.hpp"

namespace weir::redis {

namespace {

[[noreturn]] void bad(const std::string& what) { throw ProtocolError("invalid RESP: " + what); }

std::int64_t parse_int(std::string_view s, const char* what) {
    std::int64_t v = 0;
    if (s.empty()) bad(std::string("empty ") + what);
    const char* b = s.data();
    const char* e = s.data() + s.size();
    if (*b == '+') ++b;  // RESP allows an explicit sign on integers
    auto [p, ec] = std::from_chars(b, e, v);
    if (ec != std::errc{} || p != e) bad(std::string("bad ") + what + " '" + std::string(s) + "'");
    return v;
}

double parse_double(std::string_view s) {
    if (s == "inf" || s == "+inf") return HUGE_VAL;
    if (s == "-inf") return -HUGE_VAL;
    if (s == "nan" || s == "-nan") return std::nan("");
    std::string tmp(s);
    if (tmp.empty()) bad("empty double");
    char* end = nullptr;
    double d = std::strtod(tmp.c_str(), &end);
    if (end != tmp.c_str() + tmp.size()) bad("bad double '" + tmp + "'");
    return d;
}

bool is_number_text(std::string_view s) {
    if (s.empty()) return false;
    std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    if (i == s.size()) return false;
    for (; i < s.size(); ++i)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

}  // namespace

void RespParser::reset() noexcept {
    state_ = State::header;
    stack_.clear();
    bulk_ = Reply();
    bulk_left_ = 0;
    bulk_fill_ = 0;
    streaming_string_ = false;
    chunk_ = false;
    pending_attrs_.reset();
}

void RespParser::start_body(std::size_t n, std::size_t buffered) {
    // Room for what has arrived and a bounded piece beyond, not for the whole announced length
    // (a server announcing 500 MB and sending 3 bytes costs a few megabytes, not 500 MB); the
    // storage then grows with the bytes received (grow_body).
    std::string& s = bulk_.mutable_str();
    bulk_fill_ = s.size();
    bulk_left_ = n;
    state_ = State::bulk_body;
    grow_body(bulk_fill_ + std::min(n, buffered + kReserveAhead));
}

void RespParser::grow_body(std::size_t need) {
    std::string& s = bulk_.mutable_str();
    if (s.capacity() >= need) return;
    // At least doubling, and straight to the end once it is within kGrowJump of that: the
    // storage stays within a small factor of the bytes received, and a body is copied on
    // regrowth only a fraction of its size (bodies up to ~4 MiB never are).
    const std::size_t end = bulk_fill_ + bulk_left_;
    std::size_t cap = std::max(need, 2 * s.capacity());
    if (end / kGrowJump <= cap) cap = end;
    s.reserve(std::min(end, cap));
}

std::span<char> RespParser::body_space() noexcept {
    if (state_ != State::bulk_body || bulk_left_ < kDirectMin) return {};
    // Exposes the next piece only: growing the string zero-fills it, and a
    // piece of moderate size is still in cache when the socket bytes land on
    // it (zero-filling the whole body up front would cost about the copy
    // saved). Bytes past bulk_fill_ are scratch until body_filled() says
    // otherwise.
    std::string& s = bulk_.mutable_str();
    const std::size_t piece = std::min(bulk_left_, kDirectPiece);
    try {
        grow_body(bulk_fill_ + piece);
    } catch (const std::bad_alloc&) {
        return {};  // read into the buffer instead: parse() reports the failure
    }
    if (s.size() < bulk_fill_ + piece) s.resize(bulk_fill_ + piece);
    return {s.data() + bulk_fill_, piece};
}

void RespParser::body_filled(std::size_t n) noexcept {
    n = std::min(n, bulk_left_);
    bulk_fill_ += n;
    bulk_left_ -= n;
    if (bulk_left_ == 0 && state_ == State::bulk_body) state_ = State::bulk_crlf;
}

void RespParser::attach(Reply& r) {
    if (pending_attrs_) {
        r.set_attributes(std::move(*pending_attrs_));
        pending_attrs_.reset();
    }
}

Reply RespParser::start(ReplyType t, std::string s) {
    Reply r(t, std::move(s));
    attach(r);
    return r;
}

bool RespParser::complete(Reply v, std::optional<Reply>& out) {
    for (;;) {
        if (stack_.empty()) {
            out.emplace(std::move(v));
            return true;
        }
        Frame& f = stack_.back();
        f.value.elements().push_back(std::move(v));
        if (f.remaining < 0) return false;  // streamed: ends with '.'
        if (--f.remaining > 0) return false;
        v = std::move(f.value);
        const bool attr = f.attribute;
        stack_.pop_back();
        if (attr) {
            pending_attrs_ = std::move(v.elements());
            return false;
        }
    }
}

bool RespParser::parse_whole_simple(std::string_view in, std::size_t& used,
                                    std::optional<Reply>& out) {
    const char type = in[0];
    if (type != '+' && type != ':' && type != '$') return false;
    const void* lf = std::memchr(in.data(), '\n', std::min(in.size(), limits_.max_line_length + 2));
    if (!lf) return false;
    const auto nl = static_cast<std::size_t>(static_cast<const char*>(lf) - in.data());
    if (nl < 3 || in[nl - 1] != '\r') return false;
    const std::string_view text = in.substr(1, nl - 2);
    if (type == '+') {
        out.emplace(ReplyType::simple_string, std::string(text));
        used = nl + 1;
        return true;
    }
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size()) return false;
    if (type == ':') {
        out.emplace(Reply::integer(v));
        used = nl + 1;
        return true;
    }
    if (v < 0 || static_cast<std::uint64_t>(v) > limits_.max_bulk_length) return false;
    const auto n = static_cast<std::size_t>(v);
    const std::size_t body = nl + 1;
    if (in.size() - body < n + 2 || in[body + n] != '\r' || in[body + n + 1] != '\n') return false;
    out.emplace(ReplyType::bulk_string, std::string(in.substr(body, n)));
    used = body + n + 2;
    return true;
}

std::optional<Reply> RespParser::parse(std::string_view in, std::size_t& used) {
    std::size_t pos = 0;
    std::optional<Reply> out;
    // The usual reply, a whole simple string, integer or bulk string at the
    // top level, is built in one go. Anything else (aggregates, attributes,
    // nil, incomplete or invalid input) takes the general path.
    if (!in.empty() && idle() && parse_whole_simple(in, used, out)) return out;
    for (;;) {
        if (state_ == State::bulk_body) {
            const std::size_t take = std::min(bulk_left_, in.size() - pos);
            std::string& s = bulk_.mutable_str();
            s.resize(bulk_fill_);  // drops unused body_space() scratch (no reallocation)
            grow_body(bulk_fill_ + take);
            s.append(in.data() + pos, take);
            pos += take;
            bulk_fill_ += take;
            bulk_left_ -= take;
            if (bulk_left_ > 0) break;
            state_ = State::bulk_crlf;
        }
        if (state_ == State::bulk_crlf) {
            if (in.size() - pos < 2) break;
            if (in[pos] != '\r' || in[pos + 1] != '\n') bad("bulk string not followed by CRLF");
            bulk_.mutable_str().resize(bulk_fill_);  // no scratch left past the body
            pos += 2;
            state_ = State::header;
            if (chunk_) {
                chunk_ = false;  // more chunks follow, up to ";0"
                continue;
            }
            Reply v = std::move(bulk_);
            bulk_ = Reply();
            if (v.type() == ReplyType::verbatim) {
                std::string_view s = v.str();
                if (s.size() < 4 || s[3] != ':') bad("verbatim string without a format");
                v.set_format(s.substr(0, 3));
                v.mutable_str().erase(0, 4);
            }
            if (complete(std::move(v), out)) break;
            continue;
        }
        // A header line: type byte, text, CRLF.
        const std::size_t avail = in.size() - pos;
        if (avail == 0) break;
        std::string_view rest = in.substr(pos, std::min(avail, limits_.max_line_length + 2));
        const std::size_t nl = rest.find('\n');
        if (nl == std::string_view::npos) {
            if (avail > limits_.max_line_length + 1) bad("line too long");
            break;
        }
        if (nl == 0 || rest[nl - 1] != '\r') bad("line not terminated by CRLF");
        const char type = rest[0];
        std::string_view text = rest.substr(1, nl > 1 ? nl - 2 : 0);
        if (nl < 2) bad("empty line");
        pos += nl + 1;

        if (streaming_string_) {
            if (type != ';') bad("expected a ';' chunk in a streamed string");
            const std::int64_t n = parse_int(text, "chunk length");
            if (n < 0) bad("negative chunk length");
            if (n == 0) {
                streaming_string_ = false;
                Reply v = std::move(bulk_);
                bulk_ = Reply();
                if (complete(std::move(v), out)) break;
                continue;
            }
            if (bulk_.str().size() + static_cast<std::size_t>(n) > limits_.max_bulk_length)
                bad("streamed string too long");
            chunk_ = true;
            start_body(static_cast<std::size_t>(n), in.size() - pos);
            continue;
        }

        switch (type) {
            case '+':
            case '-':
            case '(': {
                const ReplyType t = type == '+'   ? ReplyType::simple_string
                                    : type == '-' ? ReplyType::error
                                                  : ReplyType::big_number;
                if (t == ReplyType::big_number && !is_number_text(text)) bad("bad big number");
                if (complete(start(t, std::string(text)), out)) goto done;
                break;
            }
            case ':': {
                Reply v = Reply::integer(parse_int(text, "integer"));
                attach(v);
                if (complete(std::move(v), out)) goto done;
                break;
            }
            case ',': {
                Reply v = Reply::dbl(parse_double(text));
                attach(v);
                if (complete(std::move(v), out)) goto done;
                break;
            }
            case '#': {
                if (text != "t" && text != "f") bad("bad boolean");
                Reply v = Reply::boolean(text == "t");
                attach(v);
                if (complete(std::move(v), out)) goto done;
                break;
            }
            case '_': {
                if (!text.empty()) bad("null with a payload");
                if (complete(start(ReplyType::nil), out)) goto done;
                break;
            }
            case '$':
            case '!':
            case '=': {
                const ReplyType t = type == '$'   ? ReplyType::bulk_string
                                    : type == '!' ? ReplyType::error
                                                  : ReplyType::verbatim;
                if (type == '$' && text == "?") {
                    bulk_ = start(ReplyType::bulk_string);
                    streaming_string_ = true;
                    break;
                }
                const std::int64_t n = parse_int(text, "bulk length");
                if (n == -1 && type == '$') {
                    if (complete(start(ReplyType::nil), out)) goto done;
                    break;
                }
                if (n < 0) bad("negative bulk length");
                if (static_cast<std::uint64_t>(n) > limits_.max_bulk_length)
                    bad("bulk string longer than the limit");
                bulk_ = start(t);
                start_body(static_cast<std::size_t>(n), in.size() - pos);
                break;
            }
            case '*':
            case '%':
            case '~':
            case '>':
            case '|': {
                const ReplyType t = type == '*'   ? ReplyType::array
                                    : type == '%' ? ReplyType::map
                                    : type == '~' ? ReplyType::set
                                    : type == '>' ? ReplyType::push
                                                  : ReplyType::map;
                const bool attr = type == '|';
                std::int64_t n;
                if (text == "?" && type != '|' && type != '>') {
                    n = -1;
                } else {
                    n = parse_int(text, "aggregate length");
                    if (n == -1 && type == '*') {
                        if (complete(start(ReplyType::nil), out)) goto done;
                        break;
                    }
                    if (n < 0) bad("negative aggregate length");
                    if (static_cast<std::uint64_t>(n) > limits_.max_elements)
                        bad("aggregate larger than the limit");
                    if (type == '%' || type == '|') n *= 2;
                }
                if (stack_.size() >= limits_.max_depth) bad("aggregates nested too deeply");
                Frame f;
                if (attr) {
                    f.value = Reply(ReplyType::map, {});
                } else {
                    f.value = start(t);
                }
                f.remaining = n;
                f.attribute = attr;
                if (n == 0) {
                    if (attr) {
                        pending_attrs_.emplace();
                        break;
                    }
                    if (complete(std::move(f.value), out)) goto done;
                    break;
                }
                if (n > 0)
                    f.value.elements().reserve(
                        std::min<std::size_t>(static_cast<std::size_t>(n), 1024));
                stack_.push_back(std::move(f));
                break;
            }
            case '.': {
                if (!text.empty()) bad("end marker with a payload");
                if (stack_.empty() || stack_.back().remaining >= 0) bad("unexpected end marker");
                Reply v = std::move(stack_.back().value);
                stack_.pop_back();
                if (v.type() == ReplyType::map && v.size() % 2 != 0)
                    bad("streamed map with odd size");
                if (complete(std::move(v), out)) goto done;
                break;
            }
            default:
                bad(std::string("unknown type byte 0x") + "0123456789abcdef"[(type >> 4) & 0xf] +
                    "0123456789abcdef"[type & 0xf]);
        }
    }
done:
    used = pos;
    return out;
}

}  // namespace weir::redis
