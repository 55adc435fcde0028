#include "weir/redis/options.hpp"

#include <charconv>

#include "weir/redis/error.hpp"

namespace weir::redis {

namespace {

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string decode(std::string_view s, std::string_view url) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0)
                throw UrlError("redis URL has a bad percent escape: " + std::string(url));
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

long long number(std::string_view s, std::string_view what, std::string_view url, long long max) {
    long long v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || v < 0 || v > max)
        throw UrlError("redis URL has a bad " + std::string(what) + " '" + std::string(s) +
                       "': " + std::string(url));
    return v;
}

void apply_query(ConnectionOptions& o, std::string_view q, std::string_view url) {
    while (!q.empty()) {
        auto amp = q.find('&');
        std::string_view kv = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
        if (kv.empty()) continue;
        auto eq = kv.find('=');
        std::string_view k = kv.substr(0, eq);
        std::string v =
            eq == std::string_view::npos ? std::string() : decode(kv.substr(eq + 1), url);
        if (k == "db") {
            o.db = static_cast<int>(number(v, "db", url, 1 << 30));
        } else if (k == "password") {
            o.password = v;
        } else if (k == "username" || k == "user") {
            o.username = v;
        } else if (k == "client_name" || k == "name") {
            o.client_name = v;
        } else if (k == "ca_file" || k == "ssl_ca_certs") {
            o.tls.ca_file = v;
        } else if (k == "ca_path" || k == "ssl_ca_path") {
            o.tls.ca_path = v;
        } else if (k == "cert_file" || k == "ssl_certfile") {
            o.tls.cert_file = v;
        } else if (k == "key_file" || k == "ssl_keyfile") {
            o.tls.key_file = v;
        } else if (k == "server_name" || k == "sni") {
            o.tls.server_name = v;
        } else if (k == "verify" || k == "ssl_cert_reqs") {
            if (v == "1" || v == "true" || v == "yes" || v == "required") {
                o.tls.verify = true;
            } else if (v == "0" || v == "false" || v == "no" || v == "none") {
                o.tls.verify = false;
            } else {
                throw UrlError("redis URL: bad " + std::string(k) + " '" + v +
                               "': " + std::string(url));
            }
        } else if (k == "protocol") {
            o.protocol = static_cast<int>(number(v, "protocol", url, 3));
            if (o.protocol != 2 && o.protocol != 3)
                throw UrlError("redis URL: protocol must be 2 or 3: " + std::string(url));
        } else {
            throw UrlError("redis URL has an unknown parameter '" + std::string(k) +
                           "': " + std::string(url));
        }
    }
}

}  // namespace

ConnectionOptions ConnectionOptions::from_url(std::string_view url) {
    ConnectionOptions o;
    std::string_view rest;
    if (url.starts_with("redis://")) {
        rest = url.substr(8);
    } else if (url.starts_with("rediss://")) {
        rest = url.substr(9);
        o.tls.enabled = true;
    } else if (url.starts_with("unix://")) {
        rest = url.substr(7);
        auto qm = rest.find('?');
        o.unix_path = decode(rest.substr(0, qm), url);
        if (o.unix_path.empty())
            throw UrlError("redis URL has no socket path: " + std::string(url));
        if (qm != std::string_view::npos) apply_query(o, rest.substr(qm + 1), url);
        return o;
    } else {
        throw UrlError("not a redis URL (redis://, rediss://, unix://): " + std::string(url));
    }
    std::string_view query;
    if (auto qm = rest.find('?'); qm != std::string_view::npos) {
        query = rest.substr(qm + 1);
        rest = rest.substr(0, qm);
    }
    std::string_view path;
    if (auto sl = rest.find('/'); sl != std::string_view::npos) {
        path = rest.substr(sl + 1);
        rest = rest.substr(0, sl);
    }
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        std::string_view userinfo = rest.substr(0, at);
        rest = rest.substr(at + 1);
        auto colon = userinfo.find(':');
        if (colon == std::string_view::npos) {
            // redis://password@host is ambiguous; redis-py reads it as a user name.
            o.username = decode(userinfo, url);
        } else {
            o.username = decode(userinfo.substr(0, colon), url);
            o.password = decode(userinfo.substr(colon + 1), url);
        }
    }
    std::string_view host = rest;
    std::string_view port;
    if (rest.starts_with('[')) {
        auto close = rest.find(']');
        if (close == std::string_view::npos)
            throw UrlError("redis URL has an unterminated IPv6 address: " + std::string(url));
        host = rest.substr(1, close - 1);
        std::string_view after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':')
                throw UrlError("redis URL has junk after the host: " + std::string(url));
            port = after.substr(1);
        }
    } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    }
    if (!host.empty()) o.host = std::string(host);
    if (!port.empty() || (rest.size() && rest.back() == ':'))
        o.port = static_cast<std::uint16_t>(number(port, "port", url, 65535));
    if (o.port == 0) throw UrlError("redis URL has port 0: " + std::string(url));
    if (!path.empty()) o.db = static_cast<int>(number(path, "db", url, 1 << 30));
    apply_query(o, query, url);
    return o;
}

void ConnectionOptions::prepare_tls() {
    if (!tls.enabled || tls.context.valid()) return;
    net::TlsClientOptions t;
    t.verify = tls.verify;
    t.ca_file = tls.ca_file;
    t.ca_path = tls.ca_path;
    t.cert_file = tls.cert_file;
    t.key_file = tls.key_file;
    try {
        tls.context = net::TlsContext::client(t);
    } catch (const net::TlsError& e) {
        throw TlsError(std::string("redis: TLS set-up failed: ") + e.what());
    }
}

}  // namespace weir::redis
