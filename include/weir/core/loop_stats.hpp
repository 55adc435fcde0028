// LoopStats: per-shard counters for monitoring an event loop, written by the
// shard's own thread and readable from any thread (e.g. by /metrics).
//
// loop lag      how late timers fire (scheduled vs actual), as a histogram
// tasks         alive now, started, and cancelled per CancelReason
// slow callbacks resumes that held the loop longer than the threshold,
//                counted, with the most recent ones kept by task name
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "weir/core/cancelled.hpp"
#include "weir/core/histogram.hpp"

namespace weir {

struct SlowCallback {
    unsigned shard = 0;
    std::string task_name;
    std::chrono::microseconds duration{0};
};

class LoopStats {
public:
    struct Snapshot {
        unsigned shard = 0;
        std::uint64_t iterations = 0;
        std::uint64_t resumes = 0;
        std::uint64_t tasks_alive = 0;
        std::uint64_t tasks_started = 0;
        std::array<std::uint64_t, kCancelReasonCount> tasks_cancelled{};
        std::uint64_t slow_callbacks = 0;
        std::uint64_t user_timers = 0;
        std::uint64_t io_handles = 0;
        Histogram::Snapshot loop_lag_us;
        std::vector<SlowCallback> recent_slow;  // newest last, at most kRecentSlow
    };
    static constexpr std::size_t kRecentSlow = 16;

    explicit LoopStats(unsigned shard) : shard_(shard) {}

    // Writer side (owning thread only).
    void on_iteration() noexcept { bump(iterations_); }
    void on_resumes(std::uint64_t n) noexcept { bump(resumes_, n); }
    void on_task_started() noexcept {
        bump(tasks_started_);
        bump(tasks_alive_);
    }
    void on_task_finished() noexcept { drop(tasks_alive_); }
    void on_task_cancelled(CancelReason r) noexcept {
        bump(tasks_cancelled_[static_cast<std::size_t>(r)]);
    }
    void on_timer_lag(std::uint64_t us) noexcept { loop_lag_us_.record(us); }
    void set_user_timers(std::uint64_t n) noexcept {
        user_timers_.store(n, std::memory_order_relaxed);
    }
    void on_io_handle(int delta) noexcept {
        io_handles_.store(io_handles_.load(std::memory_order_relaxed) + delta,
                          std::memory_order_relaxed);
    }
    void on_slow_callback(const SlowCallback& s) {
        bump(slow_callbacks_);
        std::lock_guard lock(slow_mutex_);
        if (recent_slow_.size() == kRecentSlow) recent_slow_.erase(recent_slow_.begin());
        recent_slow_.push_back(s);
    }

    // Reader side (any thread).
    std::uint64_t tasks_alive() const noexcept {
        return tasks_alive_.load(std::memory_order_relaxed);
    }
    std::uint64_t io_handles() const noexcept { return io_handles_.load(std::memory_order_relaxed); }
    Snapshot snapshot() const;

private:
    static void bump(std::atomic<std::uint64_t>& a, std::uint64_t by = 1) noexcept {
        a.store(a.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
    }
    static void drop(std::atomic<std::uint64_t>& a) noexcept {
        a.store(a.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    }

    unsigned shard_;
    std::atomic<std::uint64_t> iterations_{0};
    std::atomic<std::uint64_t> resumes_{0};
    std::atomic<std::uint64_t> tasks_alive_{0};
    std::atomic<std::uint64_t> tasks_started_{0};
    std::array<std::atomic<std::uint64_t>, kCancelReasonCount> tasks_cancelled_{};
    std::atomic<std::uint64_t> slow_callbacks_{0};
    std::atomic<std::uint64_t> user_timers_{0};
    std::atomic<std::uint64_t> io_handles_{0};
    Histogram loop_lag_us_;
    mutable std::mutex slow_mutex_;
    std::vector<SlowCallback> recent_slow_;
};

}  // namespace weir
