// Event: a one-shard flag that tasks can wait for (asyncio.Event).
// set() wakes every waiter; wait() returns at once while the flag is set.
#pragma once

#include "weir/core/detail/cancellable_wait.hpp"
#include "weir/core/detail/wait_list.hpp"

namespace weir {

class Event {
public:
    Event() = default;
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;

    class Wait final : public detail::CancellableWait {
    public:
        explicit Wait(Event& e) noexcept : ev_(e) {}
        bool await_ready() noexcept { return cancel_requested() || ev_.set_; }
        void await_suspend(std::coroutine_handle<> h) noexcept {
            ev_.waiters_.push_back(this);
            park(h);
        }
        void await_resume() const {
            if (!woken_) throw_if_cancelled();
        }

    private:
        friend class Event;
        friend class detail::WaitList<Wait>;
        void cancel_registration() noexcept override { ev_.waiters_.remove(this); }
        Event& ev_;
        bool woken_ = false;
        Wait* prev_ = nullptr;
        Wait* next_ = nullptr;
        bool linked_ = false;
    };

    [[nodiscard]] Wait wait() noexcept { return Wait(*this); }

    void set() noexcept {
        set_ = true;
        while (Wait* w = waiters_.pop_front()) {
            w->woken_ = true;
            w->wake();
        }
    }
    void clear() noexcept { set_ = false; }
    bool is_set() const noexcept { return set_; }

private:
    bool set_ = false;
    detail::WaitList<Wait> waiters_;
};

}  // namespace weir
