// `storefront recommendations`: a tiny mock of the upstream recommendations service, on
// weir's App, so the demo and the tests need nothing external.
//
//   GET /recommendations/{id:int}  -> [id+1, id+2, id+3] (ids wrap within 1..20) after
//                                     --delay-ms; with probability --failure-rate a 503
//   GET /stats                     -> {"requests": N}: recommendation requests received so far
//                                     by this process (the tests use it to know that calls
//                                     are in flight)
#include "recommendations_mock.hpp"

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "weir/core/sleep.hpp"
#include "weir/http/app.hpp"
#include "weir/http/server.hpp"

namespace storefront {

namespace {

std::atomic<std::uint64_t> g_requests{0};

struct MockConfig {
    std::chrono::milliseconds delay{0};
    double failure_rate = 0.0;
};

[[noreturn]] void fail(const std::string& msg) {
    std::fprintf(stderr, "storefront recommendations: %s\n", msg.c_str());
    std::exit(2);
}

MockConfig parse_mock_flags(int argc, char** argv, int first, std::vector<const char*>& rest) {
    MockConfig cfg;
    rest.push_back(argv[0]);
    for (int i = first; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) fail(std::string(a) + " needs a value");
            return argv[++i];
        };
        if (a == "--delay-ms") {
            const std::string v = value();
            long long ms = 0;
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), ms);
            if (ec != std::errc() || p != v.data() + v.size() || ms < 0)
                fail("--delay-ms must be a non-negative integer");
            cfg.delay = std::chrono::milliseconds(ms);
        } else if (a == "--failure-rate") {
            const std::string v = value();
            char* end = nullptr;
            cfg.failure_rate = std::strtod(v.c_str(), &end);
            if (end != v.c_str() + v.size() || cfg.failure_rate < 0 || cfg.failure_rate > 1)
                fail("--failure-rate must be a number in [0, 1]");
        } else {
            if (a == "--help" || a == "-h")
                std::printf(
                    "storefront recommendations options:\n"
                    "  --delay-ms N        answer after N ms (0)\n"
                    "  --failure-rate F    answer 503 with probability F in [0, 1] (0)\n\n");
            rest.push_back(argv[i]);
        }
    }
    return cfg;
}

}  // namespace

int run_recommendations_mock(int argc, char** argv, int first) {
    std::vector<const char*> rest;
    const MockConfig cfg = parse_mock_flags(argc, argv, first, rest);
    auto options = weir::http::ServerOptions::from_args(static_cast<int>(rest.size()), rest.data());
    weir::http::AppOptions app_options;
    app_options.info.title = "storefront recommendations (mock)";
    weir::http::App app(std::move(app_options));
    app.get(
        "/recommendations/{id:int}",
        [cfg](weir::http::Request& req, weir::http::Context&) -> weir::Task<weir::http::Response> {
            g_requests.fetch_add(1, std::memory_order_relaxed);
            const std::int64_t id = weir::http::path_param_int(req, "id");
            if (cfg.delay.count() > 0) co_await weir::sleep_for(cfg.delay);
            thread_local std::minstd_rand rng{std::random_device{}()};
            if (cfg.failure_rate > 0 &&
                std::uniform_real_distribution<double>(0.0, 1.0)(rng) < cfg.failure_rate) {
                co_return weir::http::Response::json(R"({"detail":"injected failure"})", 503);
            }
            std::string out = "[";
            for (int k = 1; k <= 3; ++k) {
                if (k > 1) out += ',';
                out += std::to_string((((id - 1) % 20) + 20 + k) % 20 + 1);
            }
            out += ']';
            co_return weir::http::Response::json(std::move(out));
        });
    app.get("/stats",
            [](weir::http::Request&, weir::http::Context&) -> weir::Task<weir::http::Response> {
                co_return weir::http::Response::json(
                    "{\"requests\":" + std::to_string(g_requests.load(std::memory_order_relaxed)) +
                    "}");
            });
    return weir::http::run_server(app.handler(), std::move(options), app.lifespan());
}

}  // namespace storefront
