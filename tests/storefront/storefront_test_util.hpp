// Shared pieces of weir_storefront_tests: one PostgreSQL and one Redis for the binary, the
// storefront and mock recommendations programs (build/bin/storefront) as child processes, and
// small HTTP helpers.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "weir/core/task.hpp"
#include "weir/http/client.hpp"
#include "weir/http/json.hpp"
#include "weir/testing/postgres_server.hpp"
#include "weir/testing/redis_server.hpp"
#include "weir/testing/server_process.hpp"
#include "weir/testing/shared_server.hpp"

namespace storefront::test {

using PostgresEnv = weir::testing::SharedServer<weir::testing::PostgresServer>;
using RedisEnv = weir::testing::SharedServer<weir::testing::RedisServer>;

inline constexpr const char* kJobsPrefix = "storefront-test";

// The exit status of a child, as a plain function: glibc's WIFEXITED & co. cannot be used
// inside a coroutine under g++ 12. Waits up to `limit`; -1: still running (then killed), -2:
// killed by a signal.
inline int wait_exit_code(pid_t pid, std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    int status = 0;
    for (;;) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0) return -3;
        if (std::chrono::steady_clock::now() > until) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return -2;
}

// A child process running build/bin/storefront with `args`, on a free loopback port; output
// to a log file in a private directory. SIGTERM + wait on destruction.
class Program {
public:
    explicit Program(std::vector<std::string> args)
        : port_(weir::testing::free_port()), dir_(weir::testing::make_temp_dir("weir-sf-")) {
        args.push_back("--port");
        args.push_back(std::to_string(port_));
        args.push_back("--host");
        args.push_back("127.0.0.1");
        const std::string log = (dir_ / "out.log").string();
        const std::string bin = std::string(WEIR_BIN_DIR) + "/storefront";
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            weir::testing::reset_signals_in_child();
            std::vector<char*> argv;
            argv.push_back(const_cast<char*>(bin.c_str()));
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            if (std::FILE* f = std::freopen(log.c_str(), "w", stdout)) (void)f;
            ::dup2(::fileno(stdout), 2);
            ::execv(bin.c_str(), argv.data());
            ::_exit(127);
        }
        try {
            // Not just the port: a shard's listener accepts connections (into the backlog)
            // before every startup hook ran, and a test that stops Redis right away would
            // fail a startup still connecting to it. The program prints "listening on" once
            // all shards listen and ran their hooks.
            wait_until_listening(std::chrono::seconds(60));
        } catch (...) {
            std::fprintf(stderr, "storefront child log:\n%s\n", log_text().c_str());
            stop();
            throw;
        }
    }
    Program(const Program&) = delete;
    Program& operator=(const Program&) = delete;
    ~Program() {
        stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    pid_t pid() const noexcept { return pid_; }
    std::string log_text() const {
        std::ifstream in(dir_ / "out.log");
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    // SIGTERM, then the exit code (see wait_exit_code).
    int terminate() {
        if (pid_ <= 0) return exit_code_;
        ::kill(pid_, SIGTERM);
        exit_code_ = wait_exit_code(pid_, std::chrono::seconds(60));
        pid_ = -1;
        return exit_code_;
    }

private:
    void wait_until_listening(std::chrono::seconds limit) {
        const auto give_up = std::chrono::steady_clock::now() + limit;
        while (log_text().find("listening on") == std::string::npos) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error("storefront exited before it was ready");
            }
            if (std::chrono::steady_clock::now() > give_up)
                throw std::runtime_error("storefront not ready in time");
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
    void stop() {
        if (pid_ > 0) terminate();
    }
    std::uint16_t port_;
    std::filesystem::path dir_;
    pid_t pid_ = -1;
    int exit_code_ = -1;
};

inline std::vector<std::string> mock_args(const std::string& delay_ms, const std::string& rate) {
    return {"recommendations", "--threads", "1", "--delay-ms", delay_ms, "--failure-rate", rate};
}

inline std::vector<std::string> service_args(const std::string& recs_url,
                                             const std::string& recs_timeout_ms,
                                             const std::string& deadline_ms = "10000") {
    return {"serve",
            "--threads",
            "1",
            "--pg",
            PostgresEnv::get().url(),
            "--redis",
            RedisEnv::get().url(),
            "--recommendations",
            recs_url,
            "--recommendations-timeout-ms",
            recs_timeout_ms,
            "--jobs-prefix",
            kJobsPrefix,
            "--deadline-ms",
            deadline_ms};
}

// The programs every test shares: three mocks (healthy, always failing, too slow) and one
// storefront in front of each. Started after PostgreSQL and Redis (environments are set up in
// the order they were installed).
struct Fleet : ::testing::Environment {
    void SetUp() override {
        mock_ok = std::make_unique<Program>(mock_args("0", "0"));
        mock_failing = std::make_unique<Program>(mock_args("0", "1"));
        mock_slow = std::make_unique<Program>(mock_args("3000", "0"));
        app_ok = std::make_unique<Program>(service_args(mock_ok->url(), "5000"));
        app_failing = std::make_unique<Program>(service_args(mock_failing->url(), "5000"));
        app_slow = std::make_unique<Program>(service_args(mock_slow->url(), "200"));
        // The recommendations call may take longer than the whole request's deadline.
        app_tight = std::make_unique<Program>(service_args(mock_slow->url(), "30000", "300"));
        instance = this;
    }
    void TearDown() override {
        // Every program drains and exits 0 on SIGTERM (under ASan: no leak reports either).
        for (auto* p :
             {&app_ok, &app_failing, &app_slow, &app_tight, &mock_ok, &mock_failing, &mock_slow}) {
            if (!*p) continue;
            const int code = (*p)->terminate();
            EXPECT_EQ(code, 0) << (*p)->log_text();
            p->reset();
        }
        instance = nullptr;
    }
    std::unique_ptr<Program> mock_ok, mock_failing, mock_slow, app_ok, app_failing, app_slow,
        app_tight;
    static inline Fleet* instance = nullptr;
};

inline Fleet& fleet() { return *Fleet::instance; }

// One request on a fresh client, closed before returning (no leaked AsyncResource).
inline weir::Task<weir::http::ClientResponse> http_get(std::string url) {
    weir::http::Client client;
    std::optional<weir::http::ClientResponse> r;
    std::exception_ptr error;
    try {
        weir::http::RequestOptions options;
        r = co_await client.get(url, options);
    } catch (const std::exception&) {
        error = std::current_exception();
    }
    co_await client.close();
    if (error) std::rethrow_exception(error);
    co_return std::move(*r);
}

inline weir::Task<weir::http::ClientResponse> http_post(std::string url, std::string body) {
    weir::http::Client client;
    std::optional<weir::http::ClientResponse> r;
    std::exception_ptr error;
    try {
        weir::http::RequestOptions options;
        options.headers.emplace_back("Content-Type", "application/json");
        r = co_await client.post(url, std::move(body), options);
    } catch (const std::exception&) {
        error = std::current_exception();
    }
    co_await client.close();
    if (error) std::rethrow_exception(error);
    co_return std::move(*r);
}

}  // namespace storefront::test
