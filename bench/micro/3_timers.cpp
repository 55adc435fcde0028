// Micro-benchmarks of timers: with_timeout scopes that are armed and
// cancelled without firing (one at a time, and 100k pending at once), and
// 100k sleeps that fire in an order unrelated to the order they were armed.
#include <chrono>
#include <cstddef>
#include <vector>

#include <benchmark/benchmark.h>

#include <weir/core.hpp>

#include "micro_common.hpp"

using namespace std::chrono_literals;

namespace {

constexpr int kTimers = 100'000;

[[gnu::noinline]] weir::Task<int> trivial(int x) { co_return x + 1; }

// --- with_timeout around a trivial task: arm + cancel with an (almost) empty heap --------------

weir::Task<void> with_timeout_loop(benchmark::State& state) {
    int v = 0;
    for (auto _ : state) {
        auto inner = trivial(v);
        v = co_await weir::with_timeout(1h, std::move(inner));
        benchmark::DoNotOptimize(v);
    }
}

void BM_WithTimeoutNoFire(benchmark::State& state) {
    weir::Runtime rt(weir_bench::options());
    rt.run(with_timeout_loop(state));
    weir_bench::set_items(state, 1);  // items = with_timeout scopes
}
BENCHMARK(BM_WithTimeoutNoFire);

// --- 100k with_timeout scopes pending at once, then all cancelled (none fires) ----------------
// 100k children each wait on one Event inside with_timeout(1 h + random
// jitter), so 100k deadline timers are armed at once; then the event is
// set and every scope exits, removing its timer from a random heap
// position. The _Baseline twin does the same without with_timeout: the
// difference between the two is the cost of arming + cancelling a timer
// among 100k pending ones (plus the with_timeout coroutine itself).

weir::Task<void> timed_waiter(weir::Event& ev, weir::Duration timeout) {
    auto wait = weir::as_task(ev.wait());
    co_await weir::with_timeout(timeout, std::move(wait));
}

weir::Task<void> plain_waiter(weir::Event& ev) { co_await ev.wait(); }

weir::Task<void> pending_timeouts_loop(benchmark::State& state, bool with_timeouts) {
    const auto jitter = weir_bench::random_durations(kTimers, 1h, 1h + 1s);
    for (auto _ : state) {
        weir::Event ev;
        auto body = [&](weir::TaskGroup& g) -> weir::Task<void> {
            for (int i = 0; i < kTimers; ++i) {
                if (with_timeouts)
                    g.spawn(timed_waiter(ev, jitter[static_cast<std::size_t>(i)]));
                else
                    g.spawn(plain_waiter(ev));
            }
            co_await weir::yield();  // every child starts, arms its timer and waits
            ev.set();
        };
        co_await weir::task_group(body);
    }
}

void BM_TimerChurn_Pending100kTimeouts(benchmark::State& state) {
    weir::Runtime rt(weir_bench::options());
    rt.run(pending_timeouts_loop(state, true));
    weir_bench::set_items(state, kTimers);  // items = with_timeout scopes
}
BENCHMARK(BM_TimerChurn_Pending100kTimeouts)->Unit(benchmark::kMillisecond);

void BM_TimerChurn_Pending100kTimeouts_Baseline(benchmark::State& state) {
    weir::Runtime rt(weir_bench::options());
    rt.run(pending_timeouts_loop(state, false));
    weir_bench::set_items(state, kTimers);  // items = children (no timers)
}
BENCHMARK(BM_TimerChurn_Pending100kTimeouts_Baseline)->Unit(benchmark::kMillisecond);

// --- 100k sleeps that fire, in random order --------------------------------------------------
// Child i sleeps a random 0..1 ms, so the firing order (by deadline) is
// unrelated to the arming order. Arming 100k takes longer than 1 ms, so
// the loop barely idles: CPU time is the cost of arm + fire + resume (the
// task spawn/join share is measured by BM_TaskGroup10k).

weir::Task<void> sleeper(weir::Duration d) { co_await weir::sleep_for(d); }

weir::Task<void> sleeps_loop(benchmark::State& state) {
    const auto delays = weir_bench::random_durations(kTimers, 0ms, 1ms);
    for (auto _ : state) {
        auto body = [&](weir::TaskGroup& g) -> weir::Task<void> {
            for (int i = 0; i < kTimers; ++i) g.spawn(sleeper(delays[static_cast<std::size_t>(i)]));
            co_return;
        };
        co_await weir::task_group(body);
    }
}

void BM_TimerChurn_100kSleepsFire(benchmark::State& state) {
    weir::Runtime rt(weir_bench::options());
    rt.run(sleeps_loop(state));
    weir_bench::set_items(state, kTimers);  // items = sleeps
}
BENCHMARK(BM_TimerChurn_100kSleepsFire)->Unit(benchmark::kMillisecond);

}  // namespace
