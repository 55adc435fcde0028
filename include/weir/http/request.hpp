// Request: what a handler sees of one HTTP request.
//
// The head (method, target, headers) is a set of views into the
// connection's input buffer, which the server leaves untouched until the
// response is written: copy anything a handler needs to keep longer. The
// body is owned (de-chunked, at most ServerOptions::max_body_bytes).
// Path parameters are set by the router, query parameters decoded lazily.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weir/http/request_head.hpp"

namespace weir::http {

class Request {
public:
    Request() = default;
    explicit Request(const RequestHead* head) noexcept : head_(head) {}

    Method method() const noexcept { return head_->method; }
    std::string_view method_name() const noexcept { return head_->method_token; }
    std::string_view target() const noexcept { return head_->target; }
    std::string_view path() const noexcept { return head_->path; }  // not percent-decoded
    std::string_view raw_query() const noexcept { return head_->query; }
    HttpVersion version() const noexcept { return head_->version; }
    bool keep_alive() const noexcept { return head_->keep_alive; }
    const HeaderList& headers() const noexcept { return head_->headers; }
    std::optional<std::string_view> header(std::string_view name) const noexcept {
        return head_->find_header(name);
    }
    const RequestHead& head() const noexcept { return *head_; }

    const std::string& body() const noexcept { return body_; }
    std::string& body() noexcept { return body_; }

    // First value of query parameter `name`, percent-decoded; nullopt if absent.
    // Throws UrlDecodeError (-> 400) for a malformed query.
    std::optional<std::string> query(std::string_view name) const;
    const std::vector<std::pair<std::string, std::string>>& query_params() const;

    // Path parameters captured by the router ({id} in /items/{id}), decoded.
    std::optional<std::string_view> path_param(std::string_view name) const noexcept {
        for (const auto& [k, v] : path_params_)
            if (k == name) return std::string_view(v);
        return std::nullopt;
    }
    const std::vector<std::pair<std::string_view, std::string>>& path_params() const noexcept {
        return path_params_;
    }

    // Server/router plumbing.
    void reset(const RequestHead* head) noexcept {
        head_ = head;
        body_.clear();
        path_params_.clear();
        query_.reset();
    }
    void add_path_param(std::string_view name, std::string value) {
        path_params_.emplace_back(name, std::move(value));
    }

private:
    const RequestHead* head_ = nullptr;
    std::string body_;
    std::vector<std::pair<std::string_view, std::string>> path_params_;
    mutable std::optional<std::vector<std::pair<std::string, std::string>>> query_;
};

}  // namespace weir::http
