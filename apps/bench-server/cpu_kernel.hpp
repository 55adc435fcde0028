// The benchmark's CPU kernel (bench-spec.md): an iterated SHA-256 chain over a
// 64-byte buffer, on OpenSSL's SHA-256 block function (no per-hash allocation).
#pragma once

#include <array>
#include <string_view>

namespace bench {

// buf = 00 01 .. 3f; n times: d = SHA256(buf), buf = d || d; returns the
// lowercase hex of the last d (n >= 1). Thread-safe; never blocks. A fixed
// buffer, no allocation: a to_cpu thread running it never takes the
// allocator's locks (nor, when an arena grows, the address space's).
using HexDigest = std::array<char, 64>;
HexDigest sha256_chain_hex(int n);

inline std::string_view as_view(const HexDigest& d) noexcept { return {d.data(), d.size()}; }

}  // namespace bench
