// Child tasks: how a Task becomes its own concurrently running TaskNode.
//
// A child is a small driver coroutine (RootTask) whose promise holds the
// TaskNode, the outcome (value, error or cancellation) and the link to its
// owner (a TaskGroup, when_all, a cross-shard call, the runtime). When the
// child finishes, the owner is told on the child's loop via child_done();
// owners only record and schedule, they never resume anyone directly.
// The frame stays alive while the owner or a JoinHandle still refers to it.
#pragma once

#include <cassert>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "weir/core/cancelled.hpp"
#include "weir/core/detail/wait_list.hpp"
#include "weir/core/event_loop.hpp"
#include "weir/core/frame_allocator.hpp"
#include "weir/core/task.hpp"
#include "weir/core/task_node.hpp"

namespace weir::detail {

struct ChildBase;

// A task waiting for a child to finish (JoinHandle::join); any number of
// tasks may wait for the same child.
struct JoinWaiter {
    virtual void on_child_done() noexcept = 0;
    JoinWaiter* prev_ = nullptr;
    JoinWaiter* next_ = nullptr;
    bool linked_ = false;

protected:
    ~JoinWaiter() = default;
};

struct ChildOwner {
    virtual void child_done(ChildBase& child) noexcept = 0;

protected:
    ~ChildOwner() = default;
};

// void results are carried as std::monostate.
template <class T>
using ValueOf = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

struct ChildBase {
    TaskNode node_;
    ChildOwner* owner_ = nullptr;
    std::exception_ptr error_;  // set when the task failed (not cancelled)
    std::optional<CancelReason> cancelled_;
    bool done_ = false;
    std::uint32_t index_in_group_ = 0;  // spawn order within its group
    int refs_ = 1;  // the owner's reference; JoinHandles add theirs
    std::coroutine_handle<> self_;
    // Tasks awaiting this child's completion (JoinHandle::join).
    WaitList<JoinWaiter> join_waiters_;

    void release() noexcept {
        if (--refs_ == 0) self_.destroy();
    }

    void record_exception() noexcept {
        try {
            throw;
        } catch (const Cancelled& c) {
            cancelled_ = c.reason();
        } catch (...) {
            error_ = std::current_exception();
        }
    }

    bool failed() const noexcept { return static_cast<bool>(error_); }

    void rethrow_outcome() const {
        if (error_) std::rethrow_exception(error_);
        if (cancelled_) throw Cancelled(*cancelled_);
    }

    static void* operator new(std::size_t n) { return FrameAllocator::allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept {
        FrameAllocator::deallocate(p, n);
    }

    std::suspend_always initial_suspend() noexcept { return {}; }

    struct FinalAwaiter {
        bool await_ready() noexcept { return false; }
        void await_suspend(std::coroutine_handle<>) noexcept;
        void await_resume() noexcept {}
        ChildBase* self;
    };
    FinalAwaiter final_suspend() noexcept { return FinalAwaiter{this}; }
    void unhandled_exception() noexcept { record_exception(); }

    void finish() noexcept;
};

inline void ChildBase::FinalAwaiter::await_suspend(std::coroutine_handle<>) noexcept {
    ChildBase* c = self;
    c->finish();
    c->release();  // drops the running reference; may destroy this frame
}

inline void ChildBase::finish() noexcept {
    done_ = true;
    EventLoop* loop = node_.loop();
    loop->stats().on_task_finished();
    if (cancelled_) loop->stats().on_task_cancelled(*cancelled_);
    node_.root_scope_.detach_root();
    while (JoinWaiter* w = join_waiters_.pop_front()) w->on_child_done();
    if (owner_) owner_->child_done(*this);
}

template <class T>
struct RootPromise : ChildBase {
    std::coroutine_handle<RootPromise> get_return_object() noexcept {
        return std::coroutine_handle<RootPromise>::from_promise(*this);
    }
    template <class U>
    void return_value(U&& v) {
        value_.emplace(std::forward<U>(v));
    }
    std::optional<T> value_;
};

template <>
struct RootPromise<void> : ChildBase {
    std::coroutine_handle<RootPromise> get_return_object() noexcept {
        return std::coroutine_handle<RootPromise>::from_promise(*this);
    }
    void return_void() noexcept { value_.emplace(); }
    std::optional<std::monostate> value_;
};

template <class T>
struct RootCoroutine {
    using promise_type = RootPromise<T>;
    RootCoroutine(std::coroutine_handle<RootPromise<T>> h) noexcept : h(h) {}
    std::coroutine_handle<RootPromise<T>> h;
};

template <class T>
RootCoroutine<T> drive(Task<T> task) {
    // A local, so the task's frame (its parameters, its copy of an error) is
    // gone when the child finishes, before its owner hears of it, not only
    // when the last reference is released. Cross-shard owners rely on this:
    // nothing of the task is touched on its shard once the result is handed
    // over.
    Task<T> t = std::move(task);
    if constexpr (std::is_void_v<T>) {
        co_await std::move(t);
    } else {
        co_return co_await std::move(t);
    }
}

// Creates the child node for `task` on `loop`, below `parent_scope` (null
// for a top-level task), and queues it to start. The owner holds one
// reference until child_done, when it must call release().
template <class T>
std::coroutine_handle<RootPromise<T>> start_child(Task<T> task, EventLoop* loop,
                                                  CancelScope* parent_scope, ChildOwner* owner,
                                                  const char* name = nullptr) {
    const char* task_name = name ? name : task.name();
    auto h = drive(std::move(task)).h;
    RootPromise<T>& p = h.promise();
    p.self_ = h;
    p.owner_ = owner;
    p.refs_ = 2;  // the running child itself, and the owner
    p.node_.loop_ = loop;
    p.node_.name_ = task_name;
    p.node_.root_scope_.attach_root(&p.node_, parent_scope);
    loop->stats().on_task_started();
    loop->schedule(h, &p.node_);
    return h;
}

}  // namespace weir::detail
