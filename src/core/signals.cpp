#include "weir/core/signals.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include "weir/core/cancel_scope.hpp"
#include "weir/core/errors.hpp"
#include "weir/core/runtime.hpp"
#include "weir/core/submit.hpp"

namespace weir {
namespace detail {

SignalHub::SignalHub(EventLoop& loop, const sigset_t& signals) : loop_(loop), signals_(signals) {
    fd_ = ::signalfd(-1, &signals_, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd_ < 0) throw_errno("signalfd");
    handle_.fd = fd_;
    handle_.internal = true;
    op_.hub = this;
    handle_.reader = &op_;
    loop_.add_io(&handle_);
}

SignalHub::~SignalHub() {
    loop_.remove_io(&handle_);
    ::close(fd_);
}

void SignalHub::ReadOp::on_ready() noexcept {
    signalfd_siginfo info;
    while (::read(hub->fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info))
        hub->deliver(static_cast<int>(info.ssi_signo));
}

void SignalHub::deliver(int sig) noexcept {
    bool delivered = false;
    for (Wait* w = head_; w;) {
        Wait* next = w->next_;
        if (sigismember(&w->wanted_, sig) == 1) {
            w->received_ = sig;
            w->cancel_registration();  // unlink
            w->wake();
            delivered = true;
        }
        w = next;
    }
    if (delivered) return;
    // Nobody listens: first signal asks main to shut down, the next one
    // ends the process the way the signal normally would.
    if (main_scope_ && unhandled_++ == 0) {
        main_scope_->cancel(CancelReason::shutdown);
        return;
    }
    ::signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
    ::raise(sig);
}

void SignalHub::Wait::await_suspend(std::coroutine_handle<> h) noexcept {
    next_ = hub_.head_;
    prev_ = nullptr;
    if (next_) next_->prev_ = this;
    hub_.head_ = this;
    park(h);
}

void SignalHub::Wait::cancel_registration() noexcept {
    if (prev_)
        prev_->next_ = next_;
    else if (hub_.head_ == this)
        hub_.head_ = next_;
    if (next_) next_->prev_ = prev_;
    prev_ = next_ = nullptr;
}

}  // namespace detail

namespace {

Task<int> wait_here(sigset_t wanted) {
    Runtime* rt = Runtime::current();
    co_return co_await detail::SignalHub::Wait(*rt->signal_hub(), wanted);
}

Task<int> wait_anywhere(sigset_t wanted) {
    if (this_shard() == 0) co_return co_await wait_here(wanted);
    co_return co_await submit_to(0, [wanted] { return wait_here(wanted); });
}

}  // namespace

// Not a coroutine: the signals are read now, while the caller's list is
// alive (a lazy coroutine would read it later, when it may be gone).
Task<int> detail::wait_for_signals(const int* signals, std::size_t count) {
    Runtime* rt = Runtime::current();
    if (!rt || !rt->signal_hub()) throw std::logic_error("wait_for_signal: signals not handled");
    sigset_t wanted;
    sigemptyset(&wanted);
    for (std::size_t i = 0; i < count; ++i) {
        const int s = signals[i];
        if (!rt->signal_hub()->handles(s))
            throw std::invalid_argument("wait_for_signal: signal " + std::to_string(s) +
                                        " is not in RuntimeOptions::signals");
        sigaddset(&wanted, s);
    }
    return wait_anywhere(wanted);
}

}  // namespace weir
