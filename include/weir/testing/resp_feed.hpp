// feed_resp: feeds bytes to a redis::RespParser the way a connection does,
// for parser tests and the RESP fuzzer. The input arrives in "socket reads"
// of the given sizes (cycled) and lands in a buffer of unconsumed bytes, or,
// with direct reads, straight in a big reply's storage (body_space /
// body_filled) whenever the buffer is empty; after each read every complete
// reply is taken out.
//
//     weir::redis::RespParser p;
//     auto fed = weir::testing::feed_resp(p, bytes, {1, 7, 4096}, /*direct=*/true);
//     fed.replies; fed.left; fed.direct;
//
// ProtocolError from the parser propagates; a parser claiming to have used
// more bytes than it was given throws std::logic_error.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "weir/redis/resp_parser.hpp"

namespace weir::testing {

struct RespFeed {
    std::vector<redis::Reply> replies;
    std::string left;        // bytes still buffered at the end
    std::size_t direct = 0;  // bytes that went straight into replies
};

inline RespFeed feed_resp(redis::RespParser& p, std::string_view in,
                          const std::vector<std::size_t>& sizes, bool direct) {
    RespFeed out;
    std::size_t fed = 0, k = 0;
    while (fed < in.size()) {
        std::size_t n = std::min(sizes[k++ % sizes.size()], in.size() - fed);
        const std::span<char> space =
            direct && out.left.empty() ? p.body_space() : std::span<char>();
        if (!space.empty()) {
            n = std::min(n, space.size());
            std::memcpy(space.data(), in.data() + fed, n);
            p.body_filled(n);
            out.direct += n;
        } else {
            out.left.append(in.substr(fed, n));
        }
        fed += n;
        for (;;) {
            std::size_t used = 0;
            auto r = p.parse(out.left, used);
            if (used > out.left.size()) throw std::logic_error("RespParser used too many bytes");
            out.left.erase(0, used);
            if (!r) break;
            out.replies.push_back(std::move(*r));
        }
    }
    return out;
}

}  // namespace weir::testing
