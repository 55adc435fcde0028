// SharedServer<S>: one throwaway server (PostgresServer, RedisServer, ...) for a
// whole test binary, started by a gtest Environment before any test (and so
// before any Runtime) and stopped at exit.
//
//     inline auto* const redis_env = weir::testing::SharedServer<RedisServer>::install();
//     ... weir::testing::SharedServer<RedisServer>::get().url() ...
#pragma once

#include <memory>

#include <gtest/gtest.h>

namespace weir::testing {

template <class Server>
class SharedServer : public ::testing::Environment {
public:
    void SetUp() override { server_ = std::make_unique<Server>(); }
    void TearDown() override { server_.reset(); }

    static Server& get() { return *server_; }
    // Registers the environment (call once per binary, e.g. from an inline variable).
    static ::testing::Environment* install() {
        return ::testing::AddGlobalTestEnvironment(new SharedServer<Server>);
    }

private:
    static inline std::unique_ptr<Server> server_;
};

}  // namespace weir::testing
