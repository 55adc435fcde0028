// sleep_for / sleep_until / yield: cancellable pauses of the current task.
#pragma once

#include "weir/core/clock.hpp"
#include "weir/core/detail/cancellable_wait.hpp"

namespace weir {

namespace detail {

class SleepAwaiter final : public CancellableWait {
public:
    explicit SleepAwaiter(TimePoint when) noexcept { timer_.when = when; }
    bool await_ready() noexcept { return cancel_requested(); }
    void await_suspend(std::coroutine_handle<> h) {
        timer_.fire = &SleepAwaiter::on_timer;
        timer_.self = this;
        loop()->add_timer(&timer_);
        park(h);
    }
    void await_resume() const { throw_if_cancelled(); }

private:
    void cancel_registration() noexcept override { loop()->remove_timer(&timer_); }
    static void on_timer(Timer* t) noexcept { static_cast<SleepTimer*>(t)->self->wake(); }
    struct SleepTimer : Timer {
        SleepAwaiter* self = nullptr;
    } timer_;
};

class YieldAwaiter final : public CancellableWait {
public:
    bool await_ready() noexcept { return cancel_requested(); }
    void await_suspend(std::coroutine_handle<> h) noexcept {
        // Not parked: a yield is always resumed from the queue, promptly.
        h_ = h;
        loop()->schedule(h, node_);
    }
    void await_resume() const { throw_if_cancelled(); }

private:
    void cancel_registration() noexcept override {}
};

}  // namespace detail

// Suspends the current task until `when`; throws Cancelled if cancelled first.
inline detail::SleepAwaiter sleep_until(TimePoint when) noexcept {
    return detail::SleepAwaiter(when);
}

// Suspends the current task for `d`; throws Cancelled if cancelled first.
template <class Rep, class Period>
detail::SleepAwaiter sleep_for(std::chrono::duration<Rep, Period> d) noexcept {
    return detail::SleepAwaiter(Clock::now() +
                                std::chrono::duration_cast<Duration>(d));
}

// Lets every other ready task run once before continuing (a checkpoint:
// throws Cancelled if the task is cancelled).
inline detail::YieldAwaiter yield() noexcept { return {}; }

}  // namespace weir
