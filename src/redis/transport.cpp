#include "transport.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

#include "weir/core/errors.hpp"

namespace weir::redis::detail {

void Transport::attach(net::Stream s) noexcept {
    plain_ = std::move(s);
    tls_ = false;
}

void Transport::attach(net::TlsStream s) noexcept {
    tls_stream_ = std::move(s);
    tls_ = true;
}

weir::detail::IoHandle* Transport::io_handle() noexcept {
    return tls_ ? tls_stream_.stream().io_handle() : plain_.io_handle();
}

int Transport::fd() const noexcept { return tls_ ? tls_stream_.fd() : plain_.fd(); }

void Transport::close() noexcept {
    if (tls_) {
        tls_stream_.close();
    } else {
        plain_.close();
    }
    read_wants_write_ = false;
}

Transport::Result Transport::read(std::span<char> direct, std::span<char> buf) {
    weir::detail::IoHandle* io = io_handle();
    if (!io || io->fd < 0) return {0, 0, Status::closed};
    if (!io->read_hint && !io->hangup && !read_wants_write_) return {0, 0, Status::again};
    if (tls_) {
        read_wants_write_ = false;
        if (!direct.empty()) {
            const auto a = tls_stream_.try_read(direct);
            if (a.bytes > 0) return {a.bytes, 0};
            if (a.want == net::TlsStream::Want::none) return {0, 0, Status::closed};
            read_wants_write_ = a.want == net::TlsStream::Want::write;
            return {0, 0, Status::again};
        }
        // SSL_read returns one record at a time: read every record already
        // here, as one recv() takes everything queued, so that the replies to
        // several server writes complete together and the tasks they wake
        // queue their next commands as one batch (automatic pipelining).
        std::size_t got = 0;
        while (got < buf.size()) {
            const auto a = tls_stream_.try_read(buf.subspan(got));
            if (a.bytes > 0) {
                got += a.bytes;
                continue;
            }
            if (a.want == net::TlsStream::Want::none) {
                if (got == 0) return {0, 0, Status::closed};
                break;  // end of stream: reported by the next read
            }
            read_wants_write_ = a.want == net::TlsStream::Want::write;
            if (got == 0) return {0, 0, Status::again};
            break;
        }
        return {0, got};
    }
    iovec iov[2] = {{direct.data(), direct.size()}, {buf.data(), buf.size()}};
    const iovec* first = direct.empty() ? iov + 1 : iov;
    const int count = direct.empty() ? 1 : 2;
    const std::size_t space = direct.size() + buf.size();
    for (;;) {
        const ssize_t n =
            count == 1 ? ::recv(io->fd, buf.data(), buf.size(), 0) : ::readv(io->fd, first, count);
        if (n > 0) {
            const auto got = static_cast<std::size_t>(n);
            if (got < space) io->read_hint = false;  // a short read drained the socket
            const std::size_t d = std::min(got, direct.size());
            return {d, got - d};
        }
        if (n == 0) return {0, 0, Status::closed};
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            io->read_hint = false;
            return {0, 0, Status::again};
        }
        throw_errno(errno, "read");
    }
}

Transport::Result Transport::write(std::string_view data) {
    if (tls_) {
        try {
            const auto a = tls_stream_.try_write(data);
            return {0, a.bytes, a.bytes > 0 || data.empty() ? Status::ok : Status::again};
        } catch (const SystemError&) {
            // A server that rejects the session (e.g. a missing client
            // certificate) sends an alert and resets the connection: the
            // alert, if it arrived, says why better than the reset.
            char scratch[256];
            try {
                (void)tls_stream_.try_read(std::span<char>(scratch, sizeof scratch));
            } catch (const net::TlsError&) {
                throw;
            } catch (...) {
            }
            throw;
        }
    }
    for (;;) {
        const ssize_t n = ::send(plain_.fd(), data.data(), data.size(), MSG_NOSIGNAL);
        if (n >= 0) return {0, static_cast<std::size_t>(n)};
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return {0, 0, Status::again};
        throw_errno(errno, "write");
    }
}

Transport::Status Transport::probe_idle() noexcept {
    char byte;
    const ssize_t n = ::recv(fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Status::ok;
    if (!tls_ || n <= 0) return n > 0 ? Status::again : Status::closed;
    // TLS 1.3 session tickets may arrive after the handshake: let OpenSSL
    // consume them. Application data here, or a close_notify, ends the connection.
    try {
        const auto a = tls_stream_.try_read(std::span<char>(&byte, 1));
        if (a.bytes > 0) return Status::again;
        return a.want == net::TlsStream::Want::none ? Status::closed : Status::ok;
    } catch (...) {
        return Status::closed;
    }
}

}  // namespace weir::redis::detail
