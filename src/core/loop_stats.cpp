#include "weir/core/loop_stats.hpp"

namespace weir {

LoopStats::Snapshot LoopStats::snapshot() const {
    Snapshot s;
    s.shard = shard_;
    s.iterations = iterations_.load(std::memory_order_relaxed);
    s.resumes = resumes_.load(std::memory_order_relaxed);
    s.tasks_alive = tasks_alive_.load(std::memory_order_relaxed);
    s.tasks_started = tasks_started_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < kCancelReasonCount; ++i)
        s.tasks_cancelled[i] = tasks_cancelled_[i].load(std::memory_order_relaxed);
    s.slow_callbacks = slow_callbacks_.load(std::memory_order_relaxed);
    s.user_timers = user_timers_.load(std::memory_order_relaxed);
    s.io_handles = io_handles_.load(std::memory_order_relaxed);
    s.loop_lag_us = loop_lag_us_.snapshot();
    std::lock_guard lock(slow_mutex_);
    s.recent_slow = recent_slow_;
    return s;
}

}  // namespace weir
