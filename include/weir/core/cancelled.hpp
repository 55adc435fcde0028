// Cancelled: the exception that delivers cancellation at an await point.
//
// It deliberately does not derive from std::exception, so a broad
// `catch (const std::exception&)` cannot swallow it (the article's pitfall 3).
// Cancellation is level-triggered: once a task's scope is cancelled, every
// later cancellable await throws Cancelled again, so even `catch (...)`
// that forgets to rethrow cannot keep a cancelled task running for long.
#pragma once

#include <cstdint>
#include <string_view>

namespace weir {

// Why work was cancelled. Counted per reason in the loop's statistics.
enum class CancelReason : std::uint8_t {
    user,               // explicit cancel() by the program
    timeout,            // a deadline (with_timeout / with_deadline) expired
    shutdown,           // the runtime or application is shutting down
    peer_disconnected,  // the client of a request went away
    sibling_failed,     // another child of the same TaskGroup failed
    race_lost,          // another contender of when_any finished first
};

inline constexpr std::size_t kCancelReasonCount = 6;

constexpr std::string_view to_string(CancelReason r) noexcept {
    switch (r) {
        case CancelReason::user: return "user";
        case CancelReason::timeout: return "timeout";
        case CancelReason::shutdown: return "shutdown";
        case CancelReason::peer_disconnected: return "peer_disconnected";
        case CancelReason::sibling_failed: return "sibling_failed";
        case CancelReason::race_lost: return "race_lost";
    }
    return "unknown";
}

// Thrown at an await point of a cancelled task. Rethrow it if you catch it.
class Cancelled {
public:
    explicit constexpr Cancelled(CancelReason reason) noexcept : reason_(reason) {}
    constexpr CancelReason reason() const noexcept { return reason_; }
    constexpr const char* what() const noexcept {
        return reason_ == CancelReason::timeout ? "cancelled (timeout)" : "cancelled";
    }

private:
    CancelReason reason_;
};

}  // namespace weir
