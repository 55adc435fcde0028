// to_thread(fn): run blocking code (a synchronous library, a CPU-heavy
// computation, file I/O) on the runtime's bounded worker pool and resume the
// calling task on its own shard with the result (or the exception).
//
//     auto digest = co_await weir::to_thread([&] { return sha256_file(path); });
//
// Cancellation: a call still queued is withdrawn at once. A call already
// running cannot be interrupted (no thread can be, safely); the task then
// waits for it to return, discards the result and throws Cancelled. Because
// the task always waits, fn may safely capture locals by reference.
#pragma once

#include <coroutine>
#include <stdexcept>
#include <type_traits>

#include "weir/core/detail/call_outcome.hpp"
#include "weir/core/detail/cancellable_wait.hpp"
#include "weir/core/detail/child_task.hpp"
#include "weir/core/runtime.hpp"
#include "weir/core/task.hpp"
#include "weir/core/worker_pool.hpp"

namespace weir {

namespace detail {

template <class F>
class ToThreadAwaiter final : public Waiter {
public:
    using R = std::invoke_result_t<F&>;

    ToThreadAwaiter(F& fn, WorkerPool& pool) noexcept : fn_(fn), pool_(pool) {
        job_.run = &ToThreadAwaiter::run_job;
        job_.self = this;
        done_.run = &ToThreadAwaiter::on_done;
        done_.self = this;
    }

    bool await_ready() noexcept {
        node_ = current_node();
        if (node_->pending_cancel()) {
            cancelled_ = true;
            return true;
        }
        return false;
    }
    void await_suspend(std::coroutine_handle<> h) {
        h_ = h;
        origin_ = node_->loop();
        node_->waiter_ = this;
        pool_.submit(&job_);
    }
    R await_resume() {
        if (cancelled_) throw node_->make_cancelled();
        return outcome_.take();
    }

private:
    void on_cancel() noexcept override {
        cancelled_ = true;
        // Not started yet: take it back and resume now. Running: the done
        // item will resume us once fn returns.
        if (pool_.withdraw(&job_)) origin_->schedule(h_, node_);
    }

    static void run_job(PoolJob* job) noexcept {
        auto* self = static_cast<Job*>(job)->self;
        self->outcome_.run(self->fn_);
        self->origin_->post(&self->done_);
    }
    static void on_done(RemoteItem* item) noexcept {
        auto* self = static_cast<Done*>(item)->self;
        if (self->node_->waiter_ == self) self->node_->waiter_ = nullptr;
        self->origin_->schedule(self->h_, self->node_);
    }

    struct Job : PoolJob {
        ToThreadAwaiter* self = nullptr;
    };
    struct Done : RemoteItem {
        ToThreadAwaiter* self = nullptr;
    };

    F& fn_;
    WorkerPool& pool_;
    Job job_;
    Done done_;
    TaskNode* node_ = nullptr;
    EventLoop* origin_ = nullptr;
    std::coroutine_handle<> h_;
    bool cancelled_ = false;
    CallOutcome<R> outcome_;
};

}  // namespace detail

template <class F>
Task<std::invoke_result_t<F&>> to_thread(F fn) {
    Runtime* rt = Runtime::current();
    if (!rt) throw std::logic_error("to_thread: no runtime on this thread");
    detail::ToThreadAwaiter<F> awaiter(fn, rt->workers());
    co_return co_await awaiter;
}

}  // namespace weir
