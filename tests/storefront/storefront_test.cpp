// Integration tests of apps/storefront against real servers: a throwaway PostgreSQL and Redis,
// the mock recommendations service and the storefront itself as child processes
// (build/bin/storefront). The fan-out, the stock cache, partial responses when only the
// recommendations fail or time out, 404/422/409, the order flow through the job queue (the
// confirmation job runs in an in-process worker with storefront's own job function) and
// SIGTERM under load. No timing assertions.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storefront/email_job.hpp"
#include "storefront/outbox.hpp"
#include "storefront/stock_cache.hpp"
#include "storefront_test_util.hpp"
#include "weir/core/event.hpp"
#include "weir/core/mutex.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/task_group.hpp"
#include "weir/jobs/queue.hpp"
#include "weir/jobs/worker.hpp"
#include "weir/pg/connection.hpp"
#include "weir/redis/connection.hpp"
#include "weir/testing/async_test.hpp"

namespace storefront::test {
namespace {

using namespace std::chrono_literals;
using weir::Task;
using weir::http::JsonDocument;
using weir::http::JsonType;

// Installed in this order: PostgreSQL and Redis are up before the programs start.
::testing::Environment* const pg_env = PostgresEnv::install();
::testing::Environment* const redis_env = RedisEnv::install();
::testing::Environment* const fleet_env = ::testing::AddGlobalTestEnvironment(new Fleet);

std::int64_t int_member(const JsonDocument& doc, const char* key) {
    auto v = doc.root().find(key);
    return v && v->get_int64() ? *v->get_int64() : -1;
}
std::string string_member(const JsonDocument& doc, const char* key) {
    auto v = doc.root().find(key);
    return v && v->get_string() ? std::string(*v->get_string()) : std::string("<absent>");
}
std::size_t array_size(const JsonDocument& doc, const char* key) {
    auto v = doc.root().find(key);
    if (!v || v->type() != JsonType::Array) return 0;
    std::size_t n = 0;
    v->for_each_element([&](std::size_t, weir::http::JsonValue) { ++n; });
    return n;
}
std::vector<std::int64_t> int_array(const JsonDocument& doc, const char* key) {
    std::vector<std::int64_t> out;
    auto v = doc.root().find(key);
    if (!v) return out;
    v->for_each_element(
        [&](std::size_t, weir::http::JsonValue e) { out.push_back(e.get_int64().value_or(-1)); });
    return out;
}
bool has_member(const JsonDocument& doc, const char* key) {
    return doc.root().find(key).has_value();
}
bool unavailable_flag(const JsonDocument& doc) {
    auto v = doc.root().find("recommendations_unavailable");
    return v && v->get_bool().value_or(false);
}

// The tests' in-process worker: storefront's queue prefix, quick polling.
weir::jobs::WorkerOptions worker_options() {
    weir::jobs::WorkerOptions wo;
    wo.url = RedisEnv::get().url();
    wo.prefix = kJobsPrefix;
    wo.poll_interval = 50ms;
    wo.shutdown_grace = 5s;
    return wo;
}

// What the job wrote to its log (a tmpfile), which is closed.
std::string read_and_close(std::FILE* log) {
    std::rewind(log);
    std::string text;
    char buf[512];
    while (std::fgets(buf, sizeof buf, log)) text += buf;
    std::fclose(log);
    return text;
}

Task<weir::redis::Connection> redis_connect() {
    co_return co_await weir::redis::Connection::connect(RedisEnv::get().url());
}

WEIR_TEST(Storefront, ProductFansOutToPostgresRedisAndRecommendations) {
    const std::string url = fleet().app_ok->url() + "/products/1";
    auto r = co_await http_get(url);
    CO_ASSERT_EQ(r.status, 200);
    const auto doc = JsonDocument::parse(r.body);
    EXPECT_EQ(int_member(doc, "id"), 1);
    EXPECT_EQ(string_member(doc, "name"), "Product 1");
    EXPECT_EQ(string_member(doc, "price"), "3.99");
    EXPECT_GE(int_member(doc, "stock"), 0);
    EXPECT_EQ(array_size(doc, "reviews"), 2u);
    const std::vector<std::int64_t> expected{2, 3, 4};
    EXPECT_EQ(int_array(doc, "recommendations"), expected);
    EXPECT_FALSE(has_member(doc, "recommendations_unavailable"));
}

WEIR_TEST(Storefront, StockCacheIsFilledOnMiss) {
    auto redis = co_await redis_connect();
    const std::string key = "storefront:stock:5";
    co_await redis.del(key);
    const std::string url = fleet().app_ok->url() + "/products/5";
    auto first = co_await http_get(url);
    EXPECT_EQ(first.status, 200);
    const auto doc1 = JsonDocument::parse(first.body);
    EXPECT_EQ(string_member(doc1, "stock_source"), "db");
    const std::int64_t level = int_member(doc1, "stock");
    const std::optional<std::string> cached = co_await redis.get(key);
    EXPECT_EQ(cached.value_or("<none>"), std::to_string(level));
    const std::int64_t ttl = co_await redis.pttl(key);
    EXPECT_GT(ttl, 0);
    auto second = co_await http_get(url);
    EXPECT_EQ(second.status, 200);
    const auto doc2 = JsonDocument::parse(second.body);
    EXPECT_EQ(string_member(doc2, "stock_source"), "cache");
    EXPECT_EQ(int_member(doc2, "stock"), level);
    redis.close();
}

WEIR_TEST(Storefront, PartialResponseWhenRecommendationsFail) {
    const std::string url = fleet().app_failing->url() + "/products/2";
    auto r = co_await http_get(url);
    CO_ASSERT_EQ(r.status, 200);
    const auto doc = JsonDocument::parse(r.body);
    EXPECT_EQ(int_member(doc, "id"), 2);
    EXPECT_EQ(array_size(doc, "reviews"), 2u);
    EXPECT_TRUE(has_member(doc, "stock"));
    EXPECT_TRUE(unavailable_flag(doc));
    EXPECT_FALSE(has_member(doc, "recommendations"));
}

WEIR_TEST(Storefront, PartialResponseWhenRecommendationsTimeOut) {
    const std::string url = fleet().app_slow->url() + "/products/4";
    auto r = co_await http_get(url);
    CO_ASSERT_EQ(r.status, 200);
    const auto doc = JsonDocument::parse(r.body);
    EXPECT_EQ(int_member(doc, "id"), 4);
    EXPECT_EQ(array_size(doc, "reviews"), 2u);
    EXPECT_TRUE(unavailable_flag(doc));
    EXPECT_FALSE(has_member(doc, "recommendations"));
}

WEIR_TEST(Storefront, RouteDeadlineAnswers504) {
    const std::string url = fleet().app_tight->url() + "/products/6";
    auto r = co_await http_get(url);
    EXPECT_EQ(r.status, 504) << r.body;
}

WEIR_TEST(Storefront, UnknownProductIs404) {
    const std::string url = fleet().app_ok->url() + "/products/999999";
    auto r = co_await http_get(url);
    EXPECT_EQ(r.status, 404);
    const std::string url2 = fleet().app_ok->url() + "/products/abc";
    auto r2 = co_await http_get(url2);
    EXPECT_EQ(r2.status, 404);
}

WEIR_TEST(Storefront, InvalidOrderIs422) {
    const std::string url = fleet().app_ok->url() + "/orders";
    const std::string zero_quantity =
        R"({"email":"a@b.example","lines":[{"product_id":1,"quantity":0}]})";
    auto zero = co_await http_post(url, zero_quantity);
    EXPECT_EQ(zero.status, 422);
    EXPECT_NE(zero.body.find("quantity"), std::string::npos) << zero.body;
    const std::string empty_lines = R"({"email":"a@b.example","lines":[]})";
    auto no_lines = co_await http_post(url, empty_lines);
    EXPECT_EQ(no_lines.status, 422);
    const std::string lines_not_array = R"({"email":"a@b.example","lines":"x"})";
    auto wrong_type = co_await http_post(url, lines_not_array);
    EXPECT_EQ(wrong_type.status, 422);
    const std::string email_invalid =
        R"({"email":"nobody","lines":[{"product_id":1,"quantity":1}]})";
    auto bad_email = co_await http_post(url, email_invalid);
    EXPECT_EQ(bad_email.status, 422);
}

WEIR_TEST(Storefront, InsufficientStockIs409AndChangesNothing) {
    const std::string product = fleet().app_ok->url() + "/products/7";
    auto before = co_await http_get(product);
    const auto doc1 = JsonDocument::parse(before.body);
    const std::string url = fleet().app_ok->url() + "/orders";
    const std::string too_many =
        R"({"email":"a@b.example","lines":[{"product_id":7,"quantity":1000000}]})";
    auto r = co_await http_post(url, too_many);
    EXPECT_EQ(r.status, 409) << r.body;
    auto after = co_await http_get(product);
    const auto doc2 = JsonDocument::parse(after.body);
    EXPECT_EQ(int_member(doc2, "stock"), int_member(doc1, "stock"));
}

WEIR_TEST(Storefront, OrderIsWrittenAndItsConfirmationRunsThroughTheJobQueue) {
    auto redis = co_await redis_connect();
    const std::string stock_key = "storefront:stock:3";
    co_await redis.del(stock_key);
    const std::string product = fleet().app_ok->url() + "/products/3";
    auto before = co_await http_get(product);
    const std::int64_t level = int_member(JsonDocument::parse(before.body), "stock");
    CO_ASSERT_TRUE(level >= 2);

    std::FILE* log = std::tmpfile();
    CO_ASSERT_TRUE(log != nullptr);
    weir::jobs::Worker worker(worker_options());
    worker.add(std::string(kEmailJob),
               [log](weir::jobs::JobContext& job) { return send_confirmation(job, log); });
    weir::jobs::QueueOptions qo;
    qo.prefix = kJobsPrefix;
    weir::jobs::Queue queue(redis, qo);

    std::int64_t order_id = -1;
    std::string result;
    auto body = [&]() -> Task<void> {
        const std::string url = fleet().app_ok->url() + "/orders";
        const std::string order =
            R"({"email":"ann@shop.example","lines":[{"product_id":3,"quantity":1},)"
            R"({"product_id":3,"quantity":1}]})";
        auto r = co_await http_post(url, order);
        EXPECT_EQ(r.status, 201) << r.body;
        const auto doc = JsonDocument::parse(r.body);
        order_id = int_member(doc, "order_id");
        EXPECT_EQ(string_member(doc, "total"), "19.98");
        EXPECT_EQ(string_member(doc, "confirmation_job"), email_job_id(order_id));
        const std::string job_id = email_job_id(order_id);
        if (order_id > 0) result = co_await queue.result(job_id, 30s);
    };
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        g.spawn(worker.run(), "storefront.test.worker");
        co_await body();
        worker.stop();
    });
    CO_ASSERT_TRUE(order_id > 0);
    const auto receipt = JsonDocument::parse(result);
    EXPECT_EQ(string_member(receipt, "sent_to"), "ann@shop.example");
    EXPECT_EQ(int_member(receipt, "order_id"), order_id);
    EXPECT_EQ(worker.metrics().succeeded, 1u);

