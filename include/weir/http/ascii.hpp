// ASCII character classes and case-insensitive comparison for HTTP tokens (RFC 9110 section 5.6).
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace weir::http {

namespace detail {

constexpr std::array<bool, 256> make_tchar_table() noexcept {
    std::array<bool, 256> table{};
    for (int c = '0'; c <= '9'; ++c) table[static_cast<std::size_t>(c)] = true;
    for (int c = 'a'; c <= 'z'; ++c) table[static_cast<std::size_t>(c)] = true;
    for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<std::size_t>(c)] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) {
        table[static_cast<unsigned char>(c)] = true;
    }
    return table;
}

inline constexpr std::array<bool, 256> tchar_table = make_tchar_table();

}  // namespace detail

// True for the characters allowed in a token (method, header name, transfer coding).
constexpr bool is_tchar(char c) noexcept {
    return detail::tchar_table[static_cast<unsigned char>(c)];
}

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Optional whitespace: SP or HTAB.
constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

// Value of a hexadecimal digit, or -1 if `c` is not one.
constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

constexpr char to_lower(char c) noexcept {
    // Branch-free: set bit 5 exactly for 'A'..'Z'.
    const auto u = static_cast<unsigned char>(c);
    return static_cast<char>(u | (static_cast<unsigned char>(u - 'A') < 26u ? 0x20u : 0u));
}

// ASCII case-insensitive equality (bytes >= 0x80 compare exactly).
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const char x = a[i];
        const char y = b[i];
        if (x == y) continue;  // the common case: a cheap compare per byte
        // Otherwise equal only as the two cases of one letter: differing in bit 5 alone.
        const auto lx = static_cast<unsigned char>(x | 0x20);
        if ((x ^ y) != 0x20 || lx < 'a' || lx > 'z') return false;
    }
    return true;
}

// Strips leading and trailing SP/HTAB.
constexpr std::string_view trim_ows(std::string_view s) noexcept {
    std::size_t begin = 0;
    std::size_t end = s.size();
    while (begin < end && is_ows(s[begin])) ++begin;
    while (end > begin && is_ows(s[end - 1])) --end;
    return s.substr(begin, end - begin);
}

}  // namespace weir::http
