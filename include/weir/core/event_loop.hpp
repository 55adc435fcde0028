// EventLoop: one shard's single-threaded scheduler.
//
// It owns the ready queue (coroutines to resume, each with its task node),
// the timer heap, the poller, and a lock-free inbox of items posted from
// other threads (woken through an eventfd). All of it is used only by the
// shard's own thread, except post(), which any thread may call.
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "weir/core/clock.hpp"
#include "weir/core/loop_stats.hpp"
#include "weir/core/poller.hpp"
#include "weir/core/task_node.hpp"
#include "weir/core/timer_queue.hpp"

namespace weir::detail {

// A unit of work posted to a loop from another thread. Intrusive, so posting
// allocates nothing; the poster keeps the item alive until it has run.
struct RemoteItem {
    RemoteItem* next = nullptr;
    void (*run)(RemoteItem*) noexcept = nullptr;
};

struct LoopOptions {
    unsigned shard = 0;
    std::chrono::microseconds slow_callback_threshold{50'000};
    std::chrono::milliseconds lag_probe_interval{100};
    std::chrono::microseconds busy_poll{0};  // see RuntimeOptions::busy_poll
    std::function<void(const SlowCallback&)> on_slow_callback;
};

class EventLoop {
public:
    explicit EventLoop(LoopOptions options);
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    static EventLoop* current() noexcept { return tls_loop_; }
    unsigned shard() const noexcept { return options_.shard; }

    // Queue a coroutine to run on this loop, inside `node`.
    void schedule(std::coroutine_handle<> h, TaskNode* node) {
        if (ready_count_ == ready_.size()) grow_ready();
        ready_[(ready_head_ + ready_count_) & (ready_.size() - 1)] = Ready{h, node};
        ++ready_count_;
    }

    void add_timer(Timer* t) { timers_.push(t); }
    void remove_timer(Timer* t) noexcept { timers_.remove(t); }

    void add_io(IoHandle* h);
    void remove_io(IoHandle* h) noexcept;

    // Thread-safe: run `item` on this loop's thread soon.
    void post(RemoteItem* item) noexcept;

    // Runs until *done becomes true (set by a task on this loop or by an
    // item posted to it).
    void run_until(const bool& done);

    LoopStats& stats() noexcept { return stats_; }
    const LoopStats& stats() const noexcept { return stats_; }
    std::size_t user_timers() const noexcept { return timers_.user_timers(); }
    std::size_t pending_ready() const noexcept { return ready_count_; }

    // Binds this loop to the calling thread (EventLoop::current()).
    void bind_to_this_thread() noexcept { tls_loop_ = this; }

private:
    struct Ready {
        std::coroutine_handle<> h;
        TaskNode* node;
    };
    void grow_ready();
    void run_ready();
    void fire_timers();
    void drain_inbox() noexcept;
    std::chrono::nanoseconds poll_timeout() const noexcept;
    bool busy_poll();  // LoopOptions::busy_poll; true if work turned up
    static void on_lag_probe(Timer* t) noexcept;

    LoopOptions options_;
    std::vector<Ready> ready_;
    std::size_t ready_head_ = 0;
    std::size_t ready_count_ = 0;
    TimerQueue timers_;
    std::unique_ptr<Poller> poller_;

    static constexpr unsigned kMaxRoundsWithoutPoll = 16;
    static constexpr std::size_t kMaxResumesWithoutPoll = 256;
    unsigned rounds_since_poll_ = 0;
    std::size_t resumes_since_poll_ = 0;

    // Posted items, newest first (a Treiber stack: post() pushes, drain_inbox()
    // takes all). Lock-free so that a poster that loses its core mid-post (a
    // low-priority to_cpu worker) can never hold the shard up.
    std::atomic<RemoteItem*> inbox_{nullptr};
    int wake_fd_ = -1;
    IoHandle wake_handle_;
    struct WakeOp final : IoOp {
        EventLoop* loop = nullptr;
        void on_ready() noexcept override;
    } wake_op_;

    struct LagProbe : Timer {
        EventLoop* loop = nullptr;
    } lag_probe_;
    LoopStats stats_;

    static inline thread_local EventLoop* tls_loop_ = nullptr;
};

}  // namespace weir::detail