    // The mail the job "sent".
    const std::string mail = read_and_close(log);
    EXPECT_NE(mail.find("To: ann@shop.example"), std::string::npos) << mail;
    EXPECT_NE(mail.find("#" + std::to_string(order_id) + " confirmed"), std::string::npos);

    // The stock went down by 2 and the stale cache entry was dropped.
    auto after = co_await http_get(product);
    const auto doc = JsonDocument::parse(after.body);
    EXPECT_EQ(int_member(doc, "stock"), level - 2);
    EXPECT_EQ(string_member(doc, "stock_source"), "db");
    redis.close();
}

// The fill-after-invalidate race of the stock cache, step by step: a reader that missed before
// an order's invalidation may not write its (older) level back; a reader after it may.
WEIR_TEST(Storefront, StockCacheRefusesAFillOlderThanAnInvalidation) {
    auto redis = co_await redis_connect();
    const std::int32_t id = 9001;  // not a seeded product: nothing else touches its keys
    co_await redis.del(stock_key(id));
    StockLookup before = co_await lookup_stock(redis, id);
    EXPECT_FALSE(before.cached.has_value());
    std::vector<std::int32_t> ids{id};
    co_await invalidate_stock(redis, ids);  // an order committed meanwhile
    EXPECT_FALSE(co_await fill_stock(redis, id, 7, before.generation, std::chrono::seconds(30)));
    auto absent = co_await redis.get(stock_key(id));
    EXPECT_FALSE(absent.has_value());

    StockLookup after = co_await lookup_stock(redis, id);
    EXPECT_NE(after.generation, before.generation);
    EXPECT_TRUE(co_await fill_stock(redis, id, 5, after.generation, std::chrono::seconds(30)));
    StockLookup hit = co_await lookup_stock(redis, id);
    EXPECT_EQ(hit.cached.value_or("<absent>"), "5");
    co_await redis.del(stock_key(id));
    redis.close();
}

