// to_cpu(fn): run a CPU-heavy computation (hashing, compression, image or
// big-document work) on the runtime's CPU pool and resume the calling task on
// its own shard with the result (or the exception).
//
//     auto digest = co_await weir::to_cpu([&] { return sha256_chain(data, 2000); });
//
// to_thread is for blocking calls (they mostly sleep); to_cpu is for work
// that keeps a core busy. Its threads (RuntimeOptions::cpu_threads, one per
// core by default) run at CpuPriority::background by default, so the shards'
// I/O always wins a contended core: a burst of computations slows down other
// computations, not the requests that only wait on I/O. On a machine whose
// cores other processes keep busy, background computations get little CPU;
// choose CpuPriority::low or normal there.
//
// Priorities rank threads within one scheduling group. Where the kernel
// groups processes (autogroups: one per session, on by default on many
// kernels; cgroups: one per service), busy computations still get their
// group's full share against other groups, e.g. a database on the same host,
// which then waits for a core (measured: 92 ms). There, run the processes in
// one group, make the group of the computations idle (cgroup v2 `cpu.idle`),
// or give the pool fewer threads than cores. Even within one group there is
// a cost: a core that always has a computation to run never goes idle, and
// only an idle-going core pulls a waiting thread over at once; the others
// move on the periodic balance (a scheduler tick, up to 4 ms at HZ=250).
//
// fn must not wait for anything a shard does (it would be a deadlock, as in
// to_thread) and should not hold locks that shards take: at background
// priority a preempted holder may not run again for a while. That includes
// the allocator's (and, when a malloc arena grows, the address space's):
// a computation that returns a fixed-size result and allocates nothing is
// the one that can never hold a shard up.
//
// Cancellation: a computation still queued is withdrawn at once; one already
// running cannot be interrupted, so the task waits for it to return, discards
// the result and throws Cancelled (fn may capture locals by reference).
// When more than RuntimeOptions::cpu_queue computations are queued, callers
// wait for room (polling every millisecond).
#pragma once

#include <chrono>
#include <coroutine>
#include <memory>
#include <stdexcept>
#include <type_traits>

#include "weir/core/cpu_pool.hpp"
#include "weir/core/detail/call_outcome.hpp"
#include "weir/core/runtime.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/task.hpp"

namespace weir {

namespace detail {

template <class F>
class ToCpuAwaiter final : public Waiter {
public:
    using R = std::invoke_result_t<F&>;

    ToCpuAwaiter(F& fn, CpuPool& pool) noexcept : fn_(fn), pool_(pool) {
        done_.run = &ToCpuAwaiter::on_done;
        done_.self = this;
    }
    ToCpuAwaiter(const ToCpuAwaiter&) = delete;
    ToCpuAwaiter& operator=(const ToCpuAwaiter&) = delete;

    // Submits here rather than in await_suspend so that a full queue can be
    // reported (await_resume() == false) instead of suspending. The result
    // cannot arrive before we suspend: it is posted to this shard's loop, and
    // this thread is busy with us until then.
    bool await_ready() {
        node_ = current_node();
        if (node_->pending_cancel()) {
            cancelled_ = true;
            return true;
        }
        origin_ = node_->loop();
        auto job = std::make_unique<CpuJob>();
        job->run = &ToCpuAwaiter::run_job;
        job->self = this;
        if (!pool_.try_submit(job.get())) {
            full_ = true;
            return true;
        }
        job_ = job.release();
        return false;
    }
    void await_suspend(std::coroutine_handle<> h) noexcept {
        h_ = h;
        node_->waiter_ = this;
    }
    // false: the queue was full, nothing ran; try again later.
    bool await_resume() const {
        if (cancelled_) throw node_->make_cancelled();
        return !full_;
    }

    // The computation's result (or exception), once await_resume() returned true.
    R take() { return outcome_.take(); }

private:
    void on_cancel() noexcept override {
        cancelled_ = true;
        // Not started yet: withdraw it and go on now (a worker frees it when it
        // reaches it). Running: on_done() resumes us once fn returns.
        int expected = CpuJob::queued;
        if (job_->state.compare_exchange_strong(expected, CpuJob::withdrawn,
                                                std::memory_order_acq_rel)) {
            job_ = nullptr;
            origin_->schedule(h_, node_);
        }
    }

    // On a CPU pool thread.
    static void run_job(void* p) noexcept {
        auto* self = static_cast<ToCpuAwaiter*>(p);
        self->outcome_.run(self->fn_);
        self->origin_->post(&self->done_);  // the last thing this thread does with self
    }
    static void on_done(RemoteItem* item) noexcept {
        auto* self = static_cast<Done*>(item)->self;
        delete self->job_;
        self->job_ = nullptr;
        if (self->node_->waiter_ == self) self->node_->waiter_ = nullptr;
        self->origin_->schedule(self->h_, self->node_);
    }

    struct Done : RemoteItem {
        ToCpuAwaiter* self = nullptr;
    };

    F& fn_;
    CpuPool& pool_;
    CpuJob* job_ = nullptr;
    Done done_;
    TaskNode* node_ = nullptr;
    EventLoop* origin_ = nullptr;
    std::coroutine_handle<> h_;
    bool cancelled_ = false;
    bool full_ = false;
    CallOutcome<R> outcome_;
};

}  // namespace detail

template <class F>
Task<std::invoke_result_t<F&>> to_cpu(F fn) {
    Runtime* rt = Runtime::current();
    if (!rt) throw std::logic_error("to_cpu: no runtime on this thread");
    for (;;) {
        detail::ToCpuAwaiter<F> awaiter(fn, rt->cpu_pool());
        if (co_await awaiter) {
            if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
                awaiter.take();
                co_return;
            } else {
                co_return awaiter.take();
            }
        }
        co_await sleep_for(std::chrono::milliseconds(1));  // queue full: wait for room
    }
}

}  // namespace weir
