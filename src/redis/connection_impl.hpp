// Internal: the state behind redis::Connection (and redis::Subscriber): the
// socket, the output buffer, the FIFO of commands awaiting replies, the
// parser, and the "whoever waits drives" I/O loop.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "transport.hpp"
#include "weir/core/clock.hpp"
#include "weir/core/detail/cancellable_wait.hpp"
#include "weir/core/detail/wait_list.hpp"
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
// take over driving the socket). Linked into Impl::waiters while parked.
struct Waiter {
    Event ev;
    bool waiting = false;
    Waiter* prev_ = nullptr;
    Waiter* next_ = nullptr;
    bool linked_ = false;
};

// One entry of the reply FIFO: a command, or a whole pipeline. Entries are
// recycled by their connection (no allocation per command in steady state).
struct Pending {
    std::size_t expected = 1;
    std::size_t received = 0;
    Reply reply;                 // expected == 1
    std::vector<Reply> replies;  // expected > 1
    std::exception_ptr error;
    TimePoint written{};  // when the write that carried the command started
    bool done = false;
    bool abandoned = false;
    Waiter waiter;
    // Links in the FIFO (next_ also in the connection's free list).
    Pending* prev_ = nullptr;
    Pending* next_ = nullptr;
    bool linked_ = false;
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
    class PendingRef;

    ConnectionOptions options;
    std::shared_ptr<Metrics> metrics;
    detail::Transport transport;
    std::string out;
    std::size_t out_pos = 0;
    weir::detail::WaitList<Pending> queue;
    std::size_t queued = 0;        // entries in queue
    Pending* unstamped = nullptr;  // first entry queued since the last flush
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
    weir::detail::WaitList<Waiter> waiters;
    Waiter* heir = nullptr;  // woken by hand_off() to take over driving
    int protocol = 2;
    // Subscriber mode: pub/sub frames go here instead of the FIFO.
    std::function<bool(Reply&)> push_sink;

    Impl();
    ~Impl();

    // Queues commands as one FIFO entry expecting `expected` replies
    // (0: nothing is expected back; returns an empty ref). Throws ConnectionError.
    PendingRef submit(const Command* cmds, std::size_t n, std::size_t expected,
                      const Command* prefix = nullptr, const Command* suffix = nullptr);
    // Waits until the entry completes (driving the socket when nobody else
    // does), within options.command_timeout if set. When the wait ends early,
    // the caller's PendingRef marks the entry abandoned.
    Task<void> await_reply(Pending& p);
    // Waits until done(ctx) (or the connection breaks), driving as needed.
    Task<void> wait_until(bool (*done)(void*), void* ctx, Waiter& w);

    void set_broken(const std::string& why, bool count_error = true) noexcept;
    void kick() noexcept;
    // Wakes every parked task to re-check its condition.
    void wake_all_waiters() noexcept {
        for (Waiter* w = waiters.front(); w; w = w->next_) w->ev.set();
    }

private:
    Task<void> await_reply_timed(Pending& p);
    Task<void> drive(bool (*done)(void*), void* ctx);
    void hand_off() noexcept;
    void flush() noexcept;
    enum class ReadStatus { data, again, closed };
    ReadStatus try_read() noexcept;
    // Dispatches the buffered replies; true if it stopped early, with more
    // buffered (kMaxWakesPerRound in connection.cpp).
    bool process() noexcept;
    // The next reply in the read buffer, if complete; breaks the connection
    // on a protocol error.
    std::optional<Reply> parse_next(std::size_t& used) noexcept;
    // Hands one reply to its FIFO entry; true if that woke the entry's task.
    bool deliver(Reply& r, TimePoint& now) noexcept;

    // Recycled FIFO entries.
    Pending* acquire();
    void recycle(Pending* p) noexcept;
    // The caller let go of `p`: recycled if complete, else abandoned (its
    // reply is read and dropped when it arrives).
    void drop(Pending* p) noexcept;
    Pending* free_ = nullptr;
    std::size_t free_count_ = 0;
};

// A caller's hold on its FIFO entry (one per submit() expecting replies):
// gives it back to the connection when it goes, so a caller that stops
// waiting early (cancelled, timed out) leaves an abandoned entry behind.
class Connection::Impl::PendingRef {
public:
    PendingRef() noexcept = default;
    PendingRef(Impl* impl, Pending* p) noexcept : impl_(impl), p_(p) {}
    PendingRef(PendingRef&& o) noexcept : impl_(o.impl_), p_(std::exchange(o.p_, nullptr)) {}
    PendingRef& operator=(PendingRef&&) = delete;
    ~PendingRef() {
        if (p_) impl_->drop(p_);
    }
    Pending& operator*() const noexcept { return *p_; }
    Pending* operator->() const noexcept { return p_; }

private:
    Impl* impl_ = nullptr;
    Pending* p_ = nullptr;
};

}  // namespace weir::redis
