// `storefront worker [--redis URL] [--jobs-prefix P] [--threads N] [--concurrency N]`: one
// weir::jobs::Worker per shard running `email.confirmation` (logged to stdout). SIGTERM or
// SIGINT: graceful shutdown (running jobs get the worker's grace period).
#include "worker.hpp"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "email_job.hpp"
#include "weir/core.hpp"
#include "weir/jobs/worker.hpp"

namespace storefront {

namespace {

[[noreturn]] void usage(int code) {
    std::fprintf(code ? stderr : stdout,
                 "usage: storefront worker [--redis URL] [--jobs-prefix P] [--threads N] "
                 "[--concurrency N]\n  REDIS_URL is used when --redis is not given.\n");
    std::exit(code);
}

weir::Task<void> work(weir::jobs::WorkerOptions options) {
    weir::jobs::Worker worker(options);
    worker.add(std::string(kEmailJob),
               [](weir::jobs::JobContext& job) { return send_confirmation(job, stdout); });
    std::printf("storefront worker %s: queue default, redis %s\n", worker.name().c_str(),
                options.url.c_str());
    std::fflush(stdout);
    co_await worker.run();
}

}  // namespace

int run_worker(int argc, char** argv, int first) {
    weir::jobs::WorkerOptions options;
    int threads = 1;
    if (const char* url = std::getenv("REDIS_URL")) options.url = url;
    for (int i = first; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(2);
            return argv[++i];
        };
        try {
            if (a == "--help" || a == "-h")
                usage(0);
            else if (a == "--redis")
                options.url = value();
            else if (a == "--jobs-prefix")
                options.prefix = value();
            else if (a == "--threads")
                threads = std::stoi(value());
            else if (a == "--concurrency")
                options.concurrency = std::stoul(value());
            else
                usage(2);
        } catch (const std::logic_error&) {  // std::stoi and friends
            usage(2);
        }
    }
    try {
        weir::RuntimeOptions ro;
        ro.shards = threads;
        weir::Runtime rt(ro);
        rt.run([](weir::jobs::WorkerOptions o) -> weir::Task<void> {
            auto per_shard = [o] { return work(o); };
            co_await weir::on_all_shards(std::move(per_shard));
        }(options));
    } catch (const weir::Cancelled&) {
        return 0;  // SIGTERM/SIGINT: the workers shut down gracefully
    } catch (const std::exception& e) {
        std::fprintf(stderr, "storefront worker: %s\n", e.what());
        return 1;
    }
    return 0;
}

}  // namespace storefront
