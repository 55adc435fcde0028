// Tests of weir::http::iequals (eight bytes at a time, against a byte-by-byte reference).
#include "weir/http/ascii.hpp"

#include <string>

#include <gtest/gtest.h>

namespace weir::http {
namespace {

bool reference_iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) {
            return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
        };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

TEST(Iequals, HeaderNames) {
    EXPECT_TRUE(iequals("Transfer-Encoding", "transfer-encoding"));
    EXPECT_TRUE(iequals("CONTENT-LENGTH", "content-length"));
    EXPECT_TRUE(iequals("", ""));
    EXPECT_FALSE(iequals("Content-Length", "content-lengtx"));
    EXPECT_FALSE(iequals("Content-Length", "content-length "));
    EXPECT_FALSE(iequals("Content-Type", "Content_Type"));
    static_assert(iequals("Keep-Alive", "keep-alive"));
    static_assert(!iequals("Keep-Alive", "keep-alivf"));
}

// Every pair of byte values, at every position of a word and of the byte tail, inside names
// of lengths 1 to 19: the word path must answer as the reference does (bit 5 pairs such as
// '@'/'`', '['/'{', CR/'-' and non-ASCII bytes must not compare equal).
TEST(Iequals, EveryBytePairAtEveryPosition) {
    for (std::size_t len : {1u, 7u, 8u, 9u, 16u, 19u}) {
        for (std::size_t pos = 0; pos < len; ++pos) {
            std::string a(len, 'x');
            std::string b(len, 'X');
            for (int x = 0; x < 256; ++x) {
                for (int y = 0; y < 256; ++y) {
                    a[pos] = static_cast<char>(x);
                    b[pos] = static_cast<char>(y);
                    if (iequals(a, b) != reference_iequals(a, b)) {
                        ADD_FAILURE()
                            << "len " << len << " pos " << pos << " bytes " << x << "," << y;
                        return;
                    }
                }
            }
        }
    }
}

}  // namespace
}  // namespace weir::http
