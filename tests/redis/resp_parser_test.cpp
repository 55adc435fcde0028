// RespParser: every RESP2/RESP3 type, fed whole, byte by byte and in random splits.
#include "weir/redis/resp_parser.hpp"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "weir/redis/error.hpp"
#include "weir/testing/resp_feed.hpp"

using weir::redis::ProtocolError;
using weir::redis::Reply;
using weir::redis::ReplyType;
using weir::redis::RespParser;

namespace {

// Parses `in` in pieces of the given sizes (cycled); returns every reply.
std::vector<Reply> parse_split(std::string_view in, const std::vector<std::size_t>& sizes) {
    RespParser p;
    auto fed = weir::testing::feed_resp(p, in, sizes, false);
    EXPECT_TRUE(fed.left.empty());
    EXPECT_TRUE(p.idle());
    return std::move(fed.replies);
}

// Same replies whole, byte by byte and in a few random splits.
std::vector<Reply> parse_all_ways(std::string_view in) {
    auto whole = parse_split(in, {in.size() ? in.size() : 1});
    EXPECT_EQ(parse_split(in, {1}), whole);
    std::mt19937 rng(42);
    for (int i = 0; i < 5; ++i) {
        std::vector<std::size_t> sizes;
        for (int j = 0; j < 16; ++j) sizes.push_back(1 + rng() % 7);
        EXPECT_EQ(parse_split(in, sizes), whole);
    }
    return whole;
}

Reply one(std::string_view in) {
    auto v = parse_all_ways(in);
    EXPECT_EQ(v.size(), 1u);
    return v.empty() ? Reply() : v[0];
}

void expect_bad(std::string_view in) {
    RespParser p;
    std::size_t used = 0;
    EXPECT_THROW(
        {
            std::string buf(in);
            while (p.parse(buf, used)) buf.erase(0, used);
        },
        ProtocolError)
        << in;
}

}  // namespace

TEST(RespParser, Resp2Scalars) {
    EXPECT_EQ(one("+OK\r\n"), Reply::simple("OK"));
    EXPECT_TRUE(one("+OK\r\n").is_ok());
    EXPECT_EQ(one(":42\r\n").integer(), 42);
    EXPECT_EQ(one(":-7\r\n").integer(), -7);
    EXPECT_EQ(one("$5\r\nhello\r\n").str(), "hello");
    EXPECT_EQ(one("$0\r\n\r\n").str(), "");
    EXPECT_TRUE(one("$-1\r\n").is_nil());
    EXPECT_TRUE(one("*-1\r\n").is_nil());
    Reply e = one("-WRONGTYPE Operation against a key\r\n");
    EXPECT_TRUE(e.is_error());
    EXPECT_EQ(e.error_prefix(), "WRONGTYPE");
    EXPECT_EQ(e.error_message(), "Operation against a key");
}

TEST(RespParser, BinarySafeBulk) {
    std::string payload("a\r\nb\0c", 6);
    std::string in = "$6\r\n" + payload + "\r\n";
    EXPECT_EQ(one(in).str(), payload);
}

TEST(RespParser, NestedAggregates) {
    Reply r = one("*3\r\n:1\r\n*2\r\n$1\r\na\r\n*0\r\n$-1\r\n");
    ASSERT_EQ(r.type(), ReplyType::array);
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].integer(), 1);
    EXPECT_EQ(r[1][0].str(), "a");
    EXPECT_EQ(r[1][1].size(), 0u);
    EXPECT_TRUE(r[2].is_nil());
    Reply deep = one("*1\r\n*1\r\n*1\r\n*1\r\n:5\r\n");
    EXPECT_EQ(deep[0][0][0][0].integer(), 5);
}

TEST(RespParser, EmptyArray) { EXPECT_EQ(one("*0\r\n").size(), 0u); }

