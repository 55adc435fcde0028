#include "weir/core/event_loop.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdio>

#include "weir/core/errors.hpp"

namespace weir::detail {

EventLoop::EventLoop(LoopOptions options)
    : options_(std::move(options)), ready_(1024), stats_(options_.shard) {
    poller_ = make_epoll_poller();
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) throw_errno("eventfd");
    wake_handle_.fd = wake_fd_;
    wake_handle_.internal = true;
    wake_op_.loop = this;
    wake_handle_.reader = &wake_op_;
    poller_->add(&wake_handle_);

    lag_probe_.internal = true;
    lag_probe_.loop = this;
    lag_probe_.fire = &EventLoop::on_lag_probe;
    lag_probe_.when = Clock::now() + options_.lag_probe_interval;
    timers_.push(&lag_probe_);
}

EventLoop::~EventLoop() {
    timers_.remove(&lag_probe_);
    poller_->remove(&wake_handle_);
    ::close(wake_fd_);
    if (tls_loop_ == this) tls_loop_ = nullptr;
}

void EventLoop::grow_ready() {
    std::vector<Ready> bigger(ready_.size() * 2);
    for (std::size_t i = 0; i < ready_count_; ++i)
        bigger[i] = ready_[(ready_head_ + i) & (ready_.size() - 1)];
    ready_.swap(bigger);
    ready_head_ = 0;
}

void EventLoop::add_io(IoHandle* h) {
    poller_->add(h);
    if (!h->internal) stats_.on_io_handle(+1);
}

void EventLoop::remove_io(IoHandle* h) noexcept {
    poller_->remove(h);
    if (!h->internal) stats_.on_io_handle(-1);
}

void EventLoop::post(RemoteItem* item) noexcept {
    RemoteItem* head = inbox_.load(std::memory_order_relaxed);
    do {
        item->next = head;
    } while (!inbox_.compare_exchange_weak(head, item, std::memory_order_release,
                                           std::memory_order_relaxed));
    // Only the post that finds the inbox empty wakes the loop: drain_inbox()
    // empties it in one exchange, so the next post after a drain wakes again.
    if (head == nullptr) {
        std::uint64_t one = 1;
        // A full counter still leaves the fd readable, so a failed write is harmless.
        [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof one);
    }
}

void EventLoop::WakeOp::on_ready() noexcept {
    std::uint64_t v;
    while (::read(loop->wake_fd_, &v, sizeof v) > 0) {
    }
}

void EventLoop::drain_inbox() noexcept {
    // A plain load keeps the common case (nothing posted) free of a locked instruction.
    if (inbox_.load(std::memory_order_acquire) == nullptr) return;
    RemoteItem* item = inbox_.exchange(nullptr, std::memory_order_acquire);
    // Newest first on the stack: reverse, so items run in the order they were
    // posted (per poster, that is the order it posted them).
    RemoteItem* fifo = nullptr;
    while (item) {
        RemoteItem* next = item->next;
        item->next = fifo;
        fifo = item;
        item = next;
    }
    while (fifo) {
        RemoteItem* next = fifo->next;  // the item may be reused by run()
        fifo->run(fifo);
        fifo = next;
    }
}

void EventLoop::run_ready() {
    // Run what is ready now; work scheduled meanwhile waits for the next
    // round, so a busy producer cannot starve I/O and timers.
    std::size_t n = ready_count_;
    if (n == 0) return;
    // One clock read per resume (shared with the next) times every resume
    // for slow-callback detection.
    const auto threshold = options_.slow_callback_threshold;
    TimePoint before = Clock::now();
    for (std::size_t i = 0; i < n; ++i) {
        Ready r = ready_[ready_head_];
        ready_head_ = (ready_head_ + 1) & (ready_.size() - 1);
        --ready_count_;
        tls_current_node = r.node;
        // Read the name now: a task that finishes in this resume frees its node.
        const char* name = r.node ? r.node->name() : "<runtime>";
        r.h.resume();
        TimePoint after = Clock::now();
        if (after - before > threshold) {
            SlowCallback s{options_.shard, name,
                           std::chrono::duration_cast<std::chrono::microseconds>(after - before)};
            stats_.on_slow_callback(s);
            if (options_.on_slow_callback) {
                options_.on_slow_callback(s);
            } else {
                std::fprintf(stderr, "weir: slow callback: task '%s' held shard %u for %lld us\n",
                             s.task_name.c_str(), s.shard,
                             static_cast<long long>(s.duration.count()));
            }
        }
        before = after;
    }
    tls_current_node = nullptr;
    stats_.on_resumes(n);
    resumes_since_poll_ += n;
}

void EventLoop::fire_timers() {
    if (timers_.empty()) return;
    TimePoint now = Clock::now();
    while (Timer* t = timers_.top()) {
        if (t->when > now) break;
        timers_.remove(t);
        auto lag = std::chrono::duration_cast<std::chrono::microseconds>(now - t->when).count();
        stats_.on_timer_lag(static_cast<std::uint64_t>(lag));
        t->fire(t);
    }
}

void EventLoop::on_lag_probe(Timer* t) noexcept {
    EventLoop* loop = static_cast<LagProbe*>(t)->loop;
    t->when = Clock::now() + loop->options_.lag_probe_interval;
    loop->timers_.push(t);
}

std::chrono::nanoseconds EventLoop::poll_timeout() const noexcept {
    if (ready_count_ > 0) return std::chrono::nanoseconds{0};
    Timer* t = timers_.top();
    if (!t) return std::chrono::nanoseconds{-1};
    auto d = t->when - Clock::now();
    if (d.count() <= 0) return std::chrono::nanoseconds{0};
    return std::chrono::duration_cast<std::chrono::nanoseconds>(d);
}

bool EventLoop::busy_poll() {
    // Polls until something became ready, a cross-thread item arrived or the budget (cut short
    // by the nearest timer) is spent. True: there is work, so the caller must not sleep.
    TimePoint until = Clock::now() + options_.busy_poll;
    if (Timer* t = timers_.top(); t && t->when < until) until = t->when;
    do {
        poller_->wait(std::chrono::nanoseconds{0});
        if (ready_count_ > 0 || inbox_.load(std::memory_order_acquire) != nullptr) return true;
    } while (Clock::now() < until);
    return false;
}

void EventLoop::run_until(const bool& done) {
    bind_to_this_thread();
    while (!done) {
        stats_.on_iteration();
        run_ready();
        if (done) break;
        drain_inbox();
        if (done) break;
        // While tasks keep each other busy, an epoll_wait(0) per round would
        // cost more than the work itself: poll (and fire timers) when idle,
        // or after a bounded number of rounds / resumes so I/O is never
        // starved for long.
        if (ready_count_ > 0 && ++rounds_since_poll_ < kMaxRoundsWithoutPoll &&
            resumes_since_poll_ < kMaxResumesWithoutPoll) {
            stats_.set_user_timers(timers_.user_timers());
            continue;
        }
        rounds_since_poll_ = 0;
        resumes_since_poll_ = 0;
        const auto timeout = poll_timeout();
        if (timeout.count() == 0 || options_.busy_poll.count() == 0)
            poller_->wait(timeout);
        else if (!busy_poll())  // found nothing: sleep (until the nearest timer, if any)
            poller_->wait(poll_timeout());
        fire_timers();
        drain_inbox();
        stats_.set_user_timers(timers_.user_timers());
    }
}

}  // namespace weir::detail
