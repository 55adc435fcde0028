#include "weir/core/frame_allocator.hpp"

namespace weir::detail {

FrameAllocator::State::~State() {
    for (auto& list : lists_) {
        while (list.head) {
            Node* n = list.head;
            list.head = n->next;
            ::operator delete(n);
        }
    }
}

}  // namespace weir::detail