TEST(RespParser, Resp3Types) {
    EXPECT_TRUE(one("_\r\n").is_nil());
    EXPECT_DOUBLE_EQ(one(",3.25\r\n").to_double(), 3.25);
    EXPECT_TRUE(std::isinf(one(",inf\r\n").to_double()));
    EXPECT_TRUE(std::isinf(one(",-inf\r\n").to_double()));
    EXPECT_TRUE(one("#t\r\n").to_bool());
    EXPECT_FALSE(one("#f\r\n").to_bool());
    Reply big = one("(3492890328409238509324850943850943825024385\r\n");
    EXPECT_EQ(big.type(), ReplyType::big_number);
    EXPECT_EQ(big.str(), "3492890328409238509324850943850943825024385");
    Reply be = one("!21\r\nSYNTAX invalid syntax\r\n");
    EXPECT_TRUE(be.is_error());
    EXPECT_EQ(be.error_prefix(), "SYNTAX");
    Reply v = one("=15\r\ntxt:Some string\r\n");
    EXPECT_EQ(v.type(), ReplyType::verbatim);
    EXPECT_EQ(v.format(), "txt");
    EXPECT_EQ(v.str(), "Some string");
    Reply m = one("%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n");
    EXPECT_EQ(m.type(), ReplyType::map);
    ASSERT_EQ(m.size(), 4u);
    EXPECT_EQ(m[2].str(), "second");
    EXPECT_EQ(m[3].integer(), 2);
    Reply s = one("~2\r\n+a\r\n+b\r\n");
    EXPECT_EQ(s.type(), ReplyType::set);
    EXPECT_EQ(s.size(), 2u);
    Reply p = one(">3\r\n+message\r\n+ch\r\n$2\r\nhi\r\n");
    EXPECT_EQ(p.type(), ReplyType::push);
    EXPECT_EQ(p[2].str(), "hi");
}

TEST(RespParser, AttributesAttachToTheNextValue) {
    Reply r =
        one("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:2039123\r\n:9543892\r\n");
    ASSERT_EQ(r.type(), ReplyType::array);
    EXPECT_EQ(r[0].integer(), 2039123);
    ASSERT_NE(r.attributes(), nullptr);
    EXPECT_EQ((*r.attributes())[0].str(), "key-popularity");
    // Inside an aggregate: annotates the element.
    Reply a = one("*2\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n:2\r\n");
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(a[1].integer(), 2);
    ASSERT_NE(a[1].attributes(), nullptr);
    EXPECT_EQ((*a[1].attributes())[1].integer(), 3600);
    EXPECT_EQ(a[0].attributes(), nullptr);
}

TEST(RespParser, StreamedStringAndAggregates) {
    EXPECT_EQ(one("$?\r\n;4\r\nHell\r\n;5\r\no wor\r\n;1\r\nd\r\n;0\r\n").str(), "Hello word");
    Reply a = one("*?\r\n:1\r\n:2\r\n.\r\n");
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(a[1].integer(), 2);
    Reply m = one("%?\r\n+a\r\n:1\r\n.\r\n");
    EXPECT_EQ(m.type(), ReplyType::map);
    EXPECT_EQ(m.size(), 2u);
}

TEST(RespParser, SeveralRepliesInOneBuffer) {
    auto v = parse_all_ways("+OK\r\n:1\r\n$3\r\nfoo\r\n*1\r\n$-1\r\n-ERR x\r\n");
    ASSERT_EQ(v.size(), 5u);
    EXPECT_TRUE(v[0].is_ok());
    EXPECT_EQ(v[2].str(), "foo");
    EXPECT_TRUE(v[3][0].is_nil());
    EXPECT_TRUE(v[4].is_error());
}

TEST(RespParser, BigBulkSplitAcrossReads) {
    std::string body(3 * 1024 * 1024 + 17, 'x');
    for (std::size_t i = 0; i < body.size(); i += 4093) body[i] = static_cast<char>('a' + i % 26);
    std::string in = "$" + std::to_string(body.size()) + "\r\n" + body + "\r\n";
    auto r = parse_split(in, {65536, 1, 1000, 3});
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].str(), body);
}

TEST(RespParser, IncompleteHeaderIsLeftUnconsumed) {
    RespParser p;
    std::size_t used = 99;
    EXPECT_FALSE(p.parse("$1", used));
    EXPECT_EQ(used, 0u);
    EXPECT_FALSE(p.parse("*2\r\n:1", used));
    EXPECT_EQ(used, 4u);
    auto r = p.parse(":1\r\n:2\r\n", used);
    ASSERT_TRUE(r);
    EXPECT_EQ(used, 8u);
    EXPECT_EQ(r->size(), 2u);
}

TEST(RespParser, RejectsBadInput) {
    expect_bad("?foo\r\n");
    expect_bad(":12a\r\n");
    expect_bad(":\r\n");
    expect_bad("$-2\r\n");
    expect_bad("$3\r\nabcde\r\n");
    expect_bad("*-5\r\n");
    expect_bad("+OK\n");
    expect_bad("#x\r\n");
    expect_bad("=2\r\nab\r\n");
    expect_bad(".\r\n");
    expect_bad("_x\r\n");
    expect_bad("(12x\r\n");
    expect_bad("$99999999999999999999\r\n");
    expect_bad(std::string(70000, '+'));
    std::string deep;
    for (int i = 0; i < 1000; ++i) deep += "*1\r\n";
    expect_bad(deep);
}

