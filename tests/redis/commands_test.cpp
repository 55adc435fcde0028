// Typed helpers, explicit pipelines, MULTI/EXEC with WATCH and scripting,
// under RESP3 and RESP2 where the reply shapes differ.
#include <map>
#include <string>
#include <vector>

#include "redis_test_util.hpp"
#include "weir/core/task_group.hpp"
#include "weir/redis/connection.hpp"
#include "weir/testing/async_test.hpp"

using namespace std::chrono_literals;
using weir::Task;
using weir::redis::Connection;
using weir::redis::FieldValues;
using weir::redis::Keys;
using weir::redis::Pipeline;
using weir::redis::Reply;
using weir::redis::Script;
using weir::redis::ServerError;
using weir::redis::SetOptions;
using weir::redis::XPendingRange;
using weir::redis::XReadGroupOptions;
using weir::redis::test::key;
using weir::redis::test::url;

namespace {

Task<void> strings_and_counters(Connection& c) {
    const auto k = key("s");
    co_await c.del(k);
    EXPECT_EQ(co_await c.get(k), std::nullopt);
    EXPECT_TRUE(co_await c.set(k, "v1"));
    const SetOptions nx{.nx = true};
    EXPECT_FALSE(co_await c.set(k, "v2", nx));
    EXPECT_EQ(co_await c.get(k), "v1");
    const SetOptions ex_xx{.ex = 10s, .xx = true};
    EXPECT_TRUE(co_await c.set(k, "v3", ex_xx));
    auto ttl = co_await c.ttl(k);
    EXPECT_GT(ttl, 0);
    EXPECT_LE(ttl, 10);
    EXPECT_TRUE(co_await c.persist(k));
    EXPECT_EQ(co_await c.ttl(k), -1);
    EXPECT_TRUE(co_await c.expire(k, 100s));
    EXPECT_GT(co_await c.pttl(k), 0);
    EXPECT_EQ(co_await c.append(k, "!"), 3);
    EXPECT_EQ(co_await c.strlen(k), 3);
    EXPECT_EQ(co_await c.getdel(k), "v3!");
    const auto n = key("n");
    co_await c.del(n);
    EXPECT_EQ(co_await c.incr(n), 1);
    EXPECT_EQ(co_await c.incrby(n, 10), 11);
    EXPECT_EQ(co_await c.decr(n), 10);
    EXPECT_EQ(co_await c.decrby(n, 4), 6);
    EXPECT_DOUBLE_EQ(co_await c.incrbyfloat(n, 0.5), 6.5);
    const FieldValues pairs{{key("m1"), "a"}, {key("m2"), "b"}};
    co_await c.mset(pairs);
    const Keys three{key("m1"), key("nope"), key("m2")};
    auto mg = co_await c.mget(three);
    CO_ASSERT_EQ(mg.size(), 3u);
    EXPECT_EQ(mg[0], "a");
    EXPECT_EQ(mg[1], std::nullopt);
    EXPECT_EQ(mg[2], "b");
    EXPECT_EQ(co_await c.exists(three), 2);
    const Keys two{key("m1"), key("m2")};
    EXPECT_EQ(co_await c.del(two), 2);
    EXPECT_EQ(co_await c.ping(), "PONG");
}

Task<void> hashes_lists_sets_zsets(Connection& c) {
    const auto h = key("h");
    co_await c.del(h);
    const FieldValues ab{{"a", "1"}, {"b", "2"}};
    EXPECT_EQ(co_await c.hset(h, ab), 2);
    EXPECT_EQ(co_await c.hset(h, "c", "3"), 1);
    EXPECT_EQ(co_await c.hget(h, "b"), "2");
    EXPECT_EQ(co_await c.hget(h, "zz"), std::nullopt);
    auto all = co_await c.hgetall(h);
    EXPECT_EQ(all, (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}, {"c", "3"}}));
    const Keys ax{"a", "x"};
    EXPECT_EQ((co_await c.hmget(h, ax))[1], std::nullopt);
    EXPECT_EQ(co_await c.hincrby(h, "a", 5), 6);
    EXPECT_TRUE(co_await c.hexists(h, "a"));
    const Keys fa_fb{"a", "b"};
    EXPECT_EQ(co_await c.hdel(h, fa_fb), 2);
    EXPECT_EQ(co_await c.hlen(h), 1);

    const auto l = key("l");
    co_await c.del(l);
    const Keys abc{"a", "b", "c"}, z1{"z"};
    EXPECT_EQ(co_await c.rpush(l, abc), 3);
    EXPECT_EQ(co_await c.lpush(l, z1), 4);
    const std::vector<std::string> want1{"z", "a", "b", "c"};
    EXPECT_EQ(co_await c.lrange(l, 0, -1), want1);
    EXPECT_EQ(co_await c.lpop(l), "z");
    EXPECT_EQ(co_await c.rpop(l), "c");
    EXPECT_EQ(co_await c.llen(l), 2);
    const Keys lists{key("nolist"), l}, nolist{key("nolist")};
    auto popped = co_await c.blpop(lists, 100ms);
    CO_ASSERT_TRUE(popped.has_value());
    EXPECT_EQ(popped->first, l);
    EXPECT_EQ(popped->second, "a");
    EXPECT_EQ(co_await c.blpop(nolist, 10ms), std::nullopt);

    const auto s = key("set");
    co_await c.del(s);
    const Keys xyx{"x", "y", "x"}, x1{"x"};
    EXPECT_EQ(co_await c.sadd(s, xyx), 2);
    EXPECT_TRUE(co_await c.sismember(s, "y"));
    EXPECT_FALSE(co_await c.sismember(s, "q"));
    EXPECT_EQ(co_await c.scard(s), 2);
    auto members = co_await c.smembers(s);
    std::sort(members.begin(), members.end());
    EXPECT_EQ(members, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(co_await c.srem(s, x1), 1);

    const auto z = key("z");
    co_await c.del(z);
    EXPECT_EQ(co_await c.zadd(z, 1.5, "a"), 1);
    const std::vector<std::pair<double, std::string>> scored{{2.0, "b"}, {0.5, "c"}};
    EXPECT_EQ(co_await c.zadd(z, scored), 2);
    EXPECT_EQ(co_await c.zscore(z, "a"), 1.5);
    EXPECT_EQ(co_await c.zscore(z, "nope"), std::nullopt);
    EXPECT_DOUBLE_EQ(co_await c.zincrby(z, 1.0, "a"), 2.5);
    const std::vector<std::string> want2{"c", "b", "a"};
    EXPECT_EQ(co_await c.zrange(z, 0, -1), want2);
    auto ws = co_await c.zrange_withscores(z, 0, 0);
    CO_ASSERT_EQ(ws.size(), 1u);
    EXPECT_EQ(ws[0].first, "c");
    EXPECT_DOUBLE_EQ(ws[0].second, 0.5);
    const std::vector<std::string> want3{"b", "a"};
    EXPECT_EQ(co_await c.zrangebyscore(z, 1, 10), want3);
    const std::vector<std::string> want4{"c"};
    EXPECT_EQ(co_await c.zrangebyscore(z, 0, 10, 1), want4);
    EXPECT_EQ(co_await c.zrank(z, "b"), 1);
    EXPECT_EQ(co_await c.zrank(z, "nope"), std::nullopt);
    const Keys za{"a"};
    EXPECT_EQ(co_await c.zrem(z, za), 1);
    EXPECT_EQ(co_await c.zcard(z), 2);
}

