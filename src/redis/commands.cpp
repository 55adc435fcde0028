#include "weir/redis/commands.hpp"

#include "weir/redis/error.hpp"

namespace weir::redis {

namespace {

// --- conversions ------------------------------------------------------------------------------

void conv_void(Reply&) {}
std::int64_t conv_int(Reply& r) { return r.to_int(); }
bool conv_bool(Reply& r) { return r.to_int() != 0; }
double conv_double(Reply& r) { return r.to_double(); }
std::string conv_string(Reply& r) { return r.take_str(); }
std::optional<std::string> conv_opt_string(Reply& r) {
    if (r.is_nil()) return std::nullopt;
    return r.take_str();
}
std::optional<double> conv_opt_double(Reply& r) {
    if (r.is_nil()) return std::nullopt;
    return r.to_double();
}
std::optional<std::int64_t> conv_opt_int(Reply& r) {
    if (r.is_nil()) return std::nullopt;
    return r.to_int();
}
bool conv_ok_or_nil(Reply& r) { return !r.is_nil(); }
std::vector<std::string> conv_strings(Reply& r) { return to_strings(r); }
std::vector<std::optional<std::string>> conv_opt_strings(Reply& r) {
    std::vector<std::optional<std::string>> v;
    if (r.is_nil()) return v;
    v.reserve(r.size());
    for (auto& e : r.elements()) v.push_back(conv_opt_string(e));
    return v;
}
std::map<std::string, std::string> conv_string_map(Reply& r) { return to_string_map(r); }
std::vector<std::pair<std::string, double>> conv_scored(Reply& r) {
    std::vector<std::pair<std::string, double>> v;
    auto& e = r.elements();
    // RESP3: [[member, score], ...]; RESP2: [member, score, member, score, ...]
    if (!e.empty() && e[0].is_aggregate()) {
        for (auto& pair : e) v.emplace_back(std::string(pair[0].str()), pair[1].to_double());
    } else {
        for (std::size_t i = 0; i + 1 < e.size(); i += 2)
            v.emplace_back(std::string(e[i].str()), e[i + 1].to_double());
    }
    return v;
}
std::optional<std::pair<std::string, std::string>> conv_pop(Reply& r) {
    if (r.is_nil()) return std::nullopt;
    if (r.size() != 2) throw ReplyTypeError("BLPOP reply is not a [key, value] pair");
    return std::make_pair(std::string(r[0].str()), std::string(r[1].str()));
}

StreamEntry to_entry(const Reply& r) {
    // [id, [field, value, ...]] (the field list is nil for a deleted entry)
    if (!r.is_aggregate() || r.size() != 2)
        throw ReplyTypeError("bad stream entry: " + r.debug_string());
    StreamEntry e;
    e.id = std::string(r[0].str());
    if (!r[1].is_nil()) {
        const auto& f = r[1].elements();
        e.fields.reserve(f.size() / 2);
        for (std::size_t i = 0; i + 1 < f.size(); i += 2)
            e.fields.emplace_back(std::string(f[i].str()), std::string(f[i + 1].str()));
    }
    return e;
}

std::vector<StreamEntry> conv_entries(Reply& r) { return to_stream_entries(r); }

std::vector<StreamBatch> conv_batches(Reply& r) {
    std::vector<StreamBatch> out;
    if (r.is_nil()) return out;  // BLOCK timed out
    const auto& e = r.elements();
    auto add = [&](const Reply& key, const Reply& entries) {
        StreamBatch b;
        b.stream = std::string(key.str());
        b.entries = to_stream_entries(entries);
        out.push_back(std::move(b));
    };
    if (r.type() == ReplyType::map) {  // RESP3: {stream: entries}
        for (std::size_t i = 0; i + 1 < e.size(); i += 2) add(e[i], e[i + 1]);
    } else {  // RESP2: [[stream, entries], ...]
        for (const auto& s : e) add(s[0], s[1]);
    }
    return out;
}

AutoClaimResult conv_autoclaim(Reply& r) {
    AutoClaimResult a;
    if (r.size() < 2) throw ReplyTypeError("bad XAUTOCLAIM reply: " + r.debug_string());
    a.next_start = std::string(r[0].str());
    for (const auto& e : r[1].elements()) {
        if (e.is_nil()) continue;
        a.entries.push_back(to_entry(e));
    }
    if (r.size() >= 3) a.deleted_ids = to_strings(r[2]);
    return a;
}

PendingSummary conv_pending_summary(Reply& r) {
    PendingSummary s;
    s.count = r[0].to_int();
    if (!r[1].is_nil()) s.min_id = std::string(r[1].str());
    if (!r[2].is_nil()) s.max_id = std::string(r[2].str());
    if (!r[3].is_nil())
        for (const auto& c : r[3].elements())
            s.consumers.emplace_back(std::string(c[0].str()), c[1].to_int());
    return s;
}

std::vector<PendingEntry> conv_pending_entries(Reply& r) {
    std::vector<PendingEntry> v;
    for (const auto& e : r.elements()) {
        PendingEntry p;
        p.id = std::string(e[0].str());
        p.consumer = std::string(e[1].str());
        p.idle = std::chrono::milliseconds(e[2].to_int());
        p.deliveries = e[3].to_int();
        v.push_back(std::move(p));
    }
    return v;
}

void add_keys(Command& c, const Keys& keys) {
    for (const auto& k : keys) c.arg(k);
}

}  // namespace

std::vector<std::string> to_strings(const Reply& r) {
    std::vector<std::string> v;
    if (r.is_nil()) return v;
    v.reserve(r.size());
    for (const auto& e : r.elements()) v.emplace_back(e.str());
    return v;
}

std::map<std::string, std::string> to_string_map(const Reply& r) {
    std::map<std::string, std::string> m;
    if (r.is_nil()) return m;
    const auto& e = r.elements();
    for (std::size_t i = 0; i + 1 < e.size(); i += 2) m.emplace(e[i].str(), e[i + 1].str());
    return m;
}

std::vector<StreamEntry> to_stream_entries(const Reply& r) {
    std::vector<StreamEntry> v;
    if (r.is_nil()) return v;
    v.reserve(r.size());
    for (const auto& e : r.elements()) v.push_back(to_entry(e));
    return v;
}

template <class R>
Task<R> Commands::typed(Command c, R (*convert)(Reply&)) {
    Reply r = co_await execute(std::move(c));
    if constexpr (std::is_void_v<R>) {
        convert(r);
        co_return;
    } else {
        co_return convert(r);
    }
}

// --- connection / server ------------------------------------------------------------------------

Task<std::string> Commands::ping() { return typed(Command("PING"), &conv_string); }
Task<void> Commands::select(int db) { return typed(Command("SELECT", db), &conv_void); }
Task<std::int64_t> Commands::dbsize() { return typed(Command("DBSIZE"), &conv_int); }
Task<void> Commands::flushdb() { return typed(Command("FLUSHDB"), &conv_void); }
Task<std::int64_t> Commands::publish(std::string_view channel, std::string_view message) {
    return typed(Command("PUBLISH", channel, message), &conv_int);
}

// --- keys and expiry ----------------------------------------------------------------------------

Task<std::int64_t> Commands::del(const Keys& keys) {
    Command c("DEL");
    add_keys(c, keys);
    return typed(std::move(c), &conv_int);
}
Task<std::int64_t> Commands::del(std::string_view key) {
    return typed(Command("DEL", key), &conv_int);
}
Task<std::int64_t> Commands::exists(const Keys& keys) {
    Command c("EXISTS");
    add_keys(c, keys);
    return typed(std::move(c), &conv_int);
}
Task<bool> Commands::expire(std::string_view key, std::chrono::seconds ttl) {
    return typed(Command("EXPIRE", key, ttl.count()), &conv_bool);
}
Task<bool> Commands::pexpire(std::string_view key, std::chrono::milliseconds ttl) {
    return typed(Command("PEXPIRE", key, ttl.count()), &conv_bool);
}
Task<bool> Commands::persist(std::string_view key) {
    return typed(Command("PERSIST", key), &conv_bool);
}
Task<std::int64_t> Commands::ttl(std::string_view key) {
    return typed(Command("TTL", key), &conv_int);
}
Task<std::int64_t> Commands::pttl(std::string_view key) {
    return typed(Command("PTTL", key), &conv_int);
}

// --- strings and counters -----------------------------------------------------------------------

Task<std::optional<std::string>> Commands::get(std::string_view key) {
    return typed(Command("GET", key), &conv_opt_string);
}
Task<bool> Commands::set(std::string_view key, std::string_view value, SetOptions o) {
    Command c("SET", key, value);
    if (o.ex) c.arg("PX").arg(o.ex->count());
    if (o.nx) c.arg("NX");
    if (o.xx) c.arg("XX");
    if (o.keepttl) c.arg("KEEPTTL");
    return typed(std::move(c), &conv_ok_or_nil);
}
Task<std::optional<std::string>> Commands::getdel(std::string_view key) {
    return typed(Command("GETDEL", key), &conv_opt_string);
}
Task<std::vector<std::optional<std::string>>> Commands::mget(const Keys& keys) {
    Command c("MGET");
    add_keys(c, keys);
    return typed(std::move(c), &conv_opt_strings);
}
Task<void> Commands::mset(const FieldValues& pairs) {
    Command c("MSET");
    for (const auto& [k, v] : pairs) c.arg(k).arg(v);
    return typed(std::move(c), &conv_void);
}
Task<std::int64_t> Commands::incr(std::string_view key) {
    return typed(Command("INCR", key), &conv_int);
}
Task<std::int64_t> Commands::incrby(std::string_view key, std::int64_t by) {
    return typed(Command("INCRBY", key, by), &conv_int);
}
Task<std::int64_t> Commands::decr(std::string_view key) {
    return typed(Command("DECR", key), &conv_int);
}
Task<std::int64_t> Commands::decrby(std::string_view key, std::int64_t by) {
    return typed(Command("DECRBY", key, by), &conv_int);
}
Task<double> Commands::incrbyfloat(std::string_view key, double by) {
    return typed(Command("INCRBYFLOAT", key, by), &conv_double);
}
Task<std::int64_t> Commands::append(std::string_view key, std::string_view value) {
    return typed(Command("APPEND", key, value), &conv_int);
}
Task<std::int64_t> Commands::strlen(std::string_view key) {
    return typed(Command("STRLEN", key), &conv_int);
}

// --- hashes -------------------------------------------------------------------------------------

Task<std::int64_t> Commands::hset(std::string_view key, const FieldValues& fields) {
    Command c("HSET", key);
    for (const auto& [f, v] : fields) c.arg(f).arg(v);
    return typed(std::move(c), &conv_int);
}
Task<std::int64_t> Commands::hset(std::string_view key, std::string_view field,
                                  std::string_view value) {
    return typed(Command("HSET", key, field, value), &conv_int);
}
Task<std::optional<std::string>> Commands::hget(std::string_view key, std::string_view field) {
    return typed(Command("HGET", key, field), &conv_opt_string);
}
Task<std::vector<std::optional<std::string>>> Commands::hmget(std::string_view key,
                                                              const Keys& fields) {
    Command c("HMGET", key);
    add_keys(c, fields);
    return typed(std::move(c), &conv_opt_strings);
}
Task<std::map<std::string, std::string>> Commands::hgetall(std::string_view key) {
    return typed(Command("HGETALL", key), &conv_string_map);
}
Task<std::int64_t> Commands::hdel(std::string_view key, const Keys& fields) {
    Command c("HDEL", key);
    add_keys(c, fields);
    return typed(std::move(c), &conv_int);
}
Task<std::int64_t> Commands::hincrby(std::string_view key, std::string_view field,
                                     std::int64_t by) {
    return typed(Command("HINCRBY", key, field, by), &conv_int);
}
Task<bool> Commands::hexists(std::string_view key, std::string_view field) {
    return typed(Command("HEXISTS", key, field), &conv_bool);
}
Task<std::int64_t> Commands::hlen(std::string_view key) {
    return typed(Command("HLEN", key), &conv_int);
}

// --- lists --------------------------------------------------------------------------------------

Task<std::int64_t> Commands::lpush(std::string_view key, const Keys& values) {
    Command c("LPUSH", key);
    add_keys(c, values);
    return typed(std::move(c), &conv_int);
}
Task<std::int64_t> Commands::rpush(std::string_view key, const Keys& values) {
    Command c("RPUSH", key);
    add_keys(c, values);
    return typed(std::move(c), &conv_int);
}
Task<std::optional<std::string>> Commands::lpop(std::string_view key) {
    return typed(Command("LPOP", key), &conv_opt_string);
}
Task<std::optional<std::string>> Commands::rpop(std::string_view key) {
    return typed(Command("RPOP", key), &conv_opt_string);
}
Task<std::vector<std::string>> Commands::lrange(std::string_view key, std::int64_t start,
                                                std::int64_t stop) {
    return typed(Command("LRANGE", key, start, stop), &conv_strings);
}
Task<std::int64_t> Commands::llen(std::string_view key) {
    return typed(Command("LLEN", key), &conv_int);
}
Task<std::optional<std::pair<std::string, std::string>>> Commands::blpop(
    const Keys& keys, std::chrono::milliseconds timeout) {
    Command c("BLPOP");
    add_keys(c, keys);
    c.arg(static_cast<double>(timeout.count()) / 1000.0);
    return typed(std::move(c), &conv_pop);
}

// --- sets ---------------------------------------------------------------------------------------

Task<std::int64_t> Commands::sadd(std::string_view key, const Keys& members) {
    Command c("SADD", key);
    add_keys(c, members);
    return typed(std::move(c), &conv_int);
}
Task<std::int64_t> Commands::srem(std::string_view key, const Keys& members) {
    Command c("SREM", key);
    add_keys(c, members);
    return typed(std::move(c), &conv_int);
}
Task<std::vector<std::string>> Commands::smembers(std::string_view key) {
    return typed(Command("SMEMBERS", key), &conv_strings);
}
Task<bool> Commands::sismember(std::string_view key, std::string_view member) {
    return typed(Command("SISMEMBER", key, member), &conv_bool);
}
Task<std::int64_t> Commands::scard(std::string_view key) {
    return typed(Command("SCARD", key), &conv_int);
}

// --- sorted sets --------------------------------------------------------------------------------

Task<std::int64_t> Commands::zadd(std::string_view key, double score, std::string_view member) {
    return typed(Command("ZADD", key, score, member), &conv_int);
}
Task<std::int64_t> Commands::zadd(std::string_view key,
                                  const std::vector<std::pair<double, std::string>>& scored) {
    Command c("ZADD", key);
    for (const auto& [s, m] : scored) c.arg(s).arg(m);
    return typed(std::move(c), &conv_int);
}
Task<std::optional<double>> Commands::zscore(std::string_view key, std::string_view member) {
    return typed(Command("ZSCORE", key, member), &conv_opt_double);
}
Task<double> Commands::zincrby(std::string_view key, double by, std::string_view member) {
    return typed(Command("ZINCRBY", key, by, member), &conv_double);
}
Task<std::vector<std::string>> Commands::zrange(std::string_view key, std::int64_t start,
                                                std::int64_t stop) {
    return typed(Command("ZRANGE", key, start, stop), &conv_strings);
}
Task<std::vector<std::pair<std::string, double>>> Commands::zrange_withscores(std::string_view key,
                                                                              std::int64_t start,
                                                                              std::int64_t stop) {
    return typed(Command("ZRANGE", key, start, stop, "WITHSCORES"), &conv_scored);
}
Task<std::vector<std::string>> Commands::zrangebyscore(std::string_view key, double min, double max,
                                                       std::optional<std::size_t> limit) {
    Command c("ZRANGE", key, min, max, "BYSCORE");
    if (limit) c.arg("LIMIT").arg(0).arg(*limit);
    return typed(std::move(c), &conv_strings);
}
Task<std::optional<std::int64_t>> Commands::zrank(std::string_view key, std::string_view member) {
    return typed(Command("ZRANK", key, member), &conv_opt_int);
}
Task<std::int64_t> Commands::zrem(std::string_view key, const Keys& members) {
    Command c("ZREM", key);
    add_keys(c, members);
    return typed(std::move(c), &conv_int);
}
Task<std::int64_t> Commands::zcard(std::string_view key) {
    return typed(Command("ZCARD", key), &conv_int);
}

// --- streams ------------------------------------------------------------------------------------

Task<std::string> Commands::xadd(std::string_view key, const FieldValues& fields, XAddOptions o) {
    if (fields.empty()) throw std::invalid_argument("XADD needs at least one field");
    Command c("XADD", key);
    if (o.nomkstream) c.arg("NOMKSTREAM");
    if (o.maxlen) c.arg("MAXLEN").arg("~").arg(*o.maxlen);
    c.arg(o.id);
    for (const auto& [f, v] : fields) c.arg(f).arg(v);
    return typed(std::move(c), &conv_string);
}
Task<std::int64_t> Commands::xlen(std::string_view key) {
    return typed(Command("XLEN", key), &conv_int);
}
Task<std::vector<StreamEntry>> Commands::xrange(std::string_view key, std::string_view start,
                                                std::string_view end,
                                                std::optional<std::size_t> count) {
    Command c("XRANGE", key, start, end);
    if (count) c.arg("COUNT").arg(*count);
    return typed(std::move(c), &conv_entries);
}
Task<std::int64_t> Commands::xdel(std::string_view key, const Keys& ids) {
    Command c("XDEL", key);
    add_keys(c, ids);
    return typed(std::move(c), &conv_int);
}

namespace {
Task<bool> group_create(Commands& self, Command c) {
    bool created = true;
    try {
        co_await self.execute(std::move(c));
    } catch (const ServerError& e) {
        if (e.prefix() != "BUSYGROUP") throw;
        created = false;
    }
    co_return created;
}
}  // namespace

Task<bool> Commands::xgroup_create(std::string_view key, std::string_view group,
                                   std::string_view start_id, bool mkstream) {
    Command c("XGROUP", "CREATE", key, group, start_id);
    if (mkstream) c.arg("MKSTREAM");
    return group_create(*this, std::move(c));
}
Task<bool> Commands::xgroup_destroy(std::string_view key, std::string_view group) {
    return typed(Command("XGROUP", "DESTROY", key, group), &conv_bool);
}
Task<std::vector<StreamBatch>> Commands::xreadgroup(std::string_view group,
                                                    std::string_view consumer,
                                                    const FieldValues& streams,
                                                    XReadGroupOptions o) {
    if (streams.empty()) throw std::invalid_argument("XREADGROUP needs at least one stream");
    Command c("XREADGROUP", "GROUP", group, consumer);
    if (o.count) c.arg("COUNT").arg(*o.count);
    if (o.block) c.arg("BLOCK").arg(o.block->count());
    if (o.noack) c.arg("NOACK");
    c.arg("STREAMS");
    for (const auto& s : streams) c.arg(s.first);
    for (const auto& s : streams) c.arg(s.second);
    return typed(std::move(c), &conv_batches);
}
Task<std::int64_t> Commands::xack(std::string_view key, std::string_view group, const Keys& ids) {
    Command c("XACK", key, group);
    add_keys(c, ids);
    return typed(std::move(c), &conv_int);
}
Task<AutoClaimResult> Commands::xautoclaim(std::string_view key, std::string_view group,
                                           std::string_view consumer,
                                           std::chrono::milliseconds min_idle,
                                           std::string_view start,
                                           std::optional<std::size_t> count) {
    Command c("XAUTOCLAIM", key, group, consumer, min_idle.count(), start);
    if (count) c.arg("COUNT").arg(*count);
    return typed(std::move(c), &conv_autoclaim);
}
Task<PendingSummary> Commands::xpending(std::string_view key, std::string_view group) {
    return typed(Command("XPENDING", key, group), &conv_pending_summary);
}
Task<std::vector<PendingEntry>> Commands::xpending(std::string_view key, std::string_view group,
                                                   XPendingRange r) {
    Command c("XPENDING", key, group);
    if (r.min_idle) c.arg("IDLE").arg(r.min_idle->count());
    c.arg(r.start).arg(r.end).arg(r.count);
    if (r.consumer) c.arg(*r.consumer);
    return typed(std::move(c), &conv_pending_entries);
}

// --- scripting ----------------------------------------------------------------------------------

Task<std::string> Commands::script_load(std::string_view source) {
    return typed(Command("SCRIPT", "LOAD", source), &conv_string);
}

Task<Reply> Commands::eval(Script& script) { return eval(script, Keys(), Keys()); }
Task<Reply> Commands::eval(Script& script, const Keys& keys) { return eval(script, keys, Keys()); }
Task<Reply> Commands::eval(Script& script, const Keys& keys, const Keys& args) {
    Command rest;  // numkeys, keys..., args... (the part after the SHA)
    rest.arg(keys.size());
    add_keys(rest, keys);
    add_keys(rest, args);
    return eval_impl(script, std::move(rest));
}

Task<Reply> Commands::eval_impl(Script& script, Command rest) {
    for (int attempt = 0;; ++attempt) {
        if (script.sha_.empty()) script.sha_ = co_await script_load(script.source_);
        bool noscript = false;
        std::optional<Reply> r;
        try {
            // EVALSHA sha, then the saved arguments.
            Command full("EVALSHA", script.sha_);
            full.append_encoded_args(rest);
            r = co_await execute(std::move(full));
        } catch (const ServerError& e) {
            if (e.prefix() != "NOSCRIPT" || attempt > 0) throw;
            noscript = true;
        }
        if (!noscript) co_return std::move(*r);
        script.sha_.clear();  // flushed or restarted server: load again
    }
}

Task<void> Commands::watch(const Keys& keys) {
    Command c("WATCH");
    add_keys(c, keys);
    return typed(std::move(c), &conv_void);
}
Task<void> Commands::unwatch() { return typed(Command("UNWATCH"), &conv_void); }

}  // namespace weir::redis
