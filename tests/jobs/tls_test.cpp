// Smoke test of weir::jobs over rediss:// (TLS): a worker and a queue on a
// TLS-only redis-server run a job end to end.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "jobs_test_util.hpp"
#include "weir/testing/async_test.hpp"
#include "weir/testing/redis_server.hpp"

namespace weir::jobs {
namespace {

using namespace std::chrono_literals;

TEST(JobsTls, JobRunsOverRediss) {
    testing::RedisServerOptions so;
    so.tls = true;
    testing::RedisServer srv(so);
    weir::testing::run_async_test([&]() -> Task<void> {
        auto conn = co_await redis::Connection::connect(srv.url());
        Queue queue(conn, test::queue_options());
        WorkerOptions wo = test::fast_options();
        wo.url = srv.url();  // rediss://127.0.0.1:PORT/0?ca_file=...
        Worker worker(wo);
        worker.add("upper", [](JobContext& job) -> Task<std::string> {
            std::string s = job.args;
            for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            co_return s;
        });
        auto body = [&]() -> Task<void> {
            auto job = co_await queue.enqueue("upper", "over tls");
            CO_ASSERT_TRUE(job.has_value());
            const std::string result = co_await job->result(10s);
            EXPECT_EQ(result, "OVER TLS");
        };
        co_await test::with_worker(worker, body);
        EXPECT_EQ(worker.metrics().succeeded, 1u);
        conn.close();
    });
}

}  // namespace
}  // namespace weir::jobs
