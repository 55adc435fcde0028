// redis_bench: GET/SET of small values against a running redis-server with
// weir::redis, in three modes, printing one "mode ops_per_second" line each:
//   seq     one connection, one task, SET then GET, each awaited
//   pipe16  one connection, one task, explicit pipelines of 16 (8 SET + 8 GET)
//   auto64  one connection, 64 tasks each doing sequential SET/GET (automatic pipelining)
// Usage: redis_bench --port P [--ops N] [--mode seq|pipe16|auto64|all]
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

Task<void> run(std::string url, std::size_t ops, std::string mode) {
    auto conn = co_await Connection::connect(url);
    const std::string value(16, 'v');
    // Warm-up.
    for (int i = 0; i < 1000; ++i) co_await conn.cmd("SET", "bench:warm", value);

    if (mode == "all" || mode == "seq") {
        const std::size_t n = ops / 4;  // sequential is slow: fewer operations
        auto t0 = Clock::now();
        for (std::size_t i = 0; i < n / 2; ++i) {
            const std::string k = "bench:s:" + std::to_string(i % 1000);
            co_await conn.cmd("SET", k, value);
            co_await conn.cmd("GET", k);
        }
        std::printf("seq %.0f\n", rate(n / 2 * 2, t0));
    }
    if (mode == "all" || mode == "pipe16") {
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
        auto t0 = Clock::now();
        co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
            for (int t = 0; t < kTasks; ++t) g.spawn(worker(t));
            co_return;
        });
        std::printf("auto64 %.0f\n", rate(per_task * 2 * kTasks, t0));
    }
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    int port = 6379;
    std::size_t ops = 400000;
    std::string mode = "all";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--port"))
            port = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--ops"))
            ops = std::strtoull(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--mode"))
            mode = argv[i + 1];
        else {
            std::fprintf(stderr,
                         "usage: redis_bench --port P [--ops N] [--mode seq|pipe16|auto64|all]\n");
            return 2;
        }
    }
    weir::RuntimeOptions opts;
    opts.shards = 1;
    opts.worker_threads = 1;
    weir::Runtime rt(opts);
    rt.run(run("redis://127.0.0.1:" + std::to_string(port) + "/0", ops, mode));
    return 0;
}
