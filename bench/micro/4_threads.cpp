// Micro-benchmarks that cross threads: to_thread round trip (shard ->
// worker pool -> shard) and submit_to round trip between two shards.
// Both are timed in wall-clock time (UseRealTime): the work is spread over
// several threads, so the CPU time of the timing thread alone would flatter
// them.
#include <benchmark/benchmark.h>

#include <weir/core.hpp>

#include "micro_common.hpp"

namespace {

// --- to_thread round trip: a trivial function on the worker pool -----------------------------

weir::Task<void> to_thread_loop(benchmark::State& state) {
    int x = 0;
    for (auto _ : state) {
        auto fn = [&x] { return ++x; };
        int v = co_await weir::to_thread(fn);
        benchmark::DoNotOptimize(v);
    }
}

void BM_ToThreadRoundTrip(benchmark::State& state) {
    weir::Runtime rt(weir_bench::options());
    rt.run(to_thread_loop(state));
    weir_bench::set_items(state, 1);  // items = round trips
}
BENCHMARK(BM_ToThreadRoundTrip)->UseRealTime();

// --- submit_to round trip: shard 0 -> shard 1 (a trivial Task there) -> shard 0 -------------

[[gnu::noinline]] weir::Task<int> remote_value(int x) { co_return x + 1; }

weir::Task<void> submit_loop(benchmark::State& state) {
    int v = 0;
    for (auto _ : state) {
        auto fn = [v] { return remote_value(v); };
        v = co_await weir::submit_to(1, fn);
        benchmark::DoNotOptimize(v);
    }
}

void BM_SubmitToRoundTrip(benchmark::State& state) {
    weir::Runtime rt(weir_bench::options(2));
    rt.run(submit_loop(state));
    weir_bench::set_items(state, 1);  // items = round trips
}
BENCHMARK(BM_SubmitToRoundTrip)->UseRealTime();

}  // namespace
