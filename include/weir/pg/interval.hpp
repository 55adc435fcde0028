// Interval: PostgreSQL's interval as its three independent parts (months,
// days and microseconds do not convert into each other exactly).
#pragma once

#include <cstdint>

namespace weir::pg {

struct Interval {
    std::int64_t microseconds = 0;
    std::int32_t days = 0;
    std::int32_t months = 0;
    bool operator==(const Interval&) const = default;
};

}  // namespace weir::pg
