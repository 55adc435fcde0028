#include "upstream.hpp"

#include <utility>

#include "weir/http/handler.hpp"

namespace bench {

// TODO(lead): wire weir::http::Client here once it lands:
//   - Upstream holds `weir::http::Client client_{weir::http::ClientOptions{}}` (per shard,
//     keep-alive; its connection limit must allow 3 concurrent calls per request, i.e. 768 at
//     wrk -c256 on one shard, or /par queues on the client) and close() closes it;
//   - upstream_get(): `ClientResponse r = co_await u.client_.get(u.base_url() + path);`
//     non-2xx -> HttpError(502, ...), else `co_return std::move(r.body);`
//   - kUpstreamClientAvailable = true.
// Nothing else in bench-server needs to change.
const bool kUpstreamClientAvailable = false;

Upstream::Upstream(std::string base_url) : base_url_(std::move(base_url)) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

Upstream::~Upstream() = default;

weir::Task<void> Upstream::close() { co_return; }

weir::Task<std::string> upstream_get(Upstream& upstream, std::string_view path) {
    (void)upstream;
    (void)path;
    throw weir::http::HttpError(503, "upstream client not available yet");
    co_return std::string();
}

}  // namespace bench
