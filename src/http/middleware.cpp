// Middleware chain, error responses and the built-in middleware; see
// include/weir/http/middleware.hpp.
#include "weir/http/middleware.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <random>
#include <typeinfo>

#include "weir/core/cancelled.hpp"
#include "weir/core/clock.hpp"
#include "weir/core/errors.hpp"
#include "weir/http/ascii.hpp"
#include "weir/http/json.hpp"
#include "weir/http/query.hpp"
#include "weir/http/typed_body.hpp"

namespace weir::http {

// ---------------------------------------------------------------------------------------------
// Chain
// ---------------------------------------------------------------------------------------------

Handler compose(std::vector<Middleware> middleware, Handler endpoint) {
    if (middleware.empty()) return endpoint;
    struct Chain {
        std::vector<Middleware> middleware;
        Handler endpoint;
    };
    auto chain = std::make_shared<const Chain>(Chain{std::move(middleware), std::move(endpoint)});
    return [chain](Request& req, Context& ctx) {
        return Next(chain->middleware.data(), chain->middleware.size(), &chain->endpoint)(req, ctx);
    };
}

LogSink stderr_log() {
    return [](std::string_view line) {
        std::string buf;
        buf.reserve(line.size() + 1);
        buf.append(line);
        buf.push_back('\n');
        const char* p = buf.data();
        std::size_t left = buf.size();
        while (left > 0) {
            const ssize_t n = ::write(STDERR_FILENO, p, left);
            if (n <= 0) return;  // nothing sensible to do about a broken stderr
            p += n;
            left -= static_cast<std::size_t>(n);
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

Response problem_response(int status, std::string_view detail) {
    std::string body;
    body.reserve(96 + detail.size());
    JsonWriter w(body);
    w.begin_object().member("type", "about:blank");
    const std::string_view title = reason_phrase(status);
    if (!title.empty()) w.member("title", title);
    w.member("status", status);
    if (!detail.empty()) w.member("detail", detail);
    w.end_object();
    return Response(status, std::move(body), "application/problem+json");
}

namespace {

void log_unexpected(const ErrorOptions& options, const Request& request, const Context& context,
                    std::string_view what) {
    std::string line = "weir: unhandled exception in ";
    line += request.method_name();
    line += ' ';
    line += request.path();
    if (!context.route().empty()) {
        line += " (route ";
        line += context.route();
        line += ')';
    }
    if (!context.request_id().empty()) {
        line += " [request ";
        line += context.request_id();
        line += ']';
    }
    line += ": ";
    line += what;
    if (options.log) {
        options.log(line);
    } else {
        stderr_log()(line);
    }
}

}  // namespace

Response error_response(std::exception_ptr error, const ErrorOptions& options,
                        const Request& request, const Context& context) {
    try {
        std::rethrow_exception(error);
    } catch (const ValidationError& e) {
        return validation_error_response(e.issues());
    } catch (const HttpError& e) {
        return problem_response(e.status(), e.what());
    } catch (const UrlDecodeError& e) {
        return problem_response(400, e.what());
    } catch (const TimeoutError&) {
        return problem_response(504, "the request did not complete in time");
    } catch (const std::exception& e) {
        std::string what = detail::demangle(typeid(e));
        what += ": ";
        what += e.what();
        log_unexpected(options, request, context, what);
        return problem_response(500, options.debug ? std::string_view(what)
                                                   : std::string_view("Internal Server Error"));
    } catch (const Cancelled&) {
        throw;
    } catch (...) {
        log_unexpected(options, request, context, "an exception not derived from std::exception");
        return problem_response(500, "Internal Server Error");
    }
}

std::string generate_request_id() {
    struct State {
        std::uint64_t s;
        State() {
            std::random_device rd;
            s = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
        }
        std::uint64_t next() noexcept {  // splitmix64
            std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            return z ^ (z >> 31);
        }
    };
    thread_local State state;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id(32, '0');
    for (int half = 0; half < 2; ++half) {
        std::uint64_t v = state.next();
        for (int i = 0; i < 16; ++i) {
            id[static_cast<std::size_t>(half * 16 + i)] = kHex[v & 0xF];
            v >>= 4;
        }
    }
    return id;
}

// ---------------------------------------------------------------------------------------------
// Built-in middleware
// ---------------------------------------------------------------------------------------------
namespace middleware {

namespace {

// Milliseconds with microsecond resolution, as a double for JSON and headers.
double millis(Duration d) {
    return std::round(std::chrono::duration<double, std::micro>(d).count()) / 1000.0;
}

std::string format_millis(Duration d) {
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "%.3f", millis(d));
    return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

void append_timestamp(std::string& out) {
    const auto now = std::chrono::system_clock::now();
    const std::time_t secs = std::chrono::system_clock::to_time_t(now);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[40];
    const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                                tm.tm_sec, static_cast<int>(ms));
    if (n > 0) out.append(buf, static_cast<std::size_t>(n));
}

void write_access_line(const LogSink& sink, const Request& req, const Context& ctx, int status,
                       Duration elapsed) {
    std::string line;
    line.reserve(256);
    std::string ts;
    append_timestamp(ts);
    JsonWriter w(line);
    w.begin_object()
        .member("ts", ts)
        .member("method", req.method_name())
        .member("path", req.path())
        .member("route", ctx.route())
        .member("status", status)
        .member("duration_ms", millis(elapsed))
        .member("request_id", ctx.request_id())
        .member("shard", ctx.shard())
        .end_object();
    sink(line);
}

bool valid_request_id(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    return std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

bool contains_ci(const std::vector<std::string>& list, std::string_view v) {
    return std::any_of(list.begin(), list.end(),
                       [&](const std::string& e) { return iequals(e, v); });
}

bool contains_star(const std::vector<std::string>& list) {
    return std::find(list.begin(), list.end(), "*") != list.end();
}

std::string join(const std::vector<std::string>& list) {
    std::string out;
    for (const std::string& e : list) {
        if (!out.empty()) out += ", ";
        out += e;
    }
    return out;
}

struct Cors {
    CorsOptions options;
    bool any_origin;
    bool any_method;
    bool any_header;
    std::string methods;
    std::string headers;
    std::string expose;
    std::string max_age;

    explicit Cors(CorsOptions o)
        : options(std::move(o)),
          any_origin(contains_star(options.allow_origins)),
          any_method(contains_star(options.allow_methods)),
          any_header(contains_star(options.allow_headers)),
          methods(join(options.allow_methods)),
          headers(join(options.allow_headers)),
          expose(join(options.expose_headers)),
          max_age(std::to_string(options.max_age)) {}

    bool origin_allowed(std::string_view origin) const {
        if (any_origin) return true;
        return std::find(options.allow_origins.begin(), options.allow_origins.end(), origin) !=
               options.allow_origins.end();
    }

    // "*" only when any origin is allowed without credentials; else the origin itself.
    void add_origin(Response& resp, std::string_view origin) const {
        if (any_origin && !options.allow_credentials) {
            resp.header("Access-Control-Allow-Origin", "*");
        } else {
            resp.header("Access-Control-Allow-Origin", std::string(origin));
            resp.header("Vary", "Origin");
        }
        if (options.allow_credentials) resp.header("Access-Control-Allow-Credentials", "true");
    }

    Response preflight(std::string_view origin, std::string_view method,
                       std::optional<std::string_view> requested_headers) const {
        std::string failures;
        if (!origin_allowed(origin)) failures = "origin";
        if (!any_method && !contains_ci(options.allow_methods, method)) {
            failures += failures.empty() ? "method" : ", method";
        }
        if (requested_headers && !any_header) {
            std::string_view rest = *requested_headers;
            bool ok = true;
            while (!rest.empty()) {
                const std::size_t comma = rest.find(',');
                const std::string_view h = trim_ows(rest.substr(0, comma));
                if (!h.empty() && !contains_ci(options.allow_headers, h)) ok = false;
                rest =
                    comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            }
            if (!ok) failures += failures.empty() ? "headers" : ", headers";
        }
        if (!failures.empty()) {
            Response resp = Response::text("Disallowed CORS " + failures, 400);
            resp.header("Vary", "Origin");
            return resp;
        }
        Response resp = Response::no_content();
        add_origin(resp, origin);
        resp.header("Access-Control-Allow-Methods", any_method ? std::string(method) : methods);
        if (requested_headers && any_header) {
            resp.header("Access-Control-Allow-Headers", std::string(*requested_headers));
        } else if (!headers.empty()) {
            resp.header("Access-Control-Allow-Headers", headers);
        }
        resp.header("Access-Control-Max-Age", max_age);
        return resp;
    }
};

}  // namespace

Middleware errors(ErrorOptions options) {
    if (!options.log) options.log = stderr_log();
    return [options = std::move(options)](Request& req, Context& ctx, Next next) -> Task<Response> {
        std::exception_ptr error;
        try {
            co_return co_await next(req, ctx);
        } catch (const Cancelled&) {
            throw;
        } catch (...) {
            error = std::current_exception();
        }
        co_return error_response(error, options, req, ctx);
    };
}

Middleware access_log(AccessLogOptions options) {
    LogSink sink = options.sink ? std::move(options.sink) : stderr_log();
    return [sink = std::move(sink)](Request& req, Context& ctx, Next next) -> Task<Response> {
        const TimePoint start = Clock::now();
        int status = 500;
        try {
            Response resp = co_await next(req, ctx);
            status = resp.status();
            write_access_line(sink, req, ctx, status, Clock::now() - start);
            co_return resp;
        } catch (const Cancelled&) {
            write_access_line(sink, req, ctx, 499, Clock::now() - start);
            throw;
        } catch (...) {
            write_access_line(sink, req, ctx, 500, Clock::now() - start);
            throw;
        }
    };
}

Middleware request_id(RequestIdOptions options) {
    return [options = std::move(options)](Request& req, Context& ctx, Next next) -> Task<Response> {
        std::string id;
        if (options.trust_incoming) {
            if (const auto incoming = req.header(options.header);
                incoming && valid_request_id(*incoming)) {
                id = *incoming;
            }
        }
        if (id.empty()) id = generate_request_id();
        ctx.set_request_id(std::move(id));
        Response resp = co_await next(req, ctx);
        resp.header(options.header, ctx.request_id());
        co_return resp;
    };
}

Middleware timing(TimingOptions options) {
    return [options](Request& req, Context& ctx, Next next) -> Task<Response> {
        const TimePoint start = Clock::now();
        Response resp = co_await next(req, ctx);
        const std::string ms = format_millis(Clock::now() - start);
        if (options.server_timing) resp.header("Server-Timing", "app;dur=" + ms);
        if (options.response_time) resp.header("X-Response-Time", ms + "ms");
        co_return resp;
    };
}

Middleware cors(CorsOptions options) {
    auto cors = std::make_shared<const Cors>(std::move(options));
    return [cors](Request& req, Context& ctx, Next next) -> Task<Response> {
        const std::optional<std::string_view> origin = req.header("Origin");
        if (!origin) co_return co_await next(req, ctx);
        if (req.method() == Method::Options) {
            if (const auto method = req.header("Access-Control-Request-Method")) {
                co_return cors->preflight(*origin, *method,
                                          req.header("Access-Control-Request-Headers"));
            }
        }
        Response resp = co_await next(req, ctx);
        if (cors->origin_allowed(*origin)) {
            cors->add_origin(resp, *origin);
            if (!cors->expose.empty()) {
                resp.header("Access-Control-Expose-Headers", cors->expose);
            }
        }
        co_return resp;
    };
}

}  // namespace middleware

}  // namespace weir::http
