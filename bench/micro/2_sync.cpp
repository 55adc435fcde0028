// Micro-benchmarks of the single-shard sync primitives: Semaphore hand-off
// between two tasks and Channel<int> throughput.
#include <cstdint>

#include <benchmark/benchmark.h>

#include <weir/core.hpp>

#include "micro_common.hpp"

namespace {

// --- Semaphore ping-pong through two semaphores ------------------------------------------
// The timed task releases `ping` and waits on `pong`; the peer waits on
// `ping` and releases `pong`. One item = one round trip = two hand-offs,
// each a wake through the ready queue plus a suspend.

weir::Task<void> ponger(weir::Semaphore& ping, weir::Semaphore& pong, const bool& stop) {
    for (;;) {
        weir_bench::consume_permit(co_await ping.acquire());
        if (stop) co_return;
        pong.release();
    }
}

weir::Task<void> ping_pong_loop(benchmark::State& state) {
    weir::Semaphore ping(0);
    weir::Semaphore pong(0);
    bool stop = false;
    auto body = [&](weir::TaskGroup& g) -> weir::Task<void> {
        g.spawn(ponger(ping, pong, stop));
        for (auto _ : state) {
            ping.release();
            weir_bench::consume_permit(co_await pong.acquire());
        }
        stop = true;
        ping.release();
    };
    co_await weir::task_group(body);
}

void BM_SemaphorePingPong(benchmark::State& state) {
    weir::Runtime rt(weir_bench::options());
    rt.run(ping_pong_loop(state));
    weir_bench::set_items(state, 1);  // items = round trips
}
BENCHMARK(BM_SemaphorePingPong);

// --- One semaphore used as a lock, handed FIFO between two tasks ---------------------------
// Each task releases its permit (which goes straight to the other, waiting
// task) and queues for it again. One item = one hand-off.

weir::Task<void> lock_peer(weir::Semaphore& sem, const bool& stop) {
    auto permit = co_await sem.acquire();
    for (;;) {
        permit.release();
        if (stop) co_return;
        permit = co_await sem.acquire();
    }
}

weir::Task<void> lock_handoff_loop(benchmark::State& state) {
    weir::Semaphore sem(1);
    bool stop = false;
    auto body = [&](weir::TaskGroup& g) -> weir::Task<void> {
        auto permit = co_await sem.acquire();
        g.spawn(lock_peer(sem, stop));
        co_await weir::yield();  // the peer starts and queues behind us
        for (auto _ : state) {
            permit.release();                 // -> peer
            permit = co_await sem.acquire();  // <- peer
        }
        stop = true;
        permit.release();
    };
    co_await weir::task_group(body);
}

void BM_SemaphoreLockHandoff(benchmark::State& state) {
    weir::Runtime rt(weir_bench::options());
    rt.run(lock_handoff_loop(state));
    weir_bench::set_items(state, 2);  // items = hand-offs (two per iteration)
}
BENCHMARK(BM_SemaphoreLockHandoff);

// --- Channel<int> throughput: one producer (timed), one consumer task ------------------------

weir::Task<void> consumer(weir::Channel<int>& ch, std::int64_t& sum) {
    while (auto v = co_await ch.receive()) sum += *v;
}

weir::Task<void> channel_loop(benchmark::State& state, std::size_t capacity) {
    weir::Channel<int> ch(capacity);
    std::int64_t sum = 0;
    auto body = [&](weir::TaskGroup& g) -> weir::Task<void> {
        g.spawn(consumer(ch, sum));
        int i = 0;
        for (auto _ : state) {
            co_await ch.send(i);
            ++i;  // not in the co_await expression: clang 16 flags i++ there (-Wunsequenced)
        }
        ch.close();
    };
    co_await weir::task_group(body);
    benchmark::DoNotOptimize(sum);
}

void BM_Channel(benchmark::State& state) {
    weir::Runtime rt(weir_bench::options());
    rt.run(channel_loop(state, static_cast<std::size_t>(state.range(0))));
    weir_bench::set_items(state, 1);  // items = messages
}
BENCHMARK(BM_Channel)->ArgName("capacity")->Arg(1)->Arg(1024);

}  // namespace
