// CpuPool: the threads behind to_cpu(), one per core by default, for
// CPU-heavy computations (hashing, compression, parsing big documents).
//
// Unlike the to_thread pool (blocking calls, which mostly sleep), these
// threads compete with the shards for cores. By default they run under
// SCHED_IDLE, so a shard that becomes runnable always takes the core from a
// computation. That is only safe if a computation's thread can never hold
// something a shard waits for: queueing, the hand-off back to the shard
// (EventLoop::post) and the workers' sleep/wake are all lock-free here.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace weir {

// Scheduling class of the to_cpu threads (RuntimeOptions::cpu_priority).
enum class CpuPriority : std::uint8_t {
    background,  // SCHED_IDLE: only cycles nothing at normal priority wants
    low,         // nice 19: a small share of a busy core
    normal,      // the same as the shards
};

}  // namespace weir

namespace weir::detail {

// One queued computation. Heap-allocated by to_cpu, because a cancelled task
// goes on (and its frame may die) while the job is still in the queue: the
// worker that reaches a withdrawn job frees it; otherwise the task frees it
// once the worker has posted its result.
struct CpuJob {
    enum State : int { queued, running, withdrawn };
    std::atomic<int> state{queued};
    void (*run)(void* self) noexcept = nullptr;
    void* self = nullptr;
};

class CpuPool {
public:
    // capacity: most jobs queued at once (rounded up to a power of two).
    CpuPool(unsigned threads, CpuPriority priority, std::size_t capacity);
    ~CpuPool();
    CpuPool(const CpuPool&) = delete;
    CpuPool& operator=(const CpuPool&) = delete;

    // Queues the job for a worker; false when the queue is full.
    // Throws std::system_error if the threads cannot be started.
    bool try_submit(CpuJob* job);

    // Threads start with the first submission (most programs never compute).
    unsigned threads() const noexcept { return thread_count_; }
    CpuPriority priority() const noexcept { return priority_; }

private:
    struct Cell {
        std::atomic<std::uint64_t> seq;
        CpuJob* job = nullptr;
    };
    bool push(CpuJob* job) noexcept;
    CpuJob* pop() noexcept;
    void start();
    void work() noexcept;
    static void run_or_free(CpuJob* job) noexcept;

    CpuPriority priority_;
    unsigned thread_count_;
    std::once_flag started_;
    std::size_t mask_;
    std::unique_ptr<Cell[]> cells_;
    // A bounded multi-producer multi-consumer ring (each cell's sequence number
    // says whose turn it is), so neither side ever waits on a lock.
    alignas(64) std::atomic<std::uint64_t> enqueue_pos_{0};
    alignas(64) std::atomic<std::uint64_t> dequeue_pos_{0};
    // Futex word the idle workers sleep on; bumped by every submit.
    alignas(64) std::atomic<std::uint32_t> signal_{0};
    std::atomic<int> sleepers_{0};
    std::atomic<bool> stopping_{false};
    std::vector<std::thread> threads_;
};

}  // namespace weir::detail
