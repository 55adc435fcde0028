// The storefront service: the App (routes, lifespan, per-shard resources) and the schema.
#pragma once

#include "config.hpp"
#include "weir/http/app.hpp"

namespace storefront {

// GET /products/{id:int}, POST /orders, /openapi.json; each shard opens its PostgreSQL pool,
// Redis pool, job queue and recommendations client in the startup hook (after applying the
// schema migration) and closes them in the shutdown hook.
weir::http::App make_app(const Config& cfg);

// `storefront [serve]`: the service as a program (returns the exit status).
int run_service(int argc, char** argv, int first);

}  // namespace storefront
