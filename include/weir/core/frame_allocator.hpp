// Per-thread recycling allocator for coroutine frames.
//
// Every Task frame is allocated here. Freed frames go to a per-thread free
// list per 64-byte size class, so steady-state task creation costs a pointer
// pop instead of a malloc. Blocks are plain operator-new memory, so a frame
// may be freed on another thread than the one that allocated it. Sanitizer
// builds define WEIR_FRAME_RECYCLING=0 so use-after-free is still caught.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#ifndef WEIR_FRAME_RECYCLING
#define WEIR_FRAME_RECYCLING 1
#endif

namespace weir::detail {

class FrameAllocator {
public:
    static constexpr std::size_t kGranule = 64;
    static constexpr std::size_t kClasses = 32;  // recycles frames up to 2 KiB
    static constexpr std::size_t kMaxCached = 16384;  // per class, bounds hoarding

    static void* allocate(std::size_t n) {
        ++local().live_;
#if WEIR_FRAME_RECYCLING
        std::size_t c = class_of(n);
        if (c < kClasses) {
            auto& fl = local().lists_[c];
            if (fl.head) {
                Node* p = fl.head;
                fl.head = p->next;
                --fl.count;
                return p;
            }
            return ::operator new((c + 1) * kGranule);
        }
#endif
        return ::operator new(n);
    }

    static void deallocate(void* p, std::size_t n) noexcept {
        --local().live_;
#if WEIR_FRAME_RECYCLING
        std::size_t c = class_of(n);
        if (c < kClasses) {
            auto& fl = local().lists_[c];
            if (fl.count < kMaxCached) {
                auto* node = static_cast<Node*>(p);
                node->next = fl.head;
                fl.head = node;
                ++fl.count;
                return;
            }
            ::operator delete(p);
            return;
        }
#endif
        (void)n;
        ::operator delete(p);  // unsized: clang < 19 lacks sized deallocation by default
    }

    // Frames allocated minus frames freed on this thread (may be negative
    // when frames migrate between threads; sums over threads are exact).
    static std::int64_t live_on_this_thread() noexcept { return local().live_; }

private:
    struct Node {
        Node* next;
    };
    struct List {
        Node* head = nullptr;
        std::size_t count = 0;
    };
    struct State {
        List lists_[kClasses];
        std::int64_t live_ = 0;
        ~State();
    };
    static constexpr std::size_t class_of(std::size_t n) noexcept {
        return (n + kGranule - 1) / kGranule - 1;
    }
    static State& local() noexcept {
        thread_local State state;
        return state;
    }
};

}  // namespace weir::detail
