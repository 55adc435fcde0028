// Context: the per-request companion of Request, passed to every handler
// and middleware: which shard serves it, its request id, the route that
// matched, and the shard's Resources for dependency injection.
#pragma once

#include <string>
#include <string_view>

#include "weir/http/resources.hpp"

namespace weir::http {

class Context {
public:
    Context(Resources& resources, unsigned shard) noexcept
        : resources_(&resources), shard_(shard) {}

    unsigned shard() const noexcept { return shard_; }

    template <class T>
    T& get() {
        return resources_->get<T>();
    }
    Resources& resources() noexcept { return *resources_; }

    // Set by the request-id middleware (or taken from X-Request-ID).
    const std::string& request_id() const noexcept { return request_id_; }
    void set_request_id(std::string id) { request_id_ = std::move(id); }

    // The route template that matched ("/items/{id:int}"), for metrics and
    // logs; empty until routed, "<unmatched>" for 404/405.
    std::string_view route() const noexcept { return route_; }
    void set_route(std::string_view r) noexcept { route_ = r; }

    // Server plumbing: reset between requests on a keep-alive connection.
    void reset() noexcept {
        request_id_.clear();
        route_ = {};
    }

private:
    Resources* resources_;
    unsigned shard_;
    std::string request_id_;
    std::string_view route_;
};

}  // namespace weir::http
