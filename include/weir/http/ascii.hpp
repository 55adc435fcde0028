// ASCII character classes and case-insensitive comparison for HTTP tokens (RFC 9110 section 5.6).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

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

namespace detail {

// iequals() on one 8-byte word of each side: every byte pair is equal, or the two cases of
// one ASCII letter (the pair differs in bit 5 alone and that byte, lowered, is in 'a'..'z').
constexpr bool iequals_word(std::uint64_t x, std::uint64_t y) noexcept {
    constexpr std::uint64_t kBit5 = 0x2020202020202020ull;
    constexpr std::uint64_t kHigh = 0x8080808080808080ull;
    const std::uint64_t d = x ^ y;
    if (d == 0) return true;
    if ((d & ~kBit5) != 0) return false;
    const std::uint64_t lower = (x | kBit5) & ~kHigh;  // bit 7 cleared: no borrows
    const std::uint64_t ge_a = ((lower | kHigh) - 0x6161616161616161ull) & kHigh;
    const std::uint64_t le_z = ((0x7a7a7a7a7a7a7a7aull | kHigh) - lower) & kHigh;
    const std::uint64_t letter = ge_a & le_z & ~(x & kHigh);  // non-ASCII: no letter
    return ((d << 2) & ~letter) == 0;  // bit 5 of each differing byte, moved to bit 7
}

constexpr bool iequals_byte(char x, char y) noexcept {
    if (x == y) return true;
    const auto lx = static_cast<unsigned char>(x | 0x20);
    return (x ^ y) == 0x20 && lx >= 'a' && lx <= 'z';
}

}  // namespace detail

// ASCII case-insensitive equality (bytes >= 0x80 compare exactly).
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    std::size_t i = 0;
    if (!std::is_constant_evaluated()) {
        // Eight bytes at a time (header names are mostly 4 to 20 bytes long).
        for (; i + 8 <= a.size(); i += 8) {
            std::uint64_t x, y;
            std::memcpy(&x, a.data() + i, 8);
            std::memcpy(&y, b.data() + i, 8);
            if (!detail::iequals_word(x, y)) return false;
        }
    }
    for (; i < a.size(); ++i)
        if (!detail::iequals_byte(a[i], b[i])) return false;
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
