// bench-server: weir's implementation of the article's five workloads, as
// defined in bench-spec.md; bench/article/run drives it next to the Python peers.
//
//   bench-server [--port 8080] [--threads N] [--pg URL] [--upstream URL]
//                [--pg-connections N] [server options, see --help]
//
//   --pg URL              PostgreSQL with the seeded `items` table (env DATABASE_URL)
//   --upstream URL        base URL of the upstream serving /api/a, /api/b, /api/c
//                         (env UPSTREAM_URL)
//   --pg-connections N    connections per shard that /db pipelines its queries on
//                         (env WEIR_PG_CONNECTIONS, default 1)
//
//   GET /db      one row of `items` (id uniform in [1, 10000], or ?id=N)
//   GET /seq     /api/a, /api/b, /api/c one after the other
//   GET /par     the same three calls concurrently (when_all)
//   GET /cpu     the SHA-256 chain kernel, n = 2000, on the runtime's to_cpu pool (one
//                thread per core at background priority; --cpu-threads, --cpu-priority)
//   GET /mixed   one /db query and GET /api/a concurrently, then the kernel with n = 200
//
// Each shard opens its part of the pg pool and its upstream client in the startup hook.
// Prints "listening on HOST:PORT" once ready; SIGINT/SIGTERM drain and stop it.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "cpu_kernel.hpp"
#include "db.hpp"
#include "upstream.hpp"
#include "weir/core/to_cpu.hpp"
#include "weir/core/when_all.hpp"
#include "weir/http/app.hpp"
#include "weir/http/server.hpp"

namespace {

using weir::Task;
using weir::http::Context;
using weir::http::HttpError;
using weir::http::JsonWriter;
using weir::http::Request;
using weir::http::Response;

constexpr int kItems = 10'000;
constexpr int kCpuIters = 2000;
constexpr int kMixedIters = 200;

struct BenchConfig {
    std::string pg_url;
    std::string upstream_url;
    std::size_t pg_connections = 1;
};

// ?id=N if given (for checks), else uniform in [1, kItems].
int item_id(const Request& req) {
    for (const auto& [k, v] : req.query_params()) {
        if (k != "id") continue;
        int id = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), id);
        if (ec != std::errc() || p != v.data() + v.size() || id < 1 || id > kItems)
            throw HttpError(400, "id must be an integer in [1, 10000]");
        return id;
    }
    thread_local std::minstd_rand rng{std::random_device{}()};
    return std::uniform_int_distribution<int>(1, kItems)(rng);
}

void write_item(JsonWriter& w, const bench::Item& item) {
    w.begin_object()
        .member("id", item.id)
        .member("name", item.name)
        .member("price", item.price)
        .end_object();
}

// An upstream body as a JSON value (nginx's echo may end it with a newline).
std::string_view trimmed(std::string_view body) {
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' '))
        body.remove_suffix(1);
    return body;
}

Response three_calls(const std::string& a, const std::string& b, const std::string& c) {
    // {"a":A,"b":B,"c":C} (what JsonWriter writes for these keys) in one allocation, without
    // scanning the fixed keys for characters to escape.
    const std::string_view ta = trimmed(a), tb = trimmed(b), tc = trimmed(c);
    std::string out;
    out.reserve(ta.size() + tb.size() + tc.size() + 16);
    out += "{\"a\":";
    out += ta;
    out += ",\"b\":";
    out += tb;
    out += ",\"c\":";
    out += tc;
    out += '}';
    return Response::json(std::move(out));
}

Task<Response> db_endpoint(Request& req, Context&, bench::Db& db) {
    const int id = item_id(req);
    bench::Item item = co_await db.item(id);
    std::string out;
    JsonWriter w(out);
    write_item(w, item);
    co_return Response::json(std::move(out));
}

Task<Response> seq_endpoint(Request&, Context&, bench::Upstream& up) {
    std::string a = co_await bench::upstream_get(up, "/api/a");
    std::string b = co_await bench::upstream_get(up, "/api/b");
    std::string c = co_await bench::upstream_get(up, "/api/c");
    co_return three_calls(a, b, c);
}

Task<Response> par_endpoint(Request&, Context&, bench::Upstream& up) {
    auto ta = bench::upstream_get(up, "/api/a");
    auto tb = bench::upstream_get(up, "/api/b");
    auto tc = bench::upstream_get(up, "/api/c");
    auto [a, b, c] = co_await weir::when_all(std::move(ta), std::move(tb), std::move(tc));
    co_return three_calls(a, b, c);
}

std::string digest_body(int iters, std::string_view digest) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().member("iters", iters).member("digest", digest).end_object();
    return out;
}

