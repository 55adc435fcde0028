// storefront's configuration: flags and environment variables shared by its subcommands.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace storefront {

struct Config {
    std::string pg_url;                // --pg / DATABASE_URL
    std::string redis_url;             // --redis / REDIS_URL
    std::string recommendations_url;   // --recommendations / RECOMMENDATIONS_URL
    std::string jobs_prefix = "weir";  // --jobs-prefix: the Redis key prefix of the job queue
    // GET /products/{id}: the whole request's deadline, and the recommendations call's own.
    std::chrono::milliseconds product_deadline{2000};        // --deadline-ms
    std::chrono::milliseconds recommendations_timeout{300};  // --recommendations-timeout-ms
    std::size_t recommendations_concurrency = 32;  // --recommendations-concurrency (per shard)
    std::chrono::seconds stock_ttl{30};            // --stock-ttl-s
};

// Takes storefront's own flags out of argv (from index `first`); what is left (argv[0] first)
// goes to weir::http::ServerOptions. Exits 2 with a message on a bad value.
Config parse_config(int argc, char** argv, int first, std::vector<const char*>& rest);

// The help text of the service's own flags.
const char* config_usage();

}  // namespace storefront