// Redis is down when an order commits: the order still answers 201, its confirmation waits in
// the outbox, and once Redis is back the relay (the worker's periodic job, here in-process)
// enqueues it and the mail goes out.
WEIR_TEST(Storefront, OrderConfirmationSurvivesARedisOutage) {
    auto pg = co_await weir::pg::Connection::connect(PostgresEnv::get().url());
    RedisEnv::get().stop();
    const std::string order =
        R"({"email":"bo@shop.example","lines":[{"product_id":4,"quantity":1}]})";
    auto r = co_await http_post(fleet().app_ok->url() + "/orders", order);
    RedisEnv::get().start();
    CO_ASSERT_EQ(r.status, 201);
    const auto doc = JsonDocument::parse(r.body);
    const std::int64_t order_id = int_member(doc, "order_id");
    const std::string job_id = email_job_id(order_id);
    EXPECT_EQ(string_member(doc, "confirmation_job"), job_id);
    auto waiting = co_await pg.query("SELECT count(*) FROM outbox WHERE job_id = $1", job_id);
    EXPECT_EQ(waiting[0].get<std::int64_t>(0), 1);

    std::FILE* log = std::tmpfile();
    CO_ASSERT_TRUE(log != nullptr);
    auto redis = co_await redis_connect();
    weir::jobs::QueueOptions qo;
    qo.prefix = kJobsPrefix;
    weir::jobs::Queue queue(redis, qo);
    weir::jobs::Worker worker(worker_options());
    worker.add(std::string(kEmailJob),
               [log](weir::jobs::JobContext& job) { return send_confirmation(job, log); });
    std::size_t relayed = 0;
    weir::Event enqueued;
    // A new relay job starts every 100 ms even while the last one runs (slow on a loaded
    // machine): they take turns on the one connection, whose transaction is not to be shared.
    weir::Mutex one_at_a_time;
    auto relay = [&](weir::jobs::JobContext&) -> Task<std::string> {
        auto turn = co_await one_at_a_time.lock();
        relayed += co_await outbox_relay(pg, queue, std::chrono::milliseconds(0));
        if (relayed) enqueued.set();
        co_return "null";
    };
    worker.add(std::string(kOutboxRelayJob), relay);
    worker.every(std::string(kOutboxRelayJob), 100ms);
    std::string result;
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        g.spawn(worker.run(), "storefront.test.relay-worker");
        co_await enqueued.wait();
        result = co_await queue.result(job_id, 30s);
        worker.stop();
    });
    EXPECT_GE(relayed, 1u);
    const auto receipt = JsonDocument::parse(result);
    EXPECT_EQ(string_member(receipt, "sent_to"), "bo@shop.example");
    EXPECT_EQ(int_member(receipt, "order_id"), order_id);
    auto left = co_await pg.query("SELECT count(*) FROM outbox WHERE job_id = $1", job_id);
    EXPECT_EQ(left[0].get<std::int64_t>(0), 0);
    const std::string mail = read_and_close(log);
    EXPECT_NE(mail.find("To: bo@shop.example"), std::string::npos) << mail;
    redis.close();
}

