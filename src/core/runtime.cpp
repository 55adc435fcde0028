#include "weir/core/runtime.hpp"

#include <pthread.h>
#include <sched.h>

#include <condition_variable>
#include <mutex>

#include "weir/core/signals.hpp"

namespace weir {

namespace {

unsigned available_cores() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return static_cast<unsigned>(n);
    }
    unsigned n = std::thread::hardware_concurrency();
    return n ? n : 1;
}

}  // namespace

Runtime::Runtime(RuntimeOptions options) : options_(std::move(options)) {
    const unsigned cores = available_cores();
    const unsigned shards = options_.shards ? options_.shards : cores;
    const unsigned workers =
        options_.worker_threads ? options_.worker_threads : (cores > 4 ? cores : 4);

    // Block our signals before any thread exists, so all threads inherit the
    // mask and the signals reach only the signalfd. Broken connections must
    // surface as EPIPE errors, never kill the process.
    sigset_t set;
    sigemptyset(&set);
    if (options_.handle_signals)
        for (int s : options_.signals) sigaddset(&set, s);
    pthread_sigmask(SIG_BLOCK, &set, &old_mask_);
    std::signal(SIGPIPE, SIG_IGN);

    loops_.reserve(shards);
    for (unsigned i = 0; i < shards; ++i) {
        detail::LoopOptions lo;
        lo.shard = i;
        lo.slow_callback_threshold = options_.slow_callback_threshold;
        lo.on_slow_callback = options_.on_slow_callback;
        lo.busy_poll = options_.busy_poll;
        loops_.push_back(std::make_unique<detail::EventLoop>(std::move(lo)));
    }
    stop_flags_ = std::make_unique<bool[]>(shards);
    stop_items_.resize(shards);
    workers_ = std::make_unique<detail::WorkerPool>(workers);
    cpu_pool_ = std::make_unique<detail::CpuPool>(
        options_.cpu_threads ? options_.cpu_threads : cores, options_.cpu_priority,
        options_.cpu_queue ? options_.cpu_queue : 1);
    if (options_.handle_signals) signals_ = std::make_unique<detail::SignalHub>(*loops_[0], set);
    for (unsigned i = 1; i < shards; ++i) {
        threads_.emplace_back([this, i] { shard_thread(i); });
        std::string name = "weir-shard-" + std::to_string(i);
        pthread_setname_np(threads_.back().native_handle(), name.c_str());
    }
}

void Runtime::shard_thread(unsigned shard) {
    tls_runtime_ = this;
    loops_[shard]->run_until(stop_flags_[shard]);
}

Runtime::~Runtime() {
    struct StopItem : detail::RemoteItem {
        bool* flag = nullptr;
    };
    std::vector<StopItem> items(loops_.size());
    for (std::size_t i = 1; i < loops_.size(); ++i) {
        items[i].flag = &stop_flags_[i];
        items[i].run = [](detail::RemoteItem* it) noexcept {
            *static_cast<StopItem*>(it)->flag = true;
        };
        loops_[i]->post(&items[i]);
    }
    for (auto& t : threads_) t.join();
    signals_.reset();
    workers_.reset();
    cpu_pool_.reset();
    loops_.clear();
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    if (tls_runtime_ == this) tls_runtime_ = nullptr;
}

void Runtime::begin_run(CancelScope* main_scope) {
    if (signals_) signals_->set_main_scope(main_scope);
}

void Runtime::end_run() {
    if (signals_) signals_->set_main_scope(nullptr);
}

void Runtime::run_on_shard_blocking(unsigned shard, const std::function<void()>& fn) {
    if (shard == 0 || shard >= loops_.size()) {
        // Shard 0 is driven by run() on the owner's thread: between runs it
        // is idle, so the owner may touch it directly.
        fn();
        return;
    }
    struct Item : detail::RemoteItem {
        const std::function<void()>* fn = nullptr;
        std::mutex m;
        std::condition_variable cv;
        bool done = false;
    } item;
    item.fn = &fn;
    item.run = [](detail::RemoteItem* it) noexcept {
        auto* self = static_cast<Item*>(it);
        (*self->fn)();
        std::lock_guard lock(self->m);
        self->done = true;
        self->cv.notify_one();
    };
    loops_[shard]->post(&item);
    std::unique_lock lock(item.m);
    item.cv.wait(lock, [&] { return item.done; });
}

RuntimeLeaks Runtime::check_leaks() {
    RuntimeLeaks total;
    for (unsigned i = 0; i < loops_.size(); ++i) {
        run_on_shard_blocking(i, [&] {
            auto& loop = *loops_[i];
            total.tasks += loop.stats().tasks_alive();
            total.user_timers += loop.user_timers();
            total.io_handles += loop.stats().io_handles();
            total.frames += detail::FrameAllocator::live_on_this_thread();
        });
    }
    return total;
}

}  // namespace weir