TEST(RespParser, TypedAccessorsThrowOnWrongType) {
    Reply r = Reply::integer(3);
    EXPECT_THROW((void)r.str(), weir::redis::ReplyTypeError);
    EXPECT_THROW((void)r.elements(), weir::redis::ReplyTypeError);
    EXPECT_EQ(Reply::bulk("12").to_int(), 12);
    EXPECT_THROW((void)Reply::bulk("x").to_int(), weir::redis::ReplyTypeError);
    EXPECT_EQ(Reply::bulk("1.5").to_double(), 1.5);
    EXPECT_EQ(Reply::nil().to_optional_string(), std::nullopt);
}

namespace {

// The same with direct reads: big bodies go straight into their replies when
// nothing is buffered; `direct` counts the bytes that skipped the buffer.
std::vector<Reply> parse_direct(std::string_view in, const std::vector<std::size_t>& sizes,
                                std::size_t& direct) {
    RespParser p;
    auto fed = weir::testing::feed_resp(p, in, sizes, true);
    EXPECT_TRUE(fed.left.empty());
    EXPECT_TRUE(p.idle());
    direct = fed.direct;
    return std::move(fed.replies);
}

std::string big_text(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 131 % 251);
    return s;
}

}  // namespace

TEST(RespParser, DirectBodySpaceOnlyForBigMissingBodies) {
    RespParser p;
    std::size_t used = 0;
    EXPECT_TRUE(p.body_space().empty());
    EXPECT_FALSE(p.parse("$16383\r\nab", used));
    EXPECT_TRUE(p.body_space().empty());  // below the threshold: copied from the buffer
    p.reset();
    const std::string head = "$" + std::to_string(RespParser::kDirectMin) + "\r\n";
    EXPECT_FALSE(p.parse(head, used));
    EXPECT_EQ(used, head.size());
    EXPECT_EQ(p.body_space().size(), RespParser::kDirectMin);
    EXPECT_FALSE(p.parse("xy", used));    // two body bytes buffered and copied
    EXPECT_TRUE(p.body_space().empty());  // fewer than kDirectMin still missing
}

// Big values (bulk, bulk error, verbatim, a streamed chunk, inside aggregates
// and followed by small replies) give the same replies whatever the split:
// the first read ends at every byte around each joint, the rest arrives in reads of
// several sizes, and the big bodies really skip the buffer.
TEST(RespParser, DirectBodiesSplitAtEveryBoundary) {
    const std::string a = big_text(RespParser::kDirectMin + 3);
    const std::string b = big_text(40000);
    std::string in;
    std::vector<std::size_t> joints;  // where headers, bodies and CRLFs meet
    auto add = [&](std::initializer_list<std::string> pieces) {
        for (const auto& piece : pieces) {
            joints.push_back(in.size());
            in += piece;
        }
    };
    const std::string na = std::to_string(a.size()), nb = std::to_string(b.size());
    add({"$" + na + "\r\n", a, "\r\n"});
    add({"+OK\r\n"});
    add({"*3\r\n:1\r\n$" + nb + "\r\n", b, "\r\n$1\r\nz\r\n"});
    add({"!" + na + "\r\n", a, "\r\n"});
    add({"=" + std::to_string(a.size() + 4) + "\r\ntxt:", a, "\r\n"});
    add({"$?\r\n;" + nb + "\r\n", b, "\r\n;2\r\nok\r\n;0\r\n"});
    add({"%1\r\n$1\r\nk\r\n$" + na + "\r\n", a, "\r\n"});
    joints.push_back(in.size());

    const auto whole = parse_split(in, {in.size()});
    ASSERT_EQ(whole.size(), 7u);
    EXPECT_EQ(whole[0].str(), a);
    EXPECT_TRUE(whole[1].is_ok());
    EXPECT_EQ(whole[2][1].str(), b);
    EXPECT_EQ(whole[2][2].str(), "z");
    EXPECT_TRUE(whole[3].is_error());
    EXPECT_EQ(whole[3].str(), a);
    EXPECT_EQ(whole[4].type(), ReplyType::verbatim);
    EXPECT_EQ(whole[4].format(), "txt");
    EXPECT_EQ(whole[4].str(), a);
    EXPECT_EQ(whole[5].str(), b + "ok");
    EXPECT_EQ(whole[6][1].str(), a);

    // Split points: every byte around each joint (and around the direct-read
    // threshold inside each body), and a stride elsewhere.
    std::vector<std::size_t> splits;
    for (std::size_t at = 1; at < in.size(); at += 211) splits.push_back(at);
    for (std::size_t j : joints)
        for (std::size_t at : {j, j + RespParser::kDirectMin})
            for (std::size_t d = 0; d < 48; ++d)
                if (at + d > 24 && at + d - 24 < in.size()) splits.push_back(at + d - 24);
    std::size_t direct = 0, direct_total = 0;
    for (const std::vector<std::size_t>& rest :
         {std::vector<std::size_t>{in.size()}, {4096}, {1, 7, 16384, 3, 65536}}) {
        for (std::size_t first : splits) {
            // The first read once, then the rest cycled.
            std::vector<std::size_t> cycle{first};
            for (int i = 0; i < 64; ++i) cycle.insert(cycle.end(), rest.begin(), rest.end());
            ASSERT_EQ(parse_direct(in, cycle, direct), whole) << "first read " << first;
            direct_total += direct;
        }
    }
    EXPECT_GT(direct_total, 0u);
    // Byte by byte: a body's bytes go straight into its reply while at least
    // kDirectMin of them are missing (a: bulk, error, map value; the verbatim
    // body is a + 4 bytes; b: bulk in an array, streamed chunk).
    EXPECT_EQ(parse_direct(in, {1}, direct), whole);
    const std::size_t m = RespParser::kDirectMin - 1;
    EXPECT_EQ(direct, 3 * (a.size() - m) + (a.size() + 4 - m) + 2 * (b.size() - m));
}

