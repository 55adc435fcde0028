// The throwaway-server fixtures start real servers, answer, restart and clean up.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <weir/testing/postgres_server.hpp>
#include <weir/testing/redis_server.hpp>

namespace {

std::string capture(const std::string& cmd) {
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        char buf[256];
        while (std::fgets(buf, sizeof buf, p)) out += buf;
        ::pclose(p);
    }
    return out;
}

}  // namespace

TEST(PostgresServerFixture, StartsQueriesRestartsAndCleansUp) {
    std::filesystem::path dir;
    {
        weir::testing::PostgresServer pg;
        dir = pg.dir();
        pg.psql("CREATE TABLE t(x int); INSERT INTO t VALUES (41), (1);");
        EXPECT_EQ(capture("psql -XAtq '" + pg.url() + "' -c 'SELECT sum(x) FROM t'"), "42\n");
        pg.restart();
        EXPECT_EQ(capture("psql -XAtq '" + pg.url() + "' -c 'SELECT count(*) FROM t'"), "2\n");
        pg.stop();
        EXPECT_FALSE(weir::testing::port_accepts(pg.port()));
    }
    EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(RedisServerFixture, StartsAnswersAndStops) {
    weir::testing::RedisServer redis;
    EXPECT_EQ(capture("redis-cli -p " + std::to_string(redis.port()) + " PING"), "PONG\n");
    redis.restart();
    EXPECT_EQ(capture("redis-cli -p " + std::to_string(redis.port()) + " SET k v"), "OK\n");
    redis.stop();
    EXPECT_FALSE(weir::testing::port_accepts(redis.port()));
}
