#include "weir/http/url.hpp"

#include <charconv>
#include <string>
#include <vector>

#include "weir/http/ascii.hpp"
#include "weir/http/client_errors.hpp"

namespace weir::http {

namespace {

// host, in brackets when it is an IPv6 literal.
void append_host(std::string& out, const std::string& host) {
    if (host.find(':') != std::string::npos) {
        out += '[';
        out += host;
        out += ']';
    } else {
        out += host;
    }
}

void append_port(std::string& out, std::uint16_t port) {
    char digits[8];
    const auto r = std::to_chars(digits, digits + sizeof digits, port);
    out.append(digits, r.ptr);
}

// The target goes into the request line as is: no spaces, no control bytes.
void check_target(const std::string& target, std::string_view text) {
    for (char c : target) {
        const auto uc = static_cast<unsigned char>(c);
        if (uc <= 0x20 || uc == 0x7f)
            throw InvalidUrl("bad character in URL path: " + std::string(text));
    }
}

// An absolute reference starts with a scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":".
// ("/login?next=http://x" is a path, not a URL with the scheme "/login?next=http".)
bool has_scheme(std::string_view ref) {
    const auto is_alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    if (ref.empty() || !is_alpha(ref.front())) return false;
    for (char c : ref.substr(1)) {
        if (c == ':') return true;
        if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return false;
    }
    return false;
}

// RFC 3986 5.2.4 for an absolute path: drops "." segments and ".." with the segment before it
// (never above the root); a path ending in "." or ".." keeps its trailing '/'.
std::string remove_dot_segments(std::string_view path) {
    std::vector<std::string_view> kept;
    bool trailing_slash = false;
    std::size_t start = 1;  // path[0] == '/'
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        const std::string_view seg = path.substr(start, end - start);
        const bool last = end == path.size();
        if (seg == ".") {
            trailing_slash = last;
        } else if (seg == "..") {
            if (!kept.empty()) kept.pop_back();
            trailing_slash = last;
        } else {
            kept.push_back(seg);
            trailing_slash = false;
        }
        start = end + 1;
    }
    std::string out;
    out.reserve(path.size());
    for (std::string_view seg : kept) {
        out += '/';
        out += seg;
    }
    if (out.empty() || trailing_slash) out += '/';
    return out;
}

}  // namespace

// Each builds its string with one allocation at most (the client calls them per request).
std::string Url::origin() const {
    std::string out;
    out.reserve(scheme.size() + host.size() + 11);
    out += scheme;
    out += "://";
    append_host(out, host);
    out += ':';
    append_port(out, port);
    return out;
}

void Url::append_host_header(std::string& out) const {
    append_host(out, host);
    if (!default_port()) {
        out += ':';
        append_port(out, port);
    }
}

std::string Url::host_header() const {
    std::string out;
    out.reserve(host.size() + 8);
    append_host_header(out);
    return out;
}

std::string Url::to_string() const {
    std::string out;
    out.reserve(scheme.size() + host.size() + target.size() + 11);
    out += scheme;
    out += "://";
    append_host_header(out);
    out += target;
    return out;
}

Url Url::parse(std::string_view text) {
    Url u;
    const std::size_t colon = text.find("://");
    if (colon == std::string_view::npos)
        throw InvalidUrl("URL without scheme: " + std::string(text));
    // assign + lower in place: one copy instead of a push_back per character.
    u.scheme.assign(text.substr(0, colon));
    for (char& c : u.scheme) c = to_lower(c);
    if (u.scheme != "http" && u.scheme != "https")
        throw InvalidUrl("unsupported URL scheme: " + std::string(text));
    std::string_view rest = text.substr(colon + 3);
    if (std::size_t hash = rest.find('#'); hash != std::string_view::npos)
        rest = rest.substr(0, hash);
    std::size_t auth_end = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, auth_end);
    std::string_view path = auth_end == std::string_view::npos ? "" : rest.substr(auth_end);
    if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
        u.userinfo.assign(authority.substr(0, at));
        authority.remove_prefix(at + 1);
    }
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        std::size_t close = authority.find(']');
        if (close == std::string_view::npos)
            throw InvalidUrl("bad IPv6 literal: " + std::string(text));
        u.host.assign(authority.substr(1, close - 1));
        // An IPv6 literal: hex digits, ':' and the dots of an embedded IPv4 address.
        bool has_colon = false;
        for (char& c : u.host) {
            c = to_lower(c);
            has_colon = has_colon || c == ':';
            if (!is_digit(c) && !(c >= 'a' && c <= 'f') && c != ':' && c != '.')
                throw InvalidUrl("bad IPv6 literal: " + std::string(text));
        }
        if (!has_colon) throw InvalidUrl("bad IPv6 literal: " + std::string(text));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') throw InvalidUrl("bad authority: " + std::string(text));
            port_text = after.substr(1);
        }
    } else {
        std::size_t pc = authority.rfind(':');
        if (pc != std::string_view::npos) {
            port_text = authority.substr(pc + 1);
            authority = authority.substr(0, pc);
        }
        u.host.assign(authority);
        // A name or an IPv4 address; ':' and brackets belong to IPv6 literals only.
        for (char& c : u.host) {
            c = to_lower(c);
            if (c == ':' || c == '[' || c == ']')
                throw InvalidUrl("bad host in URL: " + std::string(text));
        }
    }
    if (u.host.empty()) throw InvalidUrl("URL without host: " + std::string(text));
    for (char c : u.host) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == '/' || c == '?' || c == '#' || c == '@')
            throw InvalidUrl("bad host in URL: " + std::string(text));
    }
    if (port_text.empty()) {
        u.port = u.scheme == "https" ? 443 : 80;
    } else {
        unsigned long p = 0;
        if (port_text.size() > 5) throw InvalidUrl("bad port in URL: " + std::string(text));
        for (char c : port_text) {
            if (!is_digit(c)) throw InvalidUrl("bad port in URL: " + std::string(text));
            p = p * 10 + static_cast<unsigned long>(c - '0');
        }
        if (p == 0 || p > 65535) throw InvalidUrl("bad port in URL: " + std::string(text));
        u.port = static_cast<std::uint16_t>(p);
    }
    if (path.empty()) {
        u.target = "/";
    } else if (path.front() == '?') {
        u.target = "/" + std::string(path);
    } else {
        u.target.assign(path);
    }
    check_target(u.target, text);
    return u;
}

Url Url::resolve(std::string_view ref) const {
    // RFC 3986 section 5.2, for the references a Location header holds.
    if (std::size_t hash = ref.find('#'); hash != std::string_view::npos) ref = ref.substr(0, hash);
    if (has_scheme(ref)) return parse(ref);
    if (ref.substr(0, 2) == "//") return parse(scheme + ":" + std::string(ref));
    Url u = *this;
    const std::string_view base_path = std::string_view(target).substr(0, target.find('?'));
    if (ref.empty()) {
        u.target = target;
    } else if (ref.front() == '?') {
        u.target.assign(base_path);
        u.target += ref;
    } else {
        const std::size_t q = ref.find('?');
        const std::string_view path = ref.substr(0, q);
        std::string merged;
        if (path.front() != '/') merged.assign(base_path.substr(0, base_path.rfind('/') + 1));
        merged += path;
        u.target = remove_dot_segments(merged);
        if (q != std::string_view::npos) u.target += ref.substr(q);
    }
    // A Location header may carry spaces or control bytes that a request line cannot.
    check_target(u.target, ref);
    return u;
}

void append_percent_encoded(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
            c == '.' || c == '_' || c == '~') {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 15]);
        }
    }
}

}  // namespace weir::http
