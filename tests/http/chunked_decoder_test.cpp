// Tests of weir::http::ChunkedDecoder: decoding, every split point, rejections and limits.
#include "weir/http/chunked_decoder.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace weir::http {
namespace {

using namespace std::string_literals;

struct Decoded {
    ChunkedStatus status = ChunkedStatus::NeedMore;
    std::size_t consumed = 0;
    std::string body;
    int error_status = 0;
};

Decoded decode_whole(std::string_view input, ChunkedLimits limits = {}) {
    ChunkedDecoder decoder(limits);
    Decoded d;
    const ChunkedResult r = decoder.feed(input, d.body);
    d.status = r.status;
    d.consumed = r.consumed;
    d.error_status = r.error.status;
    return d;
}

// Feeds the pieces one after the other, each in its own buffer, stopping at Done or Error.
Decoded decode_pieces(const std::vector<std::string>& pieces, ChunkedLimits limits = {}) {
    ChunkedDecoder decoder(limits);
    Decoded d;
    for (const std::string& piece : pieces) {
        const ChunkedResult r = decoder.feed(piece, d.body);
        d.status = r.status;
        d.consumed += r.consumed;
        d.error_status = r.error.status;
        if (r.status != ChunkedStatus::NeedMore) break;
    }
    return d;
}

Decoded decode_bytewise(std::string_view input, ChunkedLimits limits = {}) {
    std::vector<std::string> pieces;
    for (char c : input) pieces.emplace_back(1, c);
    return decode_pieces(pieces, limits);
}

void expect_same(const Decoded& a, const Decoded& b, const std::string& context) {
    EXPECT_EQ(a.status, b.status) << context;
    EXPECT_EQ(a.consumed, b.consumed) << context;
    EXPECT_EQ(a.body, b.body) << context;
    EXPECT_EQ(a.error_status, b.error_status) << context;
}

const std::string kSample =
    "5\r\nhello\r\n"
    "1;name=value;flag\r\n,\r\n"
    "009 \t;ext=\"quoted\"\r\n world!!!\r\n"
    "C\r\n0123456789ab\r\n"
    "0\r\n"
    "Trailer-One: 1\r\n"
    "X-Checksum:\tabc \r\n"
    "\r\n";
const std::string kSampleBody = "hello, world!!!0123456789ab";

TEST(ChunkedDecoder, DecodesASample) {
    const Decoded d = decode_whole(kSample);
    EXPECT_EQ(d.status, ChunkedStatus::Done);
    EXPECT_EQ(d.consumed, kSample.size());
    EXPECT_EQ(d.body, kSampleBody);
}

TEST(ChunkedDecoder, EverySplitPointGivesTheSameResult) {
    const Decoded whole = decode_whole(kSample);
    for (std::size_t i = 0; i <= kSample.size(); ++i) {
        const Decoded split = decode_pieces({kSample.substr(0, i), kSample.substr(i)});
        expect_same(whole, split, "split at " + std::to_string(i));
    }
}

TEST(ChunkedDecoder, EveryPairOfSplitPointsGivesTheSameResult) {
    const Decoded whole = decode_whole(kSample);
    for (std::size_t i = 0; i <= kSample.size(); ++i) {
        for (std::size_t j = i; j <= kSample.size(); ++j) {
            const Decoded split =
                decode_pieces({kSample.substr(0, i), kSample.substr(i, j - i), kSample.substr(j)});
            expect_same(whole, split, "split at " + std::to_string(i) + "," + std::to_string(j));
        }
    }
}

TEST(ChunkedDecoder, ByteByByte) {
    expect_same(decode_whole(kSample), decode_bytewise(kSample), "bytewise");
}

TEST(ChunkedDecoder, LeavesPipelinedBytesUnconsumed) {
    const std::string body = "3\r\nabc\r\n0\r\n\r\n";
    const std::string input = body + "GET / HTTP/1.1\r\n";
    const Decoded d = decode_whole(input);
    EXPECT_EQ(d.status, ChunkedStatus::Done);
    EXPECT_EQ(d.consumed, body.size());
    EXPECT_EQ(d.body, "abc");
    for (std::size_t i = 0; i <= input.size(); ++i) {
        expect_same(d, decode_pieces({input.substr(0, i), input.substr(i)}), std::to_string(i));
    }
}

TEST(ChunkedDecoder, EmptyBody) {
    const Decoded d = decode_whole("0\r\n\r\n");
    EXPECT_EQ(d.status, ChunkedStatus::Done);
    EXPECT_EQ(d.consumed, 5u);
    EXPECT_EQ(d.body, "");
}

TEST(ChunkedDecoder, NeedsMoreUntilTheFinalCrlf) {
    const std::string input = "2\r\nab\r\n0\r\n\r\n";
    for (std::size_t n = 0; n < input.size(); ++n) {
        const Decoded d = decode_whole(input.substr(0, n));
        EXPECT_EQ(d.status, ChunkedStatus::NeedMore) << n;
        EXPECT_EQ(d.consumed, n) << n;
    }
}

TEST(ChunkedDecoder, StepReturnsViewsIntoTheInput) {
    const std::string input = "4\r\nabcd\r\n2\r\nef\r\n0\r\n\r\n";
    ChunkedDecoder decoder;
    std::string_view rest = input;
    std::vector<std::string_view> spans;
    while (true) {
        const ChunkedResult r = decoder.step(rest);
        if (r.status == ChunkedStatus::Data) {
            EXPECT_GE(r.data.data(), input.data());
            EXPECT_LE(r.data.data() + r.data.size(), input.data() + input.size());
            spans.push_back(r.data);
        } else {
            ASSERT_EQ(r.status, ChunkedStatus::Done);
            rest.remove_prefix(r.consumed);
            break;
        }
        rest.remove_prefix(r.consumed);
    }
    ASSERT_EQ(spans.size(), 2u);
    EXPECT_EQ(spans[0], "abcd");
    EXPECT_EQ(spans[1], "ef");
    EXPECT_TRUE(rest.empty());
    EXPECT_TRUE(decoder.done());
    EXPECT_EQ(decoder.body_size(), 6u);
}

TEST(ChunkedDecoder, PartialChunkDataIsDeliveredAsItArrives) {
    ChunkedDecoder decoder;
    std::string out;
    EXPECT_EQ(decoder.feed("a\r\n01234", out).status, ChunkedStatus::NeedMore);
    EXPECT_EQ(out, "01234");
    EXPECT_EQ(decoder.feed("56789\r\n0\r\n\r\n", out).status, ChunkedStatus::Done);
    EXPECT_EQ(out, "0123456789");
}

TEST(ChunkedDecoder, StaysDoneAndResetStartsOver) {
    ChunkedDecoder decoder;
    std::string out;
    ASSERT_EQ(decoder.feed("1\r\nx\r\n0\r\n\r\n", out).status, ChunkedStatus::Done);
    const ChunkedResult again = decoder.feed("1\r\ny\r\n0\r\n\r\n", out);
    EXPECT_EQ(again.status, ChunkedStatus::Done);
    EXPECT_EQ(again.consumed, 0u);
    decoder.reset();
    EXPECT_FALSE(decoder.done());
    EXPECT_EQ(decoder.body_size(), 0u);
    ASSERT_EQ(decoder.feed("1\r\ny\r\n0\r\n\r\n", out).status, ChunkedStatus::Done);
    EXPECT_EQ(out, "xy");
}

TEST(ChunkedDecoder, SizeFormats) {
    EXPECT_EQ(decode_whole("A\r\n0123456789\r\n0\r\n\r\n").body, "0123456789");
    EXPECT_EQ(decode_whole("a\r\n0123456789\r\n0\r\n\r\n").body, "0123456789");
    EXPECT_EQ(decode_whole("000000000000000a\r\n0123456789\r\n0\r\n\r\n").body, "0123456789");
    EXPECT_EQ(decode_whole("0000000000000000\r\n\r\n").status, ChunkedStatus::Done);
    EXPECT_EQ(decode_whole("1 ;x\r\na\r\n0\r\n\r\n").body, "a");
    EXPECT_EQ(decode_whole("1;x=\"a b\"\r\na\r\n0\r\n\r\n").body, "a");
}

// ---------------------------------------------------------------------------------------------
// Rejections, whole and byte by byte.

struct Rejection {
    const char* name;
    std::string body;
    int status;
};

class ChunkedRejectionTest : public ::testing::TestWithParam<Rejection> {};

TEST_P(ChunkedRejectionTest, IsRejectedWithItsStatus) {
    const Rejection& c = GetParam();
    const Decoded whole = decode_whole(c.body);
    EXPECT_EQ(whole.status, ChunkedStatus::Error) << c.name;
    EXPECT_EQ(whole.error_status, c.status) << c.name;
    expect_same(whole, decode_bytewise(c.body), c.name);
}

const Rejection kRejections[] = {
    {"non_hex", "g\r\n", 400},
    {"non_hex_after_digit", "1g\r\nx\r\n", 400},
    {"empty_size", "\r\n\r\n", 400},
    {"extension_without_size", ";a\r\n", 400},
    {"space_before_size", " 1\r\na\r\n0\r\n\r\n", 400},
    {"sign", "+1\r\na\r\n", 400},
    {"hex_prefix", "0x1\r\na\r\n", 400},
    {"seventeen_digits", "00000000000000001\r\na\r\n0\r\n\r\n", 400},
    {"huge_size", "8000000000000000\r\n", 413},
    {"max_uint64", "ffffffffffffffff\r\n", 413},
    {"space_without_extension", "1 \r\na\r\n", 400},
    {"space_inside_size", "1 2\r\n", 400},
    {"bare_lf_after_size", "1\na\r\n0\r\n\r\n", 400},
    {"bare_lf_after_extension", "1;x\na\r\n0\r\n\r\n", 400},
    {"bare_cr_after_size", "1\ra\r\n", 400},
    {"control_in_extension", "1;x\x01y\r\na\r\n", 400},
    {"nul_in_extension", "1;\0\r\na\r\n"s, 400},
    {"missing_crlf_after_data", "1\r\nab\r\n0\r\n\r\n", 400},
    {"lf_only_after_data", "1\r\na\n0\r\n\r\n", 400},
    {"cr_only_after_data", "1\r\na\r0\r\n\r\n", 400},
    {"size_too_small", "3\r\nhello\r\n0\r\n\r\n", 400},
    {"bare_lf_final", "0\r\n\n", 400},
    {"bare_cr_final", "0\r\n\rx", 400},
    {"trailer_bare_lf", "0\r\nX: y\n\r\n", 400},
    {"trailer_bare_cr", "0\r\nX: y\rz\r\n\r\n", 400},
    {"trailer_obs_fold", "0\r\nX: y\r\n z\r\n\r\n", 400},
    {"trailer_space_before_colon", "0\r\nX : y\r\n\r\n", 400},
    {"trailer_bad_name", "0\r\nX(y): z\r\n\r\n", 400},
    {"trailer_no_colon", "0\r\nXyz\r\n\r\n", 400},
    {"trailer_control", "0\r\nX: a\x7f\r\n\r\n", 400},
    {"over_default_body_limit", "100001\r\n", 413},
};

INSTANTIATE_TEST_SUITE_P(Strict, ChunkedRejectionTest, ::testing::ValuesIn(kRejections),
                         [](const ::testing::TestParamInfo<Rejection>& info) {
                             return std::string(info.param.name);
                         });

TEST(ChunkedDecoder, ErrorIsSticky) {
    ChunkedDecoder decoder;
    std::string out;
    EXPECT_EQ(decoder.feed("z", out).status, ChunkedStatus::Error);
    const ChunkedResult again = decoder.feed("0\r\n\r\n", out);
    EXPECT_EQ(again.status, ChunkedStatus::Error);
    EXPECT_EQ(again.error.status, 400);
}

// ---------------------------------------------------------------------------------------------
// Limits, exactly at the limit and one over.

std::string chunks_of(std::size_t total, std::size_t chunk) {
    std::string out;
    char size_line[32];
    while (total > 0) {
        const std::size_t n = std::min(total, chunk);
        std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
        out += size_line;
        out.append(n, 'd');
        out += "\r\n";
        total -= n;
    }
    return out + "0\r\n\r\n";
}

TEST(ChunkedDecoderLimits, BodySizeInOneChunk) {
    ChunkedLimits limits;
    limits.max_body_bytes = 1000;
    const Decoded at = decode_whole(chunks_of(1000, 1000), limits);
    EXPECT_EQ(at.status, ChunkedStatus::Done);
    EXPECT_EQ(at.body.size(), 1000u);
    const Decoded over = decode_whole(chunks_of(1001, 1001), limits);
    EXPECT_EQ(over.status, ChunkedStatus::Error);
    EXPECT_EQ(over.error_status, 413);
    EXPECT_EQ(over.body.size(), 0u);  // rejected from the size line, before any data
}

TEST(ChunkedDecoderLimits, BodySizeAcrossChunks) {
    ChunkedLimits limits;
    limits.max_body_bytes = 1000;
    EXPECT_EQ(decode_whole(chunks_of(1000, 7), limits).status, ChunkedStatus::Done);
    const Decoded over = decode_whole(chunks_of(1001, 7), limits);
    EXPECT_EQ(over.status, ChunkedStatus::Error);
    EXPECT_EQ(over.error_status, 413);
    expect_same(over, decode_bytewise(chunks_of(1001, 7), limits), "bytewise");
}

TEST(ChunkedDecoderLimits, DefaultBodySize) {
    EXPECT_EQ(decode_whole(chunks_of(1024 * 1024, 4096)).status, ChunkedStatus::Done);
    EXPECT_EQ(decode_whole(chunks_of(1024 * 1024 + 1, 4096)).error_status, 413);
}

TEST(ChunkedDecoderLimits, ChunkSizeOverflowWithoutBodyLimit) {
    ChunkedLimits limits;
    limits.max_body_bytes = UINT64_MAX;
    const Decoded at = decode_whole("7fffffffffffffff\r\nabc", limits);
    EXPECT_EQ(at.status, ChunkedStatus::NeedMore);
    EXPECT_EQ(at.body, "abc");
    EXPECT_EQ(decode_whole("8000000000000000\r\n", limits).error_status, 400);
    EXPECT_EQ(decode_whole("ffffffffffffffff\r\n", limits).error_status, 400);
}

TEST(ChunkedDecoderLimits, ExtensionLength) {
    ChunkedLimits limits;
    limits.max_extension_bytes = 10;
    // The bytes after the size, ';' and BWS included, count.
    EXPECT_EQ(decode_whole("1;123456789\r\na\r\n0\r\n\r\n", limits).status, ChunkedStatus::Done);
    EXPECT_EQ(decode_whole("1;1234567890\r\na\r\n0\r\n\r\n", limits).error_status, 400);
    EXPECT_EQ(decode_whole("1  ;1234567\r\na\r\n0\r\n\r\n", limits).status, ChunkedStatus::Done);
    EXPECT_EQ(decode_whole("1  ;12345678\r\na\r\n0\r\n\r\n", limits).error_status, 400);
    EXPECT_EQ(decode_whole("1           ;\r\na\r\n0\r\n\r\n", limits).error_status, 400);
    // The limit is per line.
    EXPECT_EQ(
        decode_whole("1;123456789\r\na\r\n1;123456789\r\nb\r\n0;123456789\r\n\r\n", limits).body,
        "ab");
}

TEST(ChunkedDecoderLimits, TrailerSection) {
    ChunkedLimits limits;
    limits.max_trailer_bytes = 12;
    // Counted from the first trailer byte through the final CRLF.
    EXPECT_EQ(decode_whole("0\r\nX: 12345\r\n\r\n", limits).status, ChunkedStatus::Done);
    EXPECT_EQ(decode_whole("0\r\nX: 123456\r\n\r\n", limits).error_status, 431);
    EXPECT_EQ(decode_whole("0\r\nA: 1\r\nB: 2\r\n\r\n", limits).error_status, 431);
    EXPECT_EQ(decode_whole("0\r\nA: 1\r\nB:\r\n\r\n", limits).status, ChunkedStatus::Done);
}

// Whole size lines, data CRLFs and final CRLFs take a shortcut when they are in one buffer; at
// each limit and on each malformed line it must decide exactly as byte by byte does.
TEST(ChunkedDecoderLimits, WholeLinesDecideAsByteByByteAtEveryLimit) {
    struct Case {
        std::string input;
        ChunkedLimits limits;
        ChunkedStatus status;
        int error_status;
    };
    ChunkedLimits body5;
    body5.max_body_bytes = 5;
    ChunkedLimits no_limit;
    no_limit.max_body_bytes = UINT64_MAX;
    ChunkedLimits trailer1;
    trailer1.max_trailer_bytes = 1;
    ChunkedLimits trailer2;
    trailer2.max_trailer_bytes = 2;
    ChunkedLimits trailer0;
    trailer0.max_trailer_bytes = 0;
    const std::vector<Case> cases = {
        {"5\r\nabcde\r\n0\r\n\r\n", body5, ChunkedStatus::Done, 0},
        {"6\r\nabcdef\r\n0\r\n\r\n", body5, ChunkedStatus::Error, 413},
        {"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", body5, ChunkedStatus::Done, 0},
        {"3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", body5, ChunkedStatus::Error, 413},
        {"000000000000000A\r\n0123456789\r\n0\r\n\r\n", {}, ChunkedStatus::Done, 0},
        {"0000000000000000A\r\n0123456789\r\n0\r\n\r\n", {}, ChunkedStatus::Error, 400},
        {"7fffffffffffffff\r\n", no_limit, ChunkedStatus::NeedMore, 0},
        {"8000000000000000\r\n", no_limit, ChunkedStatus::Error, 400},
        {"0\r\n\r\n", trailer2, ChunkedStatus::Done, 0},
        {"0\r\n\r\n", trailer1, ChunkedStatus::Error, 431},
        {"0\r\n\r\n", trailer0, ChunkedStatus::Error, 431},
        {"0\r\n\r\nGET", {}, ChunkedStatus::Done, 0},
        {"1\r\na\r\r\n0\r\n\r\n", {}, ChunkedStatus::Error, 400},
        {"1\r\na\n\r\n0\r\n\r\n", {}, ChunkedStatus::Error, 400},
        {"1\r\na\r\n0\r\n\n", {}, ChunkedStatus::Error, 400},
        {"1\n\r\na\r\n0\r\n\r\n", {}, ChunkedStatus::Error, 400},
        {"g\r\n", {}, ChunkedStatus::Error, 400},
        {"\r\n", {}, ChunkedStatus::Error, 400},
        {"a\r\n0123456789\r\n0\r\n\r\n", {}, ChunkedStatus::Done, 0},
        {"A\r\n0123456789\r\n0\r\n\r\n", {}, ChunkedStatus::Done, 0},
    };
    for (const Case& c : cases) {
        const Decoded whole = decode_whole(c.input, c.limits);
        EXPECT_EQ(whole.status, c.status) << c.input;
        EXPECT_EQ(whole.error_status, c.error_status) << c.input;
        expect_same(whole, decode_bytewise(c.input, c.limits), c.input);
    }
}

}  // namespace
}  // namespace weir::http
