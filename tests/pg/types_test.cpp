#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "pg_test_util.hpp"
#include "weir/pg/connection.hpp"
#include "weir/testing/async_test.hpp"

using weir::pg::Connection;
using weir::pg::Result;
using namespace std::chrono_literals;

WEIR_TEST(PgTypes, IntegersRoundTrip) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    const std::int64_t big_max = std::numeric_limits<std::int64_t>::max();
    const std::int64_t big_min = std::numeric_limits<std::int64_t>::min();
    const std::int16_t small = -32768;
    const std::int32_t mid = 2147483647;
    Result r =
        co_await conn.query("SELECT $1::int8 AS a, $2::int8 AS b, $3::int2 AS c, $4::int4 AS d",
                            big_max, big_min, small, mid);
    CO_ASSERT_EQ(r.rows(), 1);
    EXPECT_EQ(r[0].get<std::int64_t>("a"), big_max);
    EXPECT_EQ(r[0].get<std::int64_t>("b"), big_min);
    EXPECT_EQ(r[0].get<std::int16_t>("c"), small);
    EXPECT_EQ(r[0].get<std::int32_t>("d"), mid);
    EXPECT_EQ(r[0].get<std::int64_t>("d"), mid);  // widening
    EXPECT_THROW(r[0].get<std::int32_t>("a"), weir::pg::TypeMismatch);
}

WEIR_TEST(PgTypes, BoolFloatsTextBytea) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    const std::vector<std::byte> blob{std::byte{0}, std::byte{0xff}, std::byte{0x10}};
    const std::vector<std::byte> empty_blob;
    const std::string unicode = "héllo wörld ✓ 日本";
    const std::string empty;
    Result r = co_await conn.query(
        "SELECT $1::bool, $2::bool, $3::float4, $4::float8, $5::text, $6::text, $7::bytea, "
        "$8::bytea, $9::varchar",
        true, false, 1.5f, -2.25, unicode, empty, blob, empty_blob, std::string_view("v"));
    auto row = r[0];
    EXPECT_TRUE(row.get<bool>(0));
    EXPECT_FALSE(row.get<bool>(1));
    EXPECT_EQ(row.get<float>(2), 1.5f);
    EXPECT_EQ(row.get<double>(3), -2.25);
    EXPECT_EQ(row.get<std::string>(4), unicode);
    EXPECT_EQ(row.get<std::string>(5), "");
    EXPECT_EQ(row.get<std::vector<std::byte>>(6), blob);
    EXPECT_TRUE(row.get<std::vector<std::byte>>(7).empty());
    EXPECT_EQ(row.get<std::string>(8), "v");
}

WEIR_TEST(PgTypes, NullsAsOptional) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    const std::optional<std::int32_t> none;
    const std::optional<std::int32_t> some = 7;
    Result r =
        co_await conn.query("SELECT $1::int4 AS a, $2::int4 AS b, NULL::text AS c", none, some);
    EXPECT_EQ(r[0].get<std::optional<std::int32_t>>("a"), std::nullopt);
    EXPECT_EQ(r[0].get<std::optional<std::int32_t>>("b"), 7);
    EXPECT_EQ(r[0].get<std::optional<std::string>>("c"), std::nullopt);
    EXPECT_TRUE(r[0].is_null(0));
    EXPECT_THROW(r[0].get<std::int32_t>("a"), weir::pg::TypeMismatch);
    Result r2 = co_await conn.query("SELECT $1::text IS NULL", std::nullopt);
    EXPECT_TRUE(r2[0].get<bool>(0));
}

