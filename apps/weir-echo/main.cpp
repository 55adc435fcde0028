// weir-echo: a TCP echo server on all shards, for benchmarks and the demo.
//
//   weir-echo [--host 127.0.0.1] [--port 0] [--threads N]
//
// Prints "listening on HOST:PORT" once ready; stops on SIGINT/SIGTERM.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "echo_server.hpp"

namespace {

struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    unsigned threads = 0;
};

[[noreturn]] void usage(int code) {
    std::fprintf(code ? stderr : stdout,
                 "usage: weir-echo [--host IP] [--port N] [--threads N]\n"
                 "  --threads N  shards (default: one per core)\n");
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
        if (a == "--host") o.host = value();
        else if (a == "--port") o.port = static_cast<std::uint16_t>(std::stoul(value()));
        else if (a == "--threads") o.threads = static_cast<unsigned>(std::stoul(value()));
        else if (a == "-h" || a == "--help") usage(0);
        else usage(2);
    }
    return o;
}

weir::Task<void> amain(Options o) {
    auto first = weir::net::Listener::bind_tcp(o.host, o.port);
    const auto port = first.local_address().port();
    std::printf("listening on %s:%u\n", o.host.c_str(), port);
    std::fflush(stdout);
    // Serve until a signal arrives; the server is then cancelled and joined.
    auto stop = weir::wait_for_signal(SIGINT, SIGTERM);
    co_await weir::when_any(std::move(stop), echo::serve_all_shards(first, o.host, port));
}

}  // namespace

int main(int argc, char** argv) {
    Options o = parse(argc, argv);
    try {
        weir::RuntimeOptions options;
        options.shards = o.threads;
        weir::Runtime rt(options);
        rt.run(amain(o));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "weir-echo: %s\n", e.what());
        return 1;
    }
    return 0;
}
