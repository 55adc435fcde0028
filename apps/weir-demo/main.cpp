// weir-demo: a tour of the runtime, the README's first command.
//
//  1. structured concurrency: a TaskGroup composing one answer from three
//     "services", a deadline, a semaphore bounding fan-out, an ExceptionGroup;
//  2. cancellation that `catch (const std::exception&)` cannot swallow;
//  3. to_thread keeping the loop responsive during blocking work;
//  4. a TCP echo server on every shard, driven by client tasks for a few
//     seconds, with the loop's own statistics at the end.
//
//   weir-demo [--seconds S] [--connections N] [--threads N] [--serve]
//   --serve keeps the echo server running after the tour, until Ctrl-C.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "../weir-echo/echo_server.hpp"

using namespace std::chrono_literals;

namespace {

struct Options {
    double seconds = 3;
    unsigned connections = 64;
    unsigned threads = 0;
    bool serve = false;
};

[[noreturn]] void usage(int code) {
    std::fprintf(code ? stderr : stdout,
                 "usage: weir-demo [--seconds S] [--connections N] [--threads N] [--serve]\n");
    std::exit(code);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(2);
            return argv[++i];
        };
        if (a == "--seconds") o.seconds = std::stod(value());
        else if (a == "--connections") o.connections = static_cast<unsigned>(std::stoul(value()));
        else if (a == "--threads") o.threads = static_cast<unsigned>(std::stoul(value()));
        else if (a == "--serve") o.serve = true;
        else if (a == "-h" || a == "--help") usage(0);
        else usage(2);
    }
    return o;
}

void heading(const char* title) { std::printf("\n== %s\n", title); }

// A pretend downstream service: answers after `latency`, or fails.
weir::Task<std::string> service(std::string name, std::chrono::milliseconds latency,
                                bool fail = false) {
    co_await weir::sleep_for(latency);
    if (fail) throw std::runtime_error(name + " is down");
    co_return name + ":ok";
}

weir::Task<void> tour_structured() {
    heading("1. structured concurrency");
    auto t0 = weir::Clock::now();
    // Three calls at once; the slowest decides the latency, not the sum.
    std::string a, b, c;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        auto ha = g.spawn(service("users", 30ms));
        auto hb = g.spawn(service("cart", 20ms));
        auto hc = g.spawn(service("recommendations", 25ms));
        co_await ha.join();
        a = ha.result();
        co_await hb.join();
        b = hb.result();
        c = co_await hc.join();
    });
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(weir::Clock::now() - t0);
    std::printf("TaskGroup: %s, %s, %s in %lld ms (calls of 30+20+25 ms ran concurrently)\n",
                a.c_str(), b.c_str(), c.c_str(), static_cast<long long>(ms.count()));

    // A deadline cancels the slow call and surfaces as TimeoutError.
    try {
        co_await weir::with_timeout(10ms, service("slow-search", 500ms));
    } catch (const weir::TimeoutError& e) {
        std::printf("with_timeout(10ms): %s; the 500 ms call was cancelled\n", e.what());
    }

    // Backpressure: 100 requests, at most 10 in flight.
    weir::Semaphore limit(10);
    int in_flight = 0, peak = 0;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        for (int i = 0; i < 100; ++i) {
            g.spawn([](weir::Semaphore& limit, int& in_flight, int& peak) -> weir::Task<> {
                auto permit = co_await limit.acquire();
                peak = std::max(peak, ++in_flight);
                co_await weir::sleep_for(1ms);
                --in_flight;
            }(limit, in_flight, peak));
        }
        co_return;
    });
    std::printf("Semaphore(10): 100 requests, peak concurrency %d\n", peak);

    // Two failures: siblings are cancelled and every error is reported.
    try {
        co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
            g.spawn(service("payments", 5ms, true));
            g.spawn(service("inventory", 5ms, true));  // fails in the same turn
            g.spawn(service("shipping", 1000ms));  // cancelled when the others fail
            co_return;
        });
    } catch (const weir::ExceptionGroup& eg) {
        std::printf("ExceptionGroup with %zu error(s):", eg.size());
        for (const auto* e : eg.matching<std::runtime_error>()) std::printf(" [%s]", e->what());
        std::printf("\n");
    }
}

weir::Task<void> stubborn_worker(int& attempts) {
    for (;;) {
        try {
            co_await weir::sleep_for(1ms);
            ++attempts;
        } catch (const std::exception&) {
            // The article's pitfall 3: this would swallow asyncio.CancelledError.
            // weir::Cancelled is no std::exception, so it passes straight through.
        }
    }
}

weir::Task<void> tour_cancellation() {
    heading("2. cancellation cannot be swallowed");
    int attempts = 0;
    try {
        co_await weir::with_timeout(20ms, stubborn_worker(attempts));
    } catch (const weir::TimeoutError&) {
        std::printf("a loop catching std::exception was still cancelled after %d iterations\n",
                    attempts);
    }
}

