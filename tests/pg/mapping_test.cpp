// Row mapping to described structs, interval and arrays.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pg_test_util.hpp"
#include "weir/pg/connection.hpp"
#include "weir/testing/async_test.hpp"

using weir::pg::Connection;
using weir::pg::Interval;
using weir::pg::Result;

namespace maptest {

struct Item {
    std::int32_t id = 0;
    std::string name;
    std::string price;  // numeric as exact decimal text
    std::optional<std::string> note;
};
BOOST_DESCRIBE_STRUCT(Item, (), (id, name, price, note))

struct WrongType {
    std::int32_t id = 0;
    double name = 0;
};
BOOST_DESCRIBE_STRUCT(WrongType, (), (id, name))

struct Missing {
    std::int32_t id = 0;
    std::string colour;
};
BOOST_DESCRIBE_STRUCT(Missing, (), (id, colour))

struct Tagged {
    std::int64_t id = 0;
    std::vector<std::string> tags;
    std::vector<std::optional<std::int32_t>> scores;
    std::optional<Interval> wait;
};
BOOST_DESCRIBE_STRUCT(Tagged, (), (id, tags, scores, wait))

}  // namespace maptest

WEIR_TEST(PgMapping, RowsMapToDescribedStructsByName) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    co_await conn.execute(
        "CREATE TEMP TABLE items (id int4 PRIMARY KEY, name text, price numeric, note text)");
    co_await conn.execute(
        "INSERT INTO items VALUES (1, 'item-1', 2.36, NULL), (2, 'item-2', 3.73, 'x')");
    // Column order differs from member order; extra columns are ignored.
    auto items = co_await conn.query_as<maptest::Item>(
        "SELECT note, price, 42 AS extra, name, id FROM items WHERE id >= $1 ORDER BY id", 1);
    CO_ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].id, 1);
    EXPECT_EQ(items[0].name, "item-1");
    EXPECT_EQ(items[0].price, "2.36");
    EXPECT_FALSE(items[0].note.has_value());
    EXPECT_EQ(items[1].note, std::optional<std::string>("x"));
    Result r = co_await conn.query("SELECT * FROM items WHERE id = $1", 2);
    EXPECT_EQ(r[0].as<maptest::Item>().price, "3.73");
}

