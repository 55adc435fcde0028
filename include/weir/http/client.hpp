// http::Client: the HTTP/1.1 client (httpx.AsyncClient / aiohttp.ClientSession
// counterpart) with per-origin keep-alive pools, limits, timeouts and TLS.
//
//     weir::http::Client client;                    // one per shard/app, in the lifespan
//     auto r = co_await client.get("http://127.0.0.1:8080/users/7");
//     if (r.status == 200) use(r.body, r.headers.get("content-type"));  // any case
//     for (auto [name, value] : r.headers) log(name, value);  // views, valid while r lives
//     auto s = co_await client.stream(ClientRequest{.url = big_file_url});
//     while (auto piece = co_await s.next()) consume(*piece);
//     co_await client.close();                      // closes pooled connections
//
// Pools: a connection is reused (LIFO) only after its response was read to
// the end; at the limits, requests queue FIFO up to the pool timeout
// (PoolTimeout). A reused connection that turns out closed by the server is
// detected and an idempotent request repeated once on a fresh one. A request
// that fails or is cancelled halfway closes its connection. Timeouts are
// typed (client_errors.hpp); the caller's deadline always applies.
//
// A Client belongs to the shard that uses it first (not thread-safe); it is
// an AsyncResource: close() it (with_resource does).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "weir/core/resource.hpp"
#include "weir/core/task.hpp"
#include "weir/http/client_errors.hpp"
#include "weir/http/client_metrics.hpp"
#include "weir/http/client_options.hpp"
#include "weir/http/client_request.hpp"
#include "weir/http/client_response.hpp"

namespace weir::http {

namespace detail {
class ClientImpl;
}

class Client : public AsyncResource {
public:
    explicit Client(ClientOptions options = {});
    Client(Client&&) noexcept;
    Client& operator=(Client&&) = delete;
    ~Client();

    Task<ClientResponse> get(std::string_view url);
    Task<ClientResponse> get(std::string_view url, RequestOptions options);
    Task<ClientResponse> head(std::string_view url, RequestOptions options = {});
    Task<ClientResponse> post(std::string_view url, std::string body, RequestOptions options = {});
    Task<ClientResponse> put(std::string_view url, std::string body, RequestOptions options = {});
    Task<ClientResponse> del(std::string_view url, RequestOptions options = {});
    Task<ClientResponse> request(ClientRequest request);
    // Status and headers now, the body through the stream (no size limit).
    // The stream must not outlive the client.
    Task<ResponseStream> stream(ClientRequest request);

    // Closes the pooled connections; later requests throw ClientClosed.
    Task<void> close();

    ClientMetrics metrics() const;
    const ClientOptions& options() const noexcept;

private:
    std::unique_ptr<detail::ClientImpl> impl_;
};

}  // namespace weir::http
