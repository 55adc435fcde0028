// WorkerPool: a bounded set of threads for blocking calls (see to_thread).
// Jobs are intrusive and queued FIFO; a job that has not started yet can be
// withdrawn, one that runs cannot be interrupted.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace weir::detail {

struct PoolJob {
    PoolJob* prev = nullptr;
    PoolJob* next = nullptr;
    bool queued = false;
    void (*run)(PoolJob*) noexcept = nullptr;
};

class WorkerPool {
public:
    explicit WorkerPool(unsigned threads);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    void submit(PoolJob* job);
    // Removes a job that has not started; false if a worker already took it.
    bool withdraw(PoolJob* job) noexcept;
    unsigned threads() const noexcept { return static_cast<unsigned>(threads_.size()); }

private:
    void work();

    std::mutex mutex_;
    std::condition_variable cv_;
    PoolJob* head_ = nullptr;
    PoolJob* tail_ = nullptr;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace weir::detail