Task<Response> cpu_endpoint(Request&, Context&) {
    // ~0.25 ms of CPU: on the CPU pool, whose threads yield their core to the
    // shards, so /db and the other endpoints keep their latency meanwhile.
    auto kernel = [] { return bench::sha256_chain_hex(kCpuIters); };
    const bench::HexDigest digest = co_await weir::to_cpu(std::move(kernel));
    co_return Response::json(digest_body(kCpuIters, bench::as_view(digest)));
}

Task<Response> mixed_endpoint(Request& req, Context&, bench::Db& db, bench::Upstream& up) {
    const int id = item_id(req);
    auto query = db.item(id);
    auto call = bench::upstream_get(up, "/api/a");
    auto [item, upstream] = co_await weir::when_all(std::move(query), std::move(call));
    // n = 200 is ~50 us of CPU: cheaper inline than a hop to the worker pool and back.
    const bench::HexDigest digest = bench::sha256_chain_hex(kMixedIters);
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("item");
    write_item(w, item);
    w.key("upstream").raw(trimmed(upstream));
    w.member("iters", kMixedIters).member("digest", bench::as_view(digest)).end_object();
    co_return Response::json(std::move(out));
}

[[noreturn]] void usage_error(const std::string& msg) {
    std::fprintf(stderr, "bench-server: %s\n", msg.c_str());
    std::exit(2);
}

// Takes bench-server's own flags out of argv; the rest goes to ServerOptions.
BenchConfig parse_bench_flags(int argc, char** argv, std::vector<const char*>& rest) {
    BenchConfig cfg;
    if (const char* v = std::getenv("DATABASE_URL")) cfg.pg_url = v;
    if (const char* v = std::getenv("UPSTREAM_URL")) cfg.upstream_url = v;
    std::string conns;
    if (const char* v = std::getenv("WEIR_PG_CONNECTIONS")) conns = v;
    rest.push_back(argv[0]);
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        bool matched = false;
        for (auto [flag, target] : {std::pair{std::string_view("--pg"), &cfg.pg_url},
                                    std::pair{std::string_view("--upstream"), &cfg.upstream_url},
                                    std::pair{std::string_view("--pg-connections"), &conns}}) {
            if (a == flag) {
                if (i + 1 >= argc) usage_error(std::string(flag) + " needs a value");
                *target = argv[++i];
                matched = true;
            } else if (a.size() > flag.size() && a.substr(0, flag.size()) == flag &&
                       a[flag.size()] == '=') {
                *target = std::string(a.substr(flag.size() + 1));
                matched = true;
            }
            if (matched) break;
        }
        if (a == "--help" || a == "-h")
            std::printf(
                "bench-server options:\n"
                "  --pg URL              PostgreSQL with the items table (env DATABASE_URL)\n"
                "  --upstream URL        upstream base URL (env UPSTREAM_URL)\n"
                "  --pg-connections N    pipelined connections per shard (env "
                "WEIR_PG_CONNECTIONS, default 1)\n\n");
        if (!matched) rest.push_back(argv[i]);
    }
    if (!conns.empty()) {
        auto [p, ec] =
            std::from_chars(conns.data(), conns.data() + conns.size(), cfg.pg_connections);
        if (ec != std::errc() || p != conns.data() + conns.size() || cfg.pg_connections == 0)
            usage_error("--pg-connections must be a positive integer");
    }
    return cfg;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<const char*> rest;
    BenchConfig cfg = parse_bench_flags(argc, argv, rest);
    auto options = weir::http::ServerOptions::from_args(static_cast<int>(rest.size()), rest.data());
    if (cfg.pg_url.empty()) usage_error("--pg URL (or DATABASE_URL) is required");
    if (cfg.upstream_url.empty()) usage_error("--upstream URL (or UPSTREAM_URL) is required");
    if (!bench::kUpstreamClientAvailable)
        std::fprintf(stderr,
                     "bench-server: no HTTP client wired in yet: /seq, /par and /mixed answer "
                     "503\n");

    weir::http::AppOptions app_options;
    app_options.openapi_path.clear();
    weir::http::App app(std::move(app_options));
    // One pg::Pool: each shard's startup hook opens its own part (pg_connections per shard).
    auto pool =
        std::make_shared<weir::pg::Pool>(bench::Db::pool_options(cfg.pg_url, cfg.pg_connections));
    app.on_startup([cfg, pool](weir::http::Resources& res) -> Task<void> {
        co_await res.emplace<bench::Db>().open(pool);
        res.emplace<bench::Upstream>(cfg.upstream_url);
    });
    app.on_shutdown([](weir::http::Resources& res) -> Task<void> {
        if (auto* up = res.find<bench::Upstream>()) co_await up->close();
        if (auto* db = res.find<bench::Db>()) co_await db->close();
    });
    app.get("/db", db_endpoint);
    app.get("/seq", seq_endpoint);
    app.get("/par", par_endpoint);
    app.get("/cpu", cpu_endpoint);
    app.get("/mixed", mixed_endpoint);
    return weir::http::run_server(app.handler(), std::move(options), app.lifespan());
}
