// The article benchmark's CPU kernel against bench-spec.md's expected digests, and against a
// plain SHA-256 chain (the kernel hashes through OpenSSL's block function directly).
#include "bench-server/cpu_kernel.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace {

std::string evp_chain_hex(int n) {
    std::array<unsigned char, 64> buf{};
    for (int i = 0; i < 64; ++i) buf[static_cast<std::size_t>(i)] = static_cast<unsigned char>(i);
    for (int i = 0; i < n; ++i) {
        unsigned int len = 0;
        EXPECT_EQ(EVP_Digest(buf.data(), buf.size(), buf.data(), &len, EVP_sha256(), nullptr), 1);
        EXPECT_EQ(len, 32u);
        for (std::size_t j = 0; j < 32; ++j) buf[32 + j] = buf[j];
    }
    std::string hex;
    char two[3];
    for (std::size_t i = 0; i < 32; ++i) {
        std::snprintf(two, sizeof two, "%02x", buf[i]);
        hex += two;
    }
    return hex;
}

std::string hex_of(int n) { return std::string(bench::as_view(bench::sha256_chain_hex(n))); }

TEST(CpuKernel, MatchesTheSpecDigests) {
    EXPECT_EQ(hex_of(1), "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108");
    EXPECT_EQ(hex_of(200), "3e490c48dcc365f2b0be147d08587ef73d78d89761e544cb4e0e93473802bddc");
    EXPECT_EQ(hex_of(2000), "f85bf76aa08f95ce9433a6bb175f443bd87ff4cbd4bf5e7e006c845154fb578a");
}

TEST(CpuKernel, MatchesAPlainSha256ChainAtEveryLength) {
    for (int n : {2, 3, 17, 64, 255}) EXPECT_EQ(hex_of(n), evp_chain_hex(n)) << n;
}

}  // namespace
