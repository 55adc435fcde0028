// http_client_load: drives an HTTP server with weir's http::Client (one shard)
// for bench/http_client/run. --concurrency tasks each send GET requests back to
// back over keep-alive connections (one pool connection per task); after
// --warmup seconds, responses are counted for --duration seconds.
// Output, one line on stdout:
//   requests=<n> seconds=<t> req_per_sec=<r> errors=<e> cpu_seconds=<c> mean_us=<m> p99_us_le=<p>
// cpu_seconds is this process's utime+stime over the measured window.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <weir/core.hpp>
#include <weir/http/client.hpp>

namespace {

double cpu_now() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct Args {
    std::string url = "http://127.0.0.1:8080/";
    int concurrency = 64;
    double duration = 5;
    double warmup = 1;
};

struct State {
    bool counting = false;
    bool stop = false;
    std::uint64_t requests = 0;
    std::uint64_t errors = 0;
    std::uint64_t latency_sum_us = 0;
    weir::Histogram latency;
};

weir::Task<void> worker(weir::http::Client& client, const Args& args, State& st) {
    while (!st.stop) {
        const auto t0 = weir::Clock::now();
        try {
            auto r = co_await client.get(args.url);
            if (r.status != 200) ++st.errors;
        } catch (const std::exception& e) {
            if (st.errors++ == 0) std::fprintf(stderr, "error: %s\n", e.what());
        }
        if (st.counting) {
            const auto us = static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::microseconds>(weir::Clock::now() - t0)
                    .count());
            ++st.requests;
            st.latency_sum_us += us;
            st.latency.record(us);
        }
    }
}

weir::Task<int> run(Args args) {
    weir::http::ClientOptions o;
    o.max_connections_per_origin = static_cast<std::size_t>(args.concurrency);
    o.max_idle_per_origin = static_cast<std::size_t>(args.concurrency);
    o.decompress = false;
    weir::http::Client client(o);
    State st;
    double cpu0 = 0, cpu1 = 0;
    weir::TimePoint t0, t1;
    auto body = [&](weir::TaskGroup& g) -> weir::Task<void> {
        for (int i = 0; i < args.concurrency; ++i) g.spawn(worker(client, args, st));
        co_await weir::sleep_for(std::chrono::duration<double>(args.warmup));
        st.counting = true;
        cpu0 = cpu_now();
        t0 = weir::Clock::now();
        co_await weir::sleep_for(std::chrono::duration<double>(args.duration));
        st.counting = false;
        t1 = weir::Clock::now();
        cpu1 = cpu_now();
        st.stop = true;
    };
    co_await weir::task_group(body);
    co_await client.close();
    const double secs = std::chrono::duration<double>(t1 - t0).count();
    const auto snap = st.latency.snapshot();
    std::printf(
        "requests=%llu seconds=%.3f req_per_sec=%.1f errors=%llu cpu_seconds=%.3f mean_us=%.1f "
        "p99_us_le=%llu\n",
        static_cast<unsigned long long>(st.requests), secs, static_cast<double>(st.requests) / secs,
        static_cast<unsigned long long>(st.errors), cpu1 - cpu0,
        st.requests ? static_cast<double>(st.latency_sum_us) / static_cast<double>(st.requests)
                    : 0.0,
        static_cast<unsigned long long>(snap.quantile_upper_bound_us(0.99)));
    co_return st.errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i];
        if (k == "--url")
            a.url = argv[i + 1];
        else if (k == "--concurrency")
            a.concurrency = std::atoi(argv[i + 1]);
        else if (k == "--duration")
            a.duration = std::atof(argv[i + 1]);
        else if (k == "--warmup")
            a.warmup = std::atof(argv[i + 1]);
        else {
            std::fprintf(
                stderr,
                "usage: http_client_load --url U --concurrency C --duration S --warmup S\n");
            return 2;
        }
    }
    weir::RuntimeOptions ro;
    ro.shards = 1;
    ro.worker_threads = 1;
    weir::Runtime rt(ro);
    return rt.run(run(a));
}
