// pg_bench: weir's PostgreSQL driver on the `items` primary-key select of
// shared/bench-spec.md (SELECT name, price FROM items WHERE id = $1, id
// uniform in [1, 10000]), for bench/pg/run.
//
//     pg_bench --url URL --mode pool|pipeline --concurrency N --seconds S [--warmup S]
//              [--shards K] [--read-only] [--queries Q] [--pool-query [--depth D]]
//              [--busy-poll US]
//
// pool:     N tasks over a pg::Pool of N connections (like pgbench -c N); with
//           --shards K (default 1) the tasks are spread over K shards and each
//           shard's pool holds its share of the N connections (like pgbench -j K).
// pipeline: N tasks sharing ONE connection (requests pipelined; N = 1 is
//           the sequential single-connection case), one shard.
// --read-only: the queries go through Connection::query(read_only, ...), so
//           concurrent ones on a connection share one Sync.
// --pool-query: (pool mode) the tasks call pool.query() instead of acquire +
//           query + release: their statements are pipelined on a few shared
//           connections of the pool (another one is taken when each has D =
//           PoolOptions::pipeline_depth in flight; --depth sets D).
// --queries Q: the measured window ends after Q queries instead of S seconds
//           (for instruction, system call and allocation counts per query).
// --busy-poll US: RuntimeOptions::busy_poll (shards poll up to US microseconds before sleeping).
// Prints one line: mode, concurrency, queries, seconds, q/s and the process's
// CPU-seconds (user+sys, all threads) during the measured window.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "weir/core/runtime.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/submit.hpp"
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
    int shards = 1;
    bool read_only = false;
    std::uint64_t queries = 0;  // --queries (0: --seconds decides)
    bool pool_query = false;
    std::size_t depth = 0;  // --depth (0: the pool's default)
    long busy_poll_us = 0;  // --busy-poll
};

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Flags set by the driver on shard 0, read by every shard.
struct Shared {
    std::atomic<bool> measuring{false};
    std::atomic<bool> stop{false};
    bool read_only = false;                 // --read-only, set before any worker starts
    bool pool_query = false;                // --pool-query
    std::uint64_t limit = 0;                // --queries: stop after this many measured queries
    std::atomic<std::uint64_t> counted{0};  // measured queries so far (with limit only)
};

// Per shard (own cache line): written by that shard only.
struct alignas(64) Counts {
    std::uint64_t queries = 0;
    std::uint64_t bad = 0;
};

constexpr const char* kSql = "SELECT name, price FROM items WHERE id = $1";

// Checks and counts one result.
void check(const weir::pg::Result& r, std::int32_t id, Shared& s, Counts& c) {
    if (r.rows() != 1 || r[0].get<std::string>(0) != "item-" + std::to_string(id)) ++c.bad;
    (void)r[0].get<std::string>(1);
    if (s.measuring.load(std::memory_order_relaxed)) {
        ++c.queries;
        if (s.limit != 0 && s.counted.fetch_add(1, std::memory_order_relaxed) + 1 >= s.limit)
            s.stop = true;
    }
}

// One query on a Connection (or, through pool.query(), a shared pipelined
// connection of the Pool), checked against the expected row.
template <class Target>
weir::Task<void> one_query(Target& target, std::int32_t id, Shared& s, Counts& c) {
    weir::pg::Result r;
    if (s.read_only) {
        r = co_await target.query(weir::pg::read_only, kSql, id);
    } else {
        r = co_await target.query(kSql, id);
    }
    check(r, id, s, c);
}

weir::Task<void> worker_conn(weir::pg::Connection& conn, Shared& s, Counts& c, unsigned seed) {
    std::minstd_rand rng(seed);
    std::uniform_int_distribution<std::int32_t> ids(1, 10000);
    while (!s.stop.load(std::memory_order_relaxed)) co_await one_query(conn, ids(rng), s, c);
}

weir::Task<void> worker_pool(weir::pg::Pool& pool, Shared& s, Counts& c, unsigned seed) {
    std::minstd_rand rng(seed);
    std::uniform_int_distribution<std::int32_t> ids(1, 10000);
    while (!s.stop.load(std::memory_order_relaxed)) {
        if (s.pool_query) {
            co_await one_query(pool, ids(rng), s, c);
            continue;
        }
        auto conn = co_await pool.acquire();  // this shard's pool
        co_await one_query(*conn, ids(rng), s, c);
    }
}