WEIR_TEST(PgTypes, NumericAsExactDecimalString) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    const std::vector<std::string> cases = {"123.45",   "0.99",    "-1.5",
                                            "0",        "1000000", "0.0001",
                                            "-0.00012", "10000",   "12345678901234567890.123456789",
                                            "1.10",     "0.000",   "99999999",
                                            "NaN",      "-123"};
    for (const auto& c : cases) {
        Result r = co_await conn.query("SELECT $1::numeric", c);
        EXPECT_EQ(r[0].get<std::string>(0), c) << c;
    }
    Result r = co_await conn.query("SELECT 3.14::numeric(10,4) AS a, (-5)::numeric(3,0) AS b");
    EXPECT_EQ(r[0].get<std::string>("a"), "3.1400");
    EXPECT_EQ(r[0].get<std::string>("b"), "-5");
    EXPECT_THROW(r[0].get<double>("a"), weir::pg::TypeMismatch);
}

WEIR_TEST(PgTypes, UuidJsonDatesTimestamps) {
    using namespace std::chrono;
    auto conn = co_await Connection::connect(weir::pg::test::url());
    const std::string uuid = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
    const std::string json = R"({"a": [1, 2, "x"]})";
    Result r = co_await conn.query(
        "SELECT $1::uuid, $2::json, $3::jsonb, '2024-02-29'::date, "
        "'2024-02-29 12:34:56.789012+00'::timestamptz, '1999-12-31 23:59:59'::timestamp, "
        "'infinity'::timestamptz",
        uuid, json, json);
    auto row = r[0];
    EXPECT_EQ(row.get<std::string>(0), uuid);
    EXPECT_EQ(row.get<std::string>(1), json);
    EXPECT_EQ(row.get<std::string>(2), R"({"a": [1, 2, "x"]})");
    EXPECT_EQ(row.get<sys_days>(3), sys_days(year(2024) / February / 29));
    const auto expected = sys_days(year(2024) / February / 29) + 12h + 34min + 56s + 789012us;
    EXPECT_EQ(row.get<system_clock::time_point>(4), expected);
    EXPECT_EQ(row.get<system_clock::time_point>(5),
              sys_days(year(1999) / December / 31) + 23h + 59min + 59s);
    EXPECT_EQ(row.get<system_clock::time_point>(6), system_clock::time_point::max());
    // time_point parameters are timestamptz.
    const auto now = time_point_cast<microseconds>(system_clock::now());
    Result r2 = co_await conn.query("SELECT $1", system_clock::time_point(now));
    EXPECT_EQ(r2[0].get<system_clock::time_point>(0), now);
}

// system_clock::time_point counts nanoseconds (years 1677-2262); PostgreSQL's range is far wider
// and '9999-12-31' is a common "never": such values are refused with a pointer to
// sys_time<microseconds>, which holds them all, instead of wrapping around.
WEIR_TEST(PgTypes, TimestampsBeyondSystemClockRange) {
    using namespace std::chrono;
    auto conn = co_await Connection::connect(weir::pg::test::url());
    Result r = co_await conn.query(
        "SELECT '9999-12-31 23:59:59.5+00'::timestamptz AS far, "
        "'1000-01-01 00:00:00'::timestamp AS early, '2024-02-29 12:00:00+00'::timestamptz AS now, "
        "'-infinity'::timestamptz AS minus_inf, "
        "ARRAY['9999-12-31+00'::timestamptz, NULL] AS arr");
    auto row = r[0];
    bool refused = false;
    try {
        (void)row.get<system_clock::time_point>("far");
    } catch (const weir::pg::TypeMismatch& e) {
        refused = std::string(e.what()).find("sys_time") != std::string::npos;
    }
    EXPECT_TRUE(refused);
    EXPECT_THROW(row.get<system_clock::time_point>("early"), weir::pg::TypeMismatch);
    using Micros = sys_time<microseconds>;
    EXPECT_EQ(row.get<Micros>("far"),
              sys_days(year(9999) / December / 31) + 23h + 59min + 59s + 500ms);
    EXPECT_EQ(row.get<Micros>("early"), Micros(sys_days(year(1000) / January / 1)));
    EXPECT_EQ(row.get<Micros>("now"), sys_days(year(2024) / February / 29) + 12h);
    EXPECT_EQ(row.get<system_clock::time_point>("now"), sys_days(year(2024) / February / 29) + 12h);
    EXPECT_EQ(row.get<Micros>("minus_inf"), Micros::min());
    const auto arr = row.get<std::vector<std::optional<Micros>>>("arr");
    CO_ASSERT_EQ(arr.size(), 2u);
    EXPECT_EQ(arr[0], Micros(sys_days(year(9999) / December / 31)));
    EXPECT_FALSE(arr[1].has_value());
    // And back as parameters: far years, infinities (also through system_clock's max/min), arrays.
    const Micros far = row.get<Micros>("far");
    const std::vector<Micros> both{far, Micros::min()};
    Result back = co_await conn.query(
        "SELECT $1 = '9999-12-31 23:59:59.5+00'::timestamptz, $2 = 'infinity'::timestamptz, "
        "$3 = '-infinity'::timestamptz, $4::timestamptz[] = "
        "ARRAY['9999-12-31 23:59:59.5+00', '-infinity']::timestamptz[]",
        far, Micros::max(), system_clock::time_point::min(), both);
    for (int c = 0; c < 4; ++c) EXPECT_TRUE(back[0].get<bool>(c)) << c;
    // Other durations still go through system_clock::time_point.
    const sys_seconds secs = sys_days(year(2024) / February / 29) + 12h;
    Result s = co_await conn.query("SELECT $1 = '2024-02-29 12:00:00+00'::timestamptz", secs);
    EXPECT_TRUE(s[0].get<bool>(0));
}

