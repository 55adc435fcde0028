// Queue: the enqueueing side of weir's background jobs (the Arq/Celery
// counterpart), on Redis streams. Create one per shard (or per app) in the
// lifespan over a redis connection and inject it into handlers:
//
//     weir::jobs::Queue queue(redis_conn);                  // any redis::Commands
//     auto job = co_await queue.enqueue("email.confirmation", R"({"order":42})",
//                                       {.id = "order-42-email", .max_tries = 3});
//     if (job) std::string result = co_await job->result(std::chrono::seconds(10));
//
// Layout in Redis (prefix "weir" by default; see docs/ARCHITECTURE.md, "jobs"):
//   <p>:q:<queue>   stream of job ids, read by the consumer group "workers"
//   <p>:job:<id>    hash: name, args, queue, state, tries, max_tries, timeout, result/error
//   <p>:delayed     sorted set of deferred job ids by run-at time (ms since the epoch)
//   <p>:dead        list of ids of jobs that exhausted their tries
//   <p>:stats       hash of fleet-wide counters (enqueued, done, retried, dead, released)
// Every state change is one Lua script, so a crash never leaves a job half-moved.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weir/core/clock.hpp"
#include "weir/core/task.hpp"
#include "weir/jobs/job.hpp"
#include "weir/redis/commands.hpp"

namespace weir::jobs {

struct QueueOptions {
    std::string prefix = "weir";
};

class Queue;

// A job that was enqueued.
class Job {
public:
    Job(Queue& queue, std::string id) : queue_(&queue), id_(std::move(id)) {}
    const std::string& id() const noexcept { return id_; }
    // Waits for the job's result (JSON text); throws JobFailed if it ended dead,
    // TimeoutError after `timeout`.
    Task<std::string> result(Duration timeout) const;

private:
    Queue* queue_;
    std::string id_;
};

// Fleet-wide figures.
struct QueueStats {
    std::int64_t queued = 0;    // entries waiting in the streams of the queues asked about
    std::int64_t running = 0;   // claimed, not yet acknowledged
    std::int64_t deferred = 0;  // delayed or waiting for a retry
    std::int64_t dead = 0;      // in the dead-letter list
    std::int64_t enqueued_total = 0, done_total = 0, retried_total = 0, dead_total = 0,
                 released_total = 0;
};

class Queue {
public:
    explicit Queue(redis::Commands& redis, QueueOptions options = {});

    // nullopt when a job with options.id is already queued, deferred or running.
    // (Overloads, not default arguments: g++ 12 destroys a defaulted JobOptions twice when the
    // call is inside a co_await expression.)
    Task<std::optional<Job>> enqueue(std::string_view name, std::string_view args_json,
                                     JobOptions options);
    Task<std::optional<Job>> enqueue(std::string_view name, std::string_view args_json = "null");

    // The stored state of a job (nullopt: unknown, or expired after completion).
    Task<std::optional<JobInfo>> info(std::string_view id);

    // See Job::result.
    Task<std::string> result(std::string_view id, Duration timeout);

    // Ids in the dead-letter list, newest first.
    Task<std::vector<std::string>> dead_letters(std::size_t max = 100);
    // Puts a dead job back on its queue with its tries reset; false if it is not dead.
    Task<bool> requeue_dead(std::string_view id);

    // For the given queues, or the "default" queue. (No braced default argument: g++ 12
    // cannot compile one inside a co_await expression.)
    Task<QueueStats> stats(std::vector<std::string> queues);
    Task<QueueStats> stats();

    redis::Commands& redis() noexcept { return *redis_; }
    const QueueOptions& options() const noexcept { return options_; }

private:
    redis::Commands* redis_;
    QueueOptions options_;
};

}  // namespace weir::jobs