// This shard's share of the pool workers (tasks i with i % shards == shard).
weir::Task<void> shard_workers(weir::pg::Pool& pool, Shared& s, std::vector<Counts>& counts,
                               int concurrency) {
    const unsigned shard = weir::this_shard();
    const int shards = static_cast<int>(counts.size());
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
        for (int i = static_cast<int>(shard); i < concurrency; i += shards)
            g.spawn(worker_pool(pool, s, counts[shard], static_cast<unsigned>(i + 1)));
        co_return;
    });
}

weir::Task<void> drive(Shared& s, const Args& a, double& measured, double& cpu) {
    using Clock = std::chrono::steady_clock;
    co_await weir::sleep_for(std::chrono::duration<double>(a.warmup));
    s.measuring = true;
    const auto t0 = Clock::now();
    const double c0 = cpu_seconds();
    if (s.limit == 0) {
        co_await weir::sleep_for(std::chrono::duration<double>(a.seconds));
    } else {
        while (!s.stop.load(std::memory_order_relaxed))
            co_await weir::sleep_for(std::chrono::milliseconds(20));
    }
    s.measuring = false;
    cpu = cpu_seconds() - c0;
    measured = std::chrono::duration<double>(Clock::now() - t0).count();
    s.stop = true;
}

weir::Task<int> run(Args a) {
    Shared s;
    s.read_only = a.read_only;
    s.limit = a.queries;
    s.pool_query = a.pool_query;
    std::vector<Counts> counts(static_cast<std::size_t>(a.shards));
    double measured = 0;
    double cpu = 0;
    if (a.mode == "pipeline") {
        auto conn = co_await weir::pg::Connection::connect(a.url);
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
            for (int i = 0; i < a.concurrency; ++i)
                g.spawn(worker_conn(conn, s, counts[0], static_cast<unsigned>(i + 1)));
            g.spawn(drive(s, a, measured, cpu));
            co_return;
        });
    } else if (a.mode == "pool") {
        // Each shard's pool holds its share of the connections (one per task).
        const auto per_shard = static_cast<std::size_t>((a.concurrency + a.shards - 1) / a.shards);
        weir::pg::PoolOptions o;
        o.url = a.url;
        o.min_size = per_shard;
        o.max_size = per_shard;
        if (a.depth != 0) o.pipeline_depth = a.depth;
        co_await weir::with_resource(
            co_await weir::pg::Pool::open(o), [&](weir::pg::Pool& pool) -> weir::Task<void> {
                auto workers = [&] { return shard_workers(pool, s, counts, a.concurrency); };
                co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<void> {
                    g.spawn(weir::on_all_shards(workers));
                    g.spawn(drive(s, a, measured, cpu));
                    co_return;
                });
            });
    } else {
        throw std::invalid_argument("--mode must be pool or pipeline");
    }
    std::uint64_t queries = 0;
    std::uint64_t bad = 0;
    for (const Counts& c : counts) {
        queries += c.queries;
        bad += c.bad;
    }
    std::printf(
        "mode=%s concurrency=%d queries=%llu seconds=%.3f qps=%.1f cpu_seconds=%.3f bad=%llu\n",
        a.mode.c_str(), a.concurrency, static_cast<unsigned long long>(queries), measured,
        measured > 0 ? static_cast<double>(queries) / measured : 0.0, cpu,
        static_cast<unsigned long long>(bad));
    co_return bad == 0 ? 0 : 1;
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
        } else if (k == "--shards") {
            a.shards = std::stoi(value());
        } else if (k == "--read-only") {
            a.read_only = true;
        } else if (k == "--pool-query") {
            a.pool_query = true;
        } else if (k == "--depth") {
            a.depth = std::stoul(value());
        } else if (k == "--queries") {
            a.queries = std::stoull(value());
        } else if (k == "--busy-poll") {
            a.busy_poll_us = std::stol(value());
        } else {
            std::fprintf(stderr, "pg_bench: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (a.url.empty() || a.concurrency < 1 || a.shards < 1 ||
        (a.mode != "pool" && (a.shards != 1 || a.pool_query))) {
        std::fprintf(stderr,
                     "usage: pg_bench --url URL [--mode pool|pipeline] [--concurrency N] "
                     "[--seconds S] [--warmup S] [--shards K (pool mode)] [--read-only] [--queries "
                     "Q] [--pool-query [--depth D]] [--busy-poll US]\n");
        return 2;
    }
    weir::RuntimeOptions ro;
    ro.shards = static_cast<unsigned>(a.shards);
    ro.handle_signals = false;
    ro.busy_poll = std::chrono::microseconds(a.busy_poll_us);
    weir::Runtime rt(ro);
    try {
        return rt.run(run(a));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pg_bench: %s\n", e.what());
        return 1;
    }
}
