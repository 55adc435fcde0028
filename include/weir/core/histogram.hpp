// Histogram: a fixed log2-bucket histogram of microsecond values that one
// thread writes and any thread may read (relaxed atomics, no locks).
// Buckets have Prometheus-style upper bounds 1, 2, 4, ... 2^24 us, then +Inf.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>

namespace weir {

class Histogram {
public:
    static constexpr std::size_t kBuckets = 26;  // le 2^0 .. 2^24 us, +Inf

    // Upper bound of bucket i in microseconds (the last bucket is +Inf).
    static constexpr std::uint64_t upper_bound_us(std::size_t i) noexcept {
        return std::uint64_t{1} << i;
    }

    // Single writer: the owning thread.
    void record(std::uint64_t us) noexcept {
        std::size_t b = us <= 1 ? 0 : static_cast<std::size_t>(std::bit_width(us - 1));
        if (b >= kBuckets) b = kBuckets - 1;
        bump(buckets_[b], 1);
        bump(count_, 1);
        bump(sum_us_, us);
    }

    struct Snapshot {
        std::array<std::uint64_t, kBuckets> buckets{};  // non-cumulative counts
        std::uint64_t count = 0;
        std::uint64_t sum_us = 0;
        // Smallest bucket bound below which at least q of the samples lie.
        std::uint64_t quantile_upper_bound_us(double q) const noexcept {
            if (count == 0) return 0;
            auto need = static_cast<std::uint64_t>(q * static_cast<double>(count));
            std::uint64_t seen = 0;
            for (std::size_t i = 0; i < kBuckets; ++i) {
                seen += buckets[i];
                if (seen >= need && seen > 0) return upper_bound_us(i);
            }
            return upper_bound_us(kBuckets - 1);
        }
    };

    Snapshot snapshot() const noexcept {
        Snapshot s;
        for (std::size_t i = 0; i < kBuckets; ++i)
            s.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
        s.count = count_.load(std::memory_order_relaxed);
        s.sum_us = sum_us_.load(std::memory_order_relaxed);
        return s;
    }

private:
    static void bump(std::atomic<std::uint64_t>& a, std::uint64_t by) noexcept {
        a.store(a.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
    }
    std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> sum_us_{0};
};

}  // namespace weir
