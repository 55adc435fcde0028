// Lua scripts of the jobs module; see scripts.hpp. Each one is a single state change.
#include "scripts.hpp"

#include <cstdio>
#include <random>

namespace weir::jobs::detail {
namespace {

// KEYS: job hash, stream, delayed, stats, cron key
// ARGV: id, name, args, queue, max_tries, timeout_ms, now_ms, run_at_ms, cron period ('' none)
constexpr const char* kEnqueue = R"lua(
if ARGV[9] ~= '' then
  local cur = tonumber(redis.call('GET', KEYS[5]) or '-1')
  if cur >= tonumber(ARGV[9]) then return 0 end
  redis.call('SET', KEYS[5], ARGV[9])
end
local st = redis.call('HGET', KEYS[1], 'state')
if st == 'queued' or st == 'deferred' or st == 'running' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'name', ARGV[2], 'args', ARGV[3], 'queue', ARGV[4],
           'max_tries', ARGV[5], 'timeout_ms', ARGV[6], 'enqueued_ms', ARGV[7],
           'run_at_ms', ARGV[8], 'tries', '0')
if tonumber(ARGV[8]) > tonumber(ARGV[7]) then
  redis.call('HSET', KEYS[1], 'state', 'deferred')
  redis.call('ZADD', KEYS[3], ARGV[8], ARGV[1])
else
  redis.call('HSET', KEYS[1], 'state', 'queued')
  redis.call('XADD', KEYS[2], '*', 'id', ARGV[1])
end
redis.call('HINCRBY', KEYS[4], 'enqueued', 1)
return 1
)lua";

// KEYS: delayed   ARGV: prefix, now_ms, limit
constexpr const char* kPromote = R"lua(
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local hk = ARGV[1] .. ':job:' .. id
  if redis.call('HGET', hk, 'state') == 'deferred' then
    local q = redis.call('HGET', hk, 'queue')
    redis.call('HSET', hk, 'state', 'queued')
    redis.call('XADD', ARGV[1] .. ':q:' .. q, '*', 'id', id)
  end
end
return #ids
)lua";

// KEYS: job hash   ARGV: worker, now_ms
// -> nil for a stale entry, else {name, args, queue, tries, max_tries, timeout_ms, enqueued_ms,
//    run_at_ms}
constexpr const char* kStart = R"lua(
local st = redis.call('HGET', KEYS[1], 'state')
if st ~= 'queued' and st ~= 'running' then return false end
local tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
redis.call('HSET', KEYS[1], 'state', 'running', 'worker', ARGV[1], 'started_ms', ARGV[2])
local f = redis.call('HMGET', KEYS[1], 'name', 'args', 'queue', 'max_tries', 'timeout_ms',
                     'enqueued_ms', 'run_at_ms')
return {f[1], f[2], f[3], tostring(tries), f[4], f[5], f[6], f[7]}
)lua";

// KEYS: job hash, stream, stats, dead list
// ARGV: entry id, group, 'done'|'dead', result or error, ttl_ms, job id, now_ms
constexpr const char* kFinish = R"lua(
redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])
redis.call('XDEL', KEYS[2], ARGV[1])
if redis.call('HGET', KEYS[1], 'state') == 'running' then
  if ARGV[3] == 'done' then
    redis.call('HSET', KEYS[1], 'state', 'done', 'result', ARGV[4], 'finished_ms', ARGV[7])
  else
    redis.call('HSET', KEYS[1], 'state', 'dead', 'error', ARGV[4], 'finished_ms', ARGV[7])
    redis.call('LPUSH', KEYS[4], ARGV[6])
  end
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
return 1
)lua";

// KEYS: job hash, stream, delayed, stats
// ARGV: entry id, group, job id, run_at_ms, error ('' none), '1' retry | '0' release
constexpr const char* kRetry = R"lua(
redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])
redis.call('XDEL', KEYS[2], ARGV[1])
if redis.call('HGET', KEYS[1], 'state') == 'running' then
  redis.call('HSET', KEYS[1], 'state', 'deferred', 'run_at_ms', ARGV[4])
  if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[5]) end
  if ARGV[6] == '0' then redis.call('HINCRBY', KEYS[1], 'tries', -1) end
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
end
if ARGV[6] == '1' then
  redis.call('HINCRBY', KEYS[4], 'retried', 1)
else
  redis.call('HINCRBY', KEYS[4], 'released', 1)
end
return 1
)lua";

// KEYS: job hash, dead list   ARGV: prefix, job id
constexpr const char* kRequeueDead = R"lua(
if redis.call('HGET', KEYS[1], 'state') ~= 'dead' then return 0 end
redis.call('LREM', KEYS[2], 0, ARGV[2])
redis.call('PERSIST', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'queued', 'tries', '0')
local q = redis.call('HGET', KEYS[1], 'queue')
redis.call('XADD', ARGV[1] .. ':q:' .. q, '*', 'id', ARGV[2])
return 1
)lua";

}  // namespace

// One Script per source and thread (a Script caches its SHA1 once loaded).
template <const char* const& Source>
redis::Script& cached() {
    thread_local redis::Script s(Source);
    return s;
}

redis::Script& enqueue_script() { return cached<kEnqueue>(); }
redis::Script& promote_script() { return cached<kPromote>(); }
redis::Script& start_script() { return cached<kStart>(); }
redis::Script& finish_script() { return cached<kFinish>(); }
redis::Script& retry_script() { return cached<kRetry>(); }
redis::Script& requeue_dead_script() { return cached<kRequeueDead>(); }

std::string random_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                  static_cast<unsigned long long>(rng()));
    return buf;
}

}  // namespace weir::jobs::detail
