#include "weir/core/worker_pool.hpp"

#include <pthread.h>

namespace weir::detail {

WorkerPool::WorkerPool(unsigned threads) {
    threads_.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) {
        threads_.emplace_back([this] { work(); });
        pthread_setname_np(threads_.back().native_handle(), "weir-worker");
    }
}

WorkerPool::~WorkerPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
}

void WorkerPool::submit(PoolJob* job) {
    {
        std::lock_guard lock(mutex_);
        job->next = nullptr;
        job->prev = tail_;
        if (tail_)
            tail_->next = job;
        else
            head_ = job;
        tail_ = job;
        job->queued = true;
    }
    cv_.notify_one();
}

bool WorkerPool::withdraw(PoolJob* job) noexcept {
    std::lock_guard lock(mutex_);
    if (!job->queued) return false;
    if (job->prev)
        job->prev->next = job->next;
    else
        head_ = job->next;
    if (job->next)
        job->next->prev = job->prev;
    else
        tail_ = job->prev;
    job->queued = false;
    return true;
}

void WorkerPool::work() {
    for (;;) {
        PoolJob* job;
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [this] { return stopping_ || head_; });
            if (!head_) return;  // stopping and drained
            job = head_;
            head_ = job->next;
            if (head_)
                head_->prev = nullptr;
            else
                tail_ = nullptr;
            job->queued = false;
        }
        job->run(job);
    }
}

}  // namespace weir::detail