Task<void> streams(Connection& c) {
    const auto st = key("stream");
    co_await c.del(st);
    EXPECT_TRUE(co_await c.xgroup_create(st, "g", "$", true));
    EXPECT_FALSE(co_await c.xgroup_create(st, "g", "$", true));  // BUSYGROUP
    const FieldValues job1{{"job", "1"}, {"kind", "email"}}, job2{{"job", "2"}};
    auto id1 = co_await c.xadd(st, job1);
    auto id2 = co_await c.xadd(st, job2);
    EXPECT_FALSE(id1.empty());
    EXPECT_EQ(co_await c.xlen(st), 2);
    auto range = co_await c.xrange(st);
    CO_ASSERT_EQ(range.size(), 2u);
    EXPECT_EQ(range[0].id, id1);
    EXPECT_EQ(range[0].get("kind"), "email");

    const FieldValues from_new{{st, ">"}};
    const XReadGroupOptions ten{.count = 10};
    auto batches = co_await c.xreadgroup("g", "w1", from_new, ten);
    CO_ASSERT_EQ(batches.size(), 1u);
    EXPECT_EQ(batches[0].stream, st);
    CO_ASSERT_EQ(batches[0].entries.size(), 2u);
    EXPECT_EQ(batches[0].entries[1].id, id2);
    EXPECT_EQ(batches[0].entries[1].get("job"), "2");
    // Nothing new: BLOCK times out with an empty result.
    const XReadGroupOptions block{.block = 10ms};
    auto none = co_await c.xreadgroup("g", "w1", from_new, block);
    EXPECT_TRUE(none.empty());

    auto summary = co_await c.xpending(st, "g");
    EXPECT_EQ(summary.count, 2);
    EXPECT_EQ(summary.min_id, id1);
    EXPECT_EQ(summary.max_id, id2);
    CO_ASSERT_EQ(summary.consumers.size(), 1u);
    EXPECT_EQ(summary.consumers[0].first, "w1");
    EXPECT_EQ(summary.consumers[0].second, 2);
    const XPendingRange all_pending;
    auto pend = co_await c.xpending(st, "g", all_pending);
    CO_ASSERT_EQ(pend.size(), 2u);
    EXPECT_EQ(pend[0].consumer, "w1");
    EXPECT_EQ(pend[0].deliveries, 1);

    const Keys ack{id1};
    EXPECT_EQ(co_await c.xack(st, "g", ack), 1);
    // w2 claims what w1 left pending (min idle 0).
    auto claimed = co_await c.xautoclaim(st, "g", "w2", 0ms, "0-0", 10);
    CO_ASSERT_EQ(claimed.entries.size(), 1u);
    EXPECT_EQ(claimed.entries[0].id, id2);
    EXPECT_EQ(claimed.entries[0].get("job"), "2");
    EXPECT_EQ(claimed.next_start, "0-0");
    XPendingRange of_w2;
    of_w2.consumer = "w2";  // a view: lives as long as the literal
    auto pend2 = co_await c.xpending(st, "g", of_w2);
    CO_ASSERT_EQ(pend2.size(), 1u);
    EXPECT_EQ(pend2[0].deliveries, 2);
    // A deleted pending entry is reported by XAUTOCLAIM.
    const Keys del2{id2};
    EXPECT_EQ(co_await c.xdel(st, del2), 1);
    auto claimed2 = co_await c.xautoclaim(st, "g", "w3", 0ms);
    EXPECT_TRUE(claimed2.entries.empty());
    const std::vector<std::string> deleted{id2};
    EXPECT_EQ(claimed2.deleted_ids, deleted);
    EXPECT_TRUE(co_await c.xgroup_destroy(st, "g"));
}

}  // namespace

