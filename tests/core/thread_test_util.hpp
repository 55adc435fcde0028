// Helpers for the tests of work that runs on other threads (to_thread, to_cpu):
// waiting for a flag or a counter set there, with a bound so that a broken
// runtime fails the test instead of hanging it.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

#include <weir/core.hpp>

namespace weir_test {

// Spins (politely) on the calling thread until `flag` is set; false after 20 s.
inline bool wait_for_flag(const std::atomic<bool>& flag) {
    using namespace std::chrono_literals;
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (!flag.load(std::memory_order_acquire)) {
        if (std::chrono::steady_clock::now() > give_up) return false;
        std::this_thread::sleep_for(100us);
    }
    return true;
}

// Polls from the loop until `n` reaches `want`; false after 20 s.
inline weir::Task<bool> loop_wait_count(const std::atomic<int>& n, int want) {
    using namespace std::chrono_literals;
    const auto give_up = weir::Clock::now() + 20s;
    while (n.load(std::memory_order_acquire) < want) {
        if (weir::Clock::now() > give_up) co_return false;
        co_await weir::sleep_for(200us);
    }
    co_return true;
}

}  // namespace weir_test
