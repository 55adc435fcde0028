// redis_bench: GET/SET of small values against a running redis-server with
// weir::redis, in three modes, printing one "mode ops_per_second" line each:
//   seq     one connection, one task, SET then GET, each awaited
//   pipe16  one connection, one task, explicit pipelines of 16 (8 SET + 8 GET)
//   auto64  one connection, 64 tasks each doing sequential SET/GET (automatic pipelining)
// and, only when asked for (not part of "all"):
//   big     GET of one 1 MiB value (--size B for another size), one at a time, on
//           two connections in the same run: direct reads on (the payload goes from
//           the socket straight into the reply) and off (copied through the read
//           buffer), in alternating rounds; prints
//           "big_direct|big_copy GETs/s client-CPU-us/GET"
// Usage: redis_bench --port P | --url URL [--ops N] [--mode seq|pipe16|auto64|all|big]
//                    [--size B] [--stats 1] [--busy-poll US]
// --busy-poll US sets RuntimeOptions::busy_poll (poll up to US microseconds before sleeping).
// --stats 1 adds, on stderr, each mode's commands, writes and commands per write
// (from the connection's metrics).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "weir/core/runtime.hpp"
#include "weir/core/task_group.hpp"
#include "weir/redis/connection.hpp"

using weir::Task;
using weir::redis::Connection;
using weir::redis::Pipeline;

namespace {

using Clock = std::chrono::steady_clock;

double rate(std::size_t ops, Clock::time_point t0) {
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    return static_cast<double>(ops) / s;
}

double cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

Task<void> run_big(std::string url, std::size_t gets, std::size_t size) {
    auto direct_options = weir::redis::ConnectionOptions::from_url(url);
    auto copy_options = direct_options;
    copy_options.direct_reads = false;
    auto direct = co_await Connection::connect(direct_options);
    auto copy = co_await Connection::connect(copy_options);
    const std::string value(size, 'b');
    co_await direct.cmd("SET", "bench:big", value);
    double wall[2] = {0, 0}, cpu[2] = {0, 0};
    std::size_t done[2] = {0, 0};
    constexpr std::size_t kRound = 100;
    for (int warm = 0; warm < 20; ++warm) {
        co_await direct.cmd("GET", "bench:big");
        co_await copy.cmd("GET", "bench:big");
    }
    for (std::size_t round = 0; done[0] + done[1] < 2 * gets; ++round) {
        const int side = static_cast<int>(round % 2);
        Connection& c = side == 0 ? direct : copy;
        const auto t0 = Clock::now();
        const double c0 = cpu_seconds();
        for (std::size_t i = 0; i < kRound; ++i) {
            auto r = co_await c.cmd("GET", "bench:big");
            if (r.str().size() != value.size()) std::abort();
        }
        cpu[side] += cpu_seconds() - c0;
        wall[side] += std::chrono::duration<double>(Clock::now() - t0).count();
        done[side] += kRound;
    }
    const char* names[2] = {"big_direct", "big_copy"};
    for (int side = 0; side < 2; ++side)
        std::printf("%s %.0f %.1f\n", names[side], static_cast<double>(done[side]) / wall[side],
                    cpu[side] / static_cast<double>(done[side]) * 1e6);
    std::fflush(stdout);
}

// Prints what the connection's metrics counted since `before` (stderr).
void print_stats(const char* mode, const weir::redis::MetricsSnapshot& before,
                 const weir::redis::MetricsSnapshot& after) {
    const auto commands = after.commands_total - before.commands_total;
    const auto writes = after.writes - before.writes;
    std::fprintf(stderr, "%s: %llu commands, %llu writes, %.1f commands per write\n", mode,
                 static_cast<unsigned long long>(commands), static_cast<unsigned long long>(writes),
                 writes ? static_cast<double>(commands) / static_cast<double>(writes) : 0.0);
}

Task<void> run(std::string url, std::size_t ops, std::string mode, bool stats, std::size_t size) {
    if (mode == "big") {
        co_await run_big(url, ops, size);
        co_return;
    }
    auto conn = co_await Connection::connect(url);
    const std::string value(16, 'v');
    // Warm-up.
    for (int i = 0; i < 1000; ++i) co_await conn.cmd("SET", "bench:warm", value);

    if (mode == "all" || mode == "seq") {
        const std::size_t n = ops / 4;  // sequential is slow: fewer operations
        const auto m0 = conn.metrics();
        auto t0 = Clock::now();
        for (std::size_t i = 0; i < n / 2; ++i) {
            const std::string k = "bench:s:" + std::to_string(i % 1000);
            co_await conn.cmd("SET", k, value);
            co_await conn.cmd("GET", k);
        }
        std::printf("seq %.0f\n", rate(n / 2 * 2, t0));
        if (stats) print_stats("seq", m0, conn.metrics());
    }
    if (mode == "all" || mode == "pipe16") {
        const auto m0 = conn.metrics();
        auto t0 = Clock::now();
        std::size_t done = 0;
        for (std::size_t i = 0; done < ops; ++i) {
            Pipeline p;
            for (int j = 0; j < 8; ++j) {
                const std::string k = "bench:p:" + std::to_string((i * 8 + j) % 1000);
                p.cmd("SET", k, value);
                p.cmd("GET", k);
            }
            auto r = co_await conn.pipeline(std::move(p));
            done += r.size();
        }
        std::printf("pipe16 %.0f\n", rate(done, t0));
        if (stats) print_stats("pipe16", m0, conn.metrics());
    }
    if (mode == "all" || mode == "auto64") {
        constexpr int kTasks = 64;
        const std::size_t per_task = ops / kTasks / 2;
        auto worker = [&](int t) -> Task<void> {
            for (std::size_t i = 0; i < per_task; ++i) {
                const std::string k = "bench:a:" + std::to_string((t * 131 + i) % 1000);
                co_await conn.cmd("SET", k, value);
                co_await conn.cmd("GET", k);
            }
        };
        const auto m0 = conn.metrics();
        auto t0 = Clock::now();
        co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
            for (int t = 0; t < kTasks; ++t) g.spawn(worker(t));
            co_return;
        });
        std::printf("auto64 %.0f\n", rate(per_task * 2 * kTasks, t0));
        if (stats) print_stats("auto64", m0, conn.metrics());
    }
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    int port = 6379;
    std::string url;
    std::size_t ops = 400000;
    std::string mode = "all";
    bool stats = false;
    std::size_t size = 1 << 20;  // --mode big
    long busy_poll_us = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--port"))
            port = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--url"))
            url = argv[i + 1];
        else if (!std::strcmp(argv[i], "--ops"))
            ops = std::strtoull(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--mode"))
            mode = argv[i + 1];
        else if (!std::strcmp(argv[i], "--busy-poll"))
            busy_poll_us = std::atol(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--stats"))
            stats = std::atoi(argv[i + 1]) != 0;
        else if (!std::strcmp(argv[i], "--size"))
            size = std::strtoull(argv[i + 1], nullptr, 10);
        else {
            std::fprintf(
                stderr,
                "usage: redis_bench --port P | --url URL [--ops N] "
                "[--mode seq|pipe16|auto64|all|big] [--size B] [--stats 1] [--busy-poll US]\n");
            return 2;
        }
    }
    weir::RuntimeOptions opts;
    opts.shards = 1;
    opts.worker_threads = 1;
    opts.busy_poll = std::chrono::microseconds(busy_poll_us);
    weir::Runtime rt(opts);
    if (url.empty()) url = "redis://127.0.0.1:" + std::to_string(port) + "/0";
    rt.run(run(url, ops, mode, stats, size));
    return 0;
}
