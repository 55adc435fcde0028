// RedisServer: a throwaway redis-server for tests and benchmarks, on a free
// loopback port, without persistence, stopped and removed by the destructor.
//
//     weir::testing::RedisServer redis;
//     auto url = redis.url();                  // redis://127.0.0.1:PORT/0
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "weir/testing/server_process.hpp"

namespace weir::testing {

class RedisServer {
public:
    RedisServer() : port_(free_port()), dir_(make_temp_dir("weir-redis-")) { start(); }
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;
    ~RedisServer() {
        stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    void start() {
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            std::string port = std::to_string(port_);
            std::string log = (dir_ / "redis.log").string();
            ::execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind",
                     "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir_.c_str(),
                     "--logfile", log.c_str(), static_cast<char*>(nullptr));
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
    std::string url(int db = 0) const {
        return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
    }

private:
    std::uint16_t port_;
    std::filesystem::path dir_;
    pid_t pid_ = -1;
};

}  // namespace weir::testing
