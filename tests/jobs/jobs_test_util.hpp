// Shared pieces of weir_jobs_tests: one redis-server for the binary, a key prefix per test (so
// tests never see each other's jobs), and running a Worker beside a test body.
#pragma once

#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "weir/core/task_group.hpp"
#include "weir/jobs/queue.hpp"
#include "weir/jobs/worker.hpp"
#include "weir/redis/connection.hpp"
#include "weir/testing/redis_server.hpp"
#include "weir/testing/shared_server.hpp"

namespace weir::jobs::test {

using RedisEnv = weir::testing::SharedServer<weir::testing::RedisServer>;
inline ::testing::Environment* const redis_environment = RedisEnv::install();

inline std::string url() { return RedisEnv::get().url(); }

// "jobs-test:<suite>.<name>": every test has its own keys.
inline std::string prefix() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return std::string("jobs-test:") + info->test_suite_name() + "." + info->name();
}

// Queue options with the test's prefix (a named value: g++ 12 rejects a braced one in a coroutine).
inline QueueOptions queue_options() {
    QueueOptions o;
    o.prefix = prefix();
    return o;
}

// Worker options for tests: fast polling and retries.
inline WorkerOptions fast_options() {
    WorkerOptions o;
    o.url = url();
    o.prefix = prefix();
    o.poll_interval = std::chrono::milliseconds(50);
    o.retry_base = std::chrono::milliseconds(20);
    o.retry_max = std::chrono::milliseconds(200);
    o.visibility_timeout = std::chrono::seconds(5);
    o.shutdown_grace = std::chrono::seconds(5);
    return o;
}

// Runs `worker` while `body()` runs, then stops it gracefully and joins it.
template <class Body>
Task<void> with_worker(Worker& worker, Body body) {
    co_await task_group([&](TaskGroup& g) -> Task<void> {
        g.spawn(worker.run(), "test.worker");
        co_await body();
        worker.stop();
    });
}

}  // namespace weir::jobs::test
