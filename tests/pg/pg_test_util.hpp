// Shared fixture of weir_pg_tests: one throwaway PostgreSQL cluster for the
// whole binary, started by a gtest Environment before any test (and so
// before any Runtime) and removed at exit.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "weir/testing/postgres_server.hpp"
#include "weir/testing/shared_server.hpp"

namespace weir::pg::test {

using PgEnvironment = weir::testing::SharedServer<weir::testing::PostgresServer>;
inline ::testing::Environment* const pg_environment = PgEnvironment::install();

inline weir::testing::PostgresServer& server() { return PgEnvironment::get(); }
inline std::string url() { return server().url(); }

}  // namespace weir::pg::test
