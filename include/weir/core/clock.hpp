// The runtime's clock: monotonic time points used by timers and deadlines.
#pragma once

#include <chrono>

namespace weir {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

inline constexpr TimePoint kNoDeadline = TimePoint::max();

}  // namespace weir
