// Runtime: N shards (one event loop per thread, shared-nothing), a worker
// pool for blocking calls (to_thread), a CPU pool for computations (to_cpu),
// and signal delivery.
//
//     weir::Runtime rt;                      // one shard per core
//     int code = rt.run(main_task());        // main runs on shard 0
//
// run() returns main's value or rethrows its exception. Other shards are
// idle until work is sent to them (submit_to, on_all_shards). SIGINT and
// SIGTERM are delivered to wait_for_signal(); if nobody waits for them, the
// first one cancels main with reason shutdown and a second one ends the
// process the default way.
#pragma once

#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "weir/core/cpu_pool.hpp"
#include "weir/core/detail/child_task.hpp"
#include "weir/core/event_loop.hpp"
#include "weir/core/loop_stats.hpp"
#include "weir/core/task.hpp"
#include "weir/core/worker_pool.hpp"

namespace weir {

namespace detail {
class SignalHub;
}

struct RuntimeOptions {
    unsigned shards = 0;          // 0: one per available core
    unsigned worker_threads = 0;  // to_thread pool; 0: max(4, cores)
    unsigned cpu_threads = 0;     // to_cpu pool; 0: one per core
    // Scheduling class of the to_cpu threads; background: they only get the
    // cycles the shards (and everything else at normal priority) leave.
    CpuPriority cpu_priority = CpuPriority::background;
    std::size_t cpu_queue = 4096;  // computations queued at once before to_cpu waits
    std::chrono::microseconds slow_callback_threshold{50'000};
    // Called on the shard's thread for each slow callback; default: stderr.
    std::function<void(const SlowCallback&)> on_slow_callback{};
    // Before a shard sleeps in the poller, it polls without sleeping for up to this long (0: off).
    // Trades CPU for latency: a reply that arrives meanwhile is taken without the cost of
    // putting the thread (and, on a VM, its vCPU) to sleep and waking it. For a shard that
    // mostly waits on one peer (a client on one connection); it burns this much CPU per idle gap.
    std::chrono::microseconds busy_poll{0};
    bool handle_signals = true;  // deliver these through wait_for_signal()
    std::vector<int> signals{SIGINT, SIGTERM};
};

// What was still alive when run() returned (all zero for a clean program).
struct RuntimeLeaks {
    std::uint64_t tasks = 0;
    std::uint64_t user_timers = 0;
    std::uint64_t io_handles = 0;
    std::int64_t frames = 0;
    bool clean() const noexcept {
        return tasks == 0 && user_timers == 0 && io_handles == 0 && frames == 0;
    }
};

class Runtime {
public:
    explicit Runtime(RuntimeOptions options = {});
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    // Runs `main` on shard 0 (the calling thread) until it finishes.
    template <class T>
    T run(Task<T> main);

    unsigned shard_count() const noexcept { return static_cast<unsigned>(loops_.size()); }
    detail::EventLoop& loop(unsigned shard) noexcept { return *loops_[shard]; }
    LoopStats::Snapshot stats(unsigned shard) const { return loops_[shard]->stats().snapshot(); }
    detail::WorkerPool& workers() noexcept { return *workers_; }
    detail::CpuPool& cpu_pool() noexcept { return *cpu_pool_; }
    detail::SignalHub* signal_hub() noexcept { return signals_.get(); }
    const RuntimeOptions& options() const noexcept { return options_; }

    // What is alive right now, summed over shards (blocking: call it
    // between run()s, e.g. after run() returned, to check for leaks).
    RuntimeLeaks check_leaks();

    // The runtime whose shard runs on the calling thread (shard 0: once run()
    // was called); null elsewhere, including the to_thread and to_cpu threads.
    static Runtime* current() noexcept { return tls_runtime_; }

    // Runs fn() on `shard`'s thread and waits for it (blocking; not for use
    // inside tasks). For setup, teardown and tests.
    void run_on_shard_blocking(unsigned shard, const std::function<void()>& fn);

private:
    struct MainOwner final : detail::ChildOwner {
        bool done = false;
        void child_done(detail::ChildBase&) noexcept override { done = true; }
    };
    void begin_run(CancelScope* main_scope);
    void end_run();
    void shard_thread(unsigned shard);

    RuntimeOptions options_;
    std::vector<std::unique_ptr<detail::EventLoop>> loops_;
    std::unique_ptr<bool[]> stop_flags_;
    std::vector<std::thread> threads_;
    std::vector<detail::RemoteItem> stop_items_;
    std::unique_ptr<detail::WorkerPool> workers_;
    std::unique_ptr<detail::CpuPool> cpu_pool_;
    std::unique_ptr<detail::SignalHub> signals_;
    sigset_t old_mask_;
    static inline thread_local Runtime* tls_runtime_ = nullptr;
    friend class detail::SignalHub;
};

// The shard the calling task runs on.
inline unsigned this_shard() noexcept {
    auto* loop = detail::EventLoop::current();
    return loop ? loop->shard() : 0;
}

template <class T>
T Runtime::run(Task<T> main) {
    if (!main) throw std::invalid_argument("Runtime::run: empty task");
    detail::EventLoop& loop0 = *loops_[0];
    tls_runtime_ = this;
    loop0.bind_to_this_thread();
    MainOwner owner;
    const char* name = main.name() ? main.name() : "main";
    auto h = detail::start_child(std::move(main), &loop0, nullptr, &owner, name);
    struct Release {
        detail::ChildBase& c;
        ~Release() { c.release(); }
    } release{h.promise()};
    begin_run(&h.promise().node_.root_scope_);
    try {
        loop0.run_until(owner.done);
    } catch (...) {
        end_run();
        throw;
    }
    end_run();
    auto& p = h.promise();
    p.rethrow_outcome();
    if constexpr (!std::is_void_v<T>) return std::move(*p.value_);
}

}  // namespace weir
