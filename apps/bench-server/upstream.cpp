#include "upstream.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
    // base_url + path of the paths asked for so far (the endpoints call the same three), so a
    // call does not build its URL string again.
    std::vector<std::pair<std::string, std::string>> urls;

    const std::string& url_for(const std::string& base, std::string_view path) {
        for (const auto& [p, u] : urls)
            if (p == path) return u;
        if (urls.size() >= 16) urls.clear();  // an endpoint with unbounded paths: stay small
        return urls.emplace_back(std::string(path), base + std::string(path)).second;
    }
};

Upstream::Upstream(std::string base_url)
    : base_url_(std::move(base_url)), state_(std::make_unique<State>()) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

Upstream::~Upstream() = default;

weir::Task<void> Upstream::close() { co_await state_->client.close(); }

weir::Task<std::string> upstream_get(Upstream& upstream, std::string_view path) {
    const std::string own_path(path);  // short paths fit in the string itself: no allocation
    std::optional<weir::http::ClientResponse> r;
    try {
        // get() copies the URL before it returns: the cached string may go later.
        r = co_await upstream.state_->client.get(
            upstream.state_->url_for(upstream.base_url(), own_path));
    } catch (const std::exception& e) {  // connect/read failures, timeouts: a bad gateway
        throw weir::http::HttpError(502,
                                    "upstream " + upstream.base_url() + own_path + ": " + e.what());
    }
    if (r->status < 200 || r->status >= 300) {
        throw weir::http::HttpError(502, "upstream " + upstream.base_url() + own_path +
                                             " answered " + std::to_string(r->status));
    }
    co_return std::move(r->body);
}

}  // namespace bench
