// The outcome of rejecting malformed HTTP input: the status to answer with and a short reason.
#pragma once

#include <string_view>

namespace weir::http {

// Returned (not thrown) by the incremental parsers, because malformed input from a peer is an
// expected outcome on the hot path. The server turns it into a response and closes the
// connection. `reason` always points to a string literal, so it never dangles.
struct ParseError {
    int status = 0;           // 400, 413, 414, 431, 501 or 505
    std::string_view reason;  // short, human readable, safe to send to the client
};

}  // namespace weir::http
