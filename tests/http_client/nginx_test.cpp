// http::Client against a real nginx (HTTP and HTTPS with a CA made by the
// test), and against weir's own server.
#include <openssl/x509_vfy.h>

#include <memory>
#include <string>

#include <weir/core.hpp>
#include <weir/http/client.hpp>
#include <weir/net/tls.hpp>
#include <weir/testing/async_test.hpp>
#include <weir/testing/nginx_server.hpp>

#include "../http/server_test_util.hpp"

namespace {

using namespace std::chrono_literals;
using weir::Task;
using weir::http::Client;
using weir::http::ClientOptions;
using weir::http::ClientRequest;
using weir::testing::NginxOptions;
using weir::testing::NginxServer;

std::string big_body(std::size_t n) {
    std::string s(n, 'x');
    for (std::size_t i = 0; i < n; i += 997) s[i] = static_cast<char>('a' + (i % 26));
    return s;
}

NginxOptions plain_options() {
    NginxOptions o;
    o.files["big.bin"] = big_body(8 << 20);
    o.files["text.txt"] = std::string(100000, 'g');
    o.locations =
        "location = /slow { echo_sleep 2; echo done; }\n"
        "location = /flushy { echo start; echo_flush; echo_sleep 2; echo end; }\n"
        "location = /redirect { return 302 /hello; }\n";
    o.http_directives = "gzip on; gzip_types text/plain; gzip_min_length 10;";
    return o;
}

// One nginx for the plain-HTTP tests of this file.
NginxServer& plain_nginx() {
    static NginxServer server(plain_options());  // stopped at exit
    return server;
}

template <class F>
Task<void> with_client(const ClientOptions& o, F& f) {
    ClientOptions options = o;
    auto inner = [&](Client& client) -> Task<void> { co_await f(client); };
    Client client(std::move(options));
    co_await weir::with_resource(std::move(client), inner);
}

const ClientOptions kDefaults{};

WEIR_TEST(HttpClientNginx, KeepAliveReuse) {
    auto& nginx = plain_nginx();
    auto f = [&](Client& c) -> Task<void> {
        for (int i = 0; i < 50; ++i) {
            auto r = co_await c.get(nginx.url("/hello"));
            EXPECT_EQ(r.status, 200);
            EXPECT_EQ(r.body, "hello, world\n");
        }
        auto m = c.metrics();
        EXPECT_EQ(m.connects, 1u);
        EXPECT_EQ(m.reuses, 49u);
        auto h = co_await c.get(nginx.url("/healthz"));
        EXPECT_EQ(h.status, 204);
        auto missing = co_await c.get(nginx.url("/missing"));
        EXPECT_EQ(missing.status, 404);
        EXPECT_EQ(c.metrics().connects, 1u);
    };
    co_await with_client(kDefaults, f);
}

WEIR_TEST(HttpClientNginx, ConcurrentRequestsWithinLimits) {
    auto& nginx = plain_nginx();
    ClientOptions o;
    o.max_connections_per_origin = 8;
    auto f = [&](Client& c) -> Task<void> {
        auto body = [&](weir::TaskGroup& g) -> Task<void> {
            auto one = [](Client& c, std::string url) -> Task<void> {
                for (int i = 0; i < 20; ++i) {
                    auto r = co_await c.get(url);
                    EXPECT_EQ(r.status, 200);
                }
            };
            for (int i = 0; i < 32; ++i) g.spawn(one(c, nginx.url("/hello")));
            co_return;
        };
        co_await weir::task_group(body);
        auto m = c.metrics();
        EXPECT_LE(m.connects, 8u);
        EXPECT_EQ(m.connects + m.reuses, 640u);
        EXPECT_EQ(m.in_use, 0u);
    };
    co_await with_client(o, f);
}

WEIR_TEST(HttpClientNginx, LargeBodyBufferedAndStreamed) {
    auto& nginx = plain_nginx();
    auto f = [&](Client& c) -> Task<void> {
        auto r = co_await c.get(nginx.url("/big.bin"));
        EXPECT_EQ(r.status, 200);
        EXPECT_TRUE(r.body == big_body(8 << 20));
        ClientRequest req;
        req.url = nginx.url("/big.bin");
        auto s = co_await c.stream(std::move(req));
        std::string got;
        for (;;) {
            auto piece = co_await s.next();
            if (!piece) break;
            got.append(*piece);
        }
        EXPECT_TRUE(got == big_body(8 << 20));
        EXPECT_EQ(c.metrics().connects, 1u);
    };
    co_await with_client(kDefaults, f);
}

WEIR_TEST(HttpClientNginx, GzipDecoding) {
    auto& nginx = plain_nginx();
    auto f = [&](Client& c) -> Task<void> {
        auto r = co_await c.get(nginx.url("/text.txt"));
        EXPECT_EQ(r.header("content-encoding"), "gzip");
        EXPECT_EQ(r.body, std::string(100000, 'g'));
    };
    co_await with_client(kDefaults, f);
    ClientOptions raw;
    raw.decompress = false;
    auto g = [&](Client& c) -> Task<void> {
        auto r = co_await c.get(nginx.url("/text.txt"));
        EXPECT_EQ(r.header("content-encoding"), std::nullopt);
        EXPECT_EQ(r.body.size(), 100000u);
    };
    co_await with_client(raw, g);
}

WEIR_TEST(HttpClientNginx, ReadTimeoutOnSlowUpstreamAndRedirect) {
    auto& nginx = plain_nginx();
    ClientOptions o;
    o.read_timeout = 300ms;
    auto f = [&](Client& c) -> Task<void> {
        bool timed_out = false;
        try {
            co_await c.get(nginx.url("/slow"));
        } catch (const weir::http::ReadTimeout&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        timed_out = false;
        try {
            co_await c.get(nginx.url("/flushy"));  // head and a first piece, then silence
        } catch (const weir::http::ReadTimeout&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        weir::http::RequestOptions ro;
        ro.follow_redirects = true;
        auto r = co_await c.get(nginx.url("/redirect"), std::move(ro));
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "hello, world\n");
    };
    co_await with_client(o, f);
}

NginxOptions tls_options() {
    NginxOptions o;
    o.tls = true;
    o.files["data.txt"] = std::string(300000, 't');
    return o;
}

NginxServer& tls_nginx() {
    static NginxServer server(tls_options());
    return server;
}

WEIR_TEST(HttpClientTls, VerifiedWithCustomCa) {
    auto& nginx = tls_nginx();
    ClientOptions o;
    o.tls.ca_file = nginx.ca_file();
    auto f = [&](Client& c) -> Task<void> {
        for (int i = 0; i < 10; ++i) {
            auto r = co_await c.get(nginx.url("/hello"));
            EXPECT_EQ(r.status, 200);
            EXPECT_EQ(r.body, "hello, world\n");
        }
        auto big = co_await c.get(nginx.url("/data.txt"));
        EXPECT_EQ(big.body, std::string(300000, 't'));
        EXPECT_EQ(c.metrics().connects, 1u);
        // By IP address: the certificate lists IP:127.0.0.1 as well.
        auto ip = co_await c.get("https://127.0.0.1:" + std::to_string(nginx.port()) + "/hello");
        EXPECT_EQ(ip.status, 200);
    };
    co_await with_client(o, f);
}

WEIR_TEST(HttpClientTls, UntrustedCaIsATypedError) {
    auto& nginx = tls_nginx();
    auto f = [&](Client& c) -> Task<void> {
        long result = 0;
        try {
            co_await c.get(nginx.url("/hello"));  // system store: does not know the test CA
        } catch (const weir::net::TlsVerifyError& e) {
            result = e.verify_result();
        }
        EXPECT_TRUE(result == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                    result == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)
            << result;
        EXPECT_EQ(c.metrics().in_use, 0u);
    };
    co_await with_client(kDefaults, f);
    ClientOptions off;
    off.tls.verify = false;
    auto g = [&](Client& c) -> Task<void> {
        auto r = co_await c.get(nginx.url("/hello"));
        EXPECT_EQ(r.status, 200);
    };
    co_await with_client(off, g);
}

WEIR_TEST(HttpClientTls, HostnameMismatch) {
    NginxOptions o;
    o.tls = true;
    o.tls_names = "DNS:other.example";
    NginxServer nginx(o);
    ClientOptions co;
    co.tls.ca_file = nginx.ca_file();
    auto f = [&](Client& c) -> Task<void> {
        long result = 0;
        try {
            co_await c.get(nginx.url("/hello"));
        } catch (const weir::net::TlsVerifyError& e) {
            result = e.verify_result();
        }
        EXPECT_EQ(result, X509_V_ERR_HOSTNAME_MISMATCH);
    };
    co_await with_client(co, f);
}

WEIR_TEST(HttpClientTls, ClientCertificate) {
    // nginx requires a client certificate signed by the test CA.
    auto dir = weir::testing::make_temp_dir("weir-mtls-");
    NginxServer::make_ca(dir);
    NginxServer::make_cert(dir, "client", "DNS:client.test");
    NginxOptions o;
    o.tls = true;
    o.locations =
        "ssl_client_certificate " + (dir / "ca.crt").string() + ";\nssl_verify_client on;\n";
    NginxServer nginx(o);
    ClientOptions with_cert;
    with_cert.tls.ca_file = nginx.ca_file();
    with_cert.tls.cert_file = (dir / "client.crt").string();
    with_cert.tls.key_file = (dir / "client.key").string();
    auto f = [&](Client& c) -> Task<void> {
        auto r = co_await c.get(nginx.url("/hello"));
        EXPECT_EQ(r.status, 200);
    };
    co_await with_client(with_cert, f);
    ClientOptions without;
    without.tls.ca_file = nginx.ca_file();
    auto g = [&](Client& c) -> Task<void> {
        auto r = co_await c.get(nginx.url("/hello"));
        EXPECT_EQ(r.status, 400);  // "No required SSL certificate was sent"
    };
    co_await with_client(without, g);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

WEIR_TEST(HttpClientTls, AlpnOffered) {
    auto& nginx = tls_nginx();
    auto ctx_opts = weir::net::TlsClientOptions{};
    ctx_opts.ca_file = nginx.ca_file();
    ctx_opts.alpn = {"http/1.1"};
    auto ctx = weir::net::TlsContext::client(ctx_opts);
    auto tcp = co_await weir::net::connect_tcp("127.0.0.1", nginx.port());
    auto tls = co_await weir::net::TlsStream::connect(std::move(tcp), ctx, "localhost");
    EXPECT_EQ(tls.alpn_selected(), "http/1.1");
    co_await tls.write_all("GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    std::string got;
    char buf[4096];
    for (;;) {
        std::size_t n = co_await tls.read_some(std::span<char>(buf));
        if (n == 0) break;
        got.append(buf, n);
    }
    EXPECT_NE(got.find("hello, world"), std::string::npos);
    tls.close();
}

// TLS connections are closed in every way the client has: after their last request
// (max_requests_per_connection), when found closed by the server (its keep-alive timeout
// ended it while idle), and by close(). Each sends close_notify as it closes (nginx does not
// log whether it got one: the TLS stream's tests check that against redis-server); nothing
// fails, nothing leaks, and nginx logs no error.
WEIR_TEST(HttpClientTls, ConnectionsCloseInOrder) {
    NginxOptions no;
    no.tls = true;
    no.keepalive_timeout_s = 1;
    NginxServer nginx(no);
    ClientOptions o;
    o.tls.ca_file = nginx.ca_file();
    o.max_requests_per_connection = 2;
    auto f = [&](Client& c) -> Task<void> {
        for (int i = 0; i < 6; ++i) {
            auto r = co_await c.get(nginx.url("/hello"));
            EXPECT_EQ(r.status, 200);
        }
        EXPECT_EQ(c.metrics().connects, 3u);
        auto before = co_await c.get(nginx.url("/hello"));  // its connection stays idle...
        EXPECT_EQ(before.status, 200);
        co_await weir::sleep_for(1500ms);  // ...until nginx closes it
        auto after = co_await c.get(nginx.url("/hello"));
        EXPECT_EQ(after.status, 200);
        EXPECT_EQ(c.metrics().connects, 5u);
    };  // with_client closes the client: its idle connection goes too
    co_await with_client(o, f);
    const std::string log = nginx.error_log();
    EXPECT_EQ(log.find("[error]"), std::string::npos) << log;
    EXPECT_EQ(log.find("[crit]"), std::string::npos) << log;
    EXPECT_EQ(log.find("[alert]"), std::string::npos) << log;
}

WEIR_TEST(HttpClientWeirServer, AgainstWeirsOwnServer) {
    weir::http::Handler h = [](weir::http::Request& req,
                               weir::http::Context&) -> Task<weir::http::Response> {
        co_return weir::http::Response::text("path=" + std::string(req.path()));
    };
    auto body = [](weir::http::ServerHandle& sh) -> Task<void> {
        Client c;
        auto inner = [&](Client& client) -> Task<void> {
            for (int i = 0; i < 5; ++i) {
                auto r = co_await client.get("http://127.0.0.1:" + std::to_string(sh.port()) +
                                             "/x/" + std::to_string(i));
                EXPECT_EQ(r.status, 200);
                EXPECT_EQ(r.body, "path=/x/" + std::to_string(i));
            }
            EXPECT_EQ(client.metrics().connects, 1u);
        };
        co_await weir::with_resource(std::move(c), inner);
    };
    co_await weir::http::testing::with_server(h, weir::http::testing::kDefaultOptions, body);
}

}  // namespace
