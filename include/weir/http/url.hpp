// Url: the parts of an absolute http:// or https:// URL the client needs, and
// percent-encoding for query strings.
//
//     auto u = weir::http::Url::parse("https://example.org:8443/a/b?x=1#frag");
//     // u.scheme "https", u.host "example.org", u.port 8443, u.target "/a/b?x=1"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace weir::http {

struct Url {
    std::string scheme;  // "http" or "https" (lower case)
    std::string host;    // without brackets for IPv6 literals
    std::uint16_t port = 0;
    std::string target;  // path and query ("/" if empty), without the fragment
    std::string userinfo;

    bool is_tls() const noexcept { return scheme == "https"; }
    bool default_port() const noexcept {
        return (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
    }
    // "scheme://host:port": the pool key.
    std::string origin() const;
    // Host header value: host[:port], brackets around IPv6.
    std::string host_header() const;
    void append_host_header(std::string& out) const;
    std::string to_string() const;

    // Throws InvalidUrl.
    static Url parse(std::string_view text);
    // Resolves a Location header against this URL (absolute, "//host/...", "/path", "rel").
    Url resolve(std::string_view reference) const;
};

// application/x-www-form-urlencoded style escaping (spaces as %20).
void append_percent_encoded(std::string& out, std::string_view s);

}  // namespace weir::http
