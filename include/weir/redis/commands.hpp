// Commands: typed helpers for the common command families, shared by every
// command sink (Connection, and through it pooled connections).
//
//     co_await conn.set("session:1", token, {.ex = std::chrono::seconds(30)});
//     std::optional<std::string> v = co_await conn.get("session:1");
//     const FieldValues job{{"type", "email"}, {"to", "a@b"}};
//     auto id = co_await conn.xadd("jobs", job);
//     const FieldValues from{{"jobs", ">"}};
//     auto batches = co_await conn.xreadgroup("workers", "w1", from,
//                                            {.count = 10, .block = std::chrono::seconds(1)});
//
// (Vectors are named before the co_await: g++ 12 destroys brace-initialised
// temporaries with destructors inside a co_await expression twice. The
// option structs are trivially destructible, so `{.count = 10}` is fine.)
//
// Each helper builds the command (copying its arguments at once, so the
// returned task may outlive them), runs it with execute() and converts the
// reply; error replies throw ServerError, unexpected reply shapes throw
// ReplyTypeError. Maps come back as std::map, streams as StreamEntry lists.
// Anything without a helper: cmd("ANY", args...) returns the raw Reply.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "weir/core/task.hpp"
#include "weir/redis/command.hpp"
#include "weir/redis/reply.hpp"

namespace weir::redis {

using FieldValues = std::vector<std::pair<std::string, std::string>>;
using Keys = std::vector<std::string>;

struct SetOptions {
    std::optional<std::chrono::milliseconds> ex{};  // expiry (sent as PX)
    bool nx = false;                                // only if the key does not exist
    bool xx = false;                                // only if it exists
    bool keepttl = false;
};

// One stream entry: its id and its field/value pairs in order.
struct StreamEntry {
    std::string id{};
    FieldValues fields{};
    // The value of `field`, if present.
    std::optional<std::string_view> get(std::string_view field) const {
        for (const auto& [f, v] : fields)
            if (f == field) return std::string_view(v);
        return std::nullopt;
    }
    friend bool operator==(const StreamEntry&, const StreamEntry&) = default;
};

// Entries read from one stream by XREAD/XREADGROUP.
struct StreamBatch {
    std::string stream{};
    std::vector<StreamEntry> entries{};
};

struct XReadGroupOptions {
    std::optional<std::size_t> count{};
    // Wait up to this long for entries (BLOCK); nullopt: do not block.
    // Zero blocks forever (use a dedicated connection and a deadline).
    std::optional<std::chrono::milliseconds> block{};
    bool noack = false;
};

// Option structs are trivially destructible on purpose (views, not strings):
// g++ 12 destroys non-trivial temporaries in co_await expressions twice, and
// `co_await conn.xadd(k, f, {.maxlen = 1000})` must be safe. The helpers copy
// everything before they return, so the views only need to live that long.
struct XAddOptions {
    std::string_view id = "*";
    std::optional<std::size_t> maxlen{};  // MAXLEN ~ n
    bool nomkstream = false;
};

struct AutoClaimResult {
    std::string next_start;                // cursor for the next call ("0-0": scan complete)
    std::vector<StreamEntry> entries;      // claimed entries
    std::vector<std::string> deleted_ids;  // pending ids whose entries were deleted
};

struct PendingSummary {
    std::int64_t count = 0;
    std::string min_id;  // empty when nothing is pending
    std::string max_id;
    std::vector<std::pair<std::string, std::int64_t>> consumers;  // name, pending count
};

struct PendingEntry {
    std::string id;
    std::string consumer;
    std::chrono::milliseconds idle{0};
    std::int64_t deliveries = 0;
};

struct XPendingRange {
    std::string_view start = "-";
    std::string_view end = "+";
    std::size_t count = 100;
    std::optional<std::string_view> consumer{};
    std::optional<std::chrono::milliseconds> min_idle{};
};

static_assert(std::is_trivially_destructible_v<SetOptions>);
static_assert(std::is_trivially_destructible_v<XReadGroupOptions>);
static_assert(std::is_trivially_destructible_v<XAddOptions>);
static_assert(std::is_trivially_destructible_v<XPendingRange>);

// A Lua script run with EVALSHA; loaded (SCRIPT LOAD) on first use and again
// whenever the server answers NOSCRIPT (after a restart or SCRIPT FLUSH).
class Script {
public:
    explicit Script(std::string source) : source_(std::move(source)) {}
    const std::string& source() const noexcept { return source_; }
    const std::string& sha() const noexcept { return sha_; }

private:
    friend class Commands;
    std::string source_;
    std::string sha_;  // known SHA1 after a SCRIPT LOAD
};

class Commands {
public:
    // Runs one command; error replies throw ServerError.
    virtual Task<Reply> execute(Command c) = 0;

