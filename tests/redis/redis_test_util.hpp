// Shared fixture of weir_redis_tests: one throwaway redis-server for the
// whole binary, started by a gtest Environment before any test (and so before
// any Runtime). Tests that need their own server (auth, restarts) start one.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

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

}  // namespace weir::redis::test
