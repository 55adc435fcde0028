// Helpers for the App tests: call a Handler directly with a request parsed from text, no network.
#pragma once

#include <cctype>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "weir/core/task.hpp"
#include "weir/http/context.hpp"
#include "weir/http/handler.hpp"
#include "weir/http/middleware.hpp"
#include "weir/http/request.hpp"
#include "weir/http/request_parser.hpp"
#include "weir/http/response.hpp"

namespace weir::http::testing {

// A request parsed from "METHOD target HTTP/1.1" plus headers; keeps the bytes its views use.
// Not movable: the views point into `raw_`.
class TestRequest {
public:
    // `headers`: extra header lines, each ending in "\r\n" ("Origin: x\r\nAccept: y\r\n").
    TestRequest(std::string_view method, std::string_view target, std::string_view body = {},
                std::string_view headers = {}) {
        raw_.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: test\r\n");
        raw_.append(headers);
        if (!body.empty()) raw_.append("Content-Length: ").append(std::to_string(body.size()));
        if (!body.empty()) raw_.append("\r\n");
        raw_.append("\r\n");
        const ParseResult r = parser_.parse(raw_);
        ok_ = r.complete();
        EXPECT_TRUE(ok_) << "test request did not parse: " << raw_;
        request_.reset(&parser_.head());
        request_.body().assign(body.data(), body.size());
    }
    TestRequest(const TestRequest&) = delete;
    TestRequest& operator=(const TestRequest&) = delete;

    bool ok() const noexcept { return ok_; }
    Request& request() noexcept { return request_; }

private:
    std::string raw_;
    RequestParser parser_;
    Request request_;
    bool ok_ = false;
};

// Runs `handler` on one request. `ctx` is reset first (like the server does per request).
inline Task<Response> call(const Handler& handler, Context& ctx, std::string_view method,
                           std::string_view target, std::string_view body = {},
                           std::string_view headers = {}) {
    TestRequest req(method, target, body, headers);
    ctx.reset();
    if (!req.ok()) co_return Response(599);
    co_return co_await handler(req.request(), ctx);
}

// Value of the first response header `name` (case-insensitive), if any.
inline std::optional<std::string> header_of(const Response& resp, std::string_view name) {
    for (const auto& [k, v] : resp.headers()) {
        if (k.size() == name.size()) {
            bool eq = true;
            for (std::size_t i = 0; i < k.size(); ++i) {
                eq = eq && std::tolower(static_cast<unsigned char>(k[i])) ==
                               std::tolower(static_cast<unsigned char>(name[i]));
            }
            if (eq) return v;
        }
    }
    return std::nullopt;
}

// A LogSink that keeps its lines (thread-safe).
class CapturedLog {
public:
    LogSink sink() {
        return [this](std::string_view line) {
            std::lock_guard lock(mutex_);
            lines_.emplace_back(line);
        };
    }
    std::vector<std::string> lines() const {
        std::lock_guard lock(mutex_);
        return lines_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

}  // namespace weir::http::testing