    template <class... Args>
    Task<Reply> cmd(std::string_view name, const Args&... args) {
        return execute(Command(name, args...));
    }

    // --- connection / server
    Task<std::string> ping();
    Task<void> select(int db);
    Task<std::int64_t> dbsize();
    Task<void> flushdb();
    Task<std::int64_t> publish(std::string_view channel, std::string_view message);

    // --- keys and expiry
    Task<std::int64_t> del(const Keys& keys);
    Task<std::int64_t> del(std::string_view key);
    Task<std::int64_t> exists(const Keys& keys);
    Task<bool> expire(std::string_view key, std::chrono::seconds ttl);
    Task<bool> pexpire(std::string_view key, std::chrono::milliseconds ttl);
    Task<bool> persist(std::string_view key);
    // -2: no such key, -1: no expiry.
    Task<std::int64_t> ttl(std::string_view key);
    Task<std::int64_t> pttl(std::string_view key);

    // --- strings and counters
    Task<std::optional<std::string>> get(std::string_view key);
    // False when NX/XX prevented the write.
    Task<bool> set(std::string_view key, std::string_view value, SetOptions o = {});
    Task<std::optional<std::string>> getdel(std::string_view key);
    Task<std::vector<std::optional<std::string>>> mget(const Keys& keys);
    Task<void> mset(const FieldValues& pairs);
    Task<std::int64_t> incr(std::string_view key);
    Task<std::int64_t> incrby(std::string_view key, std::int64_t by);
    Task<std::int64_t> decr(std::string_view key);
    Task<std::int64_t> decrby(std::string_view key, std::int64_t by);
    Task<double> incrbyfloat(std::string_view key, double by);
    Task<std::int64_t> append(std::string_view key, std::string_view value);
    Task<std::int64_t> strlen(std::string_view key);

    // --- hashes
    Task<std::int64_t> hset(std::string_view key, const FieldValues& fields);
    Task<std::int64_t> hset(std::string_view key, std::string_view field, std::string_view value);
    Task<std::optional<std::string>> hget(std::string_view key, std::string_view field);
    Task<std::vector<std::optional<std::string>>> hmget(std::string_view key, const Keys& fields);
    Task<std::map<std::string, std::string>> hgetall(std::string_view key);
    Task<std::int64_t> hdel(std::string_view key, const Keys& fields);
    Task<std::int64_t> hincrby(std::string_view key, std::string_view field, std::int64_t by);
    Task<bool> hexists(std::string_view key, std::string_view field);
    Task<std::int64_t> hlen(std::string_view key);

    // --- lists
    Task<std::int64_t> lpush(std::string_view key, const Keys& values);
    Task<std::int64_t> rpush(std::string_view key, const Keys& values);
    Task<std::optional<std::string>> lpop(std::string_view key);
    Task<std::optional<std::string>> rpop(std::string_view key);
    Task<std::vector<std::string>> lrange(std::string_view key, std::int64_t start,
                                          std::int64_t stop);
    Task<std::int64_t> llen(std::string_view key);
    // {list, value}, or nullopt after `timeout` (zero: forever).
    Task<std::optional<std::pair<std::string, std::string>>> blpop(
        const Keys& keys, std::chrono::milliseconds timeout);

