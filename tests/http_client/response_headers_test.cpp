// Unit tests of ResponseHeaders (the client's compact response header fields), alone and as
// filled by the response parser.
#include "weir/http/response_headers.hpp"

#include <algorithm>
#include <iterator>
#include <ranges>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "weir/http/client_response.hpp"
#include "weir/http/response_parser.hpp"

namespace {

using weir::http::ClientResponse;
using weir::http::HeaderField;
using weir::http::ResponseHead;
using weir::http::ResponseHeaders;
using weir::http::ResponseParser;

static_assert(std::ranges::random_access_range<ResponseHeaders>);
static_assert(std::is_nothrow_move_constructible_v<ResponseHeaders>);
static_assert(std::is_nothrow_move_assignable_v<ResponseHeaders>);

// The final head of `text`, parsed in one piece (the buffer dies before the head is used).
ResponseHead parse_head(std::string_view text) {
    ResponseParser p;
    std::string buf(text);
    auto r = p.parse(buf);
    EXPECT_TRUE(r.complete()) << r.error;
    ResponseHead h = std::move(p.head());
    buf.assign(buf.size(), 'Z');  // the fields must not point into the received bytes
    return h;
}

std::vector<std::pair<std::string, std::string>> pairs(const ResponseHeaders& h) {
    std::vector<std::pair<std::string, std::string>> out;
    for (auto [name, value] : h) out.emplace_back(name, value);
    return out;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(ResponseHeaders, EmptyByDefault) {
    const ResponseHeaders h;
    EXPECT_EQ(h.size(), 0u);
    EXPECT_TRUE(h.empty());
    EXPECT_EQ(h.begin(), h.end());
    EXPECT_EQ(h.get("content-type"), std::nullopt);
    EXPECT_FALSE(h.contains(""));
    EXPECT_TRUE(h.get_all("x").empty());
    const ResponseHeaders copy = h;
    EXPECT_TRUE(copy.empty());
}

TEST(ResponseHeaders, LookupInAnyCase) {
    const ResponseHead head = parse_head(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
        "x-lower: a\r\nX-UPPER: b\r\n\r\n");
    const ResponseHeaders& h = head.headers;
    ASSERT_EQ(h.size(), 4u);
    for (std::string_view n : {"content-type", "CONTENT-TYPE", "Content-Type", "cOnTeNt-TyPe"})
        EXPECT_EQ(h.get(n), "application/json") << n;
    EXPECT_EQ(h.get("X-Lower"), "a");
    EXPECT_EQ(h.get("x-upper"), "b");
    EXPECT_EQ(h.get("content-typ"), std::nullopt);    // a prefix is no match
    EXPECT_EQ(h.get("content-types"), std::nullopt);  // nor a longer name
    EXPECT_EQ(h.get("content_type"), std::nullopt);
    EXPECT_TRUE(h.contains("CONTENT-LENGTH"));
    EXPECT_FALSE(h.contains("x-missing"));
    // Names keep their received case.
    EXPECT_EQ(h[0].name, "Content-Type");
    EXPECT_EQ(h[2].name, "x-lower");
    EXPECT_EQ(h[3].name, "X-UPPER");
    EXPECT_EQ(head.header("content-length"), "2");
}

TEST(ResponseHeaders, DuplicatesInReceivedOrder) {
    const ResponseHead head = parse_head(
        "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nContent-Length: 0\r\nset-cookie: b=2\r\n"
        "SET-COOKIE: c=3\r\nVia: x\r\n\r\n");
    const ResponseHeaders& h = head.headers;
    EXPECT_EQ(h.get("set-cookie"), "a=1");  // the first one
    EXPECT_EQ(h.get_all("Set-Cookie"), (std::vector<std::string_view>{"a=1", "b=2", "c=3"}));
    EXPECT_EQ(h.get_all("via"), (std::vector<std::string_view>{"x"}));
    EXPECT_EQ(pairs(h), (Pairs{{"Set-Cookie", "a=1"},
                               {"Content-Length", "0"},
                               {"set-cookie", "b=2"},
                               {"SET-COOKIE", "c=3"},
                               {"Via", "x"}}));
}

TEST(ResponseHeaders, IterationAndIndex) {
    const ResponseHeaders h{{"A", "1"}, {"B", ""}, {"C", "three"}};
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(std::distance(h.begin(), h.end()), 3);
    std::vector<std::string> seen;
    for (const HeaderField& f : h) seen.push_back(std::string(f.name) + "=" + std::string(f.value));
    EXPECT_EQ(seen, (std::vector<std::string>{"A=1", "B=", "C=three"}));
    auto it = h.begin();
    EXPECT_EQ((*it).name, "A");
    EXPECT_EQ(it[2].value, "three");
    EXPECT_EQ((*(it + 1)).name, "B");
    it += 2;
    EXPECT_EQ((*it).name, "C");
    EXPECT_EQ(h.end() - it, 1);
    auto found = std::ranges::find_if(h, [](HeaderField f) { return f.value.empty(); });
    ASSERT_NE(found, h.end());
    EXPECT_EQ((*found).name, "B");
    EXPECT_EQ(h[1].value, "");
    // Reverse order through the random-access iterators.
    std::vector<std::string_view> names;
    for (auto f : h | std::views::reverse) names.push_back(f.name);
    EXPECT_EQ(names, (std::vector<std::string_view>{"C", "B", "A"}));
}

TEST(ResponseHeaders, EmptyValuesAndWhitespace) {
    const ResponseHead head = parse_head(
        "HTTP/1.1 204 No Content\r\nX-Empty:\r\nX-Spaces:    \r\nX-Tab:\t v \t\r\n"
        "X-Inner: a  b\r\n\r\n");
    const ResponseHeaders& h = head.headers;
    ASSERT_EQ(h.size(), 4u);
    ASSERT_TRUE(h.get("x-empty").has_value());
    EXPECT_EQ(*h.get("x-empty"), "");
    EXPECT_EQ(h.get("x-spaces"), "");
    EXPECT_EQ(h.get("x-tab"), "v");
    EXPECT_EQ(h.get("x-inner"), "a  b");
    const ResponseHeaders made{{"X-Empty", ""}, {"", "nameless"}};
    EXPECT_EQ(made.get("x-empty"), "");
    EXPECT_EQ(made.get(""), "nameless");
}

TEST(ResponseHeaders, MovedResponseKeepsValues) {
    ClientResponse r;
    r.status = 200;
    r.headers = parse_head(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    "X-Request-Id: 0123456789abcdef0123456789abcdef\r\nContent-Length: 0\r\n\r\n")
                    .headers;
    const std::string_view ct = *r.header("content-type");
    const std::string_view id = *r.headers.get("x-request-id");
    const HeaderField first = r.headers[0];

    ClientResponse moved = std::move(r);
    // Views taken before the move still see the same bytes (the block did not move) ...
    EXPECT_EQ(ct, "text/plain; charset=utf-8");
    EXPECT_EQ(id, "0123456789abcdef0123456789abcdef");
    EXPECT_EQ(first.name, "Content-Type");
    EXPECT_EQ(moved.header("Content-Type")->data(), ct.data());
    // ... and the moved-to response answers like the original did.
    EXPECT_EQ(moved.headers.size(), 3u);
    EXPECT_EQ(moved.header("x-request-id"), "0123456789abcdef0123456789abcdef");

    std::vector<ClientResponse> many;
    for (int i = 0; i < 40; ++i) many.push_back(moved);  // copies, reallocating the vector
    for (const ClientResponse& c : many) {
        EXPECT_EQ(c.header("content-type"), "text/plain; charset=utf-8");
        EXPECT_NE(c.header("content-type")->data(), ct.data());  // a copy has its own block
    }
    ClientResponse assigned;
    assigned = std::move(moved);
    EXPECT_EQ(assigned.header("content-length"), "0");
    EXPECT_EQ(id, "0123456789abcdef0123456789abcdef");
    ResponseHeaders h = std::move(assigned.headers);
    EXPECT_EQ(h.get("X-REQUEST-ID")->data(), id.data());
    const ResponseHeaders& alias = h;
    h = alias;  // self-assignment keeps the fields
    EXPECT_EQ(h.size(), 3u);
    h.clear();
    EXPECT_TRUE(h.empty());
}

TEST(ResponseHeaders, ManyHeaders) {
    // More fields than the parser keeps inline (16), up to its default limit (200).
    for (int n : {15, 16, 17, 33, 200}) {
        std::string text = "HTTP/1.1 200 OK\r\n";
        for (int i = 0; i < n; ++i)
            text += "X-Field-" + std::to_string(i) + ": value " + std::to_string(i * 7) + "\r\n";
        text += "\r\n";
        const ResponseHead head = parse_head(text);
        const ResponseHeaders& h = head.headers;
        ASSERT_EQ(h.size(), static_cast<std::size_t>(n));
        int i = 0;
        for (auto [name, value] : h) {
            EXPECT_EQ(name, "X-Field-" + std::to_string(i));
            EXPECT_EQ(value, "value " + std::to_string(i * 7));
            ++i;
        }
        EXPECT_EQ(h.get("x-field-" + std::to_string(n - 1)),
                  "value " + std::to_string((n - 1) * 7));
        EXPECT_EQ(h.get("x-field-" + std::to_string(n)), std::nullopt);
    }
    // One over the limit fails.
    std::string text = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 201; ++i) text += "X: y\r\n";
    text += "\r\n";
    ResponseParser p;
    EXPECT_TRUE(p.parse(text).failed());
}

TEST(ResponseHeaders, InterimHeadsDoNotLeakIntoTheFinalOne) {
    const ResponseHead head = parse_head(
        "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\nLink: </b.js>\r\n\r\n"
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nLink: </c.css>\r\n\r\n");
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(pairs(head.headers), (Pairs{{"Content-Length", "0"}, {"Link", "</c.css>"}}));
}

TEST(ResponseHeaders, ParserReuseAfterReset) {
    ResponseParser p;
    std::string a = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 20; ++i) a += "A" + std::to_string(i) + ": x\r\n";
    a += "\r\n";
    ASSERT_TRUE(p.parse(a).complete());
    EXPECT_EQ(p.head().headers.size(), 20u);
    p.reset();
    EXPECT_TRUE(p.head().headers.empty());
    const std::string b = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nB: y\r\n\r\n";
    ASSERT_TRUE(p.parse(b).complete());
    EXPECT_EQ(pairs(p.head().headers), (Pairs{{"Content-Length", "0"}, {"B", "y"}}));
}

}  // namespace
