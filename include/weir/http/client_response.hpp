// What http::Client returns: ClientResponse (status, headers, whole body) and
// ResponseStream (status and headers first, then the body piece by piece, for
// large bodies; its connection goes back to the pool only once the body was
// read to the end, and is closed if the stream is dropped earlier).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "weir/core/task.hpp"
#include "weir/http/client_options.hpp"
#include "weir/http/response_headers.hpp"

namespace weir::http {

struct ClientResponse {
    int status = 0;
    std::string reason;
    ResponseHeaders headers;  // in received order; headers.get("content-type") ignores case
    std::string body;         // decoded (Content-Encoding removed when decompress is on)
    std::string url;          // the final URL (after redirects)
    int redirects = 0;

    // First header with this name, ignoring case (headers.get(name)).
    std::optional<std::string_view> header(std::string_view name) const noexcept {
        return headers.get(name);
    }
    bool ok() const noexcept { return status >= 200 && status < 300; }
    // Throws HttpStatusError for 4xx and 5xx.
    const ClientResponse& raise_for_status() const;
};

namespace detail {
struct StreamState;
}

class ResponseStream {
public:
    ResponseStream() noexcept;
    explicit ResponseStream(std::unique_ptr<detail::StreamState> state) noexcept;
    ResponseStream(ResponseStream&&) noexcept;
    ResponseStream& operator=(ResponseStream&&) noexcept;
    // Unfinished: the connection is closed, never reused.
    ~ResponseStream();

    int status() const noexcept;
    const std::string& reason() const noexcept;
    // Valid while the stream lives (also after the body was read).
    const ResponseHeaders& headers() const noexcept;
    std::optional<std::string_view> header(std::string_view name) const noexcept;

    // The next piece of the (decoded) body, nullopt at its end. The view is
    // valid until the next call. Read timeout and deadline apply per call.
    Task<std::optional<std::string_view>> next();
    // The rest of the body.
    Task<std::string> read_all();
    bool done() const noexcept;
    std::uint64_t bytes_read() const noexcept;
    // Gives the connection up now (closed unless the body was fully read).
    void close() noexcept;

private:
    std::unique_ptr<detail::StreamState> state_;
};

}  // namespace weir::http
