#include "cpu_kernel.hpp"

#include <openssl/evp.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace bench {

namespace {

struct MdDeleter {
    void operator()(EVP_MD* md) const noexcept { EVP_MD_free(md); }
};
struct CtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

// Fetched once per thread too: EVP_MD objects are reference counted and
// thread-safe, but a per-thread copy keeps the hot path free of shared state.
struct Sha256 {
    std::unique_ptr<EVP_MD, MdDeleter> md{EVP_MD_fetch(nullptr, "SHA256", nullptr)};
    std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx{EVP_MD_CTX_new()};
    Sha256() {
        if (!md || !ctx) throw std::runtime_error("OpenSSL: SHA256 unavailable");
    }
};

}  // namespace

std::string sha256_chain_hex(int n) {
    thread_local Sha256 sha;
    std::array<unsigned char, 64> buf{};
    for (int i = 0; i < 64; ++i) buf[static_cast<std::size_t>(i)] = static_cast<unsigned char>(i);
    unsigned int len = 0;
    for (int i = 0; i < n; ++i) {
        if (EVP_DigestInit_ex(sha.ctx.get(), sha.md.get(), nullptr) != 1 ||
            EVP_DigestUpdate(sha.ctx.get(), buf.data(), buf.size()) != 1 ||
            EVP_DigestFinal_ex(sha.ctx.get(), buf.data(), &len) != 1 || len != 32)
            throw std::runtime_error("OpenSSL: SHA256 failed");
        std::memcpy(buf.data() + 32, buf.data(), 32);
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(64, '0');
    for (std::size_t i = 0; i < 32; ++i) {
        out[2 * i] = kHex[buf[i] >> 4];
        out[2 * i + 1] = kHex[buf[i] & 0xf];
    }
    return out;
}

void lower_thread_priority(int nice) {
    thread_local int applied = 0;
    if (nice <= 0 || applied == nice) return;
    // Linux: a thread id as PRIO_PROCESS target sets that thread's nice value only.
    const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
    if (::setpriority(PRIO_PROCESS, tid, nice) == 0) applied = nice;
}

}  // namespace bench