// An interval whose days do not fit std::chrono::microseconds is refused, not wrapped.
WEIR_TEST(PgTypes, IntervalOverflowingMicroseconds) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    Result r = co_await conn.query(
        "SELECT '106751991 days'::interval AS fits, '106751992 days'::interval AS too_big");
    EXPECT_EQ(r[0].get<std::chrono::microseconds>("fits"),
              std::chrono::microseconds(106751991LL * 86'400'000'000LL));
    EXPECT_THROW(r[0].get<std::chrono::microseconds>("too_big"), weir::pg::TypeMismatch);
}

WEIR_TEST(PgTypes, TypeMismatchNamesColumnAndTypes) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    Result r = co_await conn.query("SELECT 'x'::text AS label");
    try {
        (void)r[0].get<std::int32_t>("label");
        ADD_FAILURE() << "no exception";
    } catch (const weir::pg::TypeMismatch& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("label"), std::string::npos) << what;
        EXPECT_NE(what.find("text"), std::string::npos) << what;
        EXPECT_NE(what.find("int32_t"), std::string::npos) << what;
    }
    EXPECT_THROW(r[0].get<std::string>("missing"), std::out_of_range);
}

WEIR_TEST(PgTypes, TableRowsAndAffectedRows) {
    auto conn = co_await Connection::connect(weir::pg::test::url());
    co_await conn.execute(
        "CREATE TEMP TABLE items (id int4 PRIMARY KEY, name text, price numeric)");
    for (std::int32_t i = 1; i <= 5; ++i) {
        const std::string name = "item" + std::to_string(i);
        const std::string price = std::to_string(i) + ".50";
        auto n = co_await conn.execute("INSERT INTO items VALUES ($1, $2, $3)", i, name, price);
        EXPECT_EQ(n, 1);
    }
    Result r = co_await conn.query("SELECT name, price FROM items WHERE id = $1", 3);
    CO_ASSERT_EQ(r.rows(), 1);
    EXPECT_EQ(r[0].get<std::string>("name"), "item3");
    EXPECT_EQ(r[0].get<std::string>("price"), "3.50");
    auto updated = co_await conn.execute("UPDATE items SET price = price + 1 WHERE id > $1", 2);
    EXPECT_EQ(updated, 3);
    Result all = co_await conn.query("SELECT id FROM items ORDER BY id");
    std::int32_t expect = 1;
    for (auto row : all) EXPECT_EQ(row.get<std::int32_t>("id"), expect++);
    EXPECT_EQ(expect, 6);
}
