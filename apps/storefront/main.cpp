// storefront: weir's reference service (see docs/ARCHITECTURE.md, "Reference service").
//
//   storefront [serve] [--port 8080] [--threads N] [--pg URL] [--redis URL]
//                      [--recommendations URL] [more, see --help]
//   storefront worker [--redis URL] [--threads N]      the background jobs worker
//   storefront recommendations [--port N] [--delay-ms N] [--failure-rate F]
//                                                      the mock recommendations service
//
// Environment: DATABASE_URL, REDIS_URL, RECOMMENDATIONS_URL (and the server's PORT,
// WEIR_THREADS, ...). Servers print "listening on HOST:PORT" once ready; SIGINT/SIGTERM drain.
#include <string_view>

#include "recommendations_mock.hpp"
#include "service.hpp"
#include "worker.hpp"

int main(int argc, char** argv) {
    const std::string_view sub = argc > 1 ? argv[1] : "";
    if (sub == "worker") return storefront::run_worker(argc, argv, 2);
    if (sub == "recommendations") return storefront::run_recommendations_mock(argc, argv, 2);
    if (sub == "serve") return storefront::run_service(argc, argv, 2);
    return storefront::run_service(argc, argv, 1);
}
