// Shared fixture of weir_redis_tests: one throwaway redis-server for the
// whole binary, started by a gtest Environment before any test (and so before
// any Runtime). Tests that need their own server (auth, restarts) start one.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "weir/core/sleep.hpp"
#include "weir/core/task_group.hpp"
#include "weir/redis/connection.hpp"
#include "weir/redis/pool.hpp"
#include "weir/testing/async_test.hpp"
#include "weir/testing/redis_server.hpp"
#include "weir/testing/shared_server.hpp"

namespace weir::redis::test {

using RedisEnvironment = weir::testing::SharedServer<weir::testing::RedisServer>;
inline ::testing::Environment* const redis_environment = RedisEnvironment::install();

inline weir::testing::RedisServer& server() { return RedisEnvironment::get(); }
inline std::string url(int db = 0) { return server().url(db); }

// A key unique to the running test.
inline std::string key(const std::string& suffix = "") {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return std::string(info->test_suite_name()) + "." + info->name() + ":" + suffix;
}

// `tasks` tasks at once on `conn`, each `rounds` times: SET k v, GET k,
// ECHO v (automatic pipelining). Returns how many GET and ECHO replies were
// right (2 * tasks * rounds when replies are matched in order).
inline Task<int> concurrent_round_trips(Connection& conn, int tasks, int rounds) {
    int good = 0;
    auto one = [&](int i) -> Task<void> {
        const std::string k = key(std::to_string(i));
        for (int round = 0; round < rounds; ++round) {
            const std::string v = std::to_string(i * 1000 + round);
            co_await conn.cmd("SET", k, v);
            Reply r = co_await conn.cmd("GET", k);
            if (r.str() == v) ++good;
            Reply e = co_await conn.cmd("ECHO", v);
            if (e.str() == v) ++good;
        }
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        for (int i = 0; i < tasks; ++i) g.spawn(one(i));
        co_return;
    });
    co_return good;
}

// Stops `srv` for 100 ms and starts it again while 16 tasks keep using a
// pool: failures during the outage are typed redis errors, and every task
// then succeeds again on reconnected connections. (stop/start block the
// shard briefly; that only delays the workers.) Runs its own runtime.
inline void restart_under_load(weir::testing::RedisServer& srv) {
    using namespace std::chrono_literals;
    using weir::Task;
    weir::testing::run_async_test([&]() -> Task<void> {
        weir::redis::PoolOptions o;
        o.url = srv.url();
        o.min_size = 2;
        o.max_size = 4;
        o.acquire_timeout = 3000ms;
        bool restarted = false;
        int errors = 0;
        int ok_after = 0;
        auto worker = [&](weir::redis::Pool& pool, int i) -> Task<void> {
            const std::string k = "restart:" + std::to_string(i);
            int ok_since_restart = 0;
            while (ok_since_restart < 20) {
                bool failed = false;
                try {
                    if (i % 2 == 0) {
                        co_await pool.incr(k);  // shared connection
                    } else {
                        auto c = co_await pool.acquire();  // exclusive
                        co_await c->incr(k);
                    }
                    if (restarted) ++ok_since_restart;
                } catch (const weir::redis::Error&) {
                    ++errors;  // ConnectionError, PoolTimeout, LOADING...
                    failed = true;
                }
                if (failed) co_await weir::sleep_for(5ms);
            }
            ok_after += ok_since_restart;
        };
        auto restart = [&]() -> Task<void> {
            co_await weir::sleep_for(30ms);
            srv.stop();
            co_await weir::sleep_for(100ms);
            srv.start();
            restarted = true;
        };
        auto body = [&](weir::redis::Pool& pool) -> Task<void> {
            co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
                for (int i = 0; i < 16; ++i) g.spawn(worker(pool, i));
                g.spawn(restart());
                co_return;
            });
            EXPECT_EQ(ok_after, 16 * 20);
            auto m = pool.metrics();
            EXPECT_GE(m.reconnects, 1u);
            EXPECT_GE(m.connection_errors, 1u);
            EXPECT_EQ((co_await pool.cmd("PING")).str(), "PONG");
            // The new server was forked inside the runtime, which blocks SIGTERM in
            // every thread, so the fixture could not stop it: ask it to exit.
            try {
                co_await pool.cmd("SHUTDOWN", "NOSAVE");
            } catch (const weir::redis::ConnectionError&) {
            }
        };
        co_await weir::with_resource(co_await weir::redis::Pool::open(o), body);
        (void)errors;
    });
}

}  // namespace weir::redis::test
