#include "config.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

namespace storefront {

namespace {

[[noreturn]] void fail(const std::string& msg) {
    std::fprintf(stderr, "storefront: %s\n", msg.c_str());
    std::exit(2);
}

long long to_number(std::string_view flag, const std::string& v) {
    long long n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || n < 0)
        fail(std::string(flag) + " must be a non-negative integer");
    return n;
}

}  // namespace

const char* config_usage() {
    return "storefront options:\n"
           "  --pg URL                          PostgreSQL (env DATABASE_URL)\n"
           "  --redis URL                       Redis (env REDIS_URL)\n"
           "  --recommendations URL             recommendations service base URL\n"
           "                                    (env RECOMMENDATIONS_URL)\n"
           "  --jobs-prefix P                   Redis key prefix of the job queue (weir)\n"
           "  --deadline-ms N                   GET /products/{id} deadline (2000)\n"
           "  --recommendations-timeout-ms N    recommendations call timeout (300)\n"
           "  --recommendations-concurrency N   outbound calls at once per shard (32)\n"
           "  --stock-ttl-s N                   stock cache TTL in seconds (30)\n\n";
}

Config parse_config(int argc, char** argv, int first, std::vector<const char*>& rest) {
    Config cfg;
    if (const char* v = std::getenv("DATABASE_URL")) cfg.pg_url = v;
    if (const char* v = std::getenv("REDIS_URL")) cfg.redis_url = v;
    if (const char* v = std::getenv("RECOMMENDATIONS_URL")) cfg.recommendations_url = v;
    std::string deadline, recs_timeout, recs_conc, ttl;
    const std::pair<std::string_view, std::string*> flags[] = {
        {"--pg", &cfg.pg_url},
        {"--redis", &cfg.redis_url},
        {"--recommendations", &cfg.recommendations_url},
        {"--jobs-prefix", &cfg.jobs_prefix},
        {"--deadline-ms", &deadline},
        {"--recommendations-timeout-ms", &recs_timeout},
        {"--recommendations-concurrency", &recs_conc},
        {"--stock-ttl-s", &ttl},
    };
    rest.push_back(argv[0]);
    for (int i = first; i < argc; ++i) {
        const std::string_view a = argv[i];
        bool matched = false;
        for (const auto& [flag, target] : flags) {
            if (a == flag) {
                if (i + 1 >= argc) fail(std::string(flag) + " needs a value");
                *target = argv[++i];
                matched = true;
            } else if (a.size() > flag.size() && a.substr(0, flag.size()) == flag &&
                       a[flag.size()] == '=') {
                *target = std::string(a.substr(flag.size() + 1));
                matched = true;
            }
            if (matched) break;
        }
        if (a == "--help" || a == "-h") std::fputs(config_usage(), stdout);
        if (!matched) rest.push_back(argv[i]);
    }
    if (!deadline.empty())
        cfg.product_deadline = std::chrono::milliseconds(to_number("--deadline-ms", deadline));
    if (!recs_timeout.empty())
        cfg.recommendations_timeout =
            std::chrono::milliseconds(to_number("--recommendations-timeout-ms", recs_timeout));
    if (!recs_conc.empty()) {
        cfg.recommendations_concurrency =
            static_cast<std::size_t>(to_number("--recommendations-concurrency", recs_conc));
        if (cfg.recommendations_concurrency == 0)
            fail("--recommendations-concurrency must be positive");
    }
    if (!ttl.empty()) cfg.stock_ttl = std::chrono::seconds(to_number("--stock-ttl-s", ttl));
    while (!cfg.recommendations_url.empty() && cfg.recommendations_url.back() == '/')
        cfg.recommendations_url.pop_back();
    return cfg;
}

}  // namespace storefront
