// Tests of weir::jobs against a real redis-server: results, id de-duplication, delays,
// retries with backoff, the dead-letter list, timeouts, priorities, periodic jobs across two
// workers, graceful shutdown (finish within the grace period, release after it).
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "jobs_test_util.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/timeout.hpp"
#include "weir/core/when_all.hpp"
#include "weir/testing/async_test.hpp"

namespace weir::jobs {
namespace {

using namespace std::chrono_literals;
using test::fast_options;
using test::with_worker;

Task<redis::Connection> connect() { co_return co_await redis::Connection::connect(test::url()); }

WEIR_TEST(Jobs, EnqueuedJobRunsAndItsResultIsAwaitable) {
    auto conn = co_await connect();
    Queue queue(conn, test::queue_options());
    Worker worker(fast_options());
    worker.add("double", [](JobContext& job) -> Task<std::string> {
        co_return std::to_string(std::stoi(job.args) * 2);
    });
    auto body = [&]() -> Task<void> {
        auto job = co_await queue.enqueue("double", "21");
        CO_ASSERT_TRUE(job.has_value());
        EXPECT_EQ(job->id().size(), 32u);
        const std::string result = co_await job->result(10s);
        EXPECT_EQ(result, "42");
        auto info = co_await queue.info(job->id());
        CO_ASSERT_TRUE(info.has_value());
        EXPECT_EQ(info->state, JobState::done);
        EXPECT_EQ(info->tries, 1);
        EXPECT_EQ(info->name, "double");
    };
    co_await with_worker(worker, body);
    const WorkerMetrics m = worker.metrics();
    EXPECT_EQ(m.succeeded, 1u);
    EXPECT_EQ(m.running, 0u);
    EXPECT_EQ(m.run_time.count, 1u);
    const QueueStats s = co_await queue.stats();
    EXPECT_EQ(s.enqueued_total, 1);
    EXPECT_EQ(s.done_total, 1);
    EXPECT_EQ(s.queued, 0);
    EXPECT_EQ(s.running, 0);
    conn.close();
}

WEIR_TEST(Jobs, SameIdIsEnqueuedOnceWhileQueuedOrRunning) {
    auto conn = co_await connect();
    Queue queue(conn, test::queue_options());
    JobOptions o;
    o.id = "report-7";
    auto first = co_await queue.enqueue("report", "7", o);
    auto second = co_await queue.enqueue("report", "7", o);
    EXPECT_TRUE(first.has_value());
    EXPECT_FALSE(second.has_value());
    Worker worker(fast_options());
    int runs = 0;
    worker.add("report", [&](JobContext&) -> Task<std::string> {
        ++runs;
        co_return "\"ok\"";
    });
    auto body = [&]() -> Task<void> {
        const std::string first_result = co_await queue.result("report-7", 10s);
        EXPECT_EQ(first_result, "\"ok\"");
        // Finished: the id may be used again.
        auto again = co_await queue.enqueue("report", "7", o);
        CO_ASSERT_TRUE(again.has_value());
        const std::string second_result = co_await again->result(10s);
        EXPECT_EQ(second_result, "\"ok\"");
    };
    co_await with_worker(worker, body);
    EXPECT_EQ(runs, 2);
    conn.close();
}

WEIR_TEST(Jobs, DelayedJobWaitsForItsTime) {
    auto conn = co_await connect();
    Queue queue(conn, test::queue_options());
    Worker worker(fast_options());
    SystemTime ran_at{};
    worker.add("later", [&](JobContext&) -> Task<std::string> {
        ran_at = std::chrono::system_clock::now();
        co_return "null";
    });
    auto body = [&]() -> Task<void> {
        const SystemTime enqueued = std::chrono::system_clock::now();
        JobOptions o;
        o.delay = 300ms;
        auto job = co_await queue.enqueue("later", "null", o);
        CO_ASSERT_TRUE(job.has_value());
        auto info = co_await queue.info(job->id());
        CO_ASSERT_TRUE(info.has_value());
        EXPECT_EQ(info->state, JobState::deferred);
        co_await job->result(10s);
        EXPECT_GE(ran_at - enqueued, 300ms);
    };
    co_await with_worker(worker, body);
    conn.close();
}

WEIR_TEST(Jobs, FailingJobIsRetriedWithBackoffThenDead) {
    auto conn = co_await connect();
    Queue queue(conn, test::queue_options());
    WorkerOptions wo = fast_options();
    wo.retry_base = 40ms;
    wo.retry_max = 1s;
    Worker worker(wo);
    std::vector<std::chrono::steady_clock::time_point> attempts;
    worker.add("flaky", [&](JobContext& job) -> Task<std::string> {
        attempts.push_back(std::chrono::steady_clock::now());
        throw std::runtime_error("boom on attempt " + std::to_string(job.attempt));
        co_return "null";
    });
    auto body = [&]() -> Task<void> {
        JobOptions o;
        o.max_tries = 3;
        auto job = co_await queue.enqueue("flaky", "null", o);
        CO_ASSERT_TRUE(job.has_value());
        bool failed = false;
        try {
            co_await job->result(20s);
        } catch (const JobFailed& e) {
            failed = true;
            EXPECT_NE(std::string(e.what()).find("boom on attempt 3"), std::string::npos)
                << e.what();
        }
        EXPECT_TRUE(failed);
        auto dead = co_await queue.dead_letters();
        CO_ASSERT_EQ(dead.size(), 1u);
        EXPECT_EQ(dead[0], job->id());
        auto info = co_await queue.info(job->id());
        CO_ASSERT_TRUE(info.has_value());
        EXPECT_EQ(info->state, JobState::dead);
        EXPECT_EQ(info->tries, 3);
        // Requeued from the dead-letter list, it runs (and fails) again.
        const bool requeued = co_await queue.requeue_dead(job->id());
        const bool requeued_unknown = co_await queue.requeue_dead("no-such-job");
        EXPECT_TRUE(requeued);
        EXPECT_FALSE(requeued_unknown);
        bool failed_again = false;
        try {
            co_await queue.result(job->id(), 20s);
        } catch (const JobFailed&) {
            failed_again = true;
        }
        EXPECT_TRUE(failed_again);
    };
    co_await with_worker(worker, body);
    CO_ASSERT_EQ(attempts.size(), 6u);
    // Backoff: base * 2^(try-1) with jitter in [0.5, 1]: >= 20 ms, then >= 40 ms.
    EXPECT_GE(attempts[1] - attempts[0], 20ms);
    EXPECT_GE(attempts[2] - attempts[1], 40ms);
    const WorkerMetrics m = worker.metrics();
    EXPECT_EQ(m.failed, 6u);
    EXPECT_EQ(m.retried, 4u);
    EXPECT_EQ(m.dead, 2u);
    const QueueStats s = co_await queue.stats();
    EXPECT_EQ(s.retried_total, 4);
    EXPECT_EQ(s.dead_total, 2);
    EXPECT_EQ(s.dead, 1);
    conn.close();
}

WEIR_TEST(Jobs, RetryExceptionAsksForAGivenDelay) {
    auto conn = co_await connect();
    Queue queue(conn, test::queue_options());
    Worker worker(fast_options());
    std::vector<int> seen;
    worker.add("polite", [&](JobContext& job) -> Task<std::string> {
        seen.push_back(job.attempt);
        if (job.attempt == 1) throw Retry(150ms, "upstream busy");
        co_return std::to_string(job.attempt);
    });
    auto body = [&]() -> Task<void> {
        const auto t0 = std::chrono::steady_clock::now();
        auto job = co_await queue.enqueue("polite");
        CO_ASSERT_TRUE(job.has_value());
        const std::string result = co_await job->result(10s);
        EXPECT_EQ(result, "2");
        EXPECT_GE(std::chrono::steady_clock::now() - t0, 150ms);
        auto info = co_await queue.info(job->id());
        CO_ASSERT_TRUE(info.has_value());
        EXPECT_EQ(info->error.value_or(""), "upstream busy");
    };
    co_await with_worker(worker, body);
    EXPECT_EQ(seen, (std::vector<int>{1, 2}));
    conn.close();
}

WEIR_TEST(Jobs, TimeoutCancelsTheAttempt) {
    auto conn = co_await connect();
    Queue queue(conn, test::queue_options());
    Worker worker(fast_options());
    int cancelled = 0;
    worker.add("slow", [&](JobContext&) -> Task<std::string> {
        try {
            co_await sleep_for(30s);
        } catch (const Cancelled&) {
            ++cancelled;
            throw;
        }
        co_return "null";
    });
    auto body = [&]() -> Task<void> {
        JobOptions o;
        o.timeout = 50ms;
        o.max_tries = 2;
        auto job = co_await queue.enqueue("slow", "null", o);
        CO_ASSERT_TRUE(job.has_value());
        std::string error;
        try {
            co_await job->result(20s);
        } catch (const JobFailed& e) {
            error = e.what();
        }
        EXPECT_NE(error.find("timed out after 50 ms"), std::string::npos) << error;
    };
    co_await with_worker(worker, body);
    EXPECT_EQ(cancelled, 2);
    conn.close();
}

WEIR_TEST(Jobs, UnknownJobNameGoesDead) {
    auto conn = co_await connect();
    Queue queue(conn, test::queue_options());
    Worker worker(fast_options());
    worker.add("known", [](JobContext&) -> Task<std::string> { co_return "null"; });
    auto body = [&]() -> Task<void> {
        auto job = co_await queue.enqueue("unknown");
        CO_ASSERT_TRUE(job.has_value());
        std::string error;
        try {
            co_await job->result(10s);
        } catch (const JobFailed& e) {
            error = e.what();
        }
        EXPECT_NE(error.find("no function registered for job 'unknown'"), std::string::npos)
            << error;
    };
    co_await with_worker(worker, body);
    conn.close();
}

WEIR_TEST(Jobs, EarlierQueuesArePreferred) {
    auto conn = co_await connect();
    Queue queue(conn, test::queue_options());
    for (int i = 0; i < 5; ++i) {
        JobOptions low;
        low.queue = "low";
        co_await queue.enqueue("record", "\"low\"", low);
    }
    for (int i = 0; i < 5; ++i) {
        JobOptions high;
        high.queue = "high";
        co_await queue.enqueue("record", "\"high\"", high);
    }
    WorkerOptions wo = fast_options();
    wo.queues = {"high", "low"};
    wo.concurrency = 1;
    Worker worker(wo);
    std::vector<std::string> order;
    worker.add("record", [&](JobContext& job) -> Task<std::string> {
        order.push_back(job.args);
        co_return "null";
    });
    auto body = [&]() -> Task<void> {
        while (order.size() < 10) co_await sleep_for(10ms);
    };
    // The groups are created by the worker; entries added before that are read from id 0.
    co_await with_timeout(20s, with_worker(worker, body));
    CO_ASSERT_EQ(order.size(), 10u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], "\"high\"");
    for (int i = 5; i < 10; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], "\"low\"");
    conn.close();
}

