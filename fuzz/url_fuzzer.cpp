// libFuzzer target for weir::http::Url: parse() and resolve() (a redirect's Location header,
// chosen by the peer) either throw InvalidUrl or give a URL the client can write into a request
// line unchanged: http(s) scheme, a host without separators or control bytes, a port, and a
// target that starts with '/' and holds no space or control byte. to_string() parses back to
// the same URL.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

#include "fuzz_support.hpp"
#include "weir/http/client_errors.hpp"
#include "weir/http/url.hpp"

namespace {

using weir::http::InvalidUrl;
using weir::http::Url;

void check_writable(const Url& u) {
    FUZZ_CHECK(u.scheme == "http" || u.scheme == "https");
    FUZZ_CHECK(!u.host.empty());
    for (char c : u.host) {
        const auto b = static_cast<unsigned char>(c);
        FUZZ_CHECK(b > 0x20 && c != '/' && c != '?' && c != '#' && c != '@');
    }
    FUZZ_CHECK(u.port != 0);
    FUZZ_CHECK(!u.target.empty() && u.target.front() == '/');
    for (char c : u.target) {
        const auto b = static_cast<unsigned char>(c);
        FUZZ_CHECK(b > 0x20 && b != 0x7f && c != '#');
    }
}

void check_round_trip(const Url& u) {
    Url again;
    try {
        again = Url::parse(u.to_string());
    } catch (const InvalidUrl&) {
        FUZZ_CHECK(!"to_string() of a parsed URL does not parse");
    }
    FUZZ_CHECK(std::tie(again.scheme, again.host, again.port, again.target) ==
               std::tie(u.scheme, u.host, u.port, u.target));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const weir::fuzz::HeapBuffer input(std::string_view(reinterpret_cast<const char*>(data), size));
    const std::string_view text = input.view();
    // The first line is parsed as a URL; the rest, if any, is resolved against it (or against a
    // fixed base when the first line is not a URL), as a Location header would be.
    const std::size_t nl = text.find('\n');
    const std::string_view first = text.substr(0, nl);
    const std::string_view reference =
        nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    Url base = Url::parse("http://example.org:8080/a/b?x=1");
    try {
        Url u = Url::parse(first);
        check_writable(u);
        // userinfo is not written back by to_string(); only URLs without it round-trip.
        if (u.userinfo.empty() && u.host.find_first_of("[]") == std::string::npos)
            check_round_trip(u);
        base = u;
    } catch (const InvalidUrl&) {
    }
    if (nl != std::string_view::npos) {
        try {
            Url r = base.resolve(reference);
            check_writable(r);
        } catch (const InvalidUrl&) {
        }
    }
    return 0;
}
