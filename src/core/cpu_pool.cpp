#include "weir/core/cpu_pool.hpp"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

namespace weir::detail {
namespace {

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
    // Returns at once if the word changed since `expected` was read (EAGAIN), on a
    // wake-up, or spuriously (EINTR); the caller re-checks either way.
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
              nullptr, nullptr, 0);
}

void futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, count,
              nullptr, nullptr, 0);
}

void apply_priority(CpuPriority priority) noexcept {
    int rc = 0;
    if (priority == CpuPriority::background) {
        sched_param param{};
        rc = pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
    } else if (priority == CpuPriority::low) {
        // Linux: a thread id as the PRIO_PROCESS target renices that thread only.
        rc = ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 19) == 0 ? 0 : 1;
    }
    // Lowering one's own priority needs no privilege; if a sandbox refuses it
    // anyway, the computation still runs, only at normal priority.
    if (rc != 0) std::fprintf(stderr, "weir: to_cpu thread keeps normal priority\n");
}

std::size_t round_up_pow2(std::size_t n) noexcept {
    std::size_t p = 2;
    while (p < n) p <<= 1;
    return p;
}

}  // namespace

CpuPool::CpuPool(unsigned threads, CpuPriority priority, std::size_t capacity)
    : priority_(priority),
      thread_count_(threads ? threads : 1),
      mask_(round_up_pow2(capacity) - 1),
      cells_(std::make_unique<Cell[]>(mask_ + 1)) {
    for (std::size_t i = 0; i <= mask_; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
}

void CpuPool::start() {
    threads_.reserve(thread_count_);
    for (unsigned i = 0; i < thread_count_; ++i) {
        threads_.emplace_back([this] { work(); });
        pthread_setname_np(threads_.back().native_handle(), "weir-cpu");
    }
}

CpuPool::~CpuPool() {
    stopping_.store(true);
    signal_.fetch_add(1);
    futex_wake(signal_, static_cast<int>(threads_.size()));
    for (auto& t : threads_) t.join();
    // Whatever is left was withdrawn by its (long finished) task.
    while (CpuJob* job = pop()) run_or_free(job);
}

bool CpuPool::push(CpuJob* job) noexcept {
    std::uint64_t pos = enqueue_pos_.load(std::memory_order_relaxed);
    for (;;) {
        Cell& cell = cells_[pos & mask_];
        const std::uint64_t seq = cell.seq.load(std::memory_order_acquire);
        const auto diff = static_cast<std::int64_t>(seq - pos);
        if (diff == 0) {
            if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
                cell.job = job;
                cell.seq.store(pos + 1, std::memory_order_release);
                return true;
            }
        } else if (diff < 0) {
            return false;  // full: the cell still holds a job from one lap ago
        } else {
            pos = enqueue_pos_.load(std::memory_order_relaxed);
        }
    }
}

CpuJob* CpuPool::pop() noexcept {
    std::uint64_t pos = dequeue_pos_.load(std::memory_order_relaxed);
    for (;;) {
        Cell& cell = cells_[pos & mask_];
        const std::uint64_t seq = cell.seq.load(std::memory_order_acquire);
        const auto diff = static_cast<std::int64_t>(seq - (pos + 1));
        if (diff == 0) {
            if (dequeue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
                CpuJob* job = cell.job;
                cell.seq.store(pos + mask_ + 1, std::memory_order_release);
                return job;
            }
        } else if (diff < 0) {
            return nullptr;  // empty
        } else {
            pos = dequeue_pos_.load(std::memory_order_relaxed);
        }
    }
}

bool CpuPool::try_submit(CpuJob* job) {
    std::call_once(started_, [this] { start(); });
    if (!push(job)) return false;
    // Pairs with work(): a worker about to sleep either sees the new signal
    // value (and does not sleep) or is counted in sleepers_ and gets woken.
    signal_.fetch_add(1);
    if (sleepers_.load() > 0) futex_wake(signal_, 1);
    return true;
}

void CpuPool::run_or_free(CpuJob* job) noexcept {
    int expected = CpuJob::queued;
    if (job->state.compare_exchange_strong(expected, CpuJob::running, std::memory_order_acq_rel))
        job->run(job->self);  // the task frees the job once it has the result
    else
        delete job;  // withdrawn: its task has gone on without it
}

void CpuPool::work() noexcept {
    apply_priority(priority_);
    for (;;) {
        if (CpuJob* job = pop()) {
            run_or_free(job);
            continue;
        }
        const std::uint32_t seen = signal_.load();
        sleepers_.fetch_add(1);
        CpuJob* job = pop();
        if (!job && !stopping_.load()) futex_wait(signal_, seen);
        sleepers_.fetch_sub(1);
        if (job)
            run_or_free(job);
        else if (stopping_.load())
            return;
    }
}

}  // namespace weir::detail
