// GET /products/{id} fans out to PostgreSQL (product + reviews), Redis (stock level, filled
// from PostgreSQL on a miss) and the recommendations service at once (when_all); only the
// recommendations call may fail or time out without failing the request (partial response).
// POST /orders writes an order in a transaction and enqueues its confirmation e-mail job.
#include "service.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "email_job.hpp"
#include "outbox.hpp"
#include "stock_cache.hpp"
#include "weir/core/semaphore.hpp"
#include "weir/core/timeout.hpp"
#include "weir/core/when_all.hpp"
#include "weir/http/client.hpp"
#include "weir/http/server.hpp"
#include "weir/jobs/queue.hpp"
#include "weir/pg/pool.hpp"
#include "weir/pg/transaction.hpp"
#include "weir/redis/pool.hpp"

namespace storefront {

using weir::Task;
using weir::http::HttpError;
using weir::http::JsonWriter;
using weir::http::Request;
using weir::http::Response;

namespace {

// ---- models ---------------------------------------------------------------------------------

struct ProductRow {
    std::int32_t id = 0;
    std::string name;
    std::string description;
    std::string price;  // numeric(10,2) as exact decimal text
};
BOOST_DESCRIBE_STRUCT(ProductRow, (), (id, name, description, price))

struct ReviewRow {
    std::string author;
    std::int32_t rating = 0;
    std::string body;
};
BOOST_DESCRIBE_STRUCT(ReviewRow, (), (author, rating, body))

struct OrderLine {
    std::int32_t product_id = 0;
    std::int32_t quantity = 0;
};
BOOST_DESCRIBE_STRUCT(OrderLine, (), (product_id, quantity))

struct OrderRequest {
    std::string email;
    std::vector<OrderLine> lines;
};
BOOST_DESCRIBE_STRUCT(OrderRequest, (), (email, lines))

struct OrderReceipt {
    std::int64_t order_id = 0;
    std::string total;
    std::string confirmation_job;
};
BOOST_DESCRIBE_STRUCT(OrderReceipt, (), (order_id, total, confirmation_job))

// Typed-body checks beyond the types (found by argument-dependent lookup): 422 when they fail.
void validate(const OrderLine& line, weir::http::Validator& v) {
    v.check(line.product_id > 0, "product_id", "Input should be greater than 0", "greater_than");
    v.check(line.quantity > 0, "quantity", "Input should be greater than 0", "greater_than");
}
void validate(const OrderRequest& order, weir::http::Validator& v) {
    v.check(order.email.find('@') != std::string::npos && order.email.size() <= 254, "email",
            "value is not a valid email address", "value_error");
    v.check(!order.lines.empty() && order.lines.size() <= 100, "lines",
            "an order has between 1 and 100 lines", "value_error");
}

// ---- per-shard resources --------------------------------------------------------------------

struct Services {
    explicit Services(Config c) : cfg(std::move(c)), recs_slots(cfg.recommendations_concurrency) {}
    Config cfg;
    std::shared_ptr<weir::pg::Pool> pg;  // shared by every shard; this shard's part is open
    std::optional<weir::redis::Pool> redis;
    std::optional<weir::jobs::Queue> queue;
    std::optional<weir::http::Client> recs;
    weir::Semaphore recs_slots;  // outbound recommendations calls in flight on this shard
};

// ---- schema ---------------------------------------------------------------------------------

constexpr const char* kSchema[] = {
    "CREATE TABLE IF NOT EXISTS products (id integer PRIMARY KEY, name text NOT NULL, "
    "description text NOT NULL DEFAULT '', price numeric(10,2) NOT NULL CHECK (price >= 0), "
    "stock integer NOT NULL CHECK (stock >= 0))",
    "CREATE TABLE IF NOT EXISTS reviews (id bigserial PRIMARY KEY, product_id integer NOT NULL "
    "REFERENCES products(id), author text NOT NULL, rating integer NOT NULL CHECK (rating "
    "BETWEEN 1 AND 5), body text NOT NULL)",
    "CREATE INDEX IF NOT EXISTS reviews_product_id ON reviews (product_id)",
    "CREATE TABLE IF NOT EXISTS orders (id bigserial PRIMARY KEY, email text NOT NULL, "
    "total numeric(12,2) NOT NULL DEFAULT 0, created_at timestamptz NOT NULL DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS order_lines (order_id bigint NOT NULL REFERENCES orders(id), "
    "product_id integer NOT NULL REFERENCES products(id), quantity integer NOT NULL CHECK "
    "(quantity > 0), unit_price numeric(10,2) NOT NULL, PRIMARY KEY (order_id, product_id))",
    kOutboxSchema,
};

constexpr const char* kSeed[] = {
    "INSERT INTO products (id, name, description, price, stock) SELECT i, 'Product ' || i, "
    "'Demo product number ' || i, (i * 3 + 0.99)::numeric(10,2), 100 "
    "FROM generate_series(1, 20) AS i",
    "INSERT INTO reviews (product_id, author, rating, body) SELECT p, 'reviewer ' || r, "
    "1 + (p + r) % 5, 'Review ' || r || ' of product ' || p "
    "FROM generate_series(1, 20) AS p, generate_series(1, 2) AS r ORDER BY p, r",
};

// Creates the tables if needed and seeds demo data into an empty products table. Serialised by
// an advisory lock: every shard of every storefront process runs it at startup.
Task<void> migrate(weir::pg::Pool& pool) {
    auto conn = co_await pool.acquire();
    auto body = [](weir::pg::Transaction& tx) -> Task<void> {
        co_await tx->query("SELECT pg_advisory_xact_lock(7245001)");
        for (const char* sql : kSchema) co_await tx->execute(sql);
        auto r = co_await tx->query("SELECT count(*) FROM products");
        if (r[0].get<std::int64_t>(0) == 0) {
            for (const char* sql : kSeed) co_await tx->execute(sql);
        }
    };
    weir::pg::TransactionOptions options;
    co_await weir::pg::transaction(*conn, std::move(body), options);
}

// ---- GET /products/{id} ---------------------------------------------------------------------

struct ProductDetails {
    ProductRow product;
    std::vector<ReviewRow> reviews;
};

struct StockLevel {
    std::int32_t level = 0;
    bool cached = false;  // from Redis (true) or read from PostgreSQL and cached now (false)
};

// The product and its reviews (one connection, two queries); 404 if there is no such product.
Task<ProductDetails> load_product(Services& svc, std::int32_t id) {
    auto conn = co_await svc.pg->acquire();
    auto products = co_await conn->query_as<ProductRow>(
        "SELECT id, name, description, price FROM products WHERE id = $1", id);
    if (products.empty()) throw HttpError(404, "no product " + std::to_string(id));
    ProductDetails out;
    out.product = std::move(products.front());
    out.reviews = co_await conn->query_as<ReviewRow>(
        "SELECT author, rating, body FROM reviews WHERE product_id = $1 ORDER BY id", id);
    co_return out;
}

// The stock level from the Redis cache; on a miss from PostgreSQL, then cached with a TTL
// unless an order changed it meanwhile (see stock_cache.hpp). nullopt: no such product.
Task<std::optional<StockLevel>> stock_level(Services& svc, std::int32_t id) {
    StockLookup lookup = co_await lookup_stock(*svc.redis, id);
    const std::optional<std::string>& cached = lookup.cached;
    if (cached) {
        std::int32_t level = 0;
        auto [p, ec] = std::from_chars(cached->data(), cached->data() + cached->size(), level);
        if (ec == std::errc() && p == cached->data() + cached->size()) {
            StockLevel hit;
            hit.level = level;
            hit.cached = true;
            co_return hit;
        }
    }
    std::optional<StockLevel> out;
    {
        auto conn = co_await svc.pg->acquire();
        auto r = co_await conn->query("SELECT stock FROM products WHERE id = $1", id);
        if (r.empty()) co_return out;
        out.emplace();
        out->level = r[0].get<std::int32_t>(0);
    }
    const auto ttl = std::chrono::duration_cast<std::chrono::milliseconds>(svc.cfg.stock_ttl);
    co_await fill_stock(*svc.redis, id, out->level, std::move(lookup.generation), ttl);
    co_return out;
}

// GET <recommendations>/recommendations/<id>: a JSON array of product ids. Throws on any failure.
Task<std::vector<std::int64_t>> fetch_recommendations(Services& svc, std::int32_t id) {
    weir::SemaphorePermit permit = co_await svc.recs_slots.acquire();
    const std::string url = svc.cfg.recommendations_url + "/recommendations/" + std::to_string(id);
    weir::http::RequestOptions options;
    weir::http::ClientResponse r = co_await svc.recs->get(url, options);
    if (!r.ok()) throw std::runtime_error(url + " answered " + std::to_string(r.status));
    const auto doc = weir::http::JsonDocument::parse(r.body);
    std::vector<std::int64_t> ids;
    const auto root = doc.root();
    if (root.type() != weir::http::JsonType::Array)
        throw std::runtime_error(url + ": not a JSON array");
    root.for_each_element([&](std::size_t, weir::http::JsonValue v) {
        if (auto n = v.get_int64()) ids.push_back(*n);
    });
    co_return ids;
}

// The recommendations, or nullopt when the call failed or took longer than its own timeout
// (which also bounds the wait for a permit): the request is then answered without them.
Task<std::optional<std::vector<std::int64_t>>> recommendations(Services& svc, std::int32_t id) {
    std::optional<std::vector<std::int64_t>> out;
    if (svc.cfg.recommendations_url.empty()) co_return out;
    try {
        auto call = fetch_recommendations(svc, id);
        out = co_await weir::with_timeout(svc.cfg.recommendations_timeout, std::move(call));
    } catch (const std::exception& e) {  // Cancelled (the request's own deadline) propagates
        std::fprintf(stderr, "storefront: recommendations for product %d unavailable: %s\n", id,
                     e.what());
    }
    co_return out;
}

Task<Response> get_product(Request& req, weir::http::Context&, Services& svc) {
    const std::int64_t raw_id = weir::http::path_param_int(req, "id");
    if (raw_id < 1 || raw_id > std::numeric_limits<std::int32_t>::max())
        throw HttpError(404, "no product " + std::to_string(raw_id));
    const auto id = static_cast<std::int32_t>(raw_id);

    auto details_task = load_product(svc, id);
    auto stock_task = stock_level(svc, id);
    auto recs_task = recommendations(svc, id);
    auto [details, stock, recs] = co_await weir::when_all(
        std::move(details_task), std::move(stock_task), std::move(recs_task));

    std::string out;
    JsonWriter w(out);
    w.begin_object()
        .member("id", details.product.id)
        .member("name", details.product.name)
        .member("description", details.product.description)
        .member("price", details.product.price);
    if (stock) {
        w.member("stock", stock->level).member("stock_source", stock->cached ? "cache" : "db");
    } else {
        w.key("stock").null();
    }
    w.key("reviews").begin_array();
    for (const ReviewRow& r : details.reviews) {
        w.begin_object()
            .member("author", r.author)
            .member("rating", r.rating)
            .member("body", r.body)
            .end_object();
    }
    w.end_array();
    if (recs) {
        w.key("recommendations").begin_array();
        for (std::int64_t p : *recs) w.value(p);
        w.end_array();
    } else {
        w.member("recommendations_unavailable", true);
    }
    w.end_object();
    co_return Response::json(std::move(out));
}

// ---- POST /orders ---------------------------------------------------------------------------

constexpr int kEmailMaxTries = 5;

std::string email_args(std::int64_t order_id, const std::string& email, const std::string& total) {
    std::string args;
    JsonWriter w(args);
    w.begin_object()
        .member("order_id", order_id)
        .member("email", email)
        .member("total", total)
        .end_object();
    return args;
}

// The order and its confirmation job's outbox row commit together; the job is then enqueued
// at once, or by the outbox relay if Redis is unavailable (the order stands either way).
Task<OrderReceipt> post_order(OrderRequest order, weir::http::Context&, Services& svc) {
    // One line per product, in id order (rows are locked in the same order by every order).
    std::map<std::int32_t, std::int64_t> wanted;
    for (const OrderLine& line : order.lines) wanted[line.product_id] += line.quantity;

    auto conn = co_await svc.pg->acquire();
    auto body = [&](weir::pg::Transaction& tx) -> Task<OrderReceipt> {
        for (const auto& [product, quantity] : wanted) {
            auto r =
                co_await tx->query("SELECT stock FROM products WHERE id = $1 FOR UPDATE", product);
            if (r.empty()) throw HttpError(422, "no product " + std::to_string(product));
            const std::int64_t stock = r[0].get<std::int32_t>(0);
            if (stock < quantity) {
                throw HttpError(409, "insufficient stock for product " + std::to_string(product) +
                                         ": " + std::to_string(stock) + " left, " +
                                         std::to_string(quantity) + " ordered");
            }
        }
        auto created =
            co_await tx->query("INSERT INTO orders (email) VALUES ($1) RETURNING id", order.email);
        OrderReceipt receipt;
        receipt.order_id = created[0].get<std::int64_t>(0);
        for (const auto& [product, quantity] : wanted) {
            const auto qty = static_cast<std::int32_t>(quantity);
            co_await tx->execute(
                "INSERT INTO order_lines (order_id, product_id, quantity, unit_price) "
                "SELECT $1, id, $3, price FROM products WHERE id = $2",
                receipt.order_id, product, qty);
            co_await tx->execute("UPDATE products SET stock = stock - $2 WHERE id = $1", product,
                                 qty);
        }
        auto total = co_await tx->query(
            "UPDATE orders SET total = (SELECT sum(quantity * unit_price) FROM order_lines "
            "WHERE order_id = $1) WHERE id = $1 RETURNING total::text",
            receipt.order_id);
        receipt.total = total[0].get<std::string>(0);
        receipt.confirmation_job = email_job_id(receipt.order_id);
        std::string job(kEmailJob);
        std::string args = email_args(receipt.order_id, order.email, receipt.total);
        co_await outbox_add(tx.connection(), receipt.confirmation_job, std::move(job),
                            std::move(args), kEmailMaxTries);
        co_return receipt;
    };
    weir::pg::TransactionOptions options;
    OrderReceipt receipt = co_await weir::pg::transaction(*conn, std::move(body), options);
    // Not held while Redis is tried: during an outage that can take the pool's acquire timeout,
    // and every order would keep a connection from the shard's pool meanwhile.
    conn.release();

    // Committed: the cached stock levels are stale now, and the mail can go. A failure here
    // (Redis down) leaves the cache to its TTL and the mail to the outbox relay.
    std::vector<std::int32_t> products;
    for (const auto& entry : wanted) products.push_back(entry.first);
    std::string job(kEmailJob);
    std::string args = email_args(receipt.order_id, order.email, receipt.total);
    try {
        co_await invalidate_stock(*svc.redis, std::move(products));
        co_await outbox_enqueue(*svc.queue, receipt.confirmation_job, std::move(job),
                                std::move(args), kEmailMaxTries);
        auto again = co_await svc.pg->acquire();
        co_await outbox_remove(*again, receipt.confirmation_job);
    } catch (const std::exception& e) {  // Cancelled propagates: the outbox row stays
        std::fprintf(stderr,
                     "storefront: order %lld committed; confirmation left to the outbox relay: "
                     "%s\n",
                     static_cast<long long>(receipt.order_id), e.what());
    }
    co_return receipt;
}

// ---- the App --------------------------------------------------------------------------------

weir::http::ClientOptions recommendations_client_options(const Config& cfg) {
    weir::http::ClientOptions o;
    o.max_connections_per_origin = cfg.recommendations_concurrency;
    o.max_idle_per_origin = cfg.recommendations_concurrency;
    return o;
}

}  // namespace

weir::http::App make_app(const Config& cfg) {
    weir::http::AppOptions options;
    options.info.title = "storefront";
    options.info.description = "weir's reference service";
    weir::http::App app(std::move(options));
    // One pg::Pool for the process: every shard's startup hook opens its own part (min 1, max 8
    // connections per shard) and its shutdown hook closes it.
    weir::pg::PoolOptions pg;
    pg.url = cfg.pg_url;
    pg.min_size = 1;
    pg.max_size = 8;
    auto db = std::make_shared<weir::pg::Pool>(std::move(pg));
    app.on_startup([cfg, db](weir::http::Resources& res) -> Task<void> {
        Services& svc = res.emplace<Services>(cfg);
        co_await db->open_shard();
        svc.pg = db;
        co_await migrate(*db);
        weir::redis::PoolOptions redis;
        redis.url = cfg.redis_url;
        redis.min_size = 0;
        svc.redis.emplace(co_await weir::redis::Pool::open(std::move(redis)));
        weir::jobs::QueueOptions qo;
        qo.prefix = cfg.jobs_prefix;
        svc.queue.emplace(*svc.redis, qo);
        svc.recs.emplace(recommendations_client_options(cfg));
    });
    app.on_shutdown([](weir::http::Resources& res) -> Task<void> {
        Services* svc = res.find<Services>();
        if (!svc) co_return;
        if (svc->recs) co_await svc->recs->close();
        if (svc->redis) co_await svc->redis->close();
        if (svc->pg) co_await svc->pg->close_shard();
    });

    weir::http::RouteOptions product;
    product.timeout = cfg.product_deadline;
    product.summary = "A product with its reviews, stock level and recommendations";
    product.description =
        "Fans out to PostgreSQL, the Redis stock cache and the recommendations service at "
        "once. When only the recommendations fail or time out, they are omitted and "
        "recommendations_unavailable is true.";
    product.tags = {"products"};
    app.get("/products/{id:int}", get_product, std::move(product));

    weir::http::RouteOptions orders;
    orders.status_code = 201;
    orders.summary = "Place an order (409 when the stock is insufficient)";
    orders.tags = {"orders"};
    app.post<OrderRequest>("/orders", post_order, std::move(orders));
    return app;
}

int run_service(int argc, char** argv, int first) {
    std::vector<const char*> rest;
    const Config cfg = parse_config(argc, argv, first, rest);
    auto options = weir::http::ServerOptions::from_args(static_cast<int>(rest.size()), rest.data());
    auto fail = [](const char* what) {
        std::fprintf(stderr, "storefront: %s is required\n", what);
        return 2;
    };
    if (cfg.pg_url.empty()) return fail("--pg URL (or DATABASE_URL)");
    if (cfg.redis_url.empty()) return fail("--redis URL (or REDIS_URL)");
    if (cfg.recommendations_url.empty())
        std::fprintf(stderr,
                     "storefront: no --recommendations URL: every product is answered with "
                     "recommendations_unavailable\n");
    weir::http::App app = make_app(cfg);
    return weir::http::run_server(app.handler(), std::move(options), app.lifespan());
}

}  // namespace storefront
