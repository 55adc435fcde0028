// Middleware: code that wraps every request of an App (or any Handler), and
// the built-ins: access log, request id, timing, CORS and error responses.
//
//     app.use(weir::http::middleware::access_log());        // one JSON line per request
//     app.use(weir::http::middleware::request_id());        // X-Request-ID in or generated
//     app.use([](Request& req, Context& ctx, Next next) -> Task<Response> {
//         Response resp = co_await next(req, ctx);           // the rest of the chain
//         resp.header("X-Frame-Options", "DENY");
//         co_return resp;
//     });
//
// Middleware run in the order added (the first is outermost). They are shared by every shard,
// so they must be safe to call concurrently from several threads (capture only immutable
// state, or per-thread state).
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "weir/core/task.hpp"
#include "weir/http/context.hpp"
#include "weir/http/handler.hpp"
#include "weir/http/request.hpp"
#include "weir/http/response.hpp"

namespace weir::http {

class Next;

using Middleware = std::function<Task<Response>(Request&, Context&, Next)>;

// Calls the rest of the chain (the next middleware, or finally the endpoint). Cheap to copy.
class Next {
public:
    Next(const Middleware* rest, std::size_t count, const Handler* endpoint) noexcept
        : rest_(rest), count_(count), endpoint_(endpoint) {}

    Task<Response> operator()(Request& request, Context& context) const {
        if (count_ == 0) return (*endpoint_)(request, context);
        return (*rest_)(request, context, Next(rest_ + 1, count_ - 1, endpoint_));
    }

private:
    const Middleware* rest_;
    std::size_t count_;
    const Handler* endpoint_;
};

// A Handler that runs `middleware` in order around `endpoint` (just `endpoint` if none).
Handler compose(std::vector<Middleware> middleware, Handler endpoint);

// Where diagnostic lines go. Must be callable from any shard.
using LogSink = std::function<void(std::string_view line)>;
// Writes each line (plus '\n') to standard error with a single write(2).
LogSink stderr_log();

// An RFC 9457 problem response (application/problem+json):
// {"type":"about:blank","title":"Not Found","status":404,"detail":"..."}
Response problem_response(int status, std::string_view detail = {});

struct ErrorOptions {
    bool debug = false;  // 500 responses carry the exception type and text
    LogSink log{};       // unexpected errors (500) are reported here; empty: stderr
};

// The response for an exception (never Cancelled, which is rethrown): ValidationError -> 422
// with the FastAPI detail list, HttpError -> its status with a problem body carrying its text,
// UrlDecodeError -> 400, TimeoutError -> 504, anything else -> 500 (text only when debug; the
// exception is logged with the request line).
Response error_response(std::exception_ptr error, const ErrorOptions& options,
                        const Request& request, const Context& context);

// A fresh random request id (32 hex digits).
std::string generate_request_id();

namespace middleware {

// Turns exceptions of the inner chain into problem responses (error_response). App does this
// around every handler and around the whole chain already; add it explicitly so that outer
// middleware see responses instead of exceptions thrown by inner middleware.
Middleware errors(ErrorOptions options = {});

struct AccessLogOptions {
    LogSink sink{};  // empty: stderr
};
// One JSON line per request: {"ts":...,"method":...,"path":...,"route":...,"status":...,
// "duration_ms":...,"request_id":...,"shard":...}. A request cancelled before it was answered
// (client gone, shutdown) is logged with status 499, one that threw with 500.
Middleware access_log(AccessLogOptions options = {});

struct RequestIdOptions {
    std::string header = "X-Request-ID";
    bool trust_incoming = true;  // reuse a well-formed incoming id (1..128 visible ASCII chars)
};
// Sets Context::request_id() and echoes it in the response.
Middleware request_id(RequestIdOptions options = {});

struct TimingOptions {
    bool server_timing = true;   // Server-Timing: app;dur=1.234
    bool response_time = false;  // X-Response-Time: 1.234ms
};
Middleware timing(TimingOptions options = {});

struct CorsOptions {
    std::vector<std::string> allow_origins = {"*"};  // exact origins, or "*" for any
    std::vector<std::string> allow_methods = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
    std::vector<std::string> allow_headers = {};   // request headers allowed ("*": any)
    std::vector<std::string> expose_headers = {};  // response headers scripts may read
    bool allow_credentials = false;                // then "*" echoes the actual origin
    int max_age = 600;                             // seconds a preflight may be cached
};
// Answers preflight requests (OPTIONS with Origin and Access-Control-Request-Method) itself:
// 204 with the Access-Control-Allow-* headers, or 400 when the origin, method or headers are
// not allowed. Adds Access-Control-Allow-Origin (and friends) to other requests from an allowed
// origin. Requests without Origin pass through untouched.
Middleware cors(CorsOptions options = {});

}  // namespace middleware

}  // namespace weir::http
