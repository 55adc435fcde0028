// Worker: runs registered job functions for jobs read from Redis, with a
// concurrency limit, per-job timeouts, retries with exponential backoff and
// jitter, a dead-letter list, heartbeats, redelivery of jobs whose worker
// died, periodic jobs, and graceful shutdown.
//
//     weir::jobs::Worker worker({.url = "redis://127.0.0.1:6379/0", .concurrency = 32});
//     worker.add("email.confirmation", [](weir::jobs::JobContext& job) -> weir::Task<std::string> {
//         co_await send_mail(job.args);
//         co_return "null";                    // the job's result, JSON text
//     });
//     worker.every("cache.refresh", std::chrono::minutes(5));   // once per 5 min, fleet-wide
//     co_await worker.run();                   // until cancelled (SIGTERM) or stop()
//
// Delivery is at least once: a job claimed by a worker that dies is redelivered
// once it has been idle for `visibility_timeout`; a live worker heartbeats its
// running jobs so long jobs are not taken from it. When run() is cancelled
// (e.g. the runtime's SIGTERM handling) or stop() is called, the worker stops
// claiming, lets running jobs finish for up to `shutdown_grace`, then cancels
// the rest and releases them to the queue (not counted as a try), and returns.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "weir/core/clock.hpp"
#include "weir/core/histogram.hpp"
#include "weir/core/task.hpp"
#include "weir/jobs/job.hpp"

namespace weir::jobs {

using JobFunction = std::function<Task<std::string>(JobContext&)>;

struct WorkerOptions {
    std::string url = "redis://127.0.0.1:6379/0";
    std::string prefix = "weir";
    // Read in this priority order: a job waiting in an earlier queue is claimed first.
    std::vector<std::string> queues{"default"};
    // Consumer name; empty: hostname-pid-random (must be unique in the fleet).
    std::string name{};
    std::size_t concurrency = 64;  // jobs running at once in this process
    Duration visibility_timeout = std::chrono::seconds(30);
    Duration poll_interval = std::chrono::milliseconds(500);  // blocking read / maintenance
    Duration shutdown_grace = std::chrono::seconds(30);
    Duration retry_base = std::chrono::seconds(1);  // backoff: base * 2^(try-1), jittered
    Duration retry_max = std::chrono::minutes(5);
    Duration result_ttl = std::chrono::hours(24);  // finished jobs and their results
    Duration dead_ttl = std::chrono::hours(24 * 7);
    // Jobs whose name has no registered function: dead at once (true) or released
    // for another worker that may know it (false).
    bool unknown_jobs_dead = true;
};

// This process's counters (one worker, one shard).
struct WorkerMetrics {
    std::uint64_t claimed = 0, succeeded = 0, failed = 0, retried = 0, dead = 0, released = 0,
                  reclaimed = 0, running = 0;
    Histogram::Snapshot queue_latency;  // enqueue (or run-at) -> start
    Histogram::Snapshot run_time;
};

class Worker {
public:
    explicit Worker(WorkerOptions options);
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;
    ~Worker();

    // Registers the function run for jobs called `name`.
    Worker& add(std::string name, JobFunction fn);
    // Enqueues job `name` (args `args_json`) once per `period` across every worker of the
    // fleet that declares it (periods are aligned to the epoch).
    Worker& every(std::string name, Duration period, std::string args_json = "null");

    // Works until cancelled or stop(); see the header comment for shutdown.
    Task<void> run();
    // Asks run() to shut down gracefully (from the worker's shard).
    void stop() noexcept;

    WorkerMetrics metrics() const;
    const WorkerOptions& options() const noexcept;
    const std::string& name() const noexcept;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace weir::jobs
