// Mutex: an async, FIFO-fair lock for one shard, held across awaits.
//
//     auto guard = co_await mutex.lock();   // unlocked when guard dies
//
// Locking is cancellable. It is a Semaphore with one permit.
#pragma once

#include "weir/core/semaphore.hpp"

namespace weir {

class Mutex {
public:
    using Guard = SemaphorePermit;

    [[nodiscard]] Semaphore::Acquire lock() noexcept { return sem_.acquire(); }
    Guard try_lock() noexcept { return sem_.try_acquire(); }
    bool locked() const noexcept { return sem_.available() == 0; }

private:
    Semaphore sem_{1};
};

}  // namespace weir
