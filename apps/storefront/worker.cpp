// `storefront worker [--redis URL] [--pg URL] [--jobs-prefix P] [--threads N] [--concurrency N]`:
// one weir::jobs::Worker per shard running `email.confirmation` (logged to stdout) and, when
// PostgreSQL is given, the outbox relay every 5 s (once per period across all workers; see
// outbox.hpp). SIGTERM or SIGINT: graceful shutdown (running jobs get the grace period).
#include "worker.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "email_job.hpp"
#include "outbox.hpp"
#include "weir/core.hpp"
#include "weir/jobs/worker.hpp"
#include "weir/pg/shard_pool.hpp"
#include "weir/redis/pool.hpp"

namespace storefront {

namespace {

[[noreturn]] void usage(int code) {
    std::fprintf(
        code ? stderr : stdout,
        "usage: storefront worker [--redis URL] [--pg URL] [--jobs-prefix P] [--threads N] "
        "[--concurrency N]\n  REDIS_URL / DATABASE_URL are used when --redis / --pg are "
        "not given;\n  without PostgreSQL the outbox relay does not run.\n");
    std::exit(code);
}

constexpr auto kRelayPeriod = std::chrono::seconds(5);
// Rows younger than this are normally being delivered by the service that wrote them.
constexpr auto kRelayMinAge = std::chrono::seconds(10);

struct Relay {
    weir::pg::ShardPool pg;  // this shard's alone: each shard's worker has its own relay
    weir::redis::Pool redis;
    weir::jobs::Queue queue;
    Relay(weir::pg::ShardPool p, weir::redis::Pool r, const weir::jobs::WorkerOptions& o)
        : pg(std::move(p)), redis(std::move(r)), queue(redis, queue_options(o)) {}
    static weir::jobs::QueueOptions queue_options(const weir::jobs::WorkerOptions& o) {
        weir::jobs::QueueOptions q;
        q.prefix = o.prefix;
        return q;
    }
    weir::Task<std::string> run() {
        auto conn = co_await pg.acquire();
        const std::size_t n = co_await outbox_relay(*conn, queue, kRelayMinAge);
        if (n) std::printf("storefront worker: outbox relay enqueued %zu job(s)\n", n);
        std::fflush(stdout);
        co_return "{\"relayed\":" + std::to_string(n) + "}";
    }
};

weir::Task<void> work(weir::jobs::WorkerOptions options, std::string pg_url) {
    std::optional<Relay> relay;
    if (!pg_url.empty()) {
        weir::pg::PoolOptions po;
        po.url = pg_url;
        po.min_size = 0;
        po.max_size = 1;
        auto pg = co_await weir::pg::ShardPool::open(std::move(po));
        weir::redis::PoolOptions ro;
        ro.url = options.url;
        ro.min_size = 0;
        relay.emplace(std::move(pg), co_await weir::redis::Pool::open(std::move(ro)), options);
    }
    weir::jobs::Worker worker(options);
    worker.add(std::string(kEmailJob),
               [](weir::jobs::JobContext& job) { return send_confirmation(job, stdout); });
    if (relay) {
        worker.add(std::string(kOutboxRelayJob),
                   [&relay](weir::jobs::JobContext&) { return relay->run(); });
        worker.every(std::string(kOutboxRelayJob), kRelayPeriod);
    }
    std::printf("storefront worker %s: queue default, redis %s, outbox relay %s\n",
                worker.name().c_str(), options.url.c_str(), relay ? "on" : "off");
    std::fflush(stdout);
    std::exception_ptr error;
    try {
        co_await worker.run();
    } catch (...) {
        error = std::current_exception();
    }
    if (relay) {  // shielded: this also runs when the worker was cancelled
        co_await weir::shield(relay->redis.close());
        if (relay->pg.is_open()) co_await weir::shield(relay->pg.close());
    }
    if (error) std::rethrow_exception(error);
}

}  // namespace

int run_worker(int argc, char** argv, int first) {
    weir::jobs::WorkerOptions options;
    int threads = 1;
    std::string pg_url;
    if (const char* url = std::getenv("REDIS_URL")) options.url = url;
    if (const char* url = std::getenv("DATABASE_URL")) pg_url = url;
    for (int i = first; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(2);
            return argv[++i];
        };
        try {
            if (a == "--help" || a == "-h")
                usage(0);
            else if (a == "--redis")
                options.url = value();
            else if (a == "--pg")
                pg_url = value();
            else if (a == "--jobs-prefix")
                options.prefix = value();
            else if (a == "--threads")
                threads = std::stoi(value());
            else if (a == "--concurrency")
                options.concurrency = std::stoul(value());
            else
                usage(2);
        } catch (const std::logic_error&) {  // std::stoi and friends
            usage(2);
        }
    }
    try {
        weir::RuntimeOptions ro;
        ro.shards = threads;
        weir::Runtime rt(ro);
        rt.run([](weir::jobs::WorkerOptions o, std::string pg) -> weir::Task<void> {
            auto per_shard = [o, pg] { return work(o, pg); };
            co_await weir::on_all_shards(std::move(per_shard));
        }(options, pg_url));
    } catch (const weir::Cancelled&) {
        return 0;  // SIGTERM/SIGINT: the workers shut down gracefully
    } catch (const std::exception& e) {
        std::fprintf(stderr, "storefront worker: %s\n", e.what());
        return 1;
    }
    return 0;
}

}  // namespace storefront
