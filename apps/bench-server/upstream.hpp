// Upstream: the benchmark's access to the upstream "microservice" (nginx
// answering /api/a, /api/b, /api/c after 10 ms). Everything the endpoints
// need from HTTP-client code goes through upstream_get(), so wiring a
// different client changes only upstream.cpp.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "weir/core/task.hpp"

namespace bench {

// One per shard (a resource of the App), created by the startup hook.
class Upstream {
public:
    explicit Upstream(std::string base_url);
    Upstream(const Upstream&) = delete;
    Upstream& operator=(const Upstream&) = delete;
    ~Upstream();

    const std::string& base_url() const noexcept { return base_url_; }
    // Closes the client (shutdown hook).
    weir::Task<void> close();

private:
    friend weir::Task<std::string> upstream_get(Upstream& upstream, std::string_view path);
    struct State;           // the shard's weir::http::Client
    std::string base_url_;  // e.g. http://127.0.0.1:8081, no trailing slash
    std::unique_ptr<State> state_;
};

// GETs base_url + path over the shard's keep-alive client and returns the
// body of a 2xx answer. Throws weir::http::HttpError 502 for a non-2xx
// answer or a failed call.
weir::Task<std::string> upstream_get(Upstream& upstream, std::string_view path);

// True: upstream_get() uses weir::http::Client (the harness's smoke mode
// used to skip the upstream endpoints while it did not).
extern const bool kUpstreamClientAvailable;

}  // namespace bench
