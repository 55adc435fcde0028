// Semaphore: a FIFO-fair counting semaphore for one shard, the article's
// tool for backpressure ("at most 50 outbound calls at once").
//
//     weir::Semaphore sem(50);
//     auto permit = co_await sem.acquire();   // released when `permit` dies
//
// Permits are handed directly to the longest waiter on release, so a stream
// of newcomers cannot overtake it. Waiting is cancellable and a cancelled
// waiter leaves the queue; acquire_for() bounds the wait (TimeoutError).
#pragma once

#include <cstddef>
#include <utility>

#include "weir/core/detail/cancellable_wait.hpp"
#include "weir/core/detail/wait_list.hpp"
#include "weir/core/task.hpp"
#include "weir/core/timeout.hpp"

namespace weir {

class Semaphore;

// RAII ownership of one permit.
class SemaphorePermit {
public:
    SemaphorePermit() noexcept = default;
    explicit SemaphorePermit(Semaphore* s) noexcept : sem_(s) {}
    SemaphorePermit(SemaphorePermit&& o) noexcept : sem_(std::exchange(o.sem_, nullptr)) {}
    SemaphorePermit& operator=(SemaphorePermit&& o) noexcept {
        if (this != &o) {
            release();
            sem_ = std::exchange(o.sem_, nullptr);
        }
        return *this;
    }
    ~SemaphorePermit() { release(); }
    void release() noexcept;
    bool owns() const noexcept { return sem_ != nullptr; }
    explicit operator bool() const noexcept { return owns(); }

private:
    Semaphore* sem_ = nullptr;
};

class Semaphore {
public:
    explicit Semaphore(std::size_t permits) noexcept : available_(permits) {}
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;

    class Acquire final : public detail::CancellableWait {
    public:
        explicit Acquire(Semaphore& s) noexcept : sem_(s) {}
        bool await_ready() noexcept {
            if (cancel_requested()) return true;
            // Only take a free permit if nobody queues before us (fairness).
            if (sem_.available_ > 0 && sem_.waiters_.empty()) {
                --sem_.available_;
                granted_ = true;
                return true;
            }
            return false;
        }
        void await_suspend(std::coroutine_handle<> h) noexcept {
            sem_.waiters_.push_back(this);
            park(h);
        }
        SemaphorePermit await_resume() {
            if (granted_) return SemaphorePermit(&sem_);
            throw_if_cancelled();
            return SemaphorePermit(&sem_);  // unreachable: woken means granted
        }

    private:
        friend class Semaphore;
        friend class detail::WaitList<Acquire>;
        void cancel_registration() noexcept override { sem_.waiters_.remove(this); }
        void grant() noexcept {
            granted_ = true;
            wake();
        }
        Semaphore& sem_;
        bool granted_ = false;
        Acquire* prev_ = nullptr;
        Acquire* next_ = nullptr;
        bool linked_ = false;
    };

    // Waits for a permit (FIFO); cancellable.
    [[nodiscard]] Acquire acquire() noexcept { return Acquire(*this); }

    // Waits at most `timeout` for a permit; throws TimeoutError.
    template <class Rep, class Period>
    Task<SemaphorePermit> acquire_for(std::chrono::duration<Rep, Period> timeout) {
        return with_timeout(timeout, as_task(acquire()));
    }

    // Takes a permit only if one is free right now.
    SemaphorePermit try_acquire() noexcept {
        if (available_ > 0 && waiters_.empty()) {
            --available_;
            return SemaphorePermit(this);
        }
        return {};
    }

    // Returns one permit: to the first waiter if there is one.
    void release() noexcept {
        if (Acquire* w = waiters_.pop_front())
            w->grant();
        else
            ++available_;
    }

    std::size_t available() const noexcept { return available_; }
    bool has_waiters() const noexcept { return !waiters_.empty(); }

private:
    std::size_t available_;
    detail::WaitList<Acquire> waiters_;
};

inline void SemaphorePermit::release() noexcept {
    if (sem_) std::exchange(sem_, nullptr)->release();
}

}  // namespace weir
