// Internal: the state behind redis::Connection (and redis::Subscriber): the
// socket, the output buffer, the FIFO of commands awaiting replies, the
// parser, and the "whoever waits drives" I/O loop.
#pragma once

#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "transport.hpp"
#include "weir/core/clock.hpp"
#include "weir/core/detail/cancellable_wait.hpp"
#include "weir/core/event.hpp"
#include "weir/core/task.hpp"
#include "weir/redis/command.hpp"
#include "weir/redis/connection.hpp"
#include "weir/redis/metrics.hpp"
#include "weir/redis/options.hpp"
#include "weir/redis/reply.hpp"
#include "weir/redis/resp_parser.hpp"

namespace weir::redis::detail {

// A task parked until something changes (its reply arrived, or it must
// take over driving the socket).
struct Waiter {
    Event ev;
    bool waiting = false;
};

// One entry of the reply FIFO: a command, or a whole pipeline.
struct Pending {
    std::size_t expected = 1;
    std::size_t received = 0;
    Reply reply;                 // expected == 1
    std::vector<Reply> replies;  // expected > 1
    std::exception_ptr error;
    TimePoint started;
    bool done = false;
    bool abandoned = false;
    Waiter waiter;
};

// Waits for readability (and writability while output is pending); the
// connection can also "kick" it awake when new output was queued.
class ReadyWait final : public weir::detail::CancellableWait, public weir::detail::IoOp {
public:
    ReadyWait(weir::detail::IoHandle* io, bool write, ReadyWait** parked) noexcept
        : io_(io), write_(write), parked_(parked) {}
    bool await_ready() {
        if (cancel_requested()) return true;
        if (!io_ || io_->fd < 0) return true;
        return io_->read_hint || io_->hangup;
    }
    void await_suspend(std::coroutine_handle<> h) noexcept {
        io_->reader = this;
        if (write_) io_->writer = this;
        *parked_ = this;
        park(h);
    }
    void await_resume() const { throw_if_cancelled(); }
    void kick() noexcept { on_ready(); }

private:
    void on_ready() noexcept override {
        cancel_registration();
        wake();
    }
    void cancel_registration() noexcept override {
        if (io_->reader == this) io_->reader = nullptr;
        if (io_->writer == this) io_->writer = nullptr;
        if (*parked_ == this) *parked_ = nullptr;
    }
    weir::detail::IoHandle* io_;
    bool write_;
    ReadyWait** parked_;
};

}  // namespace weir::redis::detail

namespace weir::redis {

struct Connection::Impl {
    using Pending = detail::Pending;
    using Waiter = detail::Waiter;

    ConnectionOptions options;
    std::shared_ptr<Metrics> metrics;
    detail::Transport transport;
    std::string out;
    std::size_t out_pos = 0;
    std::deque<std::shared_ptr<Pending>> queue;
    std::size_t abandoned_count = 0;
    RespParser parser;
    std::vector<char> in;
    std::size_t rpos = 0;
    std::size_t wpos = 0;
    bool driving = false;
    bool broken = true;  // until connected
    std::string broken_reason = "not connected";
    bool tls_failure = false;  // broken by TLS itself: pending commands get TlsError
    detail::ReadyWait* parked = nullptr;
    std::vector<Waiter*> waiters;
    Waiter* heir = nullptr;  // woken by hand_off() to take over driving
    int protocol = 2;
    // Subscriber mode: pub/sub frames go here instead of the FIFO.
    std::function<bool(Reply&)> push_sink;

    Impl();
    ~Impl();

    // Queues commands as one FIFO entry expecting `expected` replies
    // (0: nothing is expected back; returns null). Throws ConnectionError.
    std::shared_ptr<Pending> submit(const Command* cmds, std::size_t n, std::size_t expected,
                                    const Command* prefix = nullptr,
                                    const Command* suffix = nullptr);
    // Waits until the entry completes (driving the socket when nobody else
    // does); marks it abandoned if the wait ends early.
    Task<void> await_reply(std::shared_ptr<Pending> p);
    // Waits until done(ctx) (or the connection breaks), driving as needed.
    Task<void> wait_until(bool (*done)(void*), void* ctx, Waiter& w);

    void set_broken(const std::string& why, bool count_error = true) noexcept;
    void kick() noexcept;

private:
    Task<void> drive(bool (*done)(void*), void* ctx);
    void hand_off() noexcept;
    void flush() noexcept;
    enum class ReadStatus { data, again, closed };
    ReadStatus try_read() noexcept;
    void process() noexcept;
    void deliver(Reply r) noexcept;
};

}  // namespace weir::redis