WEIR_TEST(PgMapping, MismatchAndMissingColumnErrorsNameEverything) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    std::string msg;
    try {
        co_await conn.query_as<maptest::WrongType>("SELECT 1::int4 AS id, 'a'::text AS name");
    } catch (const weir::pg::TypeMismatch& e) {
        msg = e.what();
    }
    EXPECT_NE(msg.find("WrongType::name"), std::string::npos) << msg;
    EXPECT_NE(msg.find("column \"name\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("text"), std::string::npos) << msg;
    EXPECT_NE(msg.find("double"), std::string::npos) << msg;
    msg.clear();
    try {
        co_await conn.query_as<maptest::Missing>("SELECT 1::int4 AS id, 'red' AS color");
    } catch (const weir::pg::TypeMismatch& e) {
        msg = e.what();
    }
    EXPECT_NE(msg.find("Missing::colour"), std::string::npos) << msg;
    EXPECT_NE(msg.find("no column \"colour\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("color"), std::string::npos) << msg;  // lists the columns there are
    // NULL into a non-optional member.
    msg.clear();
    try {
        co_await conn.query_as<maptest::Missing>("SELECT NULL::int4 AS id, 'a' AS colour");
    } catch (const weir::pg::TypeMismatch& e) {
        msg = e.what();
    }
    EXPECT_NE(msg.find("Missing::id"), std::string::npos) << msg;
    EXPECT_NE(msg.find("NULL"), std::string::npos) << msg;
}

WEIR_TEST(PgMapping, IntervalRoundTrips) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    Result r = co_await conn.query(
        "SELECT '1 year 2 months 3 days 04:05:06.789'::interval, '-1 day -00:00:01'::interval, "
        "'90 minutes'::interval");
    const auto a = r[0].get<Interval>(0);
    EXPECT_EQ(a.months, 14);
    EXPECT_EQ(a.days, 3);
    EXPECT_EQ(a.microseconds, ((4 * 60 + 5) * 60 + 6) * 1'000'000LL + 789'000);
    const auto b = r[0].get<Interval>(1);
    EXPECT_EQ(b.days, -1);
    EXPECT_EQ(b.microseconds, -1'000'000);
    EXPECT_EQ(r[0].get<std::chrono::microseconds>(2), std::chrono::minutes(90));
    EXPECT_THROW(r[0].get<std::chrono::microseconds>(0), weir::pg::TypeMismatch);
    // Binary parameter.
    Interval in{123'456'789, -5, 7};
    Result back = co_await conn.query("SELECT $1::interval, $1::interval::text", in);
    EXPECT_EQ(back[0].get<Interval>(0), in);
    EXPECT_EQ(back[0].get<std::string>(1), "7 mons -5 days +00:02:03.456789");
    Result null = co_await conn.query("SELECT NULL::interval");
    EXPECT_FALSE(null[0].get<std::optional<Interval>>(0).has_value());
}

WEIR_TEST(PgMapping, ArraysRoundTripWithNullElements) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    Result r = co_await conn.query(
        "SELECT ARRAY[1,2,3]::int4[], ARRAY[1,NULL,3]::int4[], '{}'::int8[], "
        "ARRAY['a','b c','']::text[], ARRAY[true,false], ARRAY[1.5,2.25]::float8[], "
        "ARRAY[1.10, 20.00]::numeric[], ARRAY['2024-02-29'::date], NULL::int4[]");
    EXPECT_EQ(r[0].get<std::vector<std::int32_t>>(0), (std::vector<std::int32_t>{1, 2, 3}));
    EXPECT_EQ(r[0].get<std::vector<std::optional<std::int32_t>>>(1),
              (std::vector<std::optional<std::int32_t>>{1, std::nullopt, 3}));
    EXPECT_THROW(r[0].get<std::vector<std::int32_t>>(1), weir::pg::TypeMismatch);
    EXPECT_TRUE(r[0].get<std::vector<std::int64_t>>(2).empty());
    EXPECT_EQ(r[0].get<std::vector<std::string>>(3), (std::vector<std::string>{"a", "b c", ""}));
    EXPECT_EQ(r[0].get<std::vector<bool>>(4), (std::vector<bool>{true, false}));
    EXPECT_EQ(r[0].get<std::vector<double>>(5), (std::vector<double>{1.5, 2.25}));
    EXPECT_EQ(r[0].get<std::vector<std::string>>(6), (std::vector<std::string>{"1.10", "20.00"}));
    using namespace std::chrono;
    EXPECT_EQ(r[0].get<std::vector<sys_days>>(7),
              (std::vector<sys_days>{sys_days(year(2024) / February / 29)}));
    EXPECT_FALSE(r[0].get<std::optional<std::vector<std::int32_t>>>(8).has_value());
    // Element type mismatch names the element and both types.
    std::string msg;
    try {
        r[0].get<std::vector<std::string>>(0);
    } catch (const weir::pg::TypeMismatch& e) {
        msg = e.what();
    }
    EXPECT_NE(msg.find("element 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("int4"), std::string::npos) << msg;
    // A scalar is not an array.
    EXPECT_THROW(r[0].get<std::int32_t>(0), weir::pg::TypeMismatch);

    // Array parameters in the binary format.
    std::vector<std::int32_t> ids{3, 1, 2};
    Result sum = co_await conn.query(
        "SELECT sum(x)::int8, array_length($1, 1) FROM unnest($1::int4[]) x", ids);
    EXPECT_EQ(sum[0].get<std::int64_t>(0), 6);
    std::vector<std::optional<std::string>> names{"x", std::nullopt, "z"};
    Result echo = co_await conn.query("SELECT $1::text[], array_position($1::text[], NULL)", names);
    EXPECT_EQ(echo[0].get<std::vector<std::optional<std::string>>>(0), names);
    EXPECT_EQ(echo[0].get<std::int32_t>(1), 2);
    std::vector<double> empty;
    Result e = co_await conn.query("SELECT cardinality($1::float8[])", empty);
    EXPECT_EQ(e[0].get<std::int32_t>(0), 0);
    std::vector<bool> flags{true, false, true};
    Result f = co_await conn.query("SELECT $1::bool[]", flags);
    EXPECT_EQ(f[0].get<std::vector<bool>>(0), flags);
    std::vector<Interval> waits{{1, 2, 3}, {}};
    Result w = co_await conn.query("SELECT $1::interval[]", waits);
    EXPECT_EQ(w[0].get<std::vector<Interval>>(0), waits);

    // Arrays and intervals inside mapped structs.
    auto rows = co_await conn.query_as<maptest::Tagged>(
        "SELECT 7::int8 AS id, ARRAY['p','q'] AS tags, ARRAY[NULL, 5]::int4[] AS scores, "
        "'2 days'::interval AS wait");
    CO_ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].tags, (std::vector<std::string>{"p", "q"}));
    EXPECT_EQ(rows[0].scores, (std::vector<std::optional<std::int32_t>>{std::nullopt, 5}));
    EXPECT_EQ(rows[0].wait->days, 2);
}
