// Pipeline: a batch of commands sent in one write and answered in one round
// trip, optionally as a MULTI/EXEC transaction.
//
//     Pipeline p;
//     p.cmd("SET", "a", 1).cmd("INCR", "a").cmd("GET", "a");
//     std::vector<Reply> r = co_await conn.pipeline(p);     // r[2].str() == "2"
//
//     co_await conn.watch(keys);                              // on a dedicated connection
//     auto r = co_await conn.transaction(p);                  // nullopt: a WATCHed key changed
//
// pipeline() returns one Reply per command; a command that failed has an
// error Reply there (nothing is thrown for it), so one bad command does not
// hide the others' results. transaction() wraps the batch in MULTI/EXEC and
// returns EXEC's replies, or nullopt when EXEC was aborted by WATCH; a command
// rejected while queueing makes it throw ServerError (EXECABORT).
#pragma once

#include <utility>
#include <vector>

#include "weir/redis/command.hpp"

namespace weir::redis {

class Pipeline {
public:
    template <class... Args>
    Pipeline& cmd(std::string_view name, const Args&... args) {
        commands_.emplace_back(name, args...);
        return *this;
    }
    Pipeline& add(Command c) {
        commands_.push_back(std::move(c));
        return *this;
    }
    std::size_t size() const noexcept { return commands_.size(); }
    bool empty() const noexcept { return commands_.empty(); }
    void clear() noexcept { commands_.clear(); }
    const std::vector<Command>& commands() const noexcept { return commands_; }

private:
    std::vector<Command> commands_;
};

}  // namespace weir::redis
