// RedisServer: a throwaway redis-server for tests and benchmarks, on a free
// loopback port, without persistence, stopped and removed by the destructor.
//
//     weir::testing::RedisServer redis;
//     auto url = redis.url();                  // redis://127.0.0.1:PORT/0
//
// With TLS (redis-server built with TLS, as Debian's is), the fixture makes a
// throwaway CA, a server certificate for 127.0.0.1/localhost and a client
// certificate, and listens only on a TLS port:
//
//     weir::testing::RedisServerOptions o;
//     o.tls = true;
//     o.tls_auth_clients = true;               // clients must present a certificate
//     weir::testing::RedisServer redis(o);
//     auto url = redis.url();                  // rediss://127.0.0.1:PORT/0?ca_file=...
//     redis.client_cert_file(); redis.client_key_file();
//
// log() is the server's log; at loglevel verbose (CONFIG SET loglevel verbose) it tells how
// each TLS client left, which tls_client_exit() picks out (close_notify or not).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "weir/testing/server_process.hpp"
#include "weir/testing/tls_certificates.hpp"

namespace weir::testing {

struct RedisServerOptions {
    bool tls = false;
    // tls-auth-clients yes: connections without a certificate from the CA are refused.
    bool tls_auth_clients = false;
    // subjectAltName of the server certificate.
    std::string tls_names = "DNS:localhost,IP:127.0.0.1";
};

class RedisServer {
public:
    RedisServer() : RedisServer(RedisServerOptions{}) {}
    explicit RedisServer(RedisServerOptions options)
        : options_(std::move(options)), port_(free_port()), dir_(make_temp_dir("weir-redis-")) {
        try {
            if (options_.tls) {
                make_test_ca(dir_);
                make_test_cert(dir_, "server", options_.tls_names);
                make_test_cert(dir_, "client", "DNS:client.test");
            }
            start();
        } catch (...) {
            cleanup();
            throw;
        }
    }
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;
    ~RedisServer() { cleanup(); }

    void start() {
        const std::string d = dir_.string();
        const std::string port = std::to_string(port_);
        std::vector<std::string> args = {
            "redis-server", "--bind", "127.0.0.1", "--save",        "", "--appendonly", "no",
            "--dir",        d,        "--logfile", d + "/redis.log"};
        if (options_.tls) {
            for (const char* a : {"--port", "0", "--tls-port"}) args.emplace_back(a);
            args.push_back(port);
            for (const std::string& a :
                 {std::string("--tls-cert-file"), d + "/server.crt", std::string("--tls-key-file"),
                  d + "/server.key", std::string("--tls-ca-cert-file"), d + "/ca.crt",
                  std::string("--tls-auth-clients"),
                  std::string(options_.tls_auth_clients ? "yes" : "no")})
                args.push_back(a);
        } else {
            args.emplace_back("--port");
            args.push_back(port);
        }
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            weir::testing::reset_signals_in_child();
            ::execvp("redis-server", argv.data());
            ::_exit(127);
        }
        wait_for_port(port_, std::chrono::seconds(30), "redis-server");
    }
    void stop() noexcept {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        int status;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }
    void restart() {
        stop();
        start();
    }

    std::uint16_t port() const noexcept { return port_; }
    bool tls() const noexcept { return options_.tls; }
    // redis://127.0.0.1:PORT/db, or with TLS rediss://127.0.0.1:PORT/db?ca_file=CA
    // (plus the client certificate when the server requires one).
    std::string url(int db = 0) const {
        std::string u = (options_.tls ? "rediss://127.0.0.1:" : "redis://127.0.0.1:") +
                        std::to_string(port_) + "/" + std::to_string(db);
        if (options_.tls) {
            u += "?ca_file=" + ca_file();
            if (options_.tls_auth_clients)
                u += "&cert_file=" + client_cert_file() + "&key_file=" + client_key_file();
        }
        return u;
    }
    // TLS files (empty directory entries without TLS).
    std::string ca_file() const { return (dir_ / "ca.crt").string(); }
    std::string client_cert_file() const { return (dir_ / "client.crt").string(); }
    std::string client_key_file() const { return (dir_ / "client.key").string(); }
    const std::filesystem::path& dir() const noexcept { return dir_; }

    // The log (redis.log) from byte `from` on.
    std::string log(std::size_t from = 0) const {
        std::ifstream in(dir_ / "redis.log");
        std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        return from < text.size() ? text.substr(from) : std::string();
    }
    // The first line after byte `from` of the log saying that a TLS client left, waiting
    // (blocking) up to 5 s for it; needs loglevel verbose. Redis 7 writes "Reading from
    // client: error:00000000:lib(0)::reason(0)" after a close_notify and "... unexpected eof
    // while reading" after a bare TCP close.
    std::string tls_client_exit(std::size_t from) const {
        for (int i = 0; i < 250; ++i) {
            const std::string text = log(from);
            const std::size_t at = text.find("Reading from client");
            if (at != std::string::npos) return text.substr(at, text.find('\n', at) - at);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return "<no client exit logged>";
    }

private:
    void cleanup() noexcept {
        stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    RedisServerOptions options_;
    std::uint16_t port_;
    std::filesystem::path dir_;
    pid_t pid_ = -1;
};

}  // namespace weir::testing
