// WaitList: an intrusive FIFO of suspended waiters, the building block of
// Semaphore, Event and Channel. O(1) push, pop and removal of a cancelled
// waiter; no allocation.
#pragma once

namespace weir::detail {

template <class W>  // W has `W* prev_; W* next_;`
class WaitList {
public:
    bool empty() const noexcept { return head_ == nullptr; }
    W* front() const noexcept { return head_; }

    void push_back(W* w) noexcept {
        w->next_ = nullptr;
        w->prev_ = tail_;
        if (tail_)
            tail_->next_ = w;
        else
            head_ = w;
        tail_ = w;
        w->linked_ = true;
    }
    W* pop_front() noexcept {
        W* w = head_;
        if (w) remove(w);
        return w;
    }
    void remove(W* w) noexcept {
        if (!w->linked_) return;
        if (w->prev_)
            w->prev_->next_ = w->next_;
        else
            head_ = w->next_;
        if (w->next_)
            w->next_->prev_ = w->prev_;
        else
            tail_ = w->prev_;
        w->prev_ = w->next_ = nullptr;
        w->linked_ = false;
    }

private:
    W* head_ = nullptr;
    W* tail_ = nullptr;
};

}  // namespace weir::detail
