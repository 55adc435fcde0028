// Channel<T>: a bounded multi-producer multi-consumer queue for one shard,
// with backpressure and close.
//
//     weir::Channel<Job> ch(64);
//     co_await ch.send(job);              // waits while the channel is full
//     while (auto job = co_await ch.receive()) { ... }   // nullopt: closed and drained
//
// close() lets receivers drain what is buffered, then they get nullopt;
// pending and later senders get ChannelClosed. Both sides are FIFO-fair and
// cancellable; a cancelled sender's value is not enqueued.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <stdexcept>
#include <utility>

#include "weir/core/detail/cancellable_wait.hpp"
#include "weir/core/detail/wait_list.hpp"
#include "weir/core/errors.hpp"

namespace weir {

template <class T>
class Channel {
public:
    explicit Channel(std::size_t capacity) : capacity_(capacity) {
        if (capacity == 0) throw std::invalid_argument("Channel capacity must be > 0");
    }
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;

    class Send final : public detail::CancellableWait {
    public:
        Send(Channel& c, T v) : ch_(c), value_(std::move(v)) {}
        bool await_ready() noexcept {
            if (cancel_requested()) return true;
            if (ch_.closed_) return true;
            if (ch_.try_deliver(value_)) {
                sent_ = true;
                return true;
            }
            return false;
        }
        void await_suspend(std::coroutine_handle<> h) noexcept {
            ch_.senders_.push_back(this);
            park(h);
        }
        void await_resume() {
            if (sent_) return;
            throw_if_cancelled();
            throw ChannelClosed();
        }

    private:
        friend class Channel;
        friend class detail::WaitList<Send>;
        void cancel_registration() noexcept override { ch_.senders_.remove(this); }
        Channel& ch_;
        T value_;
        bool sent_ = false;
        Send* prev_ = nullptr;
        Send* next_ = nullptr;
        bool linked_ = false;
    };

    class Receive final : public detail::CancellableWait {
    public:
        explicit Receive(Channel& c) noexcept : ch_(c) {}
        bool await_ready() noexcept {
            if (cancel_requested()) return true;
            if (auto v = ch_.try_take()) {
                value_ = std::move(v);
                return true;
            }
            return ch_.closed_;
        }
        void await_suspend(std::coroutine_handle<> h) noexcept {
            ch_.receivers_.push_back(this);
            park(h);
        }
        std::optional<T> await_resume() {
            if (value_) return std::move(value_);
            if (!done_) throw_if_cancelled();
            return std::nullopt;  // closed and drained
        }

    private:
        friend class Channel;
        friend class detail::WaitList<Receive>;
        void cancel_registration() noexcept override { ch_.receivers_.remove(this); }
        Channel& ch_;
        std::optional<T> value_;
        bool done_ = false;  // woken by close
        Receive* prev_ = nullptr;
        Receive* next_ = nullptr;
        bool linked_ = false;
    };

    // Waits for room, then enqueues; throws ChannelClosed once closed.
    [[nodiscard]] Send send(T value) { return Send(*this, std::move(value)); }
    // Waits for a value; nullopt once closed and drained.
    [[nodiscard]] Receive receive() noexcept { return Receive(*this); }

    // Non-waiting variants.
    bool try_send(T& value) {
        if (closed_) throw ChannelClosed();
        return try_deliver(value);
    }
    std::optional<T> try_receive() { return try_take(); }

    void close() noexcept {
        if (closed_) return;
        closed_ = true;
        while (Receive* r = receivers_.pop_front()) {
            r->done_ = true;
            r->wake();
        }
        while (Send* s = senders_.pop_front()) s->wake();  // -> ChannelClosed
    }

    bool closed() const noexcept { return closed_; }
    std::size_t size() const noexcept { return buffer_.size(); }
    std::size_t capacity() const noexcept { return capacity_; }

private:
    // Hands `v` to a waiting receiver or the buffer; false when full.
    bool try_deliver(T& v) {
        if (Receive* r = receivers_.pop_front()) {
            r->value_.emplace(std::move(v));
            r->wake();
            return true;
        }
        if (buffer_.size() < capacity_) {
            buffer_.push_back(std::move(v));
            return true;
        }
        return false;
    }
    std::optional<T> try_take() {
        if (buffer_.empty()) return std::nullopt;
        std::optional<T> v(std::move(buffer_.front()));
        buffer_.pop_front();
        // Room appeared: move the longest-waiting sender's value in.
        if (Send* s = senders_.pop_front()) {
            buffer_.push_back(std::move(s->value_));
            s->sent_ = true;
            s->wake();
        }
        return v;
    }

    std::size_t capacity_;
    std::deque<T> buffer_;
    bool closed_ = false;
    detail::WaitList<Send> senders_;
    detail::WaitList<Receive> receivers_;
};

}  // namespace weir