WEIR_TEST(Jobs, PeriodicJobRunsOncePerPeriodAcrossWorkers) {
    auto conn = co_await connect();
    Queue queue(conn, test::queue_options());
    std::map<std::string, int> runs;  // job id (periodic:tick:<period>) -> executions
    auto tick = [&](JobContext& job) -> Task<std::string> {
        ++runs[job.id];
        co_return "null";
    };
    Worker a(fast_options());
    Worker b(fast_options());
    a.add("tick", tick).every("tick", 100ms);
    b.add("tick", tick).every("tick", 100ms);
    auto body = [&]() -> Task<void> {
        while (runs.size() < 6) co_await sleep_for(10ms);
    };
    auto both = [&]() -> Task<void> { co_await with_worker(b, body); };
    co_await with_timeout(30s, with_worker(a, both));
    EXPECT_GE(runs.size(), 6u);
    for (const auto& [id, n] : runs) EXPECT_EQ(n, 1) << id;
    conn.close();
}

WEIR_TEST(Jobs, StopLetsRunningJobsFinish) {
    auto conn = co_await connect();
    Queue queue(conn, test::queue_options());
    Worker worker(fast_options());
    int started = 0;
    int finished = 0;
    worker.add("work", [&](JobContext&) -> Task<std::string> {
        ++started;
        co_await sleep_for(200ms);
        ++finished;
        co_return "null";
    });
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        auto job = co_await queue.enqueue("work");
        if (job) ids.push_back(job->id());
    }
    auto body = [&]() -> Task<void> {
        while (started < 3) co_await sleep_for(5ms);
    };
    co_await with_worker(worker, body);  // stop() right after the three started
    EXPECT_EQ(finished, 3);
    for (const std::string& id : ids) {
        auto info = co_await queue.info(id);
        CO_ASSERT_TRUE(info.has_value());
        EXPECT_EQ(info->state, JobState::done) << id;
    }
    conn.close();
}

