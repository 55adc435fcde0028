// hello: the smallest complete weir program, and the server the HTTP
// benchmark measures (the TechEmpower plaintext and JSON shapes).
//
//   hello [--host 127.0.0.1] [--port 8080] [--threads N] [--help for all options]
//
//   GET /plaintext  -> Hello, World!                 (text/plain)
//   GET /json       -> {"message":"Hello, World!"}   (application/json)
//   anything else   -> 404
//
// Prints "listening on HOST:PORT" once ready; SIGINT/SIGTERM drain and stop it.
#include <weir/http/server.hpp>

namespace {

weir::Task<weir::http::Response> hello(weir::http::Request& req, weir::http::Context&) {
    if (req.path() == "/plaintext") co_return weir::http::Response::text("Hello, World!");
    if (req.path() == "/json")
        co_return weir::http::Response::json(R"({"message":"Hello, World!"})");
    co_return weir::http::Response::text("Not Found", 404);
}

}  // namespace

int main(int argc, char** argv) {
    auto options = weir::http::ServerOptions::from_args(argc, argv);
    return weir::http::run_server(hello, std::move(options));
}
