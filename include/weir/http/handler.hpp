// Handler: the shape of every endpoint and of the application as a whole:
// a coroutine from (Request, Context) to a Response.
#pragma once

#include <functional>

#include "weir/core/task.hpp"
#include "weir/http/context.hpp"
#include "weir/http/request.hpp"
#include "weir/http/response.hpp"

namespace weir::http {

using Handler = std::function<Task<Response>(Request&, Context&)>;

// An HTTP error a handler may throw: the server answers with `status` and a
// JSON problem body carrying `detail` (RFC 9457 shape).
class HttpError : public std::runtime_error {
public:
    HttpError(int status, std::string detail)
        : std::runtime_error(std::move(detail)), status_(status) {}
    int status() const noexcept { return status_; }

private:
    int status_;
};

}  // namespace weir::http