// In-flight requests of a storefront that gets SIGTERM complete with 200; it exits 0.
struct DrainFleet {
    DrainFleet() : mock(mock_args("500", "0")), app(service_args(mock.url(), "30000")) {}
    Program mock;
    Program app;
};

Task<std::int64_t> mock_requests(std::string url) {
    auto r = co_await http_get(std::move(url));
    co_return int_member(JsonDocument::parse(r.body), "requests");
}

int terminate_app(DrainFleet& f) { return f.app.terminate(); }

WEIR_TEST(Storefront, SigtermDrainsInFlightRequests) {
    auto fleet_ptr = std::make_unique<DrainFleet>();  // blocking start-up, before any request
    DrainFleet& f = *fleet_ptr;
    constexpr int kRequests = 16;
    std::vector<int> statuses(kRequests, 0);
    std::vector<bool> complete(kRequests, false);
    weir::http::ClientOptions co;
    co.max_connections_per_origin = kRequests;
    weir::http::Client client(co);
    auto one = [&](int i) -> Task<void> {
        const std::string url = f.app.url() + "/products/" + std::to_string(1 + i % 20);
        weir::http::RequestOptions ro;
        try {
            auto r = co_await client.get(url, ro);
            statuses[i] = r.status;
            auto doc = JsonDocument::parse(r.body);
            complete[i] = has_member(doc, "recommendations");
        } catch (const std::exception& e) {
            ADD_FAILURE() << "request " << i << ": " << e.what();
        }
    };
    int exit_code = -100;
    co_await weir::task_group([&](weir::TaskGroup& g) -> Task<void> {
        for (int i = 0; i < kRequests; ++i) g.spawn(one(i));
        // Every request is in flight once the mock has seen all of them (it answers after
        // 500 ms); then SIGTERM.
        const std::string stats = f.mock.url() + "/stats";
        for (;;) {
            const std::int64_t seen = co_await mock_requests(stats);
            if (seen >= kRequests) break;
            co_await weir::sleep_for(10ms);
        }
        exit_code = terminate_app(f);  // blocks this shard until the child exited
    });
    co_await client.close();
    for (int i = 0; i < kRequests; ++i) {
        EXPECT_EQ(statuses[i], 200) << "request " << i;
        EXPECT_TRUE(complete[i]) << "request " << i;
    }
    EXPECT_EQ(exit_code, 0) << f.app.log_text();
    fleet_ptr.reset();
}

}  // namespace
}  // namespace storefront::test
