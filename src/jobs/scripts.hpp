// The Lua scripts that move jobs between states atomically, and the key names
// they use (see include/weir/jobs/queue.hpp for the layout).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "weir/redis/commands.hpp"

namespace weir::jobs::detail {

inline constexpr std::string_view kGroup = "workers";

struct KeyNames {
    std::string prefix;
    std::string job(std::string_view id) const { return prefix + ":job:" + std::string(id); }
    std::string stream(std::string_view queue) const { return prefix + ":q:" + std::string(queue); }
    std::string delayed() const { return prefix + ":delayed"; }
    std::string dead() const { return prefix + ":dead"; }
    std::string stats() const { return prefix + ":stats"; }
    std::string cron(std::string_view name) const { return prefix + ":cron:" + std::string(name); }
};

// One Script object per script and thread (a Script caches its SHA1).
redis::Script& enqueue_script();
redis::Script& promote_script();
redis::Script& start_script();
redis::Script& finish_script();
redis::Script& retry_script();
redis::Script& requeue_dead_script();

// Milliseconds since the epoch (job times are wall-clock: they are shared by machines).
inline std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// A random 128-bit job id in hex.
std::string random_id();

}  // namespace weir::jobs::detail
