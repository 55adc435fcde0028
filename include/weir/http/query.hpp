// Percent-decoding of URL components and parsing of application/x-www-form-urlencoded queries.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weir::http {

// Thrown for a '%' not followed by two hexadecimal digits. A server answers it with 400.
class UrlDecodeError : public std::runtime_error {
public:
    UrlDecodeError(std::string_view input, std::size_t offset);
    std::size_t offset() const noexcept { return offset_; }  // of the bad '%' in the input

private:
    std::size_t offset_;
};

// Appends the decoding of `in` to `out`: %XX becomes the byte 0xXX, and '+' becomes a space when
// `plus_as_space` (query strings) but stays '+' otherwise (paths). Returns false on an invalid
// escape, in which case `out` holds what was decoded before it.
bool try_url_decode(std::string_view in, std::string& out, bool plus_as_space);

// Throws UrlDecodeError.
std::string url_decode(std::string_view in, bool plus_as_space = false);

// Splits a raw query ("a=1&b=x+y%21") at '&' into decoded (name, value) pairs, in order and with
// repeats kept. Empty fields ("a=1&&b=2") are skipped; a field without '=' has an empty value;
// only the first '=' separates. Throws UrlDecodeError.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view raw);

}  // namespace weir::http