WEIR_TEST(RedisCommands, StringsAndCountersResp3) {
    auto c = co_await Connection::connect(url());
    co_await strings_and_counters(c);
}
WEIR_TEST(RedisCommands, StringsAndCountersResp2) {
    auto c = co_await Connection::connect(url() + "?protocol=2");
    co_await strings_and_counters(c);
}
WEIR_TEST(RedisCommands, CollectionsResp3) {
    auto c = co_await Connection::connect(url());
    co_await hashes_lists_sets_zsets(c);
}
WEIR_TEST(RedisCommands, CollectionsResp2) {
    auto c = co_await Connection::connect(url() + "?protocol=2");
    co_await hashes_lists_sets_zsets(c);
}
WEIR_TEST(RedisCommands, StreamsResp3) {
    auto c = co_await Connection::connect(url());
    co_await streams(c);
}
WEIR_TEST(RedisCommands, StreamsResp2) {
    auto c = co_await Connection::connect(url() + "?protocol=2");
    co_await streams(c);
}

WEIR_TEST(RedisCommands, EvalLoadsScriptsOnDemand) {
    auto c = co_await Connection::connect(url());
    Script add("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    co_await c.del(key());
    const Keys keys{key()}, five{"5"}, two{"2"};
    Reply r = co_await c.eval(add, keys, five);
    EXPECT_EQ(r.integer(), 5);
    EXPECT_EQ(add.sha().size(), 40u);
    co_await c.cmd("SCRIPT", "FLUSH");  // as after a server restart
    r = co_await c.eval(add, keys, two);
    EXPECT_EQ(r.integer(), 7);
    Script bad("return redis.call('NOPE')");
    bool thrown = false;
    try {
        co_await c.eval(bad);
    } catch (const ServerError&) {
        thrown = true;
    }
    EXPECT_TRUE(thrown);
    EXPECT_EQ(co_await c.script_load("return 1"),
              std::string("e0e1f9fabfc9d4800c877a703b823ac0578ff8db"));
}

WEIR_TEST(RedisPipeline, OneRoundTripPerCommandResults) {
    auto c = co_await Connection::connect(url());
    co_await c.del(key());
    Pipeline p;
    p.cmd("SET", key(), 1).cmd("INCR", key()).cmd("HGET", key(), "x").cmd("GET", key());
    auto r = co_await c.pipeline(p);
    CO_ASSERT_EQ(r.size(), 4u);
    EXPECT_TRUE(r[0].is_ok());
    EXPECT_EQ(r[1].integer(), 2);
    EXPECT_TRUE(r[2].is_error());  // WRONGTYPE stays in its slot
    EXPECT_EQ(r[2].error_prefix(), "WRONGTYPE");
    EXPECT_EQ(r[3].str(), "2");
    Pipeline nothing;
    EXPECT_TRUE((co_await c.pipeline(nothing)).empty());
    // Pipelines from many tasks at once do not interleave.
    int bad = 0;
    auto one = [&](int i) -> Task<void> {
        Pipeline q;
        for (int j = 0; j < 16; ++j) q.cmd("ECHO", i * 100 + j);
        auto rs = co_await c.pipeline(std::move(q));
        for (int j = 0; j < 16; ++j)
            if (rs[j].str() != std::to_string(i * 100 + j)) ++bad;
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        for (int i = 0; i < 20; ++i) g.spawn(one(i));
        co_return;
    });
    EXPECT_EQ(bad, 0);
}

