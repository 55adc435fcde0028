// Signals as awaitables: `int sig = co_await wait_for_signal(SIGINT, SIGTERM);`
//
// The runtime blocks its signals (RuntimeOptions::signals) in every thread
// and reads them from a signalfd on shard 0, so a handler is ordinary task
// code that chooses how to shut down. A signal nobody awaits falls back to
// the default policy: the first cancels main (reason shutdown), the next
// one terminates the process.
#pragma once

#include <signal.h>

#include <cstddef>
#include <initializer_list>

#include "weir/core/detail/cancellable_wait.hpp"
#include "weir/core/poller.hpp"
#include "weir/core/task.hpp"

namespace weir {

class CancelScope;

namespace detail {

class SignalHub {
public:
    SignalHub(EventLoop& loop, const sigset_t& signals);
    ~SignalHub();
    SignalHub(const SignalHub&) = delete;
    SignalHub& operator=(const SignalHub&) = delete;

    void set_main_scope(CancelScope* s) noexcept {
        main_scope_ = s;
        unhandled_ = 0;  // each run() starts with the gentle first-signal policy
    }
    bool handles(int sig) const noexcept { return sigismember(&signals_, sig) == 1; }

    class Wait final : public CancellableWait {
    public:
        Wait(SignalHub& hub, sigset_t wanted) noexcept : hub_(hub), wanted_(wanted) {}
        bool await_ready() noexcept { return cancel_requested(); }
        void await_suspend(std::coroutine_handle<> h) noexcept;
        int await_resume() const {
            throw_if_cancelled();
            return received_;
        }

    private:
        friend class SignalHub;
        void cancel_registration() noexcept override;
        SignalHub& hub_;
        sigset_t wanted_;
        int received_ = 0;
        Wait* prev_ = nullptr;
        Wait* next_ = nullptr;
    };

private:
    struct ReadOp final : IoOp {
        SignalHub* hub = nullptr;
        void on_ready() noexcept override;
    };
    void deliver(int sig) noexcept;

    EventLoop& loop_;
    sigset_t signals_;
    int fd_ = -1;
    IoHandle handle_;
    ReadOp op_;
    Wait* head_ = nullptr;
    CancelScope* main_scope_ = nullptr;
    int unhandled_ = 0;
};

}  // namespace detail

namespace detail {
// Checks the signals at once (std::invalid_argument for one the runtime does
// not handle, std::logic_error without signal handling) and returns the wait.
Task<int> wait_for_signals(const int* signals, std::size_t count);
}  // namespace detail

// Waits until one of `signals` arrives and returns its number. The signals
// must be among RuntimeOptions::signals (checked when called). Cancellable.
// Any shard may call it.
inline Task<int> wait_for_signal(std::initializer_list<int> signals) {
    return detail::wait_for_signals(signals.begin(), signals.size());
}

// The same with the signals as arguments: wait_for_signal(SIGINT, SIGTERM).
// Use this form directly inside co_await with g++ 12, which rejects a braced
// list there ("array used as initializer", a compiler bug).
template <class... More>
Task<int> wait_for_signal(int signal, More... more) {
    const int signals[] = {signal, static_cast<int>(more)...};
    return detail::wait_for_signals(signals, sizeof...(More) + 1);
}

}  // namespace weir
