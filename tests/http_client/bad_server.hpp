// A small scripted HTTP/1.1 server for the client tests, running as a task on
// the test's runtime. It answers by path, and misbehaves on request:
//   /ok                 200 "ok" (Content-Length)
//   /echo               200, the request body; X-Method / X-Target headers
//   /head-echo          200, the raw request head as the body
//   /count              200, how many requests this connection carried so far
//   /status/N           status N, empty body
//   /no-length          200, body delimited by closing the connection
//   /close              200 with Connection: close
//   /big/N              200, N bytes chunked in 64 KiB chunks
//   /reset              head with Content-Length 1000, 10 bytes, then RST
//   /truncated-chunk    chunked head, a partial chunk, then close
//   /short-body         Content-Length 10, 5 bytes, then close
//   /long-body          Content-Length 2 but "okEXTRA" on the wire
//   /slow-head/MS       waits MS ms before the head
//   /slow-body/MS       head (Content-Length 10) and 5 bytes, waits MS ms, 5 more
//   /redirect/N         302 to /redirect/N-1; /redirect/0 answers 200 "done"
//   /see-other          303 to /echo
//   /bad-location       302 with "Location: /x y" (a space a request line cannot carry)
//   /no-read            reads the head only, then waits 10 s
// close_after: close a connection silently after that many responses (0: never).
#pragma once

#include <sys/socket.h>

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include <weir/core.hpp>
#include <weir/http/chunked_decoder.hpp>
#include <weir/net.hpp>

namespace weir::http::testing {

using namespace std::chrono_literals;

class BadServer {
public:
    explicit BadServer(std::string host = "127.0.0.1")
        : host_(std::move(host)), listener_(net::Listener::bind_tcp(host_, 0)) {
        port_ = listener_.local_address().port();
    }

    std::uint16_t port() const noexcept { return port_; }
    std::string url(std::string_view path) const {
        const bool v6 = host_.find(':') != std::string::npos;
        return "http://" + (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_) +
               std::string(path);
    }

    int accepted = 0;  // connections
    int requests = 0;  // requests answered (or started)
    int close_after = 0;

    Task<void> run() {
        auto body = [this](TaskGroup& g) -> Task<void> {
            for (;;) {
                net::Stream s = co_await listener_.accept();
                ++accepted;
                g.spawn(serve(std::move(s)));
            }
        };
        co_await task_group(body);
    }

private:
    static std::uint64_t number(std::string_view s) {
        std::uint64_t n = 0;
        std::from_chars(s.data(), s.data() + s.size(), n);
        return n;
    }

    Task<void> serve(net::Stream s) {
        try {
            co_await serve_inner(s);
        } catch (const SystemError&) {
        }
    }

    static Task<bool> fill(net::Stream& s, std::string& buf) {
        char tmp[65536];
        std::size_t n = co_await s.read_some(std::span<char>(tmp));
        if (n == 0) co_return false;
        buf.append(tmp, n);
        co_return true;
    }

