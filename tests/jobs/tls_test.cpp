// weir::jobs over rediss:// (TLS): a worker and a queue on a TLS-only redis-server run a job
// end to end, and a worker that reconnects reuses its one TLS context.
#include <sys/inotify.h>
#include <unistd.h>

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

// How many times `fd` (inotify, non-blocking) saw a file opened since the last call.
int opens_seen(int fd) {
    int opens = 0;
    alignas(inotify_event) char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) return opens;
        for (ssize_t at = 0; at < n;) {
            const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
            if (ev->mask & IN_OPEN) ++opens;
            at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
        }
    }
}

// The worker builds its TLS context once: its two connections share it, and reconnecting
// after both were killed does not load the CA file again (inotify counts its opens).
TEST(JobsTls, ReconnectsReuseOneTlsContext) {
    testing::RedisServerOptions so;
    so.tls = true;
    testing::RedisServer srv(so);
    const int watch = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    ASSERT_GE(watch, 0);
    // Closes are watched too: inotify merges an event with an identical one still unread, so
    // two opens in a row would count as one.
    ASSERT_GE(::inotify_add_watch(watch, srv.ca_file().c_str(), IN_OPEN | IN_CLOSE_NOWRITE), 0);
    weir::testing::run_async_test([&]() -> Task<void> {
        auto conn = co_await redis::Connection::connect(srv.url());
        (void)opens_seen(watch);  // the test's own connection
        Queue queue(conn, test::queue_options());
        WorkerOptions wo = test::fast_options();
        wo.url = srv.url();
        Worker worker(wo);
        worker.add("echo", [](JobContext& job) -> Task<std::string> { co_return job.args; });
        int opens_at_start = -1, opens_on_reconnect = -1;
        auto body = [&]() -> Task<void> {
            auto first = co_await queue.enqueue("echo", "\"one\"");
            CO_ASSERT_TRUE(first.has_value());
            const std::string one = co_await first->result(10s);
            EXPECT_EQ(one, "\"one\"");
            opens_at_start = opens_seen(watch);
            // Kill the worker's connections (not this one): it reconnects.
            co_await conn.cmd("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
            auto second = co_await queue.enqueue("echo", "\"two\"");
            CO_ASSERT_TRUE(second.has_value());
            const std::string two = co_await second->result(20s);
            EXPECT_EQ(two, "\"two\"");
            opens_on_reconnect = opens_seen(watch);
        };
        co_await test::with_worker(worker, body);
        EXPECT_EQ(worker.metrics().succeeded, 2u);
        EXPECT_EQ(opens_at_start, 1);      // one context for both connections
        EXPECT_EQ(opens_on_reconnect, 0);  // and for the reconnects
        conn.close();
    });
    ::close(watch);
}

}  // namespace
}  // namespace weir::jobs
