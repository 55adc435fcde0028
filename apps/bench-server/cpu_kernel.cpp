#include "cpu_kernel.hpp"

#include <openssl/sha.h>

#include <array>
#include <cstdint>
#include <cstring>

namespace bench {

namespace {

// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
constexpr std::uint32_t kInitialHash[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                           0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

// The padding block of every 64-byte message: 0x80, zeros, the length in bits (512) big-endian.
constexpr std::array<unsigned char, 64> padding_block() {
    std::array<unsigned char, 64> b{};
    b[0] = 0x80;
    b[62] = 0x02;
    return b;
}
constexpr std::array<unsigned char, 64> kPadding = padding_block();

}  // namespace

// OpenSSL's SHA-256 block function, called directly. bench-spec.md asks for OpenSSL's SHA-256
// with the digest fetched once; the EVP path still costs a provider context allocation, its
// cleanse and a free per 64-byte hash (~25% of the kernel in perf), and SHA256_Init/Update/Final
// copy the message into the context and build its padding every time (~11% of what is left).
// Every message here is exactly one block, so a hash is the block, then the constant padding
// block, through SHA256_Transform. The SHA256_* functions are deprecated in OpenSSL 3 only in
// favour of EVP, not removed or slower.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

HexDigest sha256_chain_hex(int n) {
    std::array<unsigned char, 64> buf{};
    for (int i = 0; i < 64; ++i) buf[static_cast<std::size_t>(i)] = static_cast<unsigned char>(i);
    SHA256_CTX ctx{};
    for (int i = 0; i < n; ++i) {
        std::memcpy(ctx.h, kInitialHash, sizeof kInitialHash);
        SHA256_Transform(&ctx, buf.data());
        SHA256_Transform(&ctx, kPadding.data());
        for (std::size_t w = 0; w < 8; ++w) {  // the digest is the state, big-endian
            const std::uint32_t v = ctx.h[w];
            buf[4 * w] = static_cast<unsigned char>(v >> 24);
            buf[4 * w + 1] = static_cast<unsigned char>(v >> 16);
            buf[4 * w + 2] = static_cast<unsigned char>(v >> 8);
            buf[4 * w + 3] = static_cast<unsigned char>(v);
        }
        std::memcpy(buf.data() + 32, buf.data(), 32);
    }
#pragma GCC diagnostic pop
    static constexpr char kHex[] = "0123456789abcdef";
    HexDigest out;
    for (std::size_t i = 0; i < 32; ++i) {
        out[2 * i] = kHex[buf[i] >> 4];
        out[2 * i + 1] = kHex[buf[i] & 0xf];
    }
    return out;
}

}  // namespace bench
