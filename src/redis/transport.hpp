// Internal: the byte stream under a redis connection, either a plain socket
// (TCP or Unix) or TLS over TCP, used through single non-blocking attempts so
// the connection's own readiness loop (Connection::Impl::drive) drives it:
// nothing here ever waits, and state survives a cancelled wait untouched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "weir/core/poller.hpp"
#include "weir/net/stream.hpp"
#include "weir/net/tls.hpp"

namespace weir::redis::detail {

class Transport {
public:
    enum class Status : std::uint8_t { ok, again, closed };
    struct Result {
        std::size_t direct = 0;    // bytes read into the direct span
        std::size_t buffered = 0;  // bytes read into (or written from) the buffer
        Status status = Status::ok;
    };

    void attach(net::Stream s) noexcept;
    void attach(net::TlsStream s) noexcept;

    bool is_tls() const noexcept { return tls_; }
    weir::detail::IoHandle* io_handle() noexcept;
    int fd() const noexcept;
    void close() noexcept;
    // The last TLS read needs the socket writable before it can go on.
    bool wants_write() const noexcept { return read_wants_write_; }

    // Reads what is available without waiting: into `direct` first when it is
    // not empty (a big reply's own storage), and then, plain sockets only
    // (one readv), into `buf`. `again` when nothing is available (the read
    // hint says so, or the socket is drained); `closed` at end of stream.
    // Throws SystemError / net::TlsError.
    Result read(std::span<char> direct, std::span<char> buf);
    // Writes as much of `data` as the socket takes (`buffered` bytes).
    Result write(std::string_view data);
    // For an idle connection: ok if nothing arrived, closed if the peer hung
    // up or failed, again if data (unexpected on an idle connection) arrived.
    Status probe_idle() noexcept;

private:
    net::Stream plain_;
    net::TlsStream tls_stream_;
    bool tls_ = false;
    bool read_wants_write_ = false;
};

}  // namespace weir::redis::detail
