// TLS on OpenSSL for weir::net: a TlsContext (configuration shared by many
// connections) and a TlsStream (one encrypted connection over a net::Stream,
// with the same read/write shape, non-blocking on the shard's event loop).
//
//     auto ctx = weir::net::TlsContext::client({});          // system CA store, verify on
//     auto tcp = co_await weir::net::connect_tcp("example.org", 443);
//     auto tls = co_await weir::net::TlsStream::connect(std::move(tcp), ctx, "example.org");
//     co_await tls.write_all("GET / HTTP/1.1\r\n...");
//     std::size_t n = co_await tls.read_some(buf);         // 0 at end of stream
//
// The client sends SNI and checks the certificate chain and the host name (or
// IP address) unless verification is turned off. A failed verification
// throws TlsVerifyError (with OpenSSL's reason); other failures TlsError.
// ALPN protocols can be offered (e.g. {"h2", "http/1.1"}) and the choice read
// back. Handshake, reads and writes are cancellable; a cancelled operation
// leaves the connection unusable (close it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "weir/core/task.hpp"
#include "weir/net/stream.hpp"

namespace weir::net {

class TlsError : public std::runtime_error {
public:
    explicit TlsError(const std::string& what) : std::runtime_error(what) {}
};

// The peer's certificate was rejected (untrusted issuer, expired, wrong host name...).
class TlsVerifyError : public TlsError {
public:
    TlsVerifyError(const std::string& what, long verify_result)
        : TlsError(what), verify_result_(verify_result) {}
    // OpenSSL's X509_V_ERR_* code.
    long verify_result() const noexcept { return verify_result_; }

private:
    long verify_result_;
};

struct TlsClientOptions {
    bool verify = true;             // check the chain and the host name
    std::string ca_file;            // PEM bundle of trusted CAs; empty: the system store
    std::string ca_path;            // directory of hashed CA certificates (optional)
    std::string cert_file;          // client certificate chain (PEM), optional
    std::string key_file;           // its private key (PEM)
    std::vector<std::string> alpn;  // protocols offered, in preference order
};

class TlsContext {
public:
    TlsContext() noexcept = default;
    // Throws TlsError if a file cannot be loaded.
    static TlsContext client(const TlsClientOptions& options);

    bool valid() const noexcept { return impl_ != nullptr; }
    bool verifies() const noexcept;

    struct Impl;
    Impl* impl() const noexcept { return impl_.get(); }

private:
    std::shared_ptr<Impl> impl_;
};

class TlsStream {
public:
    TlsStream() noexcept;
    TlsStream(TlsStream&&) noexcept;
    TlsStream& operator=(TlsStream&&) noexcept;
    ~TlsStream();

    // Performs the client handshake over `stream`, sending `server_name` as SNI
    // (unless it is an IP literal) and verifying it against the certificate.
    static Task<TlsStream> connect(Stream stream, const TlsContext& context,
                                   std::string server_name);

    // Decrypted bytes into `buf` (waits if none are available); 0 at EOF.
    Task<std::size_t> read_some(std::span<char> buf);
    Task<void> write_all(std::string_view data);

    // Single non-blocking attempts, for protocol drivers that run their own
    // readiness loop (weir::redis): they never wait. `bytes` is what moved;
    // `want` is the readiness needed before trying again (none: progress was
    // made, or, for a read with bytes == 0, end of stream). A WANT_READ also
    // clears the socket's read hint (the socket was drained). Errors throw
    // like read_some / write_all. A write that wanted readiness must be
    // retried with at least the same bytes (more may be appended; the
    // buffer may move).
    enum class Want : std::uint8_t { none, read, write };
    struct Attempt {
        std::size_t bytes = 0;
        Want want = Want::none;
    };
    Attempt try_read(std::span<char> buf);
    Attempt try_write(std::string_view data);

    // Sends close_notify (best effort) without waiting for the peer's.
    void shutdown() noexcept;

    // The ALPN protocol the server selected ("" if none).
    std::string alpn_selected() const;
    bool is_open() const noexcept;
    int fd() const noexcept;
    // Sends close_notify (as shutdown(); not after a failed handshake or a TLS or socket
    // error) and closes the socket. The destructor does the same. A peer that closes
    // without close_notify is read as end of stream.
    void close() noexcept;
    Stream& stream() noexcept;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace weir::net
