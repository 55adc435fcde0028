// COPY FROM/TO and LISTEN/NOTIFY.
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "pg_test_util.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/task_group.hpp"
#include "weir/core/timeout.hpp"
#include "weir/pg/connection.hpp"
#include "weir/pg/listener.hpp"
#include "weir/testing/async_test.hpp"

using weir::pg::Connection;
using weir::pg::Result;
using namespace std::chrono_literals;

WEIR_TEST(PgCopy, FromRowsAndChunksThenToChunks) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    co_await conn.execute("CREATE TEMP TABLE cp (id int4, name text)");
    std::vector<std::vector<std::optional<std::string>>> rows;
    rows.push_back({"1", "tab\there"});
    rows.push_back({"2", std::nullopt});
    rows.push_back({"3", "back\\slash\nnewline"});
    const auto n = co_await conn.copy_from_rows("COPY cp (id, name) FROM STDIN", rows);
    EXPECT_EQ(n, 3);
    std::vector<std::string> chunks{"4\tfour\n5\t", "five\n"};  // rows may span chunks
    EXPECT_EQ(co_await conn.copy_from_chunks("COPY cp FROM STDIN", chunks), 2);
    Result r = co_await conn.query("SELECT name FROM cp ORDER BY id");
    CO_ASSERT_EQ(r.rows(), 5);
    EXPECT_EQ(r[0].get<std::string>(0), "tab\there");
    EXPECT_TRUE(r[1].is_null(0));
    EXPECT_EQ(r[2].get<std::string>(0), "back\\slash\nnewline");
    EXPECT_EQ(r[4].get<std::string>(0), "five");

    std::vector<std::string> out;
    auto sink = [&](std::string_view chunk) { out.emplace_back(chunk); };
    const auto m =
        co_await conn.copy_to("COPY (SELECT id, name FROM cp ORDER BY id) TO STDOUT", sink);
    EXPECT_EQ(m, 5);
    CO_ASSERT_EQ(out.size(), 5u);
    EXPECT_EQ(out[0], "1\ttab\\there\n");
    EXPECT_EQ(out[1], "2\t\\N\n");
    // The connection is back in pipeline mode.
    Result c = co_await conn.query("SELECT count(*) FROM cp WHERE id > $1", 2);
    EXPECT_EQ(c[0].get<std::int64_t>(0), 3);
}

WEIR_TEST(PgCopy, ErrorsLeaveTheConnectionUsable) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    co_await conn.execute("CREATE TEMP TABLE cq (id int4)");
    std::string state;
    try {
        std::vector<std::string> bad{"1\n", "not a number\n"};
        co_await conn.copy_from_chunks("COPY cq FROM STDIN", bad);
    } catch (const weir::pg::Error& e) {
        state = e.sqlstate();
    }
    EXPECT_EQ(state, "22P02");
    // A failing source aborts the COPY; its exception surfaces.
    int calls = 0;
    weir::pg::CopySource source = [&]() -> weir::Task<std::optional<std::string>> {
        if (++calls == 2) throw std::runtime_error("source failed");
        co_return std::string("7\n");
    };
    EXPECT_THROW(co_await conn.copy_from("COPY cq FROM STDIN", std::move(source)),
                 std::runtime_error);
    // Not a COPY statement / unknown table.
    state.clear();
    try {
        auto sink = [](std::string_view) {};
        co_await conn.copy_to("COPY nowhere TO STDOUT", sink);
    } catch (const weir::pg::Error& e) {
        state = e.sqlstate();
    }
    EXPECT_EQ(state, "42P01");
    Result r = co_await conn.query("SELECT count(*) FROM cq");
    EXPECT_EQ(r[0].get<std::int64_t>(0), 0);
    EXPECT_FALSE(conn.is_broken());
}

WEIR_TEST(PgListen, NotificationsArriveAsAStream) {
    auto listener = co_await weir::pg::Listener::open(weir::pg::test::url());
    co_await listener.listen("jobs");
    co_await listener.listen("Other Channel");
    auto sender = co_await Connection::connect(weir::pg::test::url());
    co_await sender.query("SELECT pg_notify($1, $2)", "jobs", "one");
    co_await sender.query("SELECT pg_notify($1, $2)", "Other Channel", "two");
    co_await sender.query("SELECT pg_notify($1, $2)", "ignored", "x");
    co_await sender.query("SELECT pg_notify($1, $2)", "jobs", "three");
    auto a = co_await weir::with_timeout(10s, listener.next());
    EXPECT_EQ(a.channel, "jobs");
    EXPECT_EQ(a.payload, "one");
    EXPECT_EQ(a.sender_pid, sender.backend_pid());
    auto b = co_await weir::with_timeout(10s, listener.next());
    EXPECT_EQ(b.channel, "Other Channel");
    auto c = co_await weir::with_timeout(10s, listener.next());
    EXPECT_EQ(c.payload, "three");
    co_await listener.unlisten("jobs");
    co_await sender.query("SELECT pg_notify($1, $2)", "jobs", "unheard");
    co_await sender.query("SELECT pg_notify($1, $2)", "Other Channel", "heard");
    auto d = co_await weir::with_timeout(10s, listener.next());
    EXPECT_EQ(d.payload, "heard");
    listener.close();
}

WEIR_TEST(PgListen, ReconnectsAndListensAgain) {
    auto listener = co_await weir::pg::Listener::open(weir::pg::test::url());
    co_await listener.listen("events");
    auto admin = co_await Connection::connect(weir::pg::test::url());
    const int pid = listener.backend_pid();
    // Waits (up to 10 s) until the backend is gone.
    Result killed = co_await admin.query("SELECT pg_terminate_backend($1, 10000)", pid);
    EXPECT_TRUE(killed[0].get<bool>(0));
    // Nobody listens now: this one is lost for good.
    co_await admin.query("SELECT pg_notify($1, $2)", "events", "lost");
    // The first event after the reconnection is the gap marker...
    auto gap = co_await weir::with_timeout(30s, listener.next());
    EXPECT_TRUE(gap.reconnected);
    EXPECT_EQ(gap.channel, "");
    EXPECT_EQ(listener.reconnects(), 1u);
    EXPECT_NE(listener.backend_pid(), pid);
    // ... and the listener is subscribed again by then: what is sent afterwards arrives.
    co_await admin.query("SELECT pg_notify($1, $2)", "events", "after");
    auto n = co_await weir::with_timeout(30s, listener.next());
    EXPECT_FALSE(n.reconnected);
    EXPECT_EQ(n.channel, "events");
    EXPECT_EQ(n.payload, "after");
    listener.close();
}

WEIR_TEST(PgListen, ReconnectionDuringListenIsReportedByNext) {
    auto listener = co_await weir::pg::Listener::open(weir::pg::test::url());
    co_await listener.listen("a");
    auto admin = co_await Connection::connect(weir::pg::test::url());
    co_await admin.query("SELECT pg_terminate_backend($1, 10000)", listener.backend_pid());
    // listen() finds the connection dead (before or on its LISTEN) and reconnects.
    co_await listener.listen("b");
    auto gap = co_await weir::with_timeout(30s, listener.next());
    EXPECT_TRUE(gap.reconnected);
    co_await admin.query("SELECT pg_notify($1, $2)", "a", "1");
    co_await admin.query("SELECT pg_notify($1, $2)", "b", "2");
    auto one = co_await weir::with_timeout(30s, listener.next());
    auto two = co_await weir::with_timeout(30s, listener.next());
    EXPECT_EQ(one.payload, "1");
    EXPECT_EQ(two.payload, "2");
    EXPECT_EQ(listener.reconnects(), 1u);
    listener.close();
}
