// libFuzzer target for percent-decoding and query parsing (weir/http/query.hpp), which every
// request's path parameters and query string go through: decoding either succeeds or throws
// UrlDecodeError pointing at the bad '%', try_url_decode agrees with url_decode, every pair
// parse_query returns comes from a non-empty '&' field, and percent-encoding round-trips.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "weir/http/query.hpp"
#include "weir/http/url.hpp"

namespace {

using weir::http::UrlDecodeError;

void check_decode(std::string_view in, bool plus_as_space) {
    std::string tried;
    const bool ok = weir::http::try_url_decode(in, tried, plus_as_space);
    try {
        const std::string decoded = weir::http::url_decode(in, plus_as_space);
        FUZZ_CHECK(ok);
        FUZZ_CHECK(decoded == tried);
        FUZZ_CHECK(decoded.size() <= in.size());
    } catch (const UrlDecodeError& e) {
        FUZZ_CHECK(!ok);
        FUZZ_CHECK(e.offset() < in.size());
        FUZZ_CHECK(in[e.offset()] == '%');
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const weir::fuzz::HeapBuffer input(std::string_view(reinterpret_cast<const char*>(data), size));
    const std::string_view text = input.view();
    check_decode(text, false);
    check_decode(text, true);

    try {
        const auto pairs = weir::http::parse_query(text);
        std::size_t fields = 0;  // non-empty '&'-separated fields
        std::size_t start = 0;
        while (start <= text.size()) {
            std::size_t end = text.find('&', start);
            if (end == std::string_view::npos) end = text.size();
            if (end > start) ++fields;
            start = end + 1;
        }
        FUZZ_CHECK(pairs.size() == fields);
    } catch (const UrlDecodeError& e) {
        FUZZ_CHECK(e.offset() < text.size());
    }

    std::string encoded;
    weir::http::append_percent_encoded(encoded, text);
    for (char c : encoded) {
        const auto b = static_cast<unsigned char>(c);
        FUZZ_CHECK(b > 0x20 && b < 0x7f && c != '&' && c != '=' && c != '+' && c != '#');
    }
    FUZZ_CHECK(weir::http::url_decode(encoded, true) == text);
    return 0;
}
