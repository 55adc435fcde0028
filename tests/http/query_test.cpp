// Tests of weir::http::url_decode and parse_query.
#include "weir/http/query.hpp"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace weir::http {
namespace {

using namespace std::string_literals;
using Fields = std::vector<std::pair<std::string, std::string>>;

TEST(UrlDecode, PlainAndEscaped) {
    EXPECT_EQ(url_decode(""), "");
    EXPECT_EQ(url_decode("abc/def"), "abc/def");
    EXPECT_EQ(url_decode("a%20b"), "a b");
    EXPECT_EQ(url_decode("%41%42%43"), "ABC");
    EXPECT_EQ(url_decode("%e2%82%ac%E2%82%AC"), "\xe2\x82\xac\xe2\x82\xac");
    EXPECT_EQ(url_decode("%2F"), "/");
    EXPECT_EQ(url_decode("%00"), "\0"s);
    EXPECT_EQ(url_decode("100%25"), "100%");
}

TEST(UrlDecode, PlusIsASpaceOnlyInQueries) {
    EXPECT_EQ(url_decode("a+b"), "a+b");
    EXPECT_EQ(url_decode("a+b", true), "a b");
    EXPECT_EQ(url_decode("a%2Bb", true), "a+b");
}

TEST(UrlDecode, InvalidEscapes) {
    for (const char* bad : {"%", "%2", "a%", "%zz", "%2g", "%g2", "abc%2", "%%41", "% 1"}) {
        EXPECT_THROW(url_decode(bad), UrlDecodeError) << bad;
        std::string out;
        EXPECT_FALSE(try_url_decode(bad, out, false)) << bad;
    }
    try {
        url_decode("ab%zz");
        FAIL() << "no exception";
    } catch (const UrlDecodeError& e) {
        EXPECT_EQ(e.offset(), 2u);
        EXPECT_NE(std::string(e.what()).find("offset 2"), std::string::npos);
    }
}

TEST(UrlDecode, TryAppends) {
    std::string out = "x";
    EXPECT_TRUE(try_url_decode("a%20b", out, false));
    EXPECT_EQ(out, "xa b");
    EXPECT_FALSE(try_url_decode("c%", out, false));
    EXPECT_EQ(out, "xa bc");
}

TEST(ParseQuery, Fields) {
    EXPECT_EQ(parse_query(""), Fields{});
    EXPECT_EQ(parse_query("a=1"), (Fields{{"a", "1"}}));
    EXPECT_EQ(parse_query("a=1&b=2"), (Fields{{"a", "1"}, {"b", "2"}}));
    EXPECT_EQ(parse_query("a=x+y%21&b"), (Fields{{"a", "x y!"}, {"b", ""}}));
    EXPECT_EQ(parse_query("a="), (Fields{{"a", ""}}));
    EXPECT_EQ(parse_query("=v"), (Fields{{"", "v"}}));
    EXPECT_EQ(parse_query("a=b=c"), (Fields{{"a", "b=c"}}));
    EXPECT_EQ(parse_query("&&a=1&&b=2&"), (Fields{{"a", "1"}, {"b", "2"}}));
    EXPECT_EQ(parse_query("k=1&k=2"), (Fields{{"k", "1"}, {"k", "2"}}));
    EXPECT_EQ(parse_query("na%6De=%26%3D"), (Fields{{"name", "&="}}));
    EXPECT_EQ(parse_query("a;b=1"), (Fields{{"a;b", "1"}}));
}

TEST(ParseQuery, InvalidEscapeReportsTheOffsetInTheRawQuery) {
    try {
        parse_query("a=1&bb=x%2");
        FAIL() << "no exception";
    } catch (const UrlDecodeError& e) {
        EXPECT_EQ(e.offset(), 8u);
    }
    try {
        parse_query("a=1&b%x=y");
        FAIL() << "no exception";
    } catch (const UrlDecodeError& e) {
        EXPECT_EQ(e.offset(), 5u);
    }
    EXPECT_THROW(parse_query("%"), UrlDecodeError);
}

}  // namespace
}  // namespace weir::http
