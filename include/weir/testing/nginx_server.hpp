// NginxServer: a throwaway nginx (Debian's) for tests and benchmarks, in a
// private temp dir on a free loopback port, optionally with TLS from a CA the
// fixture makes itself (openssl CLI), stopped and removed by the destructor.
//
//     weir::testing::NginxOptions o;
//     o.tls = true;                                    // https://localhost:PORT
//     o.locations = "location /slow { echo_sleep 1; echo done; }";
//     o.files["big.bin"] = std::string(1 << 20, 'x');  // served from the root
//     weir::testing::NginxServer nginx(o);
//     auto url = nginx.url("/hello");                  // "hello, world\n"
//     client_options.tls.ca_file = nginx.ca_file();
//
// Built-in locations: /hello (small text body) and /healthz; everything else
// comes from `files` (the document root) or the caller's `locations` (added
// inside the server block) and `http_directives` (added to the http block).
// The echo module (libnginx-mod-http-echo: echo, echo_sleep, echo_flush) is
// loaded when installed. Blocking: use outside a runtime (test set-up).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

#include "weir/testing/server_process.hpp"
#include "weir/testing/tls_certificates.hpp"

namespace weir::testing {

struct NginxOptions {
    bool tls = false;
    // subjectAltName of the server certificate.
    std::string tls_names = "DNS:localhost,IP:127.0.0.1";
    int worker_processes = 1;
    int worker_connections = 4096;
    int keepalive_requests = 1000000;
    int keepalive_timeout_s = 75;
    bool access_log = false;
    std::string locations;                     // extra location blocks (inside `server { }`)
    std::string http_directives;               // extra directives of the `http { }` block
    std::map<std::string, std::string> files;  // path under the document root -> content
};

class NginxServer {
public:
    explicit NginxServer(NginxOptions options = {})
        : options_(std::move(options)), port_(free_port()), dir_(make_temp_dir("weir-nginx-")) {
        try {
            write_files();
            if (options_.tls) make_certificates();
            write_config();
            start();
        } catch (...) {
            cleanup();
            throw;
        }
    }
    NginxServer(const NginxServer&) = delete;
    NginxServer& operator=(const NginxServer&) = delete;
    ~NginxServer() { cleanup(); }

    std::uint16_t port() const noexcept { return port_; }
    // "http://127.0.0.1:PORT/path", or "https://localhost:PORT/path" with TLS.
    std::string url(const std::string& path = "/") const {
        return (options_.tls ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(port_) +
               path;
    }
    std::string ca_file() const { return (dir_ / "ca.crt").string(); }
    const std::filesystem::path& dir() const noexcept { return dir_; }
    std::string error_log() const {
        std::ifstream in(dir_ / "error.log");
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    void stop() noexcept {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGQUIT);  // graceful: lets workers exit
        int status;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }

    // Certificate helpers (see tls_certificates.hpp), kept here for existing callers.
    static void make_ca(const std::filesystem::path& dir, const std::string& name = "ca") {
        make_test_ca(dir, name);
    }
    static void make_cert(const std::filesystem::path& dir, const std::string& name,
                          const std::string& alt_names, const std::string& ca = "ca") {
        make_test_cert(dir, name, alt_names, ca);
    }

private:
    void write_files() {
        std::filesystem::create_directories(dir_ / "html");
        std::filesystem::create_directories(dir_ / "tmp");
        for (const auto& [path, content] : options_.files) {
            auto p = dir_ / "html" / path;
            std::filesystem::create_directories(p.parent_path());
            std::ofstream(p, std::ios::binary) << content;
        }
    }

    void make_certificates() {
        make_ca(dir_);
        make_cert(dir_, "server", options_.tls_names);
    }

    void write_config() {
        const std::string d = dir_.string();
        std::ofstream c(dir_ / "nginx.conf");
        if (std::filesystem::exists("/usr/lib/nginx/modules/ngx_http_echo_module.so"))
            c << "load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;\n";
        if (::geteuid() == 0) c << "user root;\n";
        c << "worker_processes " << options_.worker_processes << ";\n"
          << "daemon off;\nmaster_process on;\n"
          << "pid " << d << "/nginx.pid;\n"
          << "error_log " << d << "/error.log warn;\n"
          << "events { worker_connections " << options_.worker_connections << "; }\n"
          << "http {\n"
          << "  access_log " << (options_.access_log ? d + "/access.log" : std::string("off"))
          << ";\n"
          << "  client_body_temp_path " << d << "/tmp/body;\n"
          << "  proxy_temp_path " << d << "/tmp/proxy;\n"
          << "  fastcgi_temp_path " << d << "/tmp/fastcgi;\n"
          << "  uwsgi_temp_path " << d << "/tmp/uwsgi;\n"
          << "  scgi_temp_path " << d << "/tmp/scgi;\n"
          << (std::filesystem::exists("/etc/nginx/mime.types")
                  ? "  include /etc/nginx/mime.types;\n"
                  : "  types { text/plain txt; text/html html; application/json json; }\n")
          << "  default_type application/octet-stream;\n"
          << "  keepalive_requests " << options_.keepalive_requests << ";\n"
          << "  keepalive_timeout " << options_.keepalive_timeout_s << "s;\n"
          << options_.http_directives << "\n"
          << "  server {\n"
          << "    listen 127.0.0.1:" << port_ << (options_.tls ? " ssl" : "") << ";\n"
          << "    server_name localhost;\n"
          << "    root " << d << "/html;\n";
        if (options_.tls) {
            c << "    ssl_certificate " << d << "/server.crt;\n"
              << "    ssl_certificate_key " << d << "/server.key;\n";
        }
        c << "    location = /hello { default_type text/plain; return 200 \"hello, world\\n\"; }\n"
          << "    location = /healthz { return 204; }\n"
          << options_.locations << "\n"
          << "  }\n}\n";
    }

    void start() {
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            weir::testing::reset_signals_in_child();
            // Not the test's stdout/stderr: a pipe held open by nginx would block readers.
            int null_fd = ::open("/dev/null", O_RDWR);
            if (null_fd >= 0) {
                ::dup2(null_fd, 0);
                ::dup2(null_fd, 1);
                ::dup2(null_fd, 2);
            }
            const std::string conf = (dir_ / "nginx.conf").string();
            const std::string prefix = dir_.string() + "/";
            const std::string err = (dir_ / "error.log").string();
            ::execlp("nginx", "nginx", "-p", prefix.c_str(), "-c", conf.c_str(), "-e", err.c_str(),
                     static_cast<char*>(nullptr));
            ::execl("/usr/sbin/nginx", "nginx", "-p", prefix.c_str(), "-c", conf.c_str(), "-e",
                    err.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        try {
            wait_for_port(port_, std::chrono::seconds(30), "nginx");
        } catch (const std::exception& e) {
            stop();
            throw std::runtime_error(std::string(e.what()) + "\n" + error_log());
        }
    }

    void cleanup() noexcept {
        stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    NginxOptions options_;
    std::uint16_t port_;
    std::filesystem::path dir_;
    pid_t pid_ = -1;
};

}  // namespace weir::testing