    // --- sets
    Task<std::int64_t> sadd(std::string_view key, const Keys& members);
    Task<std::int64_t> srem(std::string_view key, const Keys& members);
    Task<std::vector<std::string>> smembers(std::string_view key);
    Task<bool> sismember(std::string_view key, std::string_view member);
    Task<std::int64_t> scard(std::string_view key);

    // --- sorted sets
    Task<std::int64_t> zadd(std::string_view key, double score, std::string_view member);
    Task<std::int64_t> zadd(std::string_view key,
                            const std::vector<std::pair<double, std::string>>& scored);
    Task<std::optional<double>> zscore(std::string_view key, std::string_view member);
    Task<double> zincrby(std::string_view key, double by, std::string_view member);
    Task<std::vector<std::string>> zrange(std::string_view key, std::int64_t start,
                                          std::int64_t stop);
    Task<std::vector<std::pair<std::string, double>>> zrange_withscores(std::string_view key,
                                                                        std::int64_t start,
                                                                        std::int64_t stop);
    Task<std::vector<std::string>> zrangebyscore(std::string_view key, double min, double max,
                                                 std::optional<std::size_t> limit = {});
    Task<std::optional<std::int64_t>> zrank(std::string_view key, std::string_view member);
    Task<std::int64_t> zrem(std::string_view key, const Keys& members);
    Task<std::int64_t> zcard(std::string_view key);

    // --- streams
    Task<std::string> xadd(std::string_view key, const FieldValues& fields, XAddOptions o = {});
    Task<std::int64_t> xlen(std::string_view key);
    Task<std::vector<StreamEntry>> xrange(std::string_view key, std::string_view start = "-",
                                          std::string_view end = "+",
                                          std::optional<std::size_t> count = {});
    Task<std::int64_t> xdel(std::string_view key, const Keys& ids);
    // False if the group already existed (BUSYGROUP).
    Task<bool> xgroup_create(std::string_view key, std::string_view group,
                             std::string_view start_id = "$", bool mkstream = true);
    Task<bool> xgroup_destroy(std::string_view key, std::string_view group);
    // streams: {key, id} (">" for new entries). Empty when BLOCK timed out.
    Task<std::vector<StreamBatch>> xreadgroup(std::string_view group, std::string_view consumer,
                                              const FieldValues& streams, XReadGroupOptions o = {});
    Task<std::int64_t> xack(std::string_view key, std::string_view group, const Keys& ids);
    Task<AutoClaimResult> xautoclaim(std::string_view key, std::string_view group,
                                     std::string_view consumer, std::chrono::milliseconds min_idle,
                                     std::string_view start = "0-0",
                                     std::optional<std::size_t> count = {});
    Task<PendingSummary> xpending(std::string_view key, std::string_view group);
    Task<std::vector<PendingEntry>> xpending(std::string_view key, std::string_view group,
                                             XPendingRange range);

    // --- scripting
    // EVALSHA, loading the script first when needed (NOSCRIPT).
    Task<Reply> eval(Script& script);
    Task<Reply> eval(Script& script, const Keys& keys);
    Task<Reply> eval(Script& script, const Keys& keys, const Keys& args);
    Task<std::string> script_load(std::string_view source);

    // --- transactions (state lives on the connection: use a dedicated one)
    Task<void> watch(const Keys& keys);
    Task<void> unwatch();

protected:
    Commands() = default;
    Commands(const Commands&) = default;
    Commands& operator=(const Commands&) = default;
    ~Commands() = default;

private:
    template <class R>
    Task<R> typed(Command c, R (*convert)(Reply&));
    Task<Reply> eval_impl(Script& script, Command evalsha_args);
};

// Reply conversions used by the helpers (public for code that uses cmd()).
std::vector<StreamEntry> to_stream_entries(const Reply& r);
std::map<std::string, std::string> to_string_map(const Reply& r);
std::vector<std::string> to_strings(const Reply& r);

}  // namespace weir::redis
