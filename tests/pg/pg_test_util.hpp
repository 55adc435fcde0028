// Shared fixture of weir_pg_tests: one throwaway PostgreSQL cluster for the
// whole binary, started by a gtest Environment before any test (and so
// before any Runtime) and removed at exit.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "weir/testing/postgres_server.hpp"

namespace weir::pg::test {

class PgEnvironment : public ::testing::Environment {
public:
    void SetUp() override { server_ = std::make_unique<weir::testing::PostgresServer>(); }
    void TearDown() override { server_.reset(); }
    static weir::testing::PostgresServer& server() { return *server_; }

private:
    static inline std::unique_ptr<weir::testing::PostgresServer> server_;
};

inline ::testing::Environment* const pg_environment =
    ::testing::AddGlobalTestEnvironment(new PgEnvironment);

inline weir::testing::PostgresServer& server() { return PgEnvironment::server(); }
inline std::string url() { return server().url(); }

}  // namespace weir::pg::test
