// Throwaway real servers for tests and benchmarks (the testcontainers
// counterpart, without Docker): small helpers to find a free loopback port,
// make a private temporary directory and run a command, used by
// PostgresServer, RedisServer and friends. Blocking: call them outside a
// runtime (test set-up), never from a task.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

namespace weir::testing {

// In a forked child, before exec: a clean signal state. A weir Runtime blocks SIGINT/SIGTERM
// in its threads (they arrive through a signalfd), and a blocked mask survives fork and exec:
// a server started from inside a test coroutine (a restart) would otherwise ignore SIGTERM and
// hang the fixture's stop().
inline void reset_signals_in_child() noexcept {
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGCHLD}) ::signal(sig, SIG_DFL);
}

// A loopback TCP port that was free a moment ago.
inline std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("free_port: socket failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) < 0) {
        ::close(fd);
        throw std::runtime_error("free_port: bind failed");
    }
    ::close(fd);
    return ntohs(a.sin_port);
}

// A fresh directory under $TMPDIR (or /tmp), removed by the owner.
inline std::filesystem::path make_temp_dir(const std::string& prefix) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
    return tmpl;
}

// Runs a shell command; throws with its output file's tail if it fails.
inline void run_command(const std::string& cmd, const std::string& what) {
    int rc = std::system(cmd.c_str());
    if (rc != 0)
        throw std::runtime_error(what + " failed (exit " + std::to_string(WEXITSTATUS(rc)) +
                                 "): " + cmd);
}

// True once something accepts TCP connections on 127.0.0.1:port.
inline bool port_accepts(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

inline void wait_for_port(std::uint16_t port, std::chrono::seconds limit, const std::string& what) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (!port_accepts(port)) {
        if (std::chrono::steady_clock::now() > until)
            throw std::runtime_error(what + " did not start listening on port " +
                                     std::to_string(port));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

}  // namespace weir::testing
