// Unit tests of the client's response parser and body decoder.
#include "weir/http/response_parser.hpp"

#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>

namespace {

using weir::http::BodyDecoder;
using weir::http::BodyFraming;
using weir::http::ResponseParser;

struct Parsed {
    bool ok = false;
    std::string error;
    std::size_t consumed = 0;
    weir::http::ResponseHead head;
};

Parsed parse(std::string_view text, bool head_request = false, std::size_t piece = 0) {
    ResponseParser p;
    p.set_head_request(head_request);
    Parsed out;
    std::string buf;
    if (piece == 0) piece = text.size() + 1;
    for (std::size_t i = 0; i < text.size(); i += piece) {
        buf.append(text.substr(i, piece));
        auto r = p.parse(buf);
        if (r.failed()) {
            out.error = std::string(r.error);
            return out;
        }
        if (r.complete()) {
            out.ok = true;
            out.consumed = r.consumed;
            out.head = p.head();
            return out;
        }
    }
    out.error = "need more";
    return out;
}

// Decodes `body` (everything after the head); returns the body or "ERROR".
std::string decode(const weir::http::ResponseHead& h, std::string_view body, bool eof,
                   std::size_t* consumed_out = nullptr, std::size_t piece = 3) {
    BodyDecoder d(h.framing, h.content_length, 1 << 20);
    std::string out;
    std::size_t consumed = 0;
    std::size_t avail = 0;
    for (;;) {
        avail = std::min(body.size(), avail + piece);
        for (;;) {
            auto s = d.step(body.substr(consumed, avail - consumed));
            consumed += s.consumed;
            if (s.status == BodyDecoder::Status::Data) {
                out.append(s.data);
                continue;
            }
            if (s.status == BodyDecoder::Status::Error) return "ERROR";
            if (s.status == BodyDecoder::Status::Done) {
                if (consumed_out) *consumed_out = consumed;
                return out;
            }
            break;  // NeedMore
        }
        if (avail == body.size()) {
            if (!eof) return "NEEDMORE";
            auto e = d.finish_at_eof();
            if (e.status != BodyDecoder::Status::Done) return "ERROR";
            if (consumed_out) *consumed_out = consumed;
            return out;
        }
    }
}

TEST(ResponseParser, ContentLength) {
    for (std::size_t piece : {0u, 1u, 5u}) {
        auto p = parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  b \r\n\r\nhelloNEXT", false,
                       piece);
        ASSERT_TRUE(p.ok) << p.error;
        EXPECT_EQ(p.head.status, 200);
        EXPECT_EQ(p.head.reason, "OK");
        EXPECT_EQ(p.head.framing, BodyFraming::Length);
        EXPECT_EQ(p.head.content_length, 5u);
        EXPECT_TRUE(p.head.keep_alive);
        EXPECT_EQ(p.head.header("x-a"), "b");
        EXPECT_EQ(p.head.header("CONTENT-LENGTH"), "5");
    }
    auto p = parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
    std::size_t used = 0;
    EXPECT_EQ(decode(p.head, "helloNEXT", false, &used), "hello");
    EXPECT_EQ(used, 5u);
    EXPECT_EQ(decode(p.head, "hel", true), "ERROR");  // closed early
}

TEST(ResponseParser, Chunked) {
    auto p = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.head.framing, BodyFraming::Chunked);
    std::size_t used = 0;
    EXPECT_EQ(
        decode(p.head, "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nT: x\r\n\r\nNEXT", false, &used),
        "hello world");
    EXPECT_EQ(used, 38u);
    EXPECT_EQ(decode(p.head, "5\r\nhel", true), "ERROR");               // truncated chunk
    EXPECT_EQ(decode(p.head, "5\r\nhelloXX0\r\n\r\n", true), "ERROR");  // bad framing
}

TEST(ResponseParser, ReadToClose) {
    auto p = parse("HTTP/1.0 200 OK\r\n\r\n");
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.head.framing, BodyFraming::UntilClose);
    EXPECT_FALSE(p.head.keep_alive);
    EXPECT_EQ(decode(p.head, "all of it", true), "all of it");
    // Transfer-Encoding without chunked last is read to close as well.
    auto q = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
    EXPECT_EQ(q.head.framing, BodyFraming::UntilClose);
    EXPECT_FALSE(q.head.keep_alive);
}

TEST(ResponseParser, SkipsInterimResponses) {
    auto p = parse(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
        "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
        false, 4);
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_EQ(p.head.status, 201);
    EXPECT_EQ(p.head.headers.size(), 1u);
    EXPECT_EQ(decode(p.head, "", false), "");
}

TEST(ResponseParser, NoBodyResponses) {
    auto head = parse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true);
    EXPECT_EQ(head.head.framing, BodyFraming::None);
    EXPECT_TRUE(head.head.keep_alive);
    for (const char* s : {"204 No Content", "304 Not Modified"}) {
        auto p = parse(std::string("HTTP/1.1 ") + s + "\r\nContent-Length: 9\r\n\r\n");
        ASSERT_TRUE(p.ok);
        EXPECT_EQ(p.head.framing, BodyFraming::None);
        EXPECT_EQ(decode(p.head, "", false), "");
    }
}

