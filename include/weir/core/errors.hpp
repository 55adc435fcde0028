// Ordinary (std::exception-derived) errors raised by the runtime itself.
#pragma once

#include <stdexcept>
#include <string>
#include <system_error>

namespace weir {

// A deadline set by with_timeout / with_deadline expired. Unlike Cancelled,
// this is an ordinary error: the code that set the deadline handles it.
class TimeoutError : public std::runtime_error {
public:
    TimeoutError() : std::runtime_error("operation timed out") {}
    explicit TimeoutError(const std::string& what) : std::runtime_error(what) {}
};

// A failed system call, carrying errno and what was being done.
class SystemError : public std::system_error {
public:
    SystemError(int err, const std::string& context)
        : std::system_error(err, std::generic_category(), context) {}
    int error_number() const noexcept { return code().value(); }
};

// Throws SystemError for the current errno.
[[noreturn]] void throw_errno(const char* context);
[[noreturn]] void throw_errno(int err, const std::string& context);

// A channel was closed while sending to it.
class ChannelClosed : public std::runtime_error {
public:
    ChannelClosed() : std::runtime_error("channel closed") {}
};

}  // namespace weir
