// The epoll backend of Poller: edge-triggered, one registration per fd for
// its whole life, both directions at once (so no epoll_ctl per operation).
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "weir/core/errors.hpp"
#include "weir/core/poller.hpp"

namespace weir::detail {
namespace {

class EpollPoller final : public Poller {
public:
    EpollPoller() {
        epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (epfd_ < 0) throw_errno("epoll_create1");
    }
    ~EpollPoller() override { ::close(epfd_); }

    void add(IoHandle* h) override {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.ptr = h;
        if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, h->fd, &ev) < 0) throw_errno("epoll_ctl(ADD)");
    }

    void remove(IoHandle* h) noexcept override {
        ::epoll_ctl(epfd_, EPOLL_CTL_DEL, h->fd, nullptr);
    }

    void wait(std::chrono::nanoseconds timeout) override {
        int n;
        if (timeout.count() < 0) {
            n = ::epoll_wait(epfd_, events_, kMaxEvents, -1);
        } else if (timeout.count() == 0) {
            n = ::epoll_wait(epfd_, events_, kMaxEvents, 0);
        } else if (have_pwait2_) {
            timespec ts{static_cast<time_t>(timeout.count() / 1'000'000'000),
                        static_cast<long>(timeout.count() % 1'000'000'000)};
            n = ::epoll_pwait2(epfd_, events_, kMaxEvents, &ts, nullptr);
            if (n < 0 && errno == ENOSYS) {
                have_pwait2_ = false;
                return wait(timeout);
            }
        } else {
            // Round up so timers never fire early.
            auto ms = (timeout.count() + 999'999) / 1'000'000;
            n = ::epoll_wait(epfd_, events_, kMaxEvents, static_cast<int>(ms));
        }
        if (n < 0) {
            if (errno == EINTR) return;
            throw_errno("epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            auto* h = static_cast<IoHandle*>(events_[i].data.ptr);
            const std::uint32_t e = events_[i].events;
            if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                h->signal_readable((e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
            if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) h->signal_writable();
        }
    }

private:
    static constexpr int kMaxEvents = 256;
    int epfd_ = -1;
    bool have_pwait2_ = true;
    epoll_event events_[kMaxEvents];
};

}  // namespace

std::unique_ptr<Poller> make_epoll_poller() { return std::make_unique<EpollPoller>(); }

}  // namespace weir::detail