// A header announcing a huge body reserves room for what arrived and a bounded piece beyond,
// not for the announced length; the storage then grows with the bytes received.
TEST(RespParser, HugeAnnouncedBulkReservesOnlyWhatArrives) {
    RespParser p;
    std::size_t used = 0;
    const std::string head = "$536870000\r\nabc";
    EXPECT_FALSE(p.parse(head, used));
    EXPECT_EQ(used, head.size());
    EXPECT_GE(p.body_capacity(), 3u);
    EXPECT_LE(p.body_capacity(), 2 * RespParser::kReserveAhead);
    EXPECT_EQ(p.body_space().size(), RespParser::kDirectPiece);
    EXPECT_LE(p.body_capacity(), 2 * RespParser::kReserveAhead);
    // 3 MiB more, copied from the buffer: about twice what arrived at most.
    const std::string chunk(3 << 20, 'z');
    EXPECT_FALSE(p.parse(chunk, used));
    EXPECT_EQ(used, chunk.size());
    EXPECT_LE(p.body_capacity(), 2 * (chunk.size() + 3));
    // The limit still refuses more than max_bulk_length at once.
    p.reset();
    EXPECT_EQ(p.body_capacity(), 0u);
    EXPECT_THROW(p.parse("$536870913\r\n", used), ProtocolError);
}

// Bodies bigger than the first reservation grow on the way, through the buffer, straight
// from the "socket" (body_space) and mixed; a streamed string's chunks add up the same way.
TEST(RespParser, BodiesGrowWithTheBytesReceived) {
    const std::string a = big_text((5 << 20) + 7);
    const std::string b = big_text((3 << 20) + 1);
    const std::string in = "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n$?\r\n;" +
                           std::to_string(b.size()) + "\r\n" + b + "\r\n;" +
                           std::to_string(a.size()) + "\r\n" + a + "\r\n;0\r\n+OK\r\n";
    for (const std::vector<std::size_t>& sizes :
         {std::vector<std::size_t>{in.size()}, {65536}, {300000, 1, 4096, 1 << 20}}) {
        for (bool direct : {false, true}) {
            RespParser p;
            auto fed = weir::testing::feed_resp(p, in, sizes, direct);
            ASSERT_EQ(fed.replies.size(), 3u);
            EXPECT_TRUE(fed.replies[0].str() == a);
            EXPECT_TRUE(fed.replies[1].str() == b + a);
            EXPECT_TRUE(fed.replies[2].is_ok());
            if (direct && sizes.size() > 1) {
                EXPECT_GT(fed.direct, 0u);
            }
            EXPECT_LE(fed.replies[0].take_str().capacity(), 2 * a.size());
            EXPECT_LE(fed.replies[1].take_str().capacity(), 2 * (a.size() + b.size()));
        }
    }
}
