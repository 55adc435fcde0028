// weir-worker: a jobs worker process with a few built-in jobs, for demos, the
// fleet tests and the jobs benchmark. A real application registers its own
// functions on a weir::jobs::Worker the same way (see apps/storefront).
//
//     weir-worker [--redis URL] [--queues high,default] [--concurrency N] [--name NAME]
//                 [--prefix P] [--visibility-ms N] [--poll-ms N] [--grace-ms N] [--threads N]
//
// Built-in jobs: noop; sleep (args: milliseconds); fail (always throws); count (adds the
// job id to the set <prefix>:test:done and increments <prefix>:test:runs);
// email.confirmation (logs the mail it would send). SIGTERM/SIGINT: graceful shutdown.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "weir/core.hpp"
#include "weir/jobs/worker.hpp"
#include "weir/redis/connection.hpp"

namespace {

[[noreturn]] void usage(int code) {
    std::fprintf(code ? stderr : stdout,
                 "usage: weir-worker [--redis URL] [--queues a,b] [--concurrency N] [--name N]\n"
                 "                   [--prefix P] [--visibility-ms N] [--poll-ms N]"
                 " [--grace-ms N] [--threads N]\n"
                 "  REDIS_URL is used when --redis is not given.\n");
    std::exit(code);
}

std::vector<std::string> split(std::string_view s) {
    std::vector<std::string> out;
    while (!s.empty()) {
        const auto comma = s.find(',');
        out.emplace_back(s.substr(0, comma));
        if (comma == std::string_view::npos) break;
        s.remove_prefix(comma + 1);
    }
    return out;
}

weir::jobs::WorkerOptions parse(int argc, char** argv, int& threads) {
    weir::jobs::WorkerOptions o;
    if (const char* url = std::getenv("REDIS_URL")) o.url = url;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(2);
            return argv[++i];
        };
        auto millis = [&] { return std::chrono::milliseconds(std::stoll(value())); };
        if (a == "--help" || a == "-h")
            usage(0);
        else if (a == "--redis")
            o.url = value();
        else if (a == "--queues")
            o.queues = split(value());
        else if (a == "--concurrency")
            o.concurrency = std::stoul(value());
        else if (a == "--name")
            o.name = value();
        else if (a == "--prefix")
            o.prefix = value();
        else if (a == "--visibility-ms")
            o.visibility_timeout = millis();
        else if (a == "--poll-ms")
            o.poll_interval = millis();
        else if (a == "--grace-ms")
            o.shutdown_grace = millis();
        else if (a == "--threads")
            threads = std::stoi(value());
        else
            usage(2);
    }
    return o;
}

// One worker per shard: each has its own connections and concurrency limit.
weir::Task<void> run_worker(weir::jobs::WorkerOptions options) {
    weir::jobs::Worker worker(options);
    weir::redis::Connection counter;  // for the `count` job
    const std::string done_key = options.prefix + ":test:done";
    const std::string runs_key = options.prefix + ":test:runs";
    worker.add("noop",
               [](weir::jobs::JobContext&) -> weir::Task<std::string> { co_return "null"; });
    worker.add("sleep", [](weir::jobs::JobContext& job) -> weir::Task<std::string> {
        co_await weir::sleep_for(std::chrono::milliseconds(std::atoll(job.args.c_str())));
        co_return "null";
    });
    worker.add("fail", [](weir::jobs::JobContext& job) -> weir::Task<std::string> {
        throw std::runtime_error("fail job " + job.id + " (attempt " + std::to_string(job.attempt) +
                                 ")");
        co_return "null";
    });
    worker.add("count", [&](weir::jobs::JobContext& job) -> weir::Task<std::string> {
        if (!counter.is_open() || counter.is_broken()) {
            counter = co_await weir::redis::Connection::connect(options.url);
        }
        co_await counter.incr(runs_key);
        const weir::redis::Keys member{job.id};
        co_await counter.sadd(done_key, member);
        co_return "true";
    });
    worker.add("email.confirmation", [](weir::jobs::JobContext& job) -> weir::Task<std::string> {
        std::printf("email.confirmation: would send %s (job %s, attempt %d)\n", job.args.c_str(),
                    job.id.c_str(), job.attempt);
        std::fflush(stdout);
        co_return "\"sent\"";
    });
    std::printf("weir-worker %s: queues", worker.name().c_str());
    for (const std::string& q : options.queues) std::printf(" %s", q.c_str());
    std::printf(", concurrency %zu, redis %s\n", options.concurrency, options.url.c_str());
    std::fflush(stdout);
    co_await worker.run();
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 1;
    weir::jobs::WorkerOptions options = parse(argc, argv, threads);
    try {
        weir::RuntimeOptions ro;
        ro.shards = threads;
        weir::Runtime rt(ro);
        rt.run([](weir::jobs::WorkerOptions o) -> weir::Task<void> {
            auto per_shard = [o] { return run_worker(o); };
            co_await weir::on_all_shards(std::move(per_shard));
        }(options));
    } catch (const weir::Cancelled&) {
        return 0;  // SIGTERM/SIGINT: the workers shut down gracefully
    } catch (const std::exception& e) {
        std::fprintf(stderr, "weir-worker: %s\n", e.what());
        return 1;
    }
    return 0;
}
