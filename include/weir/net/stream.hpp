// Stream: a connected byte stream (TCP or Unix-domain socket) on one shard.
//
//     auto conn = co_await weir::net::connect_tcp("127.0.0.1", 6379);
//     co_await conn.write_all(request);
//     std::size_t n = co_await conn.read_some(buffer);   // 0 at end of stream
//
// read_some returns what is available (at least one byte, or 0 at EOF);
// write_all / writev_all return when everything was handed to the kernel.
// All are cancellable; a write cancelled midway leaves the stream in an
// unknown state, so the connection should then be closed. Errors throw
// SystemError carrying errno.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <span>
#include <string_view>

#include "weir/net/socket_address.hpp"
#include "weir/net/socket_handle.hpp"

namespace weir::net {

class Stream : public SocketHandle {
public:
    Stream() noexcept = default;
    explicit Stream(int fd) : SocketHandle(fd) {}

    class Read final : public detail::IoAwait {
    public:
        Read(weir::detail::IoHandle* io, std::span<std::byte> buf) noexcept
            : IoAwait(io, false), buf_(buf) {}
        std::size_t await_resume() const {
            check("read");
            return n_;
        }

    private:
        bool attempt() override;
        std::span<std::byte> buf_;
        std::size_t n_ = 0;
    };

    class Write final : public detail::IoAwait {
    public:
        Write(weir::detail::IoHandle* io, const iovec* iov, std::size_t count) noexcept;
        void await_resume() const { check("write"); }

    private:
        bool attempt() override;
        static constexpr std::size_t kMaxIov = 64;
        iovec iov_[kMaxIov];
        std::size_t count_;
        std::size_t first_ = 0;
    };

    // Reads what is available into `buf` (waits if nothing is); 0 means EOF.
    [[nodiscard]] Read read_some(std::span<std::byte> buf) noexcept { return Read(io_.get(), buf); }
    [[nodiscard]] Read read_some(std::span<char> buf) noexcept {
        return Read(io_.get(), std::as_writable_bytes(buf));
    }
    // Writes all of `data`.
    [[nodiscard]] Write write_all(std::string_view data) noexcept {
        iovec v{const_cast<char*>(data.data()), data.size()};
        return Write(io_.get(), &v, 1);
    }
    [[nodiscard]] Write write_all(std::span<const std::byte> data) noexcept {
        iovec v{const_cast<std::byte*>(data.data()), data.size()};
        return Write(io_.get(), &v, 1);
    }
    // Writes all buffers in order with vectored writes (at most 64 buffers).
    [[nodiscard]] Write writev_all(std::span<const iovec> bufs);

    // Half-close: no more writes from us; the peer reads EOF.
    void shutdown_write();
    void set_nodelay(bool on);
    SocketAddress peer_address() const;
    SocketAddress local_address() const;
};

using TcpStream = Stream;
using UnixStream = Stream;

}  // namespace weir::net
