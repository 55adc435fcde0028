// libFuzzer target for weir::http::ChunkedDecoder: decoding never yields more bytes than it
// consumed, and the result does not depend on how the input is split.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "fuzz_support.hpp"
#include "weir/http/chunked_decoder.hpp"

namespace {

using weir::fuzz::fnv1a;
using weir::fuzz::HeapBuffer;

using weir::http::ChunkedDecoder;
using weir::http::ChunkedLimits;
using weir::http::ChunkedResult;
using weir::http::ChunkedStatus;

struct Outcome {
    ChunkedStatus status = ChunkedStatus::NeedMore;
    std::size_t consumed = 0;
    std::string body;
    int error_status = 0;
    std::string_view reason;
};

void check_same(const Outcome& a, const Outcome& b) {
    FUZZ_CHECK(a.status == b.status);
    FUZZ_CHECK(a.consumed == b.consumed);
    FUZZ_CHECK(a.body == b.body);
    FUZZ_CHECK(a.error_status == b.error_status);
    FUZZ_CHECK(a.reason == b.reason);
}

// Feeds the pieces of `input` ending at `ends`, each from its own exact-size heap copy.
Outcome decode_pieces(std::string_view input, std::initializer_list<std::size_t> ends,
                      const ChunkedLimits& limits) {
    ChunkedDecoder decoder(limits);
    Outcome out;
    std::size_t begin = 0;
    for (std::size_t end : ends) {
        const std::size_t n = end - begin;
        const HeapBuffer copy(input.substr(begin, n));
        const ChunkedResult r = decoder.feed(copy.view(), out.body);
        FUZZ_CHECK(r.consumed <= n);
        out.status = r.status;
        out.consumed += r.consumed;
        out.error_status = r.error.status;
        out.reason = r.error.reason;
        if (r.status != ChunkedStatus::NeedMore) break;
        FUZZ_CHECK(r.consumed == n);
        begin = end;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::uint64_t seed = fnv1a(input);

    ChunkedLimits limits;
    if ((seed >> 60) < 8) {  // half of the inputs run with small limits, to reach them
        limits.max_body_bytes = (seed >> 8) % 512;
        limits.max_extension_bytes = (seed >> 20) % 16;
        limits.max_trailer_bytes = (seed >> 28) % 64;
    }

    const Outcome whole = decode_pieces(input, {size}, limits);
    FUZZ_CHECK(whole.consumed <= size);
    FUZZ_CHECK(whole.body.size() <= whole.consumed);
    FUZZ_CHECK(whole.body.size() <= limits.max_body_bytes);
    if (whole.status == ChunkedStatus::NeedMore) FUZZ_CHECK(whole.consumed == size);
    if (whole.status == ChunkedStatus::Error) {
        FUZZ_CHECK(whole.error_status == 400 || whole.error_status == 413 ||
                   whole.error_status == 431);
    }
    if (whole.status == ChunkedStatus::Done) {
        FUZZ_CHECK(input.substr(0, whole.consumed).substr(whole.consumed - 2) == "\r\n");
    }

    const auto [first, second] = weir::fuzz::split_points(seed, size);
    check_same(whole, decode_pieces(input, {first, size}, limits));
    check_same(whole, decode_pieces(input, {first, second, size}, limits));

    // Zero-copy stepping gives the same bytes, as views into the input.
    ChunkedDecoder decoder(limits);
    Outcome stepped;
    std::string_view rest = input;
    while (true) {
        const ChunkedResult r = decoder.step(rest);
        FUZZ_CHECK(r.consumed <= rest.size());
        if (r.status == ChunkedStatus::Data) {
            FUZZ_CHECK(!r.data.empty());
            FUZZ_CHECK(r.data.data() >= rest.data() &&
                       r.data.data() + r.data.size() == rest.data() + r.consumed);
            stepped.body.append(r.data);
        }
        stepped.consumed += r.consumed;
        rest.remove_prefix(r.consumed);
        if (r.status != ChunkedStatus::Data) {
            stepped.status = r.status;
            stepped.error_status = r.error.status;
            stepped.reason = r.error.reason;
            break;
        }
    }
    check_same(whole, stepped);
    FUZZ_CHECK(decoder.body_size() >= stepped.body.size());
    return 0;
}
