// send_iov: one non-blocking write attempt of a list of buffers, shared by
// net::Stream and the HTTP server's batched response writer.
#pragma once

#include <limits.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstddef>

namespace weir::net::detail {

// Writes what the socket takes of iov[0..count) (count >= 1) without SIGPIPE;
// returns send()'s result (bytes written, or -1 with errno). One buffer goes
// through send(), which skips sendmsg()'s msghdr and iovec copy-in.
inline ssize_t send_iov(int fd, const iovec* iov, std::size_t count) noexcept {
    if (count == 1) return ::send(fd, iov->iov_base, iov->iov_len, MSG_NOSIGNAL);
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = std::min<std::size_t>(count, IOV_MAX);
    return ::sendmsg(fd, &msg, MSG_NOSIGNAL);
}

}  // namespace weir::net::detail
