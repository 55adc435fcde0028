// Helpers for the HTTP server tests: run serve() on port 0 around a test body,
// and a small raw HTTP/1.1 client over weir::net that reads responses the way
// a strict client would (Content-Length, chunked, or until EOF).
#pragma once

#include <cctype>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <weir/core.hpp>
#include <weir/http/server.hpp>
#include <weir/net.hpp>

namespace weir::http::testing {

using namespace std::chrono_literals;

// Default options, for passing by reference (g++ 12 destroys a temporary
// created inside a co_await expression twice: never write
// `co_await with_server(h, ServerOptions{}, ...)`).
inline const ServerOptions kDefaultOptions{};

// Starts serve() on 127.0.0.1, port 0, runs body(handle) once every shard
// listens, then cancels the server (graceful drain) and joins it. Every
// argument is taken by reference and copied here, for the same g++ reason.
template <class H, class Body>
Task<void> with_server(const H& h, const ServerOptions& o, Body& body, const Lifespan& l) {
    Handler handler = h;
    ServerOptions options = o;
    Lifespan lifespan = l;
    options.host = "127.0.0.1";
    options.port = 0;
    Event listening;
    ServerHandle* handle = nullptr;
    options.on_listening = [&](ServerHandle& sh) {
        handle = &sh;
        listening.set();
    };
    auto group_body = [&](TaskGroup& g) -> Task<void> {
        Task<void> server = serve(std::move(handler), std::move(options), std::move(lifespan));
        g.spawn(std::move(server), "test-server");
        co_await listening.wait();
        co_await body(*handle);
        g.cancel();
    };
    co_await task_group(group_body);
}

template <class H, class Body>
Task<void> with_server(const H& h, const ServerOptions& o, Body& body) {
    static const Lifespan none;
    co_await with_server(h, o, body, none);
}

struct RawResponse {
    int status = 0;
    std::string version;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string body;
    bool chunked = false;

    std::optional<std::string> header(std::string_view name) const {
        for (const auto& [k, v] : headers)
            if (k == name) return v;
        return std::nullopt;
    }
    bool closes() const {
        auto c = header("connection");
        return c && *c == "close";
    }
};

inline std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

class RawClient {
public:
    static Task<RawClient> connect(std::uint16_t port) {
        RawClient c;
        c.stream_ = co_await net::connect_tcp("127.0.0.1", port);
        c.stream_.set_nodelay(true);
        co_return c;
    }

    Task<void> send(std::string_view data) { co_await stream_.write_all(data); }

    // Reads one response (nullopt if the server closed before sending any
    // byte). For a response to HEAD pass head_request = true.
    Task<std::optional<RawResponse>> read_response(bool head_request = false,
                                                   Duration timeout = 10s) {
        co_return co_await with_timeout(timeout, read_response_inner(head_request));
    }

    // Everything until the server closes the connection.
    Task<std::string> read_until_eof(Duration timeout = 10s) {
        co_return co_await with_timeout(timeout, read_until_eof_inner());
    }

    // True if the server closed the connection (EOF or reset) within `timeout`
    // without sending anything more.
    Task<bool> closed_without_data(Duration timeout = 10s) {
        if (!buf_.empty()) co_return false;
        try {
            std::string rest = co_await read_until_eof(timeout);
            co_return rest.empty();
        } catch (const SystemError&) {
            co_return true;  // reset
        }
    }

    void close() { stream_.close(); }
    net::Stream& stream() { return stream_; }
    std::string& buffered() { return buf_; }

private:
    Task<bool> fill() {
        char tmp[16384];
        std::size_t n = co_await stream_.read_some(std::span<char>(tmp));
        if (n == 0) co_return false;
        buf_.append(tmp, n);
        co_return true;
    }

    Task<std::string> read_until_eof_inner() {
        // (g++ 12 loses a `while (co_await ...) {}` with an empty body.)
        for (;;) {
            const bool more = co_await fill();
            if (!more) break;
        }
        std::string out;
        out.swap(buf_);
        co_return out;
    }

