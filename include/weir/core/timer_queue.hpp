// TimerQueue: the loop's pending timers, an intrusive binary min-heap.
//
// Timers are embedded in the awaitables and scopes that use them, so arming
// one allocates nothing; insert, cancel and pop are O(log n), which keeps
// 100k+ pending timers cheap (a heap of pointers, one index per timer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "weir/core/clock.hpp"

namespace weir::detail {

struct Timer {
    static constexpr std::uint32_t kNotArmed = UINT32_MAX;
    TimePoint when{};
    std::uint32_t index = kNotArmed;  // position in the heap, or kNotArmed
    bool internal = false;            // runtime-owned (not counted as a user timer)
    void (*fire)(Timer*) noexcept = nullptr;

    bool armed() const noexcept { return index != kNotArmed; }
};

class TimerQueue {
public:
    void push(Timer* t) {
        t->index = static_cast<std::uint32_t>(heap_.size());
        heap_.push_back(t);
        sift_up(t->index);
        if (!t->internal) ++user_timers_;
    }

    void remove(Timer* t) noexcept {
        if (!t->armed()) return;
        std::uint32_t i = t->index;
        std::uint32_t last = static_cast<std::uint32_t>(heap_.size() - 1);
        if (i != last) {
            heap_[i] = heap_[last];
            heap_[i]->index = i;
            heap_.pop_back();
            if (!sift_up(i)) sift_down(i);
        } else {
            heap_.pop_back();
        }
        t->index = Timer::kNotArmed;
        if (!t->internal) --user_timers_;
    }

    Timer* top() const noexcept { return heap_.empty() ? nullptr : heap_.front(); }
    bool empty() const noexcept { return heap_.empty(); }
    std::size_t size() const noexcept { return heap_.size(); }
    std::size_t user_timers() const noexcept { return user_timers_; }

private:
    bool sift_up(std::uint32_t i) noexcept {
        bool moved = false;
        Timer* t = heap_[i];
        while (i > 0) {
            std::uint32_t p = (i - 1) / 2;
            if (!(t->when < heap_[p]->when)) break;
            heap_[i] = heap_[p];
            heap_[i]->index = i;
            i = p;
            moved = true;
        }
        heap_[i] = t;
        t->index = i;
        return moved;
    }
    void sift_down(std::uint32_t i) noexcept {
        const std::uint32_t n = static_cast<std::uint32_t>(heap_.size());
        Timer* t = heap_[i];
        for (;;) {
            std::uint32_t c = 2 * i + 1;
            if (c >= n) break;
            if (c + 1 < n && heap_[c + 1]->when < heap_[c]->when) ++c;
            if (!(heap_[c]->when < t->when)) break;
            heap_[i] = heap_[c];
            heap_[i]->index = i;
            i = c;
        }
        heap_[i] = t;
        t->index = i;
    }

    std::vector<Timer*> heap_;
    std::size_t user_timers_ = 0;
};

}  // namespace weir::detail