weir::Task<void> tour_to_thread() {
    heading("3. to_thread: blocking work off the loop");
    int ticks = 0;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn([](int& ticks) -> weir::Task<> {
            for (int i = 0; i < 10; ++i) {
                co_await weir::sleep_for(10ms);
                ++ticks;
            }
        }(ticks));
        auto blocking = [] {
            std::this_thread::sleep_for(100ms);  // a synchronous library call
            return 42;
        };
        int v = co_await weir::to_thread(blocking);
        std::printf("to_thread returned %d after a 100 ms blocking call; meanwhile the loop "
                    "ticked %d times\n",
                    v, ticks);
    });
}

weir::Task<std::uint64_t> echo_client(std::uint16_t port, weir::TimePoint until) {
    auto conn = co_await weir::net::connect_tcp("127.0.0.1", port);
    conn.set_nodelay(true);
    char msg[64], buf[64];
    for (std::size_t i = 0; i < sizeof msg; ++i) msg[i] = static_cast<char>('a' + i % 26);
    std::uint64_t count = 0;
    while (weir::Clock::now() < until) {
        co_await conn.write_all(std::string_view(msg, sizeof msg));
        std::size_t got = 0;
        while (got < sizeof buf) {
            std::size_t n = co_await conn.read_some(std::span<char>(buf + got, sizeof buf - got));
            if (n == 0) throw std::runtime_error("echo server closed the connection");
            got += n;
        }
        ++count;
    }
    co_return count;
}

weir::Task<void> tour_echo(const Options& o) {
    heading("4. TCP echo server on every shard, under load");
    auto listener = weir::net::Listener::bind_tcp("127.0.0.1", 0);
    const auto port = listener.local_address().port();
    const unsigned shards = weir::Runtime::current()->shard_count();
    std::printf("echo server on 127.0.0.1:%u (%u shard%s); %u client connections for %.1f s\n",
                port, shards, shards == 1 ? "" : "s", o.connections, o.seconds);
    std::uint64_t total = 0;
    co_await weir::task_group([&](weir::TaskGroup& g) -> weir::Task<> {
        g.spawn(echo::serve_all_shards(listener, "127.0.0.1", port).named("echo-server"));
        auto until = weir::Clock::now() +
                     std::chrono::duration_cast<weir::Duration>(
                         std::chrono::duration<double>(o.seconds));
        std::vector<weir::Task<std::uint64_t>> clients;
        for (unsigned i = 0; i < o.connections; ++i) clients.push_back(echo_client(port, until));
        auto counts = co_await weir::when_all(std::move(clients));
        for (auto c : counts) total += c;
        std::printf("%llu round trips of 64 bytes: %.0f msgs/s (clients and server share the "
                    "machine)\n",
                    static_cast<unsigned long long>(total), static_cast<double>(total) / o.seconds);
        if (o.serve) {
            std::printf("serving on 127.0.0.1:%u until Ctrl-C ...\n", port);
            std::fflush(stdout);
            co_await weir::wait_for_signal(SIGINT, SIGTERM);
        }
        g.cancel(weir::CancelReason::shutdown);  // stops the server: cancelled and joined
    });
    auto st = weir::Runtime::current()->stats(0);
    std::printf("shard 0: %llu tasks started, %llu cancelled (shutdown), loop lag p99 <= %llu us, "
                "%llu slow callbacks\n",
                static_cast<unsigned long long>(st.tasks_started),
                static_cast<unsigned long long>(
                    st.tasks_cancelled[static_cast<int>(weir::CancelReason::shutdown)]),
                static_cast<unsigned long long>(st.loop_lag_us.quantile_upper_bound_us(0.99)),
                static_cast<unsigned long long>(st.slow_callbacks));
}

weir::Task<void> amain(Options o) {
    co_await tour_structured();
    co_await tour_cancellation();
    co_await tour_to_thread();
    co_await tour_echo(o);
    std::printf("\nall tasks joined; nothing left running.\n");
}

}  // namespace

int main(int argc, char** argv) {
    Options o = parse(argc, argv);
    try {
        weir::RuntimeOptions options;
        options.shards = o.threads;
        weir::Runtime rt(options);
        rt.run(amain(o));
        auto leaks = rt.check_leaks();
        if (!leaks.clean()) {
            std::fprintf(stderr, "weir-demo: leaked %llu tasks, %llu timers\n",
                         static_cast<unsigned long long>(leaks.tasks),
                         static_cast<unsigned long long>(leaks.user_timers));
            return 1;
        }
    } catch (const weir::Cancelled&) {
        std::printf("\nstopped.\n");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "weir-demo: %s\n", e.what());
        return 1;
    }
    return 0;
}