    Task<void> serve_inner(net::Stream& s) {
        std::string buf;
        int served = 0;
        for (;;) {
            std::size_t end;
            while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
                if (!co_await fill(s, buf)) co_return;
            }
            const std::string head = buf.substr(0, end + 4);
            buf.erase(0, end + 4);
            ++requests;
            ++served;
            const std::size_t sp1 = head.find(' ');
            const std::size_t sp2 = head.find(' ', sp1 + 1);
            const std::string method = head.substr(0, sp1);
            const std::string target = head.substr(sp1 + 1, sp2 - sp1 - 1);
            const std::string path = target.substr(0, target.find('?'));
            std::string lower_head;
            for (char c : head)
                lower_head.push_back(
                    static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
            if (path == "/no-read") {  // never reads the request body
                co_await sleep_for(10s);
                co_return;
            }
            // Request body.
            std::string body;
            if (auto p = lower_head.find("\r\ncontent-length:"); p != std::string::npos) {
                const std::uint64_t n =
                    number(lower_head.substr(p + 17, 20)
                               .substr(lower_head.substr(p + 17, 20).find_first_not_of(' ')));
                while (buf.size() < n)
                    if (!co_await fill(s, buf)) co_return;
                body = buf.substr(0, n);
                buf.erase(0, n);
            } else if (lower_head.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
                ChunkedDecoder dec(ChunkedLimits{1ull << 30, 1024, 1024});
                for (;;) {
                    auto r = dec.feed(buf, body);
                    if (r.status == ChunkedStatus::Done) {
                        buf.erase(0, r.consumed);
                        break;
                    }
                    if (r.status == ChunkedStatus::Error) co_return;
                    buf.clear();
                    if (!co_await fill(s, buf)) co_return;
                }
            }

            auto reply = [&](int status, std::string_view content, std::string extra = "") {
                std::string out = "HTTP/1.1 " + std::to_string(status) +
                                  " X\r\nContent-Length: " + std::to_string(content.size()) +
                                  "\r\n" + extra + "\r\n";
                if (method != "HEAD") out += content;
                return out;
            };

            if (path == "/ok") {
                co_await s.write_all(reply(200, "ok"));
            } else if (path == "/echo") {
                co_await s.write_all(
                    reply(200, body, "X-Method: " + method + "\r\nX-Target: " + target + "\r\n"));
            } else if (path == "/head-echo") {
                co_await s.write_all(reply(200, head));
            } else if (path == "/count") {
                co_await s.write_all(reply(200, std::to_string(served)));
            } else if (path.starts_with("/status/")) {
                co_await s.write_all(reply(static_cast<int>(number(path.substr(8))), ""));
            } else if (path == "/no-length") {
                co_await s.write_all("HTTP/1.1 200 OK\r\n\r\nuntil the end");
                co_return;
            } else if (path == "/close") {
                co_await s.write_all(reply(200, "bye", "Connection: close\r\n"));
                co_return;
            } else if (path.starts_with("/big/")) {
                std::uint64_t left = number(path.substr(5));
                co_await s.write_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                std::string chunk;
                while (left > 0) {
                    const std::size_t n =
                        static_cast<std::size_t>(std::min<std::uint64_t>(left, 65536));
                    char size[32];
                    int k = std::snprintf(size, sizeof size, "%zx\r\n", n);
                    chunk.assign(size, static_cast<std::size_t>(k));
                    chunk.append(n, static_cast<char>('a' + (left % 26)));
                    chunk += "\r\n";
                    co_await s.write_all(chunk);
                    left -= n;
                }
                co_await s.write_all("0\r\n\r\n");
            } else if (path == "/reset") {
                co_await s.write_all("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789");
                co_await sleep_for(20ms);
                linger lg{1, 0};
                ::setsockopt(s.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
                co_return;
            } else if (path == "/truncated-chunk") {
                co_await s.write_all(
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc");
                co_return;
            } else if (path == "/short-body") {
                co_await s.write_all("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234");
                co_return;
            } else if (path == "/long-body") {
                co_await s.write_all("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA");
            } else if (path.starts_with("/slow-head/")) {
                co_await sleep_for(std::chrono::milliseconds(number(path.substr(11))));
                co_await s.write_all(reply(200, "slow"));
            } else if (path.starts_with("/slow-body/")) {
                co_await s.write_all("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234");
                co_await sleep_for(std::chrono::milliseconds(number(path.substr(11))));
                co_await s.write_all("56789");
            } else if (path.starts_with("/redirect/")) {
                const std::uint64_t n = number(path.substr(10));
                if (n == 0) {
                    co_await s.write_all(reply(200, "done"));
                } else {
                    co_await s.write_all(
                        reply(302, "", "Location: /redirect/" + std::to_string(n - 1) + "\r\n"));
                }
            } else if (path == "/see-other") {
                co_await s.write_all(reply(303, "", "Location: /echo\r\n"));
            } else if (path == "/bad-location") {
                co_await s.write_all(reply(302, "", "Location: /x y\r\n"));
            } else {
                co_await s.write_all(reply(404, "not found"));
            }
            if (close_after > 0 && served >= close_after) co_return;
        }
    }

    std::string host_;
    net::Listener listener_;
    std::uint16_t port_ = 0;
};

// Runs body(server) with the server running; stops it afterwards.
template <class Body>
Task<void> with_bad_server(Body& body, int close_after = 0, const char* host = "127.0.0.1") {
    BadServer server(host);
    server.close_after = close_after;
    auto group = [&](TaskGroup& g) -> Task<void> {
        g.spawn(server.run());
        co_await body(server);
        g.cancel();
    };
    co_await task_group(group);
}

}  // namespace weir::http::testing
