// Shared scaffolding of weir's libFuzzer targets: a check that aborts (so libFuzzer records
// the input), a stable hash of the input to derive split points and limits from, and exact-size
// heap copies so that ASan catches a read past a piece's end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

#define FUZZ_CHECK(cond)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                 \
        }                                                                                 \
    } while (0)

namespace weir::fuzz {

// FNV-1a of the input: the same input always splits the same way.
inline std::uint64_t fnv1a(std::string_view data) {
    std::uint64_t h = 1469598103934665603ULL;
    for (char c : data) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    return h;
}

// An exact-size heap copy of some bytes.
struct HeapBuffer {
    std::unique_ptr<char[]> bytes;
    std::size_t size = 0;
    explicit HeapBuffer(std::string_view s)
        : bytes(new char[s.size() ? s.size() : 1]), size(s.size()) {
        if (!s.empty()) std::memcpy(bytes.get(), s.data(), s.size());
    }
    std::string_view view() const { return {bytes.get(), size}; }
};

// Two ordered split points in [0, size] derived from `seed`.
inline std::pair<std::size_t, std::size_t> split_points(std::uint64_t seed, std::size_t size) {
    std::size_t first = size == 0 ? 0 : seed % (size + 1);
    std::size_t second = size == 0 ? 0 : (seed >> 32) % (size + 1);
    if (first > second) std::swap(first, second);
    return {first, second};
}

}  // namespace weir::fuzz