WEIR_TEST(Jobs, CancelledWorkerReleasesWhatOutlivesTheGrace) {
    auto conn = co_await connect();
    Queue queue(conn, test::queue_options());
    WorkerOptions wo = fast_options();
    wo.shutdown_grace = 50ms;
    Worker worker(wo);
    int started = 0;
    worker.add("long", [&](JobContext&) -> Task<std::string> {
        ++started;
        co_await sleep_for(30s);
        co_return "null";
    });
    std::vector<std::string> ids;
    for (int i = 0; i < 2; ++i) {
        auto job = co_await queue.enqueue("long");
        if (job) ids.push_back(job->id());
    }
    // Cancel run() itself (what SIGTERM does to a worker process).
    bool cancelled = false;
    try {
        co_await task_group([&](TaskGroup& g) -> Task<void> {
            g.spawn(worker.run());
            while (started < 2) co_await sleep_for(5ms);
            g.cancel();
        });
    } catch (const Cancelled&) {
        cancelled = true;
    }
    EXPECT_FALSE(cancelled);  // a group cancelled by its own body returns normally
    EXPECT_EQ(worker.metrics().released, 2u);
    for (const std::string& id : ids) {
        auto info = co_await queue.info(id);
        CO_ASSERT_TRUE(info.has_value());
        EXPECT_EQ(info->state, JobState::deferred) << id;
        EXPECT_EQ(info->tries, 0) << id;  // a release is not a try
    }
    // Another worker picks the released jobs up.
    Worker second(fast_options());
    second.add("long", [](JobContext&) -> Task<std::string> { co_return "\"second\""; });
    auto body = [&]() -> Task<void> {
        for (const std::string& id : ids) {
            const std::string result = co_await queue.result(id, 10s);
            EXPECT_EQ(result, "\"second\"");
        }
    };
    co_await with_worker(second, body);
    conn.close();
}

}  // namespace
}  // namespace weir::jobs

namespace weir::jobs {
namespace {

WEIR_TEST(Jobs, ManyConcurrentEnqueuesShareOneConnection) {
    auto conn = co_await connect();
    Queue queue(conn, test::queue_options());
    for (int batch = 0; batch < 3; ++batch) {
        std::vector<Task<std::optional<Job>>> enqueues;
        for (int i = 0; i < 500; ++i) enqueues.push_back(queue.enqueue("noop"));
        auto jobs = co_await when_all(std::move(enqueues));
        std::size_t ok = 0;
        for (auto& j : jobs) ok += j.has_value() ? 1 : 0;
        EXPECT_EQ(ok, 500u);
    }
    const QueueStats s = co_await queue.stats();
    EXPECT_EQ(s.enqueued_total, 1500);
    EXPECT_EQ(s.queued, 1500);
    conn.close();
}

}  // namespace
}  // namespace weir::jobs
