// Shared helpers of the runtime micro-benchmarks (bench/micro/*.cpp, one
// binary: build/bin/weir_micro_bench).
//
// Pattern: each benchmark function builds one Runtime (outside the timed
// loop) and runs the whole `for (auto _ : state)` loop inside one coroutine
// on shard 0 (rt.run(body(state))), so what is timed is the per-iteration
// cost of the runtime operation, not runtime start-up. Runtime::run runs
// main on the calling thread, which is the thread Google Benchmark times.
// The files are numbered (1_tasks.cpp, 2_sync.cpp, ...) because benchmarks
// are listed in registration order, which follows the link order.
// Results and analysis: docs/benchmarks.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <new>
#include <random>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include <weir/core.hpp>

namespace weir_bench {

// One shard by default; no signal handling (Ctrl-C ends the benchmark the
// usual way). The slow-callback threshold is raised because benchmarks that
// never suspend run their whole timed loop inside one resume, which would
// otherwise be reported (on stderr) as a slow callback.
inline weir::RuntimeOptions options(unsigned shards = 1) {
    weir::RuntimeOptions o;
    o.shards = shards;
    o.handle_signals = false;
    o.slow_callback_threshold = std::chrono::hours(1);
    return o;
}

// Items per iteration as a rate (items/s) and, inverted, as time per item.
inline void set_items(benchmark::State& state, std::int64_t per_iteration) {
    const auto items = static_cast<double>(state.iterations()) * static_cast<double>(per_iteration);
    state.SetItemsProcessed(static_cast<std::int64_t>(items));
    state.counters["time_per_item"] =
        benchmark::Counter(items, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Keeps a permit from ever returning to its semaphore: the "signal" use of a
// semaphore (release on one side, acquire on the other), which the RAII
// permit does not offer directly. The permit is moved into storage that is
// never destroyed, so its destructor (which would release) never runs.
inline void consume_permit(weir::SemaphorePermit&& permit) noexcept {
    alignas(weir::SemaphorePermit) unsigned char slot[sizeof(weir::SemaphorePermit)];
    ::new (static_cast<void*>(slot)) weir::SemaphorePermit(std::move(permit));
}

// n durations uniformly drawn from [lo, hi], fixed seed (same every run).
inline std::vector<weir::Duration> random_durations(std::size_t n, weir::Duration lo,
                                                    weir::Duration hi) {
    std::mt19937_64 rng(12345);
    std::uniform_int_distribution<weir::Duration::rep> dist(lo.count(), hi.count());
    std::vector<weir::Duration> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.emplace_back(dist(rng));
    return out;
}

}  // namespace weir_bench
