// libFuzzer target for weir::http::RequestParser: parsing the input whole and split at
// data-derived points must agree, and every view must point into the buffer it came from.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "fuzz_support.hpp"
#include "weir/http/chunked_decoder.hpp"
#include "weir/http/request_parser.hpp"

namespace {

using weir::fuzz::fnv1a;
using weir::fuzz::HeapBuffer;

using weir::http::ChunkedDecoder;
using weir::http::ChunkedStatus;
using weir::http::Header;
using weir::http::ParseResult;
using weir::http::ParserLimits;
using weir::http::RequestHead;
using weir::http::RequestParser;

bool inside(std::string_view view, std::string_view buffer) {
    if (view.empty()) return true;
    return view.data() >= buffer.data() &&
           view.data() + view.size() <= buffer.data() + buffer.size();
}

// Offset of a view in its buffer, for comparing heads parsed from different copies.
std::ptrdiff_t offset(std::string_view view, std::string_view buffer) {
    return view.empty() ? -1 : view.data() - buffer.data();
}

void check_head(const RequestHead& head, std::string_view buffer, const ParserLimits& limits) {
    FUZZ_CHECK(head.head_length > 0 && head.head_length <= buffer.size());
    FUZZ_CHECK(head.head_length <= limits.max_head_bytes);
    const std::string_view used = buffer.substr(0, head.head_length);
    FUZZ_CHECK(used.size() >= 4 && used.substr(used.size() - 4) == "\r\n\r\n");
    FUZZ_CHECK(inside(head.method_token, used) && !head.method_token.empty());
    FUZZ_CHECK(head.method_token.size() <= limits.max_method_length);
    FUZZ_CHECK(inside(head.target, used) && !head.target.empty());
    FUZZ_CHECK(head.target.size() <= limits.max_uri_length);
    FUZZ_CHECK(inside(head.authority, head.target));
    FUZZ_CHECK(inside(head.query, head.target));
    FUZZ_CHECK(inside(head.path, head.target) || (head.path == "/" && !head.authority.empty()));
    FUZZ_CHECK(!head.path.empty());
    FUZZ_CHECK(head.headers.size() <= limits.max_header_count);
    for (const Header& h : head.headers) {
        FUZZ_CHECK(inside(h.name, used) && !h.name.empty());
        FUZZ_CHECK(inside(h.value, used));
        for (char c : h.value) FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
    }
    FUZZ_CHECK(!(head.chunked && head.content_length.has_value()));
    if (head.version == weir::http::HttpVersion::Http11) FUZZ_CHECK(head.has_host);
    if (head.version == weir::http::HttpVersion::Http10) FUZZ_CHECK(!head.chunked);
}

void check_same(const ParseResult& a, const RequestHead& ha, std::string_view ba,
                const ParseResult& b, const RequestHead& hb, std::string_view bb) {
    FUZZ_CHECK(a.status == b.status);
    FUZZ_CHECK(a.error.status == b.error.status);
    FUZZ_CHECK(a.error.reason == b.error.reason);
    if (!a.complete()) return;
    FUZZ_CHECK(ha.head_length == hb.head_length);
    FUZZ_CHECK(ha.method == hb.method);
    FUZZ_CHECK(offset(ha.method_token, ba) == offset(hb.method_token, bb));
    FUZZ_CHECK(ha.method_token == hb.method_token);
    FUZZ_CHECK(offset(ha.target, ba) == offset(hb.target, bb));
    FUZZ_CHECK(ha.target == hb.target && ha.path == hb.path && ha.query == hb.query);
    FUZZ_CHECK(ha.authority == hb.authority);
    FUZZ_CHECK(ha.version == hb.version && ha.keep_alive == hb.keep_alive);
    FUZZ_CHECK(ha.content_length == hb.content_length && ha.chunked == hb.chunked);
    FUZZ_CHECK(ha.expect_continue == hb.expect_continue && ha.has_host == hb.has_host);
    FUZZ_CHECK(ha.headers.size() == hb.headers.size());
    for (std::size_t i = 0; i < ha.headers.size(); ++i) {
        FUZZ_CHECK(offset(ha.headers[i].name, ba) == offset(hb.headers[i].name, bb));
        FUZZ_CHECK(ha.headers[i].name == hb.headers[i].name);
        FUZZ_CHECK(ha.headers[i].value == hb.headers[i].value);
    }
}

// Parses one request head at the start of `input` whole and in three pieces; returns the head
// length if complete, else 0. `whole` keeps its head for the caller.
std::size_t check_request(std::string_view input, RequestParser& whole, const HeapBuffer& buffer,
                          std::uint64_t seed) {
    const ParserLimits& limits = whole.limits();
    whole.reset();
    const ParseResult expected = whole.parse(buffer.view());
    if (expected.complete()) check_head(whole.head(), buffer.view(), limits);
    if (expected.failed()) {
        FUZZ_CHECK(expected.error.status == 400 || expected.error.status == 414 ||
                   expected.error.status == 431 || expected.error.status == 501 ||
                   expected.error.status == 505);
        FUZZ_CHECK(!expected.error.reason.empty());
    }

    // The same input arriving in three pieces, each call with a fresh copy of the prefix.
    const auto [first, second] = weir::fuzz::split_points(seed, input.size());
    RequestParser split(limits);
    ParseResult got;
    std::unique_ptr<HeapBuffer> piece;
    for (std::size_t end : {first, second, input.size()}) {
        piece = std::make_unique<HeapBuffer>(input.substr(0, end));  // the old copy is freed
        got = split.parse(piece->view());
        if (!got.need_more()) break;
    }
    if (got.complete()) check_head(split.head(), piece->view(), limits);
    check_same(expected, whole.head(), buffer.view(), got, split.head(), piece->view());
    return expected.complete() ? whole.head().head_length : 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::uint64_t seed = fnv1a(input);

    ParserLimits limits;
    if ((seed >> 60) < 4) {  // a quarter of the inputs run with tiny limits, to reach them
        limits.max_head_bytes = 48 + (seed >> 8) % 64;
        limits.max_header_count = 1 + (seed >> 16) % 4;
        limits.max_uri_length = 1 + (seed >> 24) % 24;
        limits.max_method_length = 1 + (seed >> 32) % 8;
    }

    // Pipelined requests: parse a head, skip its body, parse the next one.
    RequestParser parser(limits);
    std::string_view rest = input;
    for (int request = 0; request < 8 && !rest.empty(); ++request) {
        const HeapBuffer buffer(rest);
        const std::size_t head_length = check_request(rest, parser, buffer, seed + request);
        if (head_length == 0) break;
        const RequestHead& head = parser.head();
        std::string_view body = buffer.view().substr(head_length);
        if (head.chunked) {
            weir::http::ChunkedLimits chunked_limits;
            chunked_limits.max_body_bytes = 4096;
            ChunkedDecoder decoder(chunked_limits);
            std::string decoded;
            const auto r = decoder.feed(body, decoded);
            if (r.status != ChunkedStatus::Done) break;
            FUZZ_CHECK(r.consumed <= body.size() && decoded.size() <= r.consumed);
            body.remove_prefix(r.consumed);
        } else if (head.content_length) {
            if (*head.content_length > body.size()) break;
            body.remove_prefix(static_cast<std::size_t>(*head.content_length));
        }
        rest = rest.substr(rest.size() - body.size());
    }
    return 0;
}
