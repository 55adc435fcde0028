// Tests of weir::http::RequestParser: valid requests, strict rejections, limits, incremental input.
#include "weir/http/request_parser.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "weir/http/chunked_decoder.hpp"

namespace weir::http {
namespace {

using namespace std::string_literals;

// Feeds growing prefixes of `input`, each in a fresh heap buffer (so that a parser keeping
// pointers across calls would read freed memory), until the parser stops asking for more.
// `kept` receives the buffer of the last call, which the views of parser.head() point into.
ParseResult parse_bytewise(RequestParser& parser, const std::string& input,
                           std::unique_ptr<char[]>& kept) {
    for (std::size_t n = 0;; ++n) {
        auto copy = std::make_unique<char[]>(n + 1);
        std::copy(input.data(), input.data() + n, copy.get());
        const ParseResult r = parser.parse(std::string_view(copy.get(), n));
        if (!r.need_more() || n == input.size()) {
            kept = std::move(copy);
            return r;
        }
    }
}

// Status of the error, 0 if complete, -1 if more input is needed.
int status_of(const ParseResult& r) {
    if (r.complete()) return 0;
    if (r.need_more()) return -1;
    return r.error.status;
}

int parse_status(std::string_view input, ParserLimits limits = {}) {
    RequestParser parser(limits);
    return status_of(parser.parse(input));
}

int parse_status_bytewise(const std::string& input, ParserLimits limits = {}) {
    RequestParser parser(limits);
    std::unique_ptr<char[]> buffer;
    return status_of(parse_bytewise(parser, input, buffer));
}

bool inside(std::string_view view, std::string_view buffer) {
    return view.empty() || (view.data() >= buffer.data() &&
                            view.data() + view.size() <= buffer.data() + buffer.size());
}

TEST(RequestParser, SimpleGet) {
    const std::string input =
        "GET /items/42?q=a+b&x=%20 HTTP/1.1\r\n"
        "Host: example.com\r\n"
        "User-Agent: test/1.0\r\n"
        "Accept: */*\r\n"
        "\r\n";
    RequestParser parser;
    const ParseResult r = parser.parse(input);
    ASSERT_TRUE(r.complete()) << r.error.reason;
    const RequestHead& head = parser.head();
    EXPECT_EQ(head.method, Method::Get);
    EXPECT_EQ(head.method_token, "GET");
    EXPECT_EQ(head.target, "/items/42?q=a+b&x=%20");
    EXPECT_EQ(head.path, "/items/42");
    EXPECT_EQ(head.query, "q=a+b&x=%20");
    EXPECT_EQ(head.authority, "");
    EXPECT_EQ(head.version, HttpVersion::Http11);
    ASSERT_EQ(head.headers.size(), 3u);
    EXPECT_EQ(head.headers[0].name, "Host");
    EXPECT_EQ(head.headers[0].value, "example.com");
    EXPECT_EQ(head.headers[2].name, "Accept");
    EXPECT_EQ(head.headers[2].value, "*/*");
    EXPECT_EQ(head.head_length, input.size());
    EXPECT_TRUE(head.keep_alive);
    EXPECT_TRUE(head.has_host);
    EXPECT_FALSE(head.content_length.has_value());
    EXPECT_FALSE(head.chunked);
    EXPECT_FALSE(head.expect_continue);
    EXPECT_FALSE(head.has_body());
    // Views point into the buffer.
    EXPECT_EQ(head.target.data(), input.data() + 4);
    for (const Header& h : head.headers) {
        EXPECT_TRUE(inside(h.name, input));
        EXPECT_TRUE(inside(h.value, input));
    }
}

TEST(RequestParser, PathAndQuerySplitting) {
    struct Case {
        std::string target;
        std::string path;
        std::string query;
    };
    const std::vector<Case> cases = {
        {"/", "/", ""},          {"/a/b", "/a/b", ""},  {"/a?", "/a", ""},
        {"/a?b?c", "/a", "b?c"}, {"/?x=1", "/", "x=1"},
    };
    for (const Case& c : cases) {
        const std::string input = "GET " + c.target + " HTTP/1.1\r\nHost: h\r\n\r\n";
        RequestParser parser;
        ASSERT_TRUE(parser.parse(input).complete()) << c.target;
        EXPECT_EQ(parser.head().path, c.path) << c.target;
        EXPECT_EQ(parser.head().query, c.query) << c.target;
    }
}

TEST(RequestParser, PostWithContentLengthLeavesBodyInBuffer) {
    const std::string input =
        "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n"
        "hello";
    RequestParser parser;
    ASSERT_TRUE(parser.parse(input).complete());
    const RequestHead& head = parser.head();
    EXPECT_EQ(head.method, Method::Post);
    ASSERT_TRUE(head.content_length.has_value());
    EXPECT_EQ(*head.content_length, 5u);
    EXPECT_TRUE(head.has_body());
    EXPECT_EQ(std::string_view(input).substr(head.head_length), "hello");
}

TEST(RequestParser, ContentLengthValues) {
    for (const std::string value : {"0", "00", "  7 ", "9223372036854775807"}) {
        const std::string input =
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:" + value + "\r\n\r\n";
        RequestParser parser;
        ASSERT_TRUE(parser.parse(input).complete()) << value;
        EXPECT_EQ(*parser.head().content_length, std::stoull(value)) << value;
    }
}

TEST(RequestParser, ChunkedRequestFollowedByPipelinedRequest) {
    const std::string input =
        "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n"
        "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestParser parser;
    ASSERT_TRUE(parser.parse(input).complete());
    EXPECT_TRUE(parser.head().chunked);
    EXPECT_FALSE(parser.head().content_length.has_value());
    EXPECT_TRUE(parser.head().has_body());

    std::string_view rest = std::string_view(input).substr(parser.head().head_length);
    ChunkedDecoder decoder;
    std::string body;
    const ChunkedResult body_result = decoder.feed(rest, body);
    ASSERT_EQ(body_result.status, ChunkedStatus::Done);
    EXPECT_EQ(body, "hello world");
    rest.remove_prefix(body_result.consumed);

    parser.reset();
    ASSERT_TRUE(parser.parse(rest).complete());
    EXPECT_EQ(parser.head().path, "/next");
    EXPECT_EQ(parser.head().head_length, rest.size());
}

TEST(RequestParser, TwoPipelinedRequestsInOneBuffer) {
    const std::string first = "GET /one HTTP/1.1\r\nHost: h\r\n\r\n";
    const std::string second = "GET /two HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    const std::string input = first + second;
    RequestParser parser;
    ASSERT_TRUE(parser.parse(input).complete());
    EXPECT_EQ(parser.head().path, "/one");
    EXPECT_EQ(parser.head().head_length, first.size());
    EXPECT_TRUE(parser.head().keep_alive);

    const std::string_view rest = std::string_view(input).substr(parser.head().head_length);
    parser.reset();
    ASSERT_TRUE(parser.parse(rest).complete());
    EXPECT_EQ(parser.head().path, "/two");
    EXPECT_EQ(parser.head().head_length, second.size());
    EXPECT_FALSE(parser.head().keep_alive);
}

TEST(RequestParser, ResultIsStickyUntilReset) {
    const std::string input = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestParser parser;
    ASSERT_TRUE(parser.parse(input).complete());
    EXPECT_TRUE(parser.parse(input + "garbage").complete());
    parser.reset();
    EXPECT_TRUE(parser.parse("GET / HTTP/1.1\r\n").need_more());
    EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\n\n").error.status, 400);
    EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n").error.status, 400);
}

void expect_same_head(const RequestHead& a, const RequestHead& b) {
    EXPECT_EQ(a.method, b.method);
    EXPECT_EQ(a.method_token, b.method_token);
    EXPECT_EQ(a.target, b.target);
    EXPECT_EQ(a.authority, b.authority);
    EXPECT_EQ(a.path, b.path);
    EXPECT_EQ(a.query, b.query);
    EXPECT_EQ(a.version, b.version);
    EXPECT_EQ(a.head_length, b.head_length);
    EXPECT_EQ(a.keep_alive, b.keep_alive);
    EXPECT_EQ(a.content_length, b.content_length);
    EXPECT_EQ(a.chunked, b.chunked);
    EXPECT_EQ(a.expect_continue, b.expect_continue);
    EXPECT_EQ(a.has_host, b.has_host);
    ASSERT_EQ(a.headers.size(), b.headers.size());
    for (std::size_t i = 0; i < a.headers.size(); ++i) {
        EXPECT_EQ(a.headers[i].name, b.headers[i].name);
        EXPECT_EQ(a.headers[i].value, b.headers[i].value);
    }
}

TEST(RequestParser, ByteByByteFeedingGivesTheSameResult) {
    const std::vector<std::string> inputs = {
        "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
        "\r\n\r\nGET /x?y HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc",
        "PUT http://example.com:8080/a?b HTTP/1.1\r\nHost: example.com\r\n"
        "Transfer-Encoding: chunked\r\nX-Empty:\r\nX-Tab:\tv\t1\t\r\n\r\n0\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\n",
    };
    for (const std::string& input : inputs) {
        RequestParser whole;
        ASSERT_TRUE(whole.parse(input).complete()) << input;
        RequestParser incremental;
        std::unique_ptr<char[]> buffer;
        ASSERT_TRUE(parse_bytewise(incremental, input, buffer).complete()) << input;
        expect_same_head(whole.head(), incremental.head());
        const std::string_view kept(buffer.get(), incremental.head().head_length);
        EXPECT_TRUE(inside(incremental.head().target, kept));
        for (const Header& h : incremental.head().headers) {
            EXPECT_TRUE(inside(h.name, kept));
            EXPECT_TRUE(inside(h.value, kept));
        }
    }
}

TEST(RequestParser, NeedMoreUntilTheEmptyLine) {
    const std::string input = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestParser parser;
    for (std::size_t n = 0; n < input.size(); ++n) {
        EXPECT_TRUE(parser.parse(std::string_view(input).substr(0, n)).need_more()) << n;
    }
    EXPECT_TRUE(parser.parse(input).complete());
}

TEST(RequestParser, KeepAliveRules) {
    struct Case {
        std::string request;
        bool keep_alive;
    };
    const std::vector<Case> cases = {
        {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: CLOSE\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, close\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", false},
        {"GET / HTTP/1.0\r\n\r\n", false},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
        {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
        {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false},
        {"GET / HTTP/1.0\r\nConnection: te\r\n\r\n", false},
    };
    for (const Case& c : cases) {
        RequestParser parser;
        ASSERT_TRUE(parser.parse(c.request).complete()) << c.request;
        EXPECT_EQ(parser.head().keep_alive, c.keep_alive) << c.request;
    }
}

TEST(RequestParser, HostValues) {
    for (const std::string host :
         {"example.com", "h:8080", "[::1]:80", "127.0.0.1", "", "xn--caf-dma.example", "a_b~c"}) {
        const std::string input = "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
        RequestParser parser;
        ASSERT_TRUE(parser.parse(input).complete()) << host;
        EXPECT_TRUE(parser.head().has_host);
        EXPECT_EQ(parser.head().find_header("host").value_or("?"), host);
    }
}

TEST(RequestParser, Http10DoesNotNeedHost) {
    RequestParser parser;
    ASSERT_TRUE(parser.parse("GET / HTTP/1.0\r\n\r\n").complete());
    EXPECT_EQ(parser.head().version, HttpVersion::Http10);
    EXPECT_FALSE(parser.head().has_host);
}

TEST(RequestParser, ExpectContinue) {
    RequestParser parser;
    ASSERT_TRUE(
        parser
            .parse(
                "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n")
            .complete());
    EXPECT_TRUE(parser.head().expect_continue);
    parser.reset();
    // Ignored for HTTP/1.0 (RFC 9110 section 10.1.1).
    ASSERT_TRUE(parser.parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").complete());
    EXPECT_FALSE(parser.head().expect_continue);
    parser.reset();
    ASSERT_TRUE(parser.parse("POST / HTTP/1.1\r\nHost: h\r\nExpect: other\r\n\r\n").complete());
    EXPECT_FALSE(parser.head().expect_continue);
}

TEST(RequestParser, UpgradeIsIgnored) {
    RequestParser parser;
    ASSERT_TRUE(
        parser
            .parse(
                "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
            .complete());
    EXPECT_TRUE(parser.head().keep_alive);
    EXPECT_EQ(parser.head().find_header("upgrade").value_or(""), "websocket");
}

TEST(RequestParser, TargetForms) {
    RequestParser parser;
    ASSERT_TRUE(parser.parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").complete());
    EXPECT_EQ(parser.head().method, Method::Options);
    EXPECT_EQ(parser.head().path, "*");
    EXPECT_EQ(parser.head().query, "");

    struct Case {
        std::string target;
        std::string authority;
        std::string path;
        std::string query;
    };
    const std::vector<Case> cases = {
        {"http://example.com/a/b?x=1", "example.com", "/a/b", "x=1"},
        {"http://example.com:8080", "example.com:8080", "/", ""},
        {"HTTPS://Example.com?q", "Example.com", "/", "q"},
        {"https://user@h/", "user@h", "/", ""},
    };
    for (const Case& c : cases) {
        parser.reset();
        const std::string input = "GET " + c.target + " HTTP/1.1\r\nHost: h\r\n\r\n";
        ASSERT_TRUE(parser.parse(input).complete()) << c.target;
        EXPECT_EQ(parser.head().target, c.target);
        EXPECT_EQ(parser.head().authority, c.authority) << c.target;
        EXPECT_EQ(parser.head().path, c.path) << c.target;
        EXPECT_EQ(parser.head().query, c.query) << c.target;
    }
}

TEST(RequestParser, Methods) {
    const std::vector<std::pair<std::string, Method>> methods = {
        {"GET", Method::Get},         {"HEAD", Method::Head},     {"POST", Method::Post},
        {"PUT", Method::Put},         {"DELETE", Method::Delete}, {"PATCH", Method::Patch},
        {"OPTIONS", Method::Options}, {"TRACE", Method::Trace},   {"CONNECT", Method::Connect},
        {"PURGE", Method::Other},     {"get", Method::Other},     {"M-SEARCH", Method::Other},
    };
    for (const auto& [token, method] : methods) {
        RequestParser parser;
        const std::string input = token + " / HTTP/1.1\r\nHost: h\r\n\r\n";
        ASSERT_TRUE(parser.parse(input).complete()) << token;
        EXPECT_EQ(parser.head().method, method) << token;
        EXPECT_EQ(parser.head().method_token, token);
        if (method != Method::Other) {
            EXPECT_EQ(method_name(method), token);
        }
    }
    EXPECT_EQ(method_name(Method::Other), "");
}

TEST(RequestParser, HeaderValues) {
    const std::string input =
        "GET / HTTP/1.1\r\n"
        "Host: h\r\n"
        "X-Spaces:    padded value  \r\n"
        "X-Empty:\r\n"
        "X-Empty-Spaces:   \r\n"
        "X-Tab:\tin\tside\t\r\n"
        "X-Obs-Text: caf\xc3\xa9\r\n"
        "X-Colon: a:b: c\r\n"
        "x-dup: 1\r\n"
        "X-Dup: 2\r\n"
        "\r\n";
    RequestParser parser;
    ASSERT_TRUE(parser.parse(input).complete());
    const RequestHead& head = parser.head();
    EXPECT_EQ(head.find_header("x-spaces").value_or("?"), "padded value");
    EXPECT_EQ(head.find_header("X-EMPTY").value_or("?"), "");
    EXPECT_EQ(head.find_header("x-empty-spaces").value_or("?"), "");
    EXPECT_EQ(head.find_header("x-tab").value_or("?"), "in\tside");
    EXPECT_EQ(head.find_header("x-obs-text").value_or("?"), "caf\xc3\xa9");
    EXPECT_EQ(head.find_header("x-colon").value_or("?"), "a:b: c");
    EXPECT_EQ(head.find_header("x-dup").value_or("?"), "1");
    EXPECT_FALSE(head.find_header("x-missing").has_value());
    EXPECT_FALSE(head.find_header("x-spaces ").has_value());
}

TEST(RequestParser, LeadingEmptyLinesAreSkipped) {
    const std::string input = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestParser parser;
    ASSERT_TRUE(parser.parse(input).complete());
    EXPECT_EQ(parser.head().head_length, input.size());
    EXPECT_EQ(parser.head().method_token, "GET");
    EXPECT_EQ(parse_status("\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(parse_status("\r\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
}

TEST(RequestParser, ManyHeadersSpillOutOfTheInlineStorage) {
    std::string input = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (int i = 1; i < 100; ++i)
        input += "X-" + std::to_string(i) + ": " + std::to_string(i) + "\r\n";
    input += "\r\n";
    RequestParser parser;
    ASSERT_TRUE(parser.parse(input).complete());
    const RequestHead& head = parser.head();
    ASSERT_EQ(head.headers.size(), 100u);
    EXPECT_EQ(head.headers[31].name, "X-31");
    EXPECT_EQ(head.headers[32].name, "X-32");
    EXPECT_EQ(head.headers[99].value, "99");
    EXPECT_EQ(head.find_header("x-77").value_or(""), "77");
    std::size_t count = 0;
    for (const Header& h : head.headers) {
        EXPECT_TRUE(inside(h.name, input));
        ++count;
    }
    EXPECT_EQ(count, 100u);
}

// ---------------------------------------------------------------------------------------------
// Rejections. Every case is checked whole and fed byte by byte.

struct Rejection {
    const char* name;
    std::string request;
    int status;
};

class RejectionTest : public ::testing::TestWithParam<Rejection> {};

TEST_P(RejectionTest, IsRejectedWithItsStatus) {
    const Rejection& c = GetParam();
    EXPECT_EQ(parse_status(c.request), c.status) << c.name;
    EXPECT_EQ(parse_status_bytewise(c.request), c.status) << c.name;
}

std::string req(std::string_view headers) {
    return "POST / HTTP/1.1\r\nHost: h\r\n" + std::string(headers) + "\r\n";
}

const Rejection kRejections[] = {
    // Framing: request smuggling vectors.
    {"cl_and_te", req("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400},
    {"te_and_cl", req("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400},
    {"te_and_cl_zero", req("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n"), 400},
    {"duplicate_cl_equal", req("Content-Length: 5\r\nContent-Length: 5\r\n"), 400},
    {"duplicate_cl_different", req("Content-Length: 5\r\ncontent-length: 6\r\n"), 400},
    {"cl_list", req("Content-Length: 5, 5\r\n"), 400},
    {"cl_non_numeric", req("Content-Length: abc\r\n"), 400},
    {"cl_hex", req("Content-Length: 0x10\r\n"), 400},
    {"cl_negative", req("Content-Length: -1\r\n"), 400},
    {"cl_plus", req("Content-Length: +1\r\n"), 400},
    {"cl_inner_space", req("Content-Length: 1 2\r\n"), 400},
    {"cl_inner_tab", req("Content-Length: 1\t2\r\n"), 400},
    {"cl_empty", req("Content-Length:\r\n"), 400},
    {"cl_decimal", req("Content-Length: 1.0\r\n"), 400},
    {"cl_over_int64", req("Content-Length: 9223372036854775808\r\n"), 400},
    {"cl_over_uint64", req("Content-Length: 18446744073709551616\r\n"), 400},
    {"cl_huge", req("Content-Length: 99999999999999999999999999\r\n"), 400},
    {"te_chunked_identity", req("Transfer-Encoding: chunked, identity\r\n"), 400},
    {"te_identity", req("Transfer-Encoding: identity\r\n"), 400},
    {"te_gzip_only", req("Transfer-Encoding: gzip\r\n"), 400},
    {"te_xchunked", req("Transfer-Encoding: xchunked\r\n"), 400},
    {"te_chunkedx", req("Transfer-Encoding: chunkedx\r\n"), 400},
    {"te_inner_space", req("Transfer-Encoding: chun ked\r\n"), 400},
    {"te_vertical_tab", req("Transfer-Encoding: \vchunked\r\n"), 400},
    {"te_form_feed", req("Transfer-Encoding: chunked\f\r\n"), 400},
    {"te_quoted", req("Transfer-Encoding: \"chunked\"\r\n"), 400},
    {"te_parameter", req("Transfer-Encoding: chunked;q=1\r\n"), 400},
    {"te_twice_in_list", req("Transfer-Encoding: chunked, chunked\r\n"), 400},
    {"te_trailing_comma", req("Transfer-Encoding: chunked,\r\n"), 400},
    {"te_leading_comma", req("Transfer-Encoding: , chunked\r\n"), 400},
    {"te_empty", req("Transfer-Encoding:\r\n"), 400},
    {"te_two_headers", req("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400},
    {"te_two_headers_split", req("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), 400},
    {"te_space_before_colon", req("Transfer-Encoding : chunked\r\n"), 400},
    {"te_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
    {"te_gzip_chunked", req("Transfer-Encoding: gzip, chunked\r\n"), 501},
    {"te_deflate_gzip_chunked", req("Transfer-Encoding: deflate,gzip , chunked\r\n"), 501},
    // Line terminators.
    {"bare_lf_request_line", "GET / HTTP/1.1\nHost: h\r\n\r\n", 400},
    {"bare_lf_header", "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", 400},
    {"bare_lf_end", "GET / HTTP/1.1\r\nHost: h\r\n\n", 400},
    {"bare_lf_only", "GET / HTTP/1.1\nHost: h\n\n", 400},
    {"bare_cr_request_line", "GET / HTTP/1.1\rHost: h\r\n\r\n", 400},
    {"bare_cr_header", "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400},
    {"bare_cr_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400},
    {"bare_cr_end", "GET / HTTP/1.1\r\nHost: h\r\n\r\r\n", 400},
    {"cr_cr_lf", "GET / HTTP/1.1\r\r\nHost: h\r\n\r\n", 400},
    // Header syntax.
    {"obs_fold_space", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400},
    {"obs_fold_tab", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", 400},
    {"first_header_indented", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400},
    {"space_before_colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
    {"tab_before_colon", "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400},
    {"space_in_name", "GET / HTTP/1.1\r\nHost: h\r\nX Y: z\r\n\r\n", 400},
    {"paren_in_name", "GET / HTTP/1.1\r\nHost: h\r\nX(y): z\r\n\r\n", 400},
    {"non_ascii_name", "GET / HTTP/1.1\r\nHost: h\r\nX\xc3\xa9: z\r\n\r\n", 400},
    {"empty_name", "GET / HTTP/1.1\r\nHost: h\r\n: z\r\n\r\n", 400},
    {"no_colon", "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400},
    {"ctl_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n", 400},
    {"del_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fz\r\n\r\n", 400},
    {"esc_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX: \x1b[31m\r\n\r\n", 400},
    {"nul_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\0z\r\n\r\n"s, 400},
    {"nul_in_name", "GET / HTTP/1.1\r\nHost: h\r\nX\0: z\r\n\r\n"s, 400},
    {"nul_in_target", "GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n"s, 400},
    {"nul_in_method", "G\0T / HTTP/1.1\r\nHost: h\r\n\r\n"s, 400},
    {"missing_host", "GET / HTTP/1.1\r\n\r\n", 400},
    {"duplicate_host", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400},
    {"host_with_space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
    {"host_with_slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
    {"host_with_userinfo", "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400},
    {"host_with_query", "GET / HTTP/1.1\r\nHost: a?b\r\n\r\n", 400},
    {"host_non_ascii", "GET / HTTP/1.1\r\nHost: caf\xc3\xa9\r\n\r\n", 400},
    {"host_http10_invalid", "GET / HTTP/1.0\r\nHost: a,b c\r\n\r\n", 400},
    // Request line.
    {"bad_method_char", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"non_ascii_method", "G\xc3\x89T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"empty_method", " / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"tab_after_method", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"two_spaces_after_method", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"two_spaces_before_version", "GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"trailing_space", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400},
    {"no_version", "GET /\r\nHost: h\r\n\r\n", 400},
    {"relative_target", "GET foo HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"star_not_options", "GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"star_with_path", "OPTIONS */x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"other_scheme", "GET ftp://h/x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"empty_authority", "GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"scheme_only", "GET http:// HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"authority_form", "CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"fragment", "GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"non_ascii_target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"del_in_target", "GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"tab_in_target", "GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"lowercase_protocol", "GET / http/1.1\r\nHost: h\r\n\r\n", 400},
    {"version_two_digits", "GET / HTTP/1.10\r\nHost: h\r\n\r\n", 400},
    {"version_no_minor", "GET / HTTP/1\r\nHost: h\r\n\r\n", 400},
    {"version_letters", "GET / HTTP/x.y\r\nHost: h\r\n\r\n", 400},
    {"http09", "GET /\r\n\r\n", 400},
    {"version_2", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
    {"version_09", "GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505},
    {"version_12", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505},
    {"version_3", "GET / HTTP/3.0\r\n\r\n", 505},
};

INSTANTIATE_TEST_SUITE_P(Strict, RejectionTest, ::testing::ValuesIn(kRejections),
                         [](const ::testing::TestParamInfo<Rejection>& info) {
                             return std::string(info.param.name);
                         });

TEST(RequestParser, ErrorsCarryAReason) {
    RequestParser parser;
    const ParseResult r = parser.parse(
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n");
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.error.status, 400);
    EXPECT_EQ(r.error.reason, "duplicate Content-Length");
}

TEST(RequestParser, BareLineEndsAreRejectedBeforeTheHeadEnds) {
    // No need to wait for CRLFCRLF (or for the size limit) to reject a head that cannot be valid.
    EXPECT_EQ(parse_status("GET / HTTP/1.1\nHost"), 400);
    EXPECT_EQ(parse_status("GET / HTTP/1.1\r\nHost: h\rX"), 400);
    EXPECT_EQ(parse_status("GET /\0"s), 400);
    EXPECT_EQ(parse_status("GET / HTTP/1.1\r"), -1);
}

// ---------------------------------------------------------------------------------------------
// Limits, each exactly at the limit and one over.

std::string head_of_length(std::size_t length) {
    std::string head = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
    const std::size_t fixed = head.size() + 4;  // + "\r\n\r\n"
    head.append(length - fixed, 'a');
    head += "\r\n\r\n";
    return head;
}

TEST(RequestParserLimits, HeadBytes) {
    const std::string at_limit = head_of_length(16 * 1024);
    ASSERT_EQ(at_limit.size(), 16384u);
    EXPECT_EQ(parse_status(at_limit), 0);
    EXPECT_EQ(parse_status(at_limit + "trailing body bytes"), 0);
    const std::string over = head_of_length(16 * 1024 + 1);
    EXPECT_EQ(parse_status(over), 431);
    EXPECT_EQ(parse_status_bytewise(over), 431);

    // Leading empty lines count.
    EXPECT_EQ(parse_status("\r\n" + head_of_length(16 * 1024 - 2)), 0);
    EXPECT_EQ(parse_status("\r\n" + head_of_length(16 * 1024 - 1)), 431);
}

TEST(RequestParserLimits, HeadBytesDetectedWithoutTheEnd) {
    const std::string head = head_of_length(16 * 1024 + 100);
    // A prefix one byte short of the limit may still become a valid head.
    EXPECT_EQ(parse_status(std::string_view(head).substr(0, 16 * 1024 - 1)), -1);
    // As soon as the limit is reached without CRLFCRLF, the head cannot fit.
    EXPECT_EQ(parse_status(std::string_view(head).substr(0, 16 * 1024)), 431);

    // Incremental: the answer comes on the call that crosses the limit.
    RequestParser parser;
    std::string buffer;
    std::size_t calls = 0;
    ParseResult r;
    while ((r = parser.parse(buffer)).need_more()) {
        buffer.append(head, buffer.size(), 1000);
        ++calls;
    }
    EXPECT_EQ(r.error.status, 431);
    EXPECT_EQ(calls, 17u);  // 17000 bytes buffered
}

TEST(RequestParserLimits, CustomHeadBytes) {
    ParserLimits limits;
    limits.max_head_bytes = 64;
    limits.max_uri_length = 16;
    const std::string at_limit = head_of_length(64);
    EXPECT_EQ(parse_status(at_limit, limits), 0);
    EXPECT_EQ(parse_status_bytewise(at_limit, limits), 0);
    EXPECT_EQ(parse_status(head_of_length(65), limits), 431);
    EXPECT_EQ(parse_status_bytewise(head_of_length(65), limits), 431);
}

std::string request_with_headers(std::size_t count) {
    std::string input = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (std::size_t i = 1; i < count; ++i) input += "X-" + std::to_string(i) + ": v\r\n";
    return input + "\r\n";
}

TEST(RequestParserLimits, HeaderCount) {
    EXPECT_EQ(parse_status(request_with_headers(100)), 0);
    EXPECT_EQ(parse_status(request_with_headers(101)), 431);
    EXPECT_EQ(parse_status_bytewise(request_with_headers(101)), 431);

    ParserLimits limits;
    limits.max_header_count = 3;
    EXPECT_EQ(parse_status(request_with_headers(3), limits), 0);
    EXPECT_EQ(parse_status(request_with_headers(4), limits), 431);
}

std::string request_with_target_length(std::size_t length, std::string_view version = "HTTP/1.1") {
    return "GET /" + std::string(length - 1, 'u') + " " + std::string(version) +
           "\r\nHost: h\r\n\r\n";
}

TEST(RequestParserLimits, UriLength) {
    const std::string at_limit = request_with_target_length(8 * 1024);
    RequestParser parser;
    ASSERT_TRUE(parser.parse(at_limit).complete());
    EXPECT_EQ(parser.head().target.size(), 8192u);
    EXPECT_EQ(parse_status_bytewise(at_limit), 0);

    const std::string over = request_with_target_length(8 * 1024 + 1);
    EXPECT_EQ(parse_status(over), 414);
    EXPECT_EQ(parse_status_bytewise(over), 414);
    // 414 wins over errors later in the line.
    EXPECT_EQ(parse_status(request_with_target_length(8 * 1024 + 1, "HTTP/9.9")), 414);
}

TEST(RequestParserLimits, UriLengthDetectedBeforeTheLineEnds) {
    const std::string over = request_with_target_length(8 * 1024 + 1);
    // "GET " + 8193 target bytes: the 8193rd byte of the target is the first that cannot fit.
    EXPECT_EQ(parse_status(std::string_view(over).substr(0, 4 + 8192)), -1);
    EXPECT_EQ(parse_status(std::string_view(over).substr(0, 4 + 8193)), 414);
}

TEST(RequestParserLimits, CustomUriLength) {
    ParserLimits limits;
    limits.max_uri_length = 10;
    EXPECT_EQ(parse_status(request_with_target_length(10), limits), 0);
    EXPECT_EQ(parse_status(request_with_target_length(11), limits), 414);
    EXPECT_EQ(parse_status_bytewise(request_with_target_length(11), limits), 414);
    EXPECT_EQ(parse_status("GET http://h/xxxxxxxx HTTP/1.1\r\nHost: h\r\n\r\n", limits), 414);
    // Found by the fuzzer: a buffer ending in the CR of an empty line before the request line
    // is not a malformed method, even when it is longer than the URI limit.
    const std::string leading = "\r\n\r\n\r\n\r\nGET /upload HTTP/1.1\r\nHost: h\r\n\r\n";
    EXPECT_EQ(parse_status(std::string_view(leading).substr(0, 11), limits), -1);
    EXPECT_EQ(parse_status_bytewise(leading, limits), 0);
    limits.max_uri_length = 6;
    EXPECT_EQ(parse_status(std::string_view(leading).substr(0, 7), limits), -1);
    EXPECT_EQ(parse_status(leading, limits), 414);
    EXPECT_EQ(parse_status_bytewise(leading, limits), 414);
}

TEST(RequestParserLimits, MethodLength) {
    const std::string at_limit = std::string(32, 'M') + " / HTTP/1.1\r\nHost: h\r\n\r\n";
    EXPECT_EQ(parse_status(at_limit), 0);
    const std::string over = std::string(33, 'M') + " / HTTP/1.1\r\nHost: h\r\n\r\n";
    EXPECT_EQ(parse_status(over), 501);
    EXPECT_EQ(parse_status_bytewise(over), 501);
}

TEST(RequestParser, HeaderCountLimitDoesNotAllocateBelowInlineCapacity) {
    // Not observable directly; check that reuse after many headers keeps working.
    RequestParser parser;
    const std::string many = request_with_headers(80);
    ASSERT_TRUE(parser.parse(many).complete());
    parser.reset();
    const std::string few = request_with_headers(2);
    ASSERT_TRUE(parser.parse(few).complete());
    EXPECT_EQ(parser.head().headers.size(), 2u);
    EXPECT_FALSE(parser.head().find_header("x-50").has_value());
}

}  // namespace
}  // namespace weir::http