TEST(ResponseParser, ConnectionHeader) {
    EXPECT_FALSE(
        parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").head.keep_alive);
    EXPECT_TRUE(parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n")
                    .head.keep_alive);
    EXPECT_FALSE(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").head.keep_alive);
    // TE + CL: chunked wins, never reused.
    auto p = parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
    EXPECT_EQ(p.head.framing, BodyFraming::Chunked);
    EXPECT_FALSE(p.head.keep_alive);
}

// The framing headers' names and tokens in any case, and names or tokens one byte off.
TEST(ResponseParser, FramingHeadersInAnyCaseAndNearMisses) {
    auto framing = [](std::string_view fields) {
        return parse("HTTP/1.1 200 OK\r\n" + std::string(fields) + "\r\n").head;
    };
    EXPECT_EQ(framing("TRANSFER-ENCODING: CHUNKED\r\n").framing, BodyFraming::Chunked);
    EXPECT_EQ(framing("transfer-encoding: Chunked\r\n").framing, BodyFraming::Chunked);
    EXPECT_EQ(framing("Transfer-Encoding: gzip, CHUNKED\r\n").framing, BodyFraming::Chunked);
    EXPECT_EQ(framing("Transfer-Encoding: chunkeD \t\r\n").framing, BodyFraming::Chunked);
    EXPECT_EQ(framing("Transfer-Encoding: chunke\r\n").framing, BodyFraming::UntilClose);
    EXPECT_EQ(framing("Transfer-Encoding: chunked_\r\n").framing, BodyFraming::UntilClose);
    EXPECT_EQ(framing("Transfer-Encodinf: chunked\r\nContent-Length: 2\r\n").framing,
              BodyFraming::Length);
    EXPECT_EQ(framing("Transfer_Encoding: chunked\r\nContent-Length: 2\r\n").framing,
              BodyFraming::Length);
    EXPECT_EQ(framing("CONTENT-LENGTH: 7\r\n").content_length, 7u);
    EXPECT_EQ(framing("content-lengtH: 7\r\n").framing, BodyFraming::Length);
    EXPECT_EQ(framing("Content-Lengti: 7\r\n").framing, BodyFraming::UntilClose);
    EXPECT_FALSE(framing("CONNECTION: CLOSE\r\nContent-Length: 0\r\n").keep_alive);
    EXPECT_FALSE(framing("Connection: Keep-Alive, Close\r\nContent-Length: 0\r\n").keep_alive);
    EXPECT_TRUE(framing("Connection: closed\r\nContent-Length: 0\r\n").keep_alive);
    EXPECT_TRUE(framing("Connectioo: close\r\nContent-Length: 0\r\n").keep_alive);
    EXPECT_TRUE(parse("HTTP/1.0 200 OK\r\nConnection: KEEP-ALIVE\r\nContent-Length: 0\r\n\r\n")
                    .head.keep_alive);
    EXPECT_FALSE(parse("HTTP/1.0 200 OK\r\nConnection: keep-alivf\r\nContent-Length: 0\r\n\r\n")
                     .head.keep_alive);
}

TEST(ResponseParser, RejectsMalformedHeads) {
    for (const char* bad : {
             "HTTP/2 200 OK\r\n\r\n",
             "HTTP/1.1 20 OK\r\n\r\n",
             "HTTP/1.1 200OK\r\n\r\n",
             "HTTP/1.1 099 X\r\n\r\n",
             "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
             "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
             "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
             "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
             "HTTP/1.1 200 OK\r\nBad Name: a\r\n\r\n",
             "HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n",
             "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
         }) {
        auto p = parse(bad);
        EXPECT_FALSE(p.ok) << bad;
        EXPECT_NE(p.error, "need more") << bad;
    }
    EXPECT_TRUE(parse("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n").ok);
    EXPECT_TRUE(parse("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").ok);
}

// Each header line is judged the same whether it takes the one-pass path (token, ':', value,
// CRLF) or the full one: the errors name the same fault, values are checked to their last byte.
TEST(ResponseParser, HeaderLineErrorsAndValueBytes) {
    auto error_of = [](std::string_view fields) {
        return parse("HTTP/1.1 200 OK\r\n" + std::string(fields) + "Content-Length: 0\r\n\r\n")
            .error;
    };
    const std::pair<const char*, const char*> cases[] = {
        {"NoColon\r\n", "malformed header field"},
        {": empty name\r\n", "malformed header field"},
        {" X: folded\r\n", "invalid header field name"},
        {"Bad Name: a\r\n", "invalid header field name"},
        {"X\r: a\r\n", "invalid header field name"},
        {"X: bare\rcr\r\n", "invalid character in header field value"},
        {"X: bare\nlf\r\n", "invalid character in header field value"},
    };
    for (const auto& [fields, error] : cases) EXPECT_EQ(error_of(fields), error) << fields;
    // A bad byte at every offset of short and long values (the last word overlaps).
    for (std::size_t len : {1u, 5u, 7u, 8u, 9u, 15u, 16u, 17u, 29u}) {
        for (std::size_t at = 0; at < len; ++at) {
            for (char bad : {'\x01', '\x7f', '\x00', '\x1f'}) {
                std::string value(len, 'v');
                value[at] = bad;
                EXPECT_EQ(error_of("X: " + value + "\r\n"),
                          "invalid character in header field value")
                    << len << " " << at;
            }
            std::string tabs(len, 'v');
            tabs[at] = '\t';
            if (at > 0 && at + 1 < len) {
                EXPECT_EQ(error_of("X: " + tabs + "\r\n"), "") << len;
            }
        }
    }
    auto p = parse(
        "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nX-Long:   \xc3\xa9t\xc3\xa9 with obs-text\t "
        "\r\n"
        "Transfer-Encoding: chunked\r\nConnection: keep-alive\r\nX-Empty:\r\n\r\n");
    ASSERT_TRUE(p.ok) << p.error;
    ASSERT_EQ(p.head.headers.size(), 5u);
    EXPECT_EQ(p.head.headers[1].name, "X-Long");
    EXPECT_EQ(p.head.headers[1].value, "\xc3\xa9t\xc3\xa9 with obs-text");
    EXPECT_EQ(p.head.headers[4].value, "");
    EXPECT_EQ(p.head.framing, BodyFraming::Chunked);
    EXPECT_TRUE(p.head.keep_alive);
}

// Values are checked on the way to their CRLF, a word at a time: tabs anywhere (several in a
// word, across words, trailing), values ending at a word's edge, and a head cut anywhere.
TEST(ResponseParser, ValueScanTabsWordEdgesAndSplits) {
    const std::string head =
        "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Fri, 27 Nov 2026 12:37:08 GMT\r\n"
        "X-Tabs: a\t\tb\tc\t\t\t\t\t\td\t\r\nX-8: 12345678\r\nX-16: 1234567890abcdef\r\n"
        "X-7: 1234567\r\nX-Obs: \xff\x80\xc3\xa9\r\nTransfer-Encoding: chunked\r\n"
        "Connection: keep-alive\r\n\r\n";
    for (std::size_t piece : {0u, 1u, 2u, 3u, 7u, 8u, 9u, 50u}) {
        auto p = parse(head, false, piece);
        ASSERT_TRUE(p.ok) << p.error << " piece " << piece;
        EXPECT_EQ(p.consumed, head.size());
        ASSERT_EQ(p.head.headers.size(), 9u);
        EXPECT_EQ(p.head.headers[1].value, "Fri, 27 Nov 2026 12:37:08 GMT");
        EXPECT_EQ(p.head.headers[2].value, "a\t\tb\tc\t\t\t\t\t\td");
        EXPECT_EQ(p.head.headers[3].value, "12345678");
        EXPECT_EQ(p.head.headers[4].value, "1234567890abcdef");
        EXPECT_EQ(p.head.headers[5].value, "1234567");
        EXPECT_EQ(p.head.headers[6].value, "\xff\x80\xc3\xa9");
        EXPECT_EQ(p.head.framing, BodyFraming::Chunked);
    }
    // A bad byte after tabs in the same word, and in the word after one with tabs.
    EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nX: a\t\tb\x01"
                    "cdef\r\n\r\n")
                  .error,
              "invalid character in header field value");
    EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nX: a\t\tbcdefghij\x7fk\r\n\r\n").error,
              "invalid character in header field value");
    // The head's end found after bare CRs and CRLFs that are not doubled.
    auto p = parse("HTTP/1.1 204 No Content\r\nX: a\r\n\r\r\n\r\n");
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(parse("HTTP/1.1 204 No Content\r\nX: a\r\n\r").error, "need more");
}

TEST(ResponseParser, HeadSizeLimit) {
    weir::http::ResponseLimits limits;
    limits.max_head_bytes = 64;
    ResponseParser p(limits);
    std::string big = "HTTP/1.1 200 OK\r\nX: " + std::string(100, 'a');
    EXPECT_TRUE(p.parse(big).failed());
}

TEST(ResponseParser, BodyLimit) {
    BodyDecoder d(BodyFraming::Length, 100, 10);
    EXPECT_EQ(d.step("x").status, BodyDecoder::Status::Error);
    BodyDecoder c(BodyFraming::Chunked, 0, 4);
    std::string_view in = "5\r\nhello\r\n0\r\n\r\n";
    BodyDecoder::Status st;
    do {
        auto s = c.step(in);
        in.remove_prefix(s.consumed);
        st = s.status;
    } while (st == BodyDecoder::Status::Data);
    EXPECT_EQ(st, BodyDecoder::Status::Error);
}

}  // namespace
