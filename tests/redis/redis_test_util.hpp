// Shared fixture of weir_redis_tests: one throwaway redis-server for the
// whole binary, started by a gtest Environment before any test (and so before
// any Runtime). Tests that need their own server (auth, restarts) start one.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "weir/testing/redis_server.hpp"

namespace weir::redis::test {

class RedisEnvironment : public ::testing::Environment {
public:
    void SetUp() override { server_ = std::make_unique<weir::testing::RedisServer>(); }
    void TearDown() override { server_.reset(); }
    static weir::testing::RedisServer& server() { return *server_; }

private:
    static inline std::unique_ptr<weir::testing::RedisServer> server_;
};

inline ::testing::Environment* const redis_environment =
    ::testing::AddGlobalTestEnvironment(new RedisEnvironment);

inline weir::testing::RedisServer& server() { return RedisEnvironment::server(); }
inline std::string url(int db = 0) { return server().url(db); }

// A key unique to the running test.
inline std::string key(const std::string& suffix = "") {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return std::string(info->test_suite_name()) + "." + info->name() + ":" + suffix;
}

}  // namespace weir::redis::test
