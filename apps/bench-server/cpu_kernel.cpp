#include "cpu_kernel.hpp"

#include <openssl/sha.h>

#include <array>
#include <cstring>
#include <stdexcept>

namespace bench {

// OpenSSL's SHA-256 block functions, called directly. bench-spec.md asks for
// OpenSSL's SHA-256 with the digest fetched once; the EVP path still costs a
// provider context allocation, its cleanse and a free per 64-byte hash (~25%
// of the kernel in perf), which the SHA256_* functions avoid. They are
// deprecated in OpenSSL 3 only in favour of EVP, not removed or slower.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

HexDigest sha256_chain_hex_fixed(int n) {
    std::array<unsigned char, 64> buf{};
    for (int i = 0; i < 64; ++i) buf[static_cast<std::size_t>(i)] = static_cast<unsigned char>(i);
    for (int i = 0; i < n; ++i) {
        SHA256_CTX ctx;
        if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, buf.data(), buf.size()) != 1 ||
            SHA256_Final(buf.data(), &ctx) != 1)
            throw std::runtime_error("OpenSSL: SHA256 failed");
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

std::string sha256_chain_hex(int n) {
    const HexDigest d = sha256_chain_hex_fixed(n);
    return std::string(d.data(), d.size());
}

}  // namespace bench
