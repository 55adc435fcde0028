#include "upstream.hpp"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "weir/http/client.hpp"
#include "weir/http/handler.hpp"

namespace bench {

const bool kUpstreamClientAvailable = true;

namespace {

// Three upstream calls per request (/par) at up to 256 connections on one shard.
weir::http::ClientOptions client_options() {
    weir::http::ClientOptions o;
    o.max_connections_per_origin = 1024;
    o.max_connections = 1024;
    o.max_idle_per_origin = 1024;
    return o;
}

}  // namespace

struct Upstream::State {
    weir::http::Client client{client_options()};
};

Upstream::Upstream(std::string base_url)
    : base_url_(std::move(base_url)), state_(std::make_unique<State>()) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

Upstream::~Upstream() = default;

weir::Task<void> Upstream::close() { co_await state_->client.close(); }

weir::Task<std::string> upstream_get(Upstream& upstream, std::string_view path) {
    const std::string url = upstream.base_url() + std::string(path);
    std::optional<weir::http::ClientResponse> r;
    try {
        r = co_await upstream.state_->client.get(url);
    } catch (const std::exception& e) {  // connect/read failures, timeouts: a bad gateway
        throw weir::http::HttpError(502, "upstream " + url + ": " + e.what());
    }
    if (r->status < 200 || r->status >= 300) {
        throw weir::http::HttpError(502,
                                    "upstream " + url + " answered " + std::to_string(r->status));
    }
    co_return std::move(r->body);
}

}  // namespace bench
