// Typed errors of the HTTP client. Timeouts derive from weir::TimeoutError
// (catch that for "any timeout"); everything else from HttpClientError.
// TLS failures surface as weir::net::TlsError / TlsVerifyError.
#pragma once

#include <stdexcept>
#include <string>

#include "weir/core/errors.hpp"

namespace weir::http {

class HttpClientError : public std::runtime_error {
public:
    explicit HttpClientError(const std::string& what) : std::runtime_error(what) {}
};

// No connection of the origin's pool became available within the pool timeout.
class PoolTimeout : public TimeoutError {
public:
    explicit PoolTimeout(const std::string& what) : TimeoutError(what) {}
};
class ConnectTimeout : public TimeoutError {
public:
    explicit ConnectTimeout(const std::string& what) : TimeoutError(what) {}
};
// No byte of the response arrived within the read timeout.
class ReadTimeout : public TimeoutError {
public:
    explicit ReadTimeout(const std::string& what) : TimeoutError(what) {}
};
class WriteTimeout : public TimeoutError {
public:
    explicit WriteTimeout(const std::string& what) : TimeoutError(what) {}
};
// The request's total timeout (ClientOptions::timeout / RequestOptions::timeout) expired.
class RequestTimeout : public TimeoutError {
public:
    explicit RequestTimeout(const std::string& what) : TimeoutError(what) {}
};

// Could not resolve or connect to the origin (errno when known).
class ConnectError : public HttpClientError {
public:
    ConnectError(const std::string& what, int err = 0) : HttpClientError(what), errno_(err) {}
    int error_number() const noexcept { return errno_; }

private:
    int errno_;
};

// The server broke HTTP/1.1: malformed head, bad framing, closed or reset the
// connection before the response was complete.
class RemoteProtocolError : public HttpClientError {
public:
    explicit RemoteProtocolError(const std::string& what) : HttpClientError(what) {}
};

// The response exceeded ClientOptions::max_response_bytes.
class ResponseTooLarge : public HttpClientError {
public:
    explicit ResponseTooLarge(const std::string& what) : HttpClientError(what) {}
};

class InvalidUrl : public HttpClientError {
public:
    explicit InvalidUrl(const std::string& what) : HttpClientError(what) {}
};

class TooManyRedirects : public HttpClientError {
public:
    explicit TooManyRedirects(const std::string& what) : HttpClientError(what) {}
};

// The origin's circuit breaker is open: failing fast without contacting it.
class CircuitOpen : public HttpClientError {
public:
    explicit CircuitOpen(const std::string& what) : HttpClientError(what) {}
};

// The client was closed.
class ClientClosed : public HttpClientError {
public:
    ClientClosed() : HttpClientError("http client is closed") {}
};

// ClientResponse::raise_for_status(): a 4xx or 5xx answer.
class HttpStatusError : public HttpClientError {
public:
    HttpStatusError(const std::string& what, int status) : HttpClientError(what), status_(status) {}
    int status() const noexcept { return status_; }

private:
    int status_;
};

}  // namespace weir::http
