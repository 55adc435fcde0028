// Jobs: what is enqueued and what a job function sees. A job is a name (which
// registered function runs it), JSON arguments and delivery options; it runs
// at least once, possibly more than once after a worker dies, so job functions
// should be idempotent.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "weir/core/clock.hpp"

namespace weir::jobs {

using SystemTime = std::chrono::system_clock::time_point;

struct JobOptions {
    // Enqueueing an id that is queued, deferred or running again is a no-op (nullopt).
    // Empty: a random id.
    std::string id{};
    // The queue (workers read their queues in the priority order they list them).
    std::string queue = "default";
    // Run later: after `delay`, or at `run_at` (the later of the two wins).
    std::optional<Duration> delay{};
    std::optional<SystemTime> run_at{};
    // Attempts before the job goes to the dead-letter list (1: no retry).
    int max_tries = 5;
    // Each attempt is cancelled after this long (and counts as a failed try).
    Duration timeout = std::chrono::minutes(5);
};

// What a job function gets.
struct JobContext {
    std::string id;
    std::string name;
    std::string args;  // JSON text
    std::string queue;
    int attempt = 1;  // 1 for the first try
    int max_tries = 1;
    SystemTime enqueued_at{};
};

// Thrown by a job function to be retried after `delay` (counts as a try).
class Retry : public std::runtime_error {
public:
    explicit Retry(Duration delay, const std::string& why = "retry requested")
        : std::runtime_error(why), delay_(delay) {}
    Duration delay() const noexcept { return delay_; }

private:
    Duration delay_;
};

enum class JobState { queued, deferred, running, done, dead };

const char* to_string(JobState s) noexcept;

// A job's stored state (Queue::info).
struct JobInfo {
    std::string id;
    std::string name;
    std::string queue;
    JobState state = JobState::queued;
    int tries = 0;  // attempts started so far
    int max_tries = 1;
    std::optional<std::string> result;  // JSON text, once done
    std::optional<std::string> error;   // the last failure, if any
};

// Awaiting the result of a job that ended in the dead-letter list.
class JobFailed : public std::runtime_error {
public:
    JobFailed(std::string id, const std::string& error)
        : std::runtime_error("job " + id + " failed: " + error), id_(std::move(id)) {}
    const std::string& id() const noexcept { return id_; }

private:
    std::string id_;
};

}  // namespace weir::jobs
