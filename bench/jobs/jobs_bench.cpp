// jobs_bench: the enqueuing and timing side of the background-jobs benchmark (bench/jobs/run).
// It enqueues --jobs no-op jobs (`noop`, a built-in job of weir-worker) with weir::jobs::Queue,
// then waits until the fleet-wide counter `done` of the hash <prefix>:stats has grown by --jobs.
// The workers (build/bin/weir-worker) are started by the caller, before this program.
//
// The clock starts just before the first enqueue and stops at the first poll that sees the last
// completion (polled every --poll-ms on a second connection, so the poll never queues behind
// enqueues). Output, one line on stdout:
//   jobs=<n> enqueue_seconds=<t> total_seconds=<t> enqueue_per_sec=<r> jobs_per_sec=<r>
// Exit status: 0 on success, 1 on timeout or error, 2 on bad usage.
//
// Enqueue concurrency: --enqueuers tasks share one redis::Connection, each enqueuing one job at a
// time. It is capped at kMaxEnqueuers because many concurrent commands on one Connection can
// currently hang (a known redis-module bug being fixed elsewhere). Raise the cap here once fixed.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "weir/core.hpp"
#include "weir/jobs/queue.hpp"
#include "weir/redis/connection.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// The one place that limits concurrent enqueues per connection (see the header comment).
constexpr long kMaxEnqueuers = 16;
constexpr long kDefaultEnqueuers = 16;

struct Options {
    std::string url = "redis://127.0.0.1:6379/0";
    std::string prefix = "weir";
    long jobs = 20000;
    long enqueuers = kDefaultEnqueuers;
    long poll_ms = 1;
    double timeout = 120.0;
    bool trace = false;
};

[[noreturn]] void usage(int code) {
    std::fprintf(code ? stderr : stdout,
                 "usage: jobs_bench [--redis URL] [--prefix P] [--jobs N] [--enqueuers K]\n"
                 "                  [--poll-ms MS] [--timeout SEC] [--trace]\n"
                 "  --enqueuers K  concurrent enqueues on the one connection (1..%ld, default "
                 "%ld)\n"
                 "  --trace        print the completed count every 100 ms to stderr\n",
                 kMaxEnqueuers, kDefaultEnqueuers);
    std::exit(code);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(2);
            return argv[++i];
        };
        try {
            if (a == "--help" || a == "-h")
                usage(0);
            else if (a == "--redis")
                o.url = value();
            else if (a == "--prefix")
                o.prefix = value();
            else if (a == "--jobs")
                o.jobs = std::stol(value());
            else if (a == "--enqueuers")
                o.enqueuers = std::stol(value());
            else if (a == "--poll-ms")
                o.poll_ms = std::stol(value());
            else if (a == "--timeout")
                o.timeout = std::stod(value());
            else if (a == "--trace")
                o.trace = true;
            else
                usage(2);
        } catch (const std::logic_error&) {  // stol/stod: not a number
            usage(2);
        }
    }
    if (o.jobs < 1 || o.enqueuers < 1 || o.enqueuers > kMaxEnqueuers || o.poll_ms < 0 ||
        o.timeout <= 0) {
        usage(2);
    }
    return o;
}

std::int64_t done_count(const std::optional<std::string>& v) { return v ? std::stoll(*v) : 0; }

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// One enqueuer: takes the next job number until all are taken, one enqueue at a time.
weir::Task<void> enqueue_loop(weir::jobs::Queue& queue, long& next, long total) {
    while (next < total) {
        ++next;
        // Named, not a default argument: g++ 12 destroys temporaries in a co_await twice.
        weir::jobs::JobOptions options;
        auto job = co_await queue.enqueue("noop", "null", std::move(options));
        if (!job) throw std::runtime_error("enqueue returned no job (duplicate id?)");
    }
}

weir::Task<int> amain(Options o) {
    auto conn = co_await weir::redis::Connection::connect(o.url);
    auto poller = co_await weir::redis::Connection::connect(o.url);
    weir::jobs::Queue queue(conn, weir::jobs::QueueOptions{.prefix = o.prefix});
    const std::string stats_key = o.prefix + ":stats";
    const std::int64_t base = done_count(co_await poller.hget(stats_key, "done"));
    const std::int64_t target = base + o.jobs;

    const Clock::time_point start = Clock::now();
    long next = 0;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        for (long i = 0; i < o.enqueuers; ++i) g.spawn(enqueue_loop(queue, next, o.jobs));
        co_return;
    });
    const Clock::time_point enqueued = Clock::now();

    const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(o.timeout));
    std::int64_t done = base;
    Clock::time_point next_trace = Clock::now();
    for (;;) {
        done = done_count(co_await poller.hget(stats_key, "done"));
        if (done >= target) break;
        if (o.trace && Clock::now() >= next_trace) {
            next_trace = Clock::now() + std::chrono::milliseconds(100);
            std::fprintf(stderr, "jobs_bench: %.3f s: %lld done\n", seconds(Clock::now() - start),
                         static_cast<long long>(done - base));
        }
        if (Clock::now() > deadline) {
            std::fprintf(stderr, "jobs_bench: timeout: %lld of %ld jobs done after %.1f s\n",
                         static_cast<long long>(done - base), o.jobs, o.timeout);
            co_return 1;
        }
        co_await weir::sleep_for(std::chrono::milliseconds(o.poll_ms));
    }
    const Clock::time_point finished = Clock::now();
    const double enqueue_s = seconds(enqueued - start);
    const double total_s = seconds(finished - start);
    std::printf(
        "jobs=%ld enqueue_seconds=%.6f total_seconds=%.6f enqueue_per_sec=%.1f "
        "jobs_per_sec=%.1f\n",
        o.jobs, enqueue_s, total_s, static_cast<double>(o.jobs) / enqueue_s,
        static_cast<double>(o.jobs) / total_s);
    std::fflush(stdout);
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    try {
        weir::RuntimeOptions ro;
        ro.shards = 1;
        weir::Runtime rt(ro);
        return rt.run(amain(o));
    } catch (const weir::Cancelled&) {
        std::fprintf(stderr, "jobs_bench: interrupted\n");
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "jobs_bench: %s\n", e.what());
        return 1;
    }
}
