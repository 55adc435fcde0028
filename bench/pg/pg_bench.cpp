// pg_bench: weir's PostgreSQL driver on the `items` primary-key select of
// shared/bench-spec.md (SELECT name, price FROM items WHERE id = $1, id
// uniform in [1, 10000]), for bench/pg/run.
//
//     pg_bench --url URL --mode pool|pipeline --concurrency N --seconds S [--warmup S]
//              [--read-only]
//
// pool:     N tasks over a pg::Pool of N connections (like pgbench -c N).
// pipeline: N tasks sharing ONE connection (requests pipelined; N = 1 is
//           the sequential single-connection case).
// --read-only: the queries go through Connection::query(read_only, ...), so
//           concurrent ones on a connection share one Sync.
// One shard. Prints one line: mode, concurrency, queries, seconds, q/s and
// the process's CPU-seconds (user+sys) during the measured window.
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#include "weir/core/runtime.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/task_group.hpp"
#include "weir/pg/connection.hpp"
#include "weir/pg/pool.hpp"

namespace {

struct Args {
    std::string url;
    std::string mode = "pool";
    int concurrency = 1;
    double seconds = 5;
    double warmup = 1;
    bool read_only = false;
};

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Shared {
    bool measuring = false;
    bool stop = false;
    bool read_only = false;  // --read-only: queries share Syncs (Connection::query(read_only, ...))
    std::uint64_t queries = 0;
    std::uint64_t bad = 0;
};

// One query, checked against the expected row.
weir::Task<void> one_query(weir::pg::Connection& conn, std::int32_t id, Shared& s) {
    static constexpr const char* kSql = "SELECT name, price FROM items WHERE id = $1";
    weir::pg::Result r;
    if (s.read_only) {
        r = co_await conn.query(weir::pg::read_only, kSql, id);
    } else {
        r = co_await conn.query(kSql, id);
    }
    if (r.rows() != 1 || r[0].get<std::string>(0) != "item-" + std::to_string(id)) ++s.bad;
    (void)r[0].get<std::string>(1);
    if (s.measuring) ++s.queries;
}

weir::Task<void> worker_conn(weir::pg::Connection& conn, Shared& s, unsigned seed) {
    std::minstd_rand rng(seed);
    std::uniform_int_distribution<std::int32_t> ids(1, 10000);
    while (!s.stop) co_await one_query(conn, ids(rng), s);
}

weir::Task<void> worker_pool(weir::pg::Pool& pool, Shared& s, unsigned seed) {
    std::minstd_rand rng(seed);
    std::uniform_int_distribution<std::int32_t> ids(1, 10000);
    while (!s.stop) {
        auto conn = co_await pool.acquire();
        co_await one_query(*conn, ids(rng), s);
    }
}

weir::Task<void> drive(Shared& s, const Args& a, double& measured, double& cpu) {
    using Clock = std::chrono::steady_clock;
    co_await weir::sleep_for(std::chrono::duration<double>(a.warmup));
    s.measuring = true;
    const auto t0 = Clock::now();
    const double c0 = cpu_seconds();
    co_await weir::sleep_for(std::chrono::duration<double>(a.seconds));
    s.measuring = false;
    cpu = cpu_seconds() - c0;
    measured = std::chrono::duration<double>(Clock::now() - t0).count();
    s.stop = true;
}

weir::Task<int> run(Args a) {
    Shared s;
    s.read_only = a.read_only;
    double measured = 0;
    double cpu = 0;
    if (a.mode == "pipeline") {
        auto conn = co_await weir::pg::Connection::connect(a.url);
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
            for (int i = 0; i < a.concurrency; ++i)
                g.spawn(worker_conn(conn, s, static_cast<unsigned>(i + 1)));
            g.spawn(drive(s, a, measured, cpu));
            co_return;
        });
    } else if (a.mode == "pool") {
        weir::pg::PoolOptions o;
        o.url = a.url;
        o.min_size = static_cast<std::size_t>(a.concurrency);
        o.max_size = static_cast<std::size_t>(a.concurrency);
        co_await weir::with_resource(
            co_await weir::pg::Pool::open(o), [&](weir::pg::Pool& pool) -> weir::Task<void> {
                co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
                    for (int i = 0; i < a.concurrency; ++i)
                        g.spawn(worker_pool(pool, s, static_cast<unsigned>(i + 1)));
                    g.spawn(drive(s, a, measured, cpu));
                    co_return;
                });
            });
    } else {
        throw std::invalid_argument("--mode must be pool or pipeline");
    }
    std::printf(
        "mode=%s concurrency=%d queries=%llu seconds=%.3f qps=%.1f cpu_seconds=%.3f bad=%llu\n",
        a.mode.c_str(), a.concurrency, static_cast<unsigned long long>(s.queries), measured,
        measured > 0 ? static_cast<double>(s.queries) / measured : 0.0, cpu,
        static_cast<unsigned long long>(s.bad));
    co_return s.bad == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string_view k = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(std::string(k) + " needs a value");
            return argv[++i];
        };
        if (k == "--url") {
            a.url = value();
        } else if (k == "--mode") {
            a.mode = value();
        } else if (k == "--concurrency") {
            a.concurrency = std::stoi(value());
        } else if (k == "--seconds") {
            a.seconds = std::stod(value());
        } else if (k == "--warmup") {
            a.warmup = std::stod(value());
        } else if (k == "--read-only") {
            a.read_only = true;
        } else {
            std::fprintf(stderr, "pg_bench: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (a.url.empty() || a.concurrency < 1) {
        std::fprintf(stderr,
                     "usage: pg_bench --url URL [--mode pool|pipeline] [--concurrency N] "
                     "[--seconds S] [--warmup S] [--read-only]\n");
        return 2;
    }
    weir::RuntimeOptions ro;
    ro.shards = 1;
    ro.handle_signals = false;
    weir::Runtime rt(ro);
    try {
        return rt.run(run(a));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pg_bench: %s\n", e.what());
        return 1;
    }
}
