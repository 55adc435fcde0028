// Micro-benchmarks of tasks and structured concurrency: Task create+await,
// await chains, TaskGroup spawn+join, when_all.
#include <cstdint>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include <weir/core.hpp>

#include "micro_common.hpp"

namespace {

constexpr int kChainDepth = 10;
constexpr int kGroupChildren = 10'000;

// noinline: the callee is opaque to the caller, as a coroutine defined in
// another translation unit is, so the frame cannot be elided (HALO) and
// every iteration pays for a real frame allocation.
[[gnu::noinline]] weir::Task<int> trivial(int x) { co_return x + 1; }

// Inlinable twin: shows what the compiler can do when it sees the callee.
inline weir::Task<int> trivial_inline(int x) { co_return x + 1; }

[[gnu::noinline]] weir::Task<int> chain(int depth) {
    if (depth == 0) co_return 0;
    co_return 1 + co_await chain(depth - 1);
}

[[gnu::noinline]] weir::Task<void> noop_child() { co_return; }

// --- Task create + await: one trivial Task<int> per iteration ------------------------------

weir::Task<void> create_await_loop(benchmark::State& state) {
    int v = 0;
    for (auto _ : state) {
        v = co_await trivial(v);
        benchmark::DoNotOptimize(v);
    }
}

void BM_TaskCreateAwait(benchmark::State& state) {
    weir::Runtime rt(weir_bench::options());
    rt.run(create_await_loop(state));
    weir_bench::set_items(state, 1);
}
BENCHMARK(BM_TaskCreateAwait);

weir::Task<void> create_await_inline_loop(benchmark::State& state) {
    int v = 0;
    for (auto _ : state) {
        v = co_await trivial_inline(v);
        benchmark::DoNotOptimize(v);
    }
}

void BM_TaskCreateAwait_Inlinable(benchmark::State& state) {
    weir::Runtime rt(weir_bench::options());
    rt.run(create_await_inline_loop(state));
    weir_bench::set_items(state, 1);
}
BENCHMARK(BM_TaskCreateAwait_Inlinable);

// --- Await chain of depth 10: 11 frames, 10 nested awaits per iteration ------------------

weir::Task<void> chain_loop(benchmark::State& state) {
    for (auto _ : state) {
        int v = co_await chain(kChainDepth);
        benchmark::DoNotOptimize(v);
    }
}

void BM_AwaitChain10(benchmark::State& state) {
    weir::Runtime rt(weir_bench::options());
    rt.run(chain_loop(state));
    weir_bench::set_items(state, 1);  // items = whole chains
}
BENCHMARK(BM_AwaitChain10);

// --- TaskGroup with 10,000 children: spawn all, then join ----------------------------------

weir::Task<void> task_group_loop(benchmark::State& state) {
    for (auto _ : state) {
        auto body = [](weir::TaskGroup& g) -> weir::Task<void> {
            for (int i = 0; i < kGroupChildren; ++i) g.spawn(noop_child());
            co_return;
        };
        co_await weir::task_group(body);
    }
}

void BM_TaskGroup10k(benchmark::State& state) {
    weir::Runtime rt(weir_bench::options());
    rt.run(task_group_loop(state));
    weir_bench::set_items(state, kGroupChildren);  // items = children
}
BENCHMARK(BM_TaskGroup10k);

// --- when_all of 2 tasks (variadic) and of 16 tasks (vector) ---------------------------------

weir::Task<void> when_all2_loop(benchmark::State& state) {
    for (auto _ : state) {
        auto a = trivial(1);
        auto b = trivial(2);
        auto [x, y] = co_await weir::when_all(std::move(a), std::move(b));
        benchmark::DoNotOptimize(x);
        benchmark::DoNotOptimize(y);
    }
}

void BM_WhenAll2(benchmark::State& state) {
    weir::Runtime rt(weir_bench::options());
    rt.run(when_all2_loop(state));
    weir_bench::set_items(state, 1);  // items = when_all calls
}
BENCHMARK(BM_WhenAll2);

weir::Task<void> when_all16_loop(benchmark::State& state) {
    for (auto _ : state) {
        std::vector<weir::Task<int>> tasks;
        tasks.reserve(16);
        for (int i = 0; i < 16; ++i) tasks.push_back(trivial(i));
        auto results = co_await weir::when_all(std::move(tasks));
        benchmark::DoNotOptimize(results.data());
    }
}

void BM_WhenAll16(benchmark::State& state) {
    weir::Runtime rt(weir_bench::options());
    rt.run(when_all16_loop(state));
    weir_bench::set_items(state, 1);  // items = when_all calls
}
BENCHMARK(BM_WhenAll16);

}  // namespace
