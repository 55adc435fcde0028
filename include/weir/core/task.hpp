// Task<T>: a lazy, move-only coroutine returning T.
//
// Nothing runs until the task is awaited (or handed to a TaskGroup,
// when_all, when_any or Runtime::run). Awaiting a task runs it inside the
// awaiting task's node (same cancellation, same deadline) and transfers
// control symmetrically, so long await chains do not grow the stack.
// Exceptions, including Cancelled, propagate to the awaiter. Frames come
// from a per-thread recycling allocator.
#pragma once

#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>

#include "weir/core/frame_allocator.hpp"

namespace weir {

template <class T = void>
class Task;

namespace detail {

struct PromiseBase {
    static void* operator new(std::size_t n) { return FrameAllocator::allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept {
        FrameAllocator::deallocate(p, n);
    }

    std::suspend_always initial_suspend() noexcept { return {}; }

    struct FinalAwaiter {
        bool await_ready() noexcept { return false; }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
            return h.promise().continuation_;
        }
        void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }

    void unhandled_exception() noexcept { exception_ = std::current_exception(); }

    std::coroutine_handle<> continuation_ = std::noop_coroutine();
    std::exception_ptr exception_;
    const char* name_ = nullptr;
};

template <class T>
struct TaskPromise : PromiseBase {
    Task<T> get_return_object() noexcept;

    template <class U>
        requires std::is_convertible_v<U&&, T>
    void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        ::new (static_cast<void*>(&storage_)) T(std::forward<U>(v));
        has_value_ = true;
    }

    T take() {
        if (exception_) std::rethrow_exception(exception_);
        return std::move(*std::launder(reinterpret_cast<T*>(&storage_)));
    }

    ~TaskPromise() {
        if (has_value_) std::launder(reinterpret_cast<T*>(&storage_))->~T();
    }

    alignas(T) unsigned char storage_[sizeof(T)];
    bool has_value_ = false;
};

template <class T>
struct TaskPromise<T&> : PromiseBase {
    Task<T&> get_return_object() noexcept;
    void return_value(T& v) noexcept { value_ = &v; }
    T& take() {
        if (exception_) std::rethrow_exception(exception_);
        return *value_;
    }
    T* value_ = nullptr;
};

template <>
struct TaskPromise<void> : PromiseBase {
    Task<void> get_return_object() noexcept;
    void return_void() noexcept {}
    void take() {
        if (exception_) std::rethrow_exception(exception_);
    }
};

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
public:
    using promise_type = detail::TaskPromise<T>;
    using value_type = T;
    using Handle = std::coroutine_handle<promise_type>;

    Task() noexcept = default;
    explicit Task(Handle h) noexcept : h_(h) {}
    Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    Task& operator=(Task&& o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;
    ~Task() { reset(); }

    bool valid() const noexcept { return static_cast<bool>(h_); }
    explicit operator bool() const noexcept { return valid(); }

    // Gives the task a name, shown in diagnostics (slow-callback reports).
    // The string must outlive the task (use a literal).
    Task&& named(const char* name) && noexcept {
        if (h_) h_.promise().name_ = name;
        return std::move(*this);
    }
    const char* name() const noexcept { return h_ ? h_.promise().name_ : nullptr; }

    struct Awaiter {
        Handle h;
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
            h.promise().continuation_ = awaiting;
            return h;
        }
        T await_resume() { return h.promise().take(); }
    };

    Awaiter operator co_await() && noexcept { return Awaiter{h_}; }
    Awaiter operator co_await() & noexcept { return Awaiter{h_}; }

    // Runtime plumbing: give up ownership of the coroutine frame.
    Handle release() noexcept { return std::exchange(h_, {}); }
    Handle handle() const noexcept { return h_; }

private:
    void reset() noexcept {
        if (h_) {
            h_.destroy();
            h_ = {};
        }
    }
    Handle h_{};
};

namespace detail {

template <class T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
    return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
template <class T>
Task<T&> TaskPromise<T&>::get_return_object() noexcept {
    return Task<T&>(std::coroutine_handle<TaskPromise<T&>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
    return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}

}  // namespace detail

template <class T>
struct is_task : std::false_type {};
template <class T>
struct is_task<Task<T>> : std::true_type {};
template <class T>
inline constexpr bool is_task_v = is_task<std::remove_cvref_t<T>>::value;

}  // namespace weir