    Task<std::optional<RawResponse>> read_response_inner(bool head_request) {
        std::size_t end;
        while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
            if (!co_await fill()) {
                if (buf_.empty()) co_return std::nullopt;
                throw std::runtime_error("connection closed inside a response head: " + buf_);
            }
        }
        RawResponse r;
        const std::string head = buf_.substr(0, end);
        buf_.erase(0, end + 4);
        std::size_t line_end = head.find("\r\n");
        const std::string status_line = head.substr(0, line_end);
        r.version = status_line.substr(0, 8);
        r.status = std::stoi(status_line.substr(9, 3));
        while (line_end != std::string::npos) {
            const std::size_t start = line_end + 2;
            line_end = head.find("\r\n", start);
            const std::string line = head.substr(start, line_end - start);
            const std::size_t colon = line.find(':');
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            r.headers.emplace_back(lower(line.substr(0, colon)), value);
        }
        if (r.status < 200 || r.status == 204 || r.status == 304 || head_request) co_return r;
        if (auto te = r.header("transfer-encoding"); te && lower(*te) == "chunked") {
            r.chunked = true;
            for (;;) {
                std::size_t le;
                while ((le = buf_.find("\r\n")) == std::string::npos)
                    if (!co_await fill()) throw std::runtime_error("EOF in chunk size");
                const std::size_t size = std::stoul(buf_.substr(0, le), nullptr, 16);
                buf_.erase(0, le + 2);
                while (buf_.size() < size + 2)
                    if (!co_await fill()) throw std::runtime_error("EOF in chunk data");
                r.body.append(buf_, 0, size);
                buf_.erase(0, size + 2);
                if (size == 0) break;
            }
            co_return r;
        }
        if (auto cl = r.header("content-length")) {
            const std::size_t n = std::stoul(*cl);
            while (buf_.size() < n)
                if (!co_await fill()) throw std::runtime_error("EOF in body");
            r.body = buf_.substr(0, n);
            buf_.erase(0, n);
            co_return r;
        }
        // Delimited by the end of the connection.
        for (;;) {
            const bool more = co_await fill();
            if (!more) break;
        }
        r.body.swap(buf_);
        co_return r;
    }

    net::Stream stream_;
    std::string buf_;
};

// One request on a fresh connection.
inline Task<RawResponse> request_once(std::uint16_t port, std::string raw, bool head = false) {
    RawClient c = co_await RawClient::connect(port);
    co_await c.send(raw);
    auto r = co_await c.read_response(head);
    if (!r) throw std::runtime_error("no response");
    co_return std::move(*r);
}

inline std::string get(std::string_view path, std::string_view extra_headers = "") {
    std::string s = "GET ";
    s += path;
    s += " HTTP/1.1\r\nHost: test\r\n";
    s += extra_headers;
    s += "\r\n";
    return s;
}

// The value of the first sample of /metrics whose line starts with `prefix`
// (e.g. `weir_http_requests_total{route="/x",status="200",shard="0"}`),
// summed over every matching line; -1 if none matches.
inline double metric_sum(const std::string& text, std::string_view name,
                         const std::vector<std::string>& label_parts = {}) {
    double sum = 0;
    bool found = false;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string::npos) eol = text.size();
        std::string_view line(text.data() + pos, eol - pos);
        pos = eol + 1;
        if (line.empty() || line[0] == '#') continue;
        const std::size_t name_end = line.find_first_of("{ ");
        if (line.substr(0, name_end) != name) continue;
        bool all = true;
        for (const auto& part : label_parts)
            if (line.find(part) == std::string_view::npos) all = false;
        if (!all) continue;
        sum += std::stod(std::string(line.substr(line.rfind(' ') + 1)));
        found = true;
    }
    return found ? sum : -1;
}

}  // namespace weir::http::testing
