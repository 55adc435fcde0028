// libFuzzer target for weir::redis::RespParser: arbitrary bytes never crash it
// (they parse or throw ProtocolError), and the replies do not depend on how the
// input is split across reads, nor on whether big bulk bodies are read
// straight into the reply (body_space / body_filled) like a connection does.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "weir/redis/error.hpp"
#include "weir/redis/resp_parser.hpp"
#include "weir/testing/resp_feed.hpp"

namespace {

using weir::redis::Reply;
using weir::redis::RespLimits;
using weir::redis::RespParser;

struct Outcome {
    std::vector<Reply> replies;
    bool failed = false;
};

Outcome run(std::string_view in, std::size_t step, bool direct = false) {
    RespLimits limits;
    limits.max_bulk_length = 1 << 20;
    limits.max_elements = 1 << 16;
    RespParser p(limits);
    Outcome o;
    try {
        o.replies = weir::testing::feed_resp(p, in, {step}, direct).replies;
    } catch (const weir::redis::ProtocolError&) {
        o.failed = true;
    }
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    Outcome whole = run(in, size ? size : 1);
    for (std::size_t step : {std::size_t{1}, std::size_t{3}, std::size_t{64}, std::size_t{0}}) {
        // 0: direct reads (5-byte reads, so a big body's remaining bytes,
        // even of a short input, go through body_space()).
        Outcome split = step ? run(in, step) : run(in, 5, true);
        if (split.failed != whole.failed) {
            std::fprintf(stderr, "split %zu changed the outcome\n", step);
            std::abort();
        }
        if (!whole.failed && split.replies != whole.replies) {
            std::fprintf(stderr, "split %zu changed the replies\n", step);
            std::abort();
        }
        for (const Reply& r : split.replies) (void)r.debug_string();
    }
    return 0;
}