WEIR_TEST(RedisTransaction, MultiExecAndWatch) {
    auto c = co_await Connection::connect(url());
    auto other = co_await Connection::connect(url());
    const auto k = key();
    const Keys watched{k};
    co_await c.set(k, "10");
    Pipeline tx;
    tx.cmd("INCRBY", k, 5).cmd("GET", k);
    auto r = co_await c.transaction(tx);
    CO_ASSERT_TRUE(r.has_value());
    CO_ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].integer(), 15);
    EXPECT_EQ((*r)[1].str(), "15");

    // WATCH, then someone else changes the key: EXEC is aborted.
    co_await c.watch(watched);
    co_await other.set(k, "99");
    auto aborted = co_await c.transaction(tx);
    EXPECT_FALSE(aborted.has_value());
    EXPECT_EQ(co_await c.get(k), "99");
    // WATCH without interference: applied.
    co_await c.watch(watched);
    auto applied = co_await c.transaction(tx);
    EXPECT_TRUE(applied.has_value());
    EXPECT_EQ(co_await c.get(k), "104");
    co_await c.watch(watched);
    co_await c.unwatch();
    co_await other.set(k, "1");
    EXPECT_TRUE((co_await c.transaction(tx)).has_value());

    // A command rejected while queueing aborts the whole transaction.
    Pipeline broken;
    broken.cmd("SET", k, "x").cmd("NOSUCHCMD");
    bool thrown = false;
    try {
        co_await c.transaction(broken);
    } catch (const ServerError& e) {
        thrown = true;
        EXPECT_EQ(e.prefix(), "EXECABORT");
    }
    EXPECT_TRUE(thrown);
    EXPECT_EQ(co_await c.get(k), "6");
    // A runtime error inside EXEC stays in its slot.
    Pipeline partly;
    partly.cmd("SET", k, "text").cmd("INCR", k);
    auto pr = co_await c.transaction(partly);
    CO_ASSERT_TRUE(pr.has_value());
    EXPECT_TRUE((*pr)[1].is_error());
}
