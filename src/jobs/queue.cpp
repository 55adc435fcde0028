// The enqueueing side of the jobs module; see include/weir/jobs/queue.hpp.
#include "weir/jobs/queue.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "scripts.hpp"
#include "weir/core/errors.hpp"
#include "weir/core/sleep.hpp"
#include "weir/redis/error.hpp"

namespace weir::jobs {

using detail::KeyNames;

const char* to_string(JobState s) noexcept {
    switch (s) {
        case JobState::queued:
            return "queued";
        case JobState::deferred:
            return "deferred";
        case JobState::running:
            return "running";
        case JobState::done:
            return "done";
        case JobState::dead:
            return "dead";
    }
    return "?";
}

namespace {

std::optional<JobState> parse_state(std::string_view s) {
    for (JobState st : {JobState::queued, JobState::deferred, JobState::running, JobState::done,
                        JobState::dead}) {
        if (s == to_string(st)) return st;
    }
    return std::nullopt;
}

int to_int_or(const std::map<std::string, std::string>& m, const char* key, int fallback) {
    auto it = m.find(key);
    if (it == m.end()) return fallback;
    try {
        return std::stoi(it->second);
    } catch (const std::exception&) {
        return fallback;
    }
}

std::optional<std::string> field(const std::map<std::string, std::string>& m, const char* key) {
    auto it = m.find(key);
    if (it == m.end()) return std::nullopt;
    return it->second;
}

}  // namespace

Task<std::string> Job::result(Duration timeout) const { return queue_->result(id_, timeout); }

Queue::Queue(redis::Commands& redis, QueueOptions options)
    : redis_(&redis), options_(std::move(options)) {}

Task<std::optional<Job>> Queue::enqueue(std::string_view name, std::string_view args_json) {
    JobOptions defaults;  // named: see the header
    co_return co_await enqueue(name, args_json, std::move(defaults));
}

Task<std::optional<Job>> Queue::enqueue(std::string_view name, std::string_view args_json,
                                        JobOptions options) {
    if (name.empty()) throw std::invalid_argument("jobs: a job needs a name");
    if (options.max_tries < 1) throw std::invalid_argument("jobs: max_tries must be >= 1");
    if (options.queue.empty()) throw std::invalid_argument("jobs: empty queue name");
    const KeyNames keys{options_.prefix};
    std::string id = options.id.empty() ? detail::random_id() : std::move(options.id);
    const std::int64_t now = detail::now_ms();
    std::int64_t run_at = now;
    if (options.delay) {
        run_at =
            now + std::chrono::duration_cast<std::chrono::milliseconds>(*options.delay).count();
    }
    if (options.run_at) {
        const std::int64_t at = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    options.run_at->time_since_epoch())
                                    .count();
        run_at = std::max(run_at, at);
    }
    const auto timeout_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout).count();
    redis::Keys script_keys{keys.job(id), keys.stream(options.queue), keys.delayed(), keys.stats(),
                            keys.job(id)};
    redis::Keys args{id,
                     std::string(name),
                     std::string(args_json),
                     options.queue,
                     std::to_string(options.max_tries),
                     std::to_string(timeout_ms),
                     std::to_string(now),
                     std::to_string(run_at),
                     ""};
    redis::Reply r = co_await redis_->eval(detail::enqueue_script(), script_keys, args);
    if (r.integer() == 0) co_return std::nullopt;
    co_return Job(*this, std::move(id));
}

Task<std::optional<JobInfo>> Queue::info(std::string_view id) {
    const KeyNames keys{options_.prefix};
    auto m = co_await redis_->hgetall(keys.job(id));
    if (m.empty()) co_return std::nullopt;
    JobInfo info;
    info.id = std::string(id);
    info.name = field(m, "name").value_or("");
    info.queue = field(m, "queue").value_or("");
    info.state = parse_state(field(m, "state").value_or("")).value_or(JobState::queued);
    info.tries = to_int_or(m, "tries", 0);
    info.max_tries = to_int_or(m, "max_tries", 1);
    info.result = field(m, "result");
    info.error = field(m, "error");
    co_return info;
}

Task<std::string> Queue::result(std::string_view id, Duration timeout) {
    const std::string job_id(id);
    const KeyNames keys{options_.prefix};
    const TimePoint deadline = Clock::now() + timeout;
    // Poll with backoff: a blocking wait would hold a connection that others pipeline on.
    Duration pause = std::chrono::milliseconds(2);
    for (;;) {
        const redis::Keys names{"state", "result", "error"};  // named: g++ 12 and co_await
        auto fields = co_await redis_->hmget(keys.job(job_id), names);
        if (!fields[0]) throw JobFailed(job_id, "unknown or expired job");
        if (*fields[0] == "done") co_return fields[1].value_or("null");
        if (*fields[0] == "dead") throw JobFailed(job_id, fields[2].value_or("unknown error"));
        const Duration left = deadline - Clock::now();
        if (left <= Duration::zero()) throw TimeoutError();
        co_await sleep_for(std::min(pause, left));
        pause = std::min<Duration>(pause * 2, std::chrono::milliseconds(100));
    }
}

Task<std::vector<std::string>> Queue::dead_letters(std::size_t max) {
    const KeyNames keys{options_.prefix};
    co_return co_await redis_->lrange(keys.dead(), 0, static_cast<std::int64_t>(max) - 1);
}

Task<bool> Queue::requeue_dead(std::string_view id) {
    const KeyNames keys{options_.prefix};
    redis::Keys script_keys{keys.job(id), keys.dead()};
    redis::Keys args{options_.prefix, std::string(id)};
    redis::Reply r = co_await redis_->eval(detail::requeue_dead_script(), script_keys, args);
    co_return r.integer() == 1;
}

Task<QueueStats> Queue::stats() {
    std::vector<std::string> queues{"default"};
    co_return co_await stats(std::move(queues));
}

Task<QueueStats> Queue::stats(std::vector<std::string> queues) {
    const KeyNames keys{options_.prefix};
    QueueStats s;
    for (const std::string& q : queues) {
        // Entries still in a stream are either waiting or claimed (pending).
        const std::int64_t len = co_await redis_->xlen(keys.stream(q));
        std::int64_t pending = 0;
        try {
            pending =
                (co_await redis_->xpending(keys.stream(q), std::string(detail::kGroup))).count;
        } catch (const redis::ServerError&) {
            pending = 0;  // no group yet: nothing claimed
        }
        s.running += pending;
        s.queued += len - pending;
    }
    s.deferred = co_await redis_->zcard(keys.delayed());
    s.dead = co_await redis_->llen(keys.dead());
    auto m = co_await redis_->hgetall(keys.stats());
    auto count = [&](const char* k) -> std::int64_t {
        auto it = m.find(k);
        return it == m.end() ? 0 : std::stoll(it->second);
    };
    s.enqueued_total = count("enqueued");
    s.done_total = count("done");
    s.retried_total = count("retried");
    s.dead_total = count("dead");
    s.released_total = count("released");
    co_return s;
}

}  // namespace weir::jobs
