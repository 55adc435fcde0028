// TLS client streams on OpenSSL, driven by the shard's event loop: OpenSSL
// works on the non-blocking socket itself, and whenever it reports
// WANT_READ / WANT_WRITE the task waits for the next readiness edge.
#include "weir/net/tls.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <utility>

#include "weir/core/errors.hpp"

namespace weir::net {

namespace {

std::string openssl_error(const std::string& what) {
    std::string out = what;
    unsigned long e;
    bool first = true;
    while ((e = ERR_get_error()) != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        out += first ? ": " : "; ";
        out += buf;
        first = false;
    }
    return out;
}

bool is_ip_literal(const std::string& s) {
    in6_addr a6;
    in_addr a4;
    return ::inet_pton(AF_INET, s.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, s.c_str(), &a6) == 1;
}

// Waits for the next readiness edge of one direction (after OpenSSL saw EAGAIN).
class WaitIo final : public detail::IoAwait {
public:
    WaitIo(weir::detail::IoHandle* io, bool write_side) noexcept : IoAwait(io, write_side) {}
    void await_resume() const { check("tls wait"); }

private:
    bool attempt() override { return std::exchange(armed_, true); }
    bool armed_ = false;
};

}  // namespace

struct TlsContext::Impl {
    SSL_CTX* ctx = nullptr;
    bool verify = true;
    ~Impl() {
        if (ctx) SSL_CTX_free(ctx);
    }
};

struct TlsStream::Impl {
    Stream stream;
    SSL* ssl = nullptr;
    bool failed = false;  // a fatal TLS or socket error: no close_notify then
    ~Impl() { close(); }

    // Sends close_notify once the handshake is done and nothing failed: one non-blocking
    // attempt, never waiting for the peer's (a full socket buffer or a write still pending
    // in OpenSSL means it is not sent). OpenSSL must not be asked after a fatal error.
    void send_close_notify() noexcept {
        if (!ssl || failed || !stream.is_open() || SSL_is_init_finished(ssl) != 1) return;
        if (SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN) return;  // sent already
        ERR_clear_error();
        SSL_shutdown(ssl);
        ERR_clear_error();
    }
    void close() noexcept {
        send_close_notify();
        if (ssl) {
            SSL_free(ssl);
            ssl = nullptr;
        }
        stream.close();
    }
};

bool TlsContext::verifies() const noexcept { return impl_ && impl_->verify; }

TlsContext TlsContext::client(const TlsClientOptions& o) {
    auto impl = std::make_shared<Impl>();
    ERR_clear_error();
    impl->ctx = SSL_CTX_new(TLS_client_method());
    if (!impl->ctx) throw TlsError(openssl_error("SSL_CTX_new"));
    SSL_CTX* ctx = impl->ctx;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
    impl->verify = o.verify;
    if (o.verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
        if (!o.ca_file.empty() || !o.ca_path.empty()) {
            if (SSL_CTX_load_verify_locations(ctx, o.ca_file.empty() ? nullptr : o.ca_file.c_str(),
                                              o.ca_path.empty() ? nullptr : o.ca_path.c_str()) != 1)
                throw TlsError(
                    openssl_error("cannot load CA bundle '" + o.ca_file + o.ca_path + "'"));
        } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            throw TlsError(openssl_error("cannot load the system CA store"));
        }
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }
    if (!o.cert_file.empty()) {
        if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1)
            throw TlsError(openssl_error("cannot load client certificate '" + o.cert_file + "'"));
        const std::string& key = o.key_file.empty() ? o.cert_file : o.key_file;
        if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1)
            throw TlsError(openssl_error("cannot load client key '" + key + "'"));
    }
    if (!o.alpn.empty()) {
        std::string wire;
        for (const auto& p : o.alpn) {
            if (p.empty() || p.size() > 255) throw TlsError("invalid ALPN protocol name");
            wire.push_back(static_cast<char>(p.size()));
            wire += p;
        }
        if (SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                                    static_cast<unsigned>(wire.size())) != 0)
            throw TlsError(openssl_error("SSL_CTX_set_alpn_protos"));
    }
    TlsContext c;
    c.impl_ = std::move(impl);
    return c;
}

TlsStream::TlsStream() noexcept = default;
TlsStream::TlsStream(TlsStream&&) noexcept = default;
TlsStream& TlsStream::operator=(TlsStream&&) noexcept = default;
TlsStream::~TlsStream() = default;

Task<TlsStream> TlsStream::connect(Stream stream, const TlsContext& context,
                                   std::string server_name) {
    if (!context.valid()) throw TlsError("TlsStream::connect: no TLS context");
    TlsStream t;
    t.impl_ = std::make_unique<Impl>();
    Impl& im = *t.impl_;
    im.stream = std::move(stream);
    ERR_clear_error();
    im.ssl = SSL_new(context.impl()->ctx);
    if (!im.ssl) throw TlsError(openssl_error("SSL_new"));
    SSL_set_fd(im.ssl, im.stream.fd());
    const bool ip = is_ip_literal(server_name);
    if (!ip && !server_name.empty()) SSL_set_tlsext_host_name(im.ssl, server_name.c_str());
    if (context.verifies()) {
        if (ip) {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(im.ssl), server_name.c_str());
        } else {
            SSL_set1_host(im.ssl, server_name.c_str());
        }
    }
    for (;;) {
        ERR_clear_error();
        const int r = SSL_connect(im.ssl);
        if (r == 1) break;
        const int e = SSL_get_error(im.ssl, r);
        if (e == SSL_ERROR_WANT_READ) {
            co_await WaitIo(im.stream.io_handle(), false);
        } else if (e == SSL_ERROR_WANT_WRITE) {
            co_await WaitIo(im.stream.io_handle(), true);
        } else {
            const long vr = SSL_get_verify_result(im.ssl);
            if (vr != X509_V_OK)
                throw TlsVerifyError("TLS certificate verification failed for '" + server_name +
                                         "': " + X509_verify_cert_error_string(vr),
                                     vr);
            if (e == SSL_ERROR_SYSCALL && errno != 0)
                throw_errno(errno, "TLS handshake with '" + server_name + "'");
            throw TlsError(openssl_error("TLS handshake with '" + server_name + "' failed"));
        }
    }
    co_return t;
}

TlsStream::Attempt TlsStream::try_read(std::span<char> buf) {
    if (!impl_ || !impl_->ssl) throw_errno(EBADF, "tls read");
    Impl& im = *impl_;
    ERR_clear_error();
    const int cap = static_cast<int>(std::min<std::size_t>(buf.size(), 1 << 30));
    const int r = SSL_read(im.ssl, buf.data(), cap);
    if (r > 0) return {static_cast<std::size_t>(r), Want::none};
    switch (SSL_get_error(im.ssl, r)) {
        case SSL_ERROR_WANT_READ:
            if (auto* io = im.stream.io_handle()) io->read_hint = false;
            return {0, Want::read};
        case SSL_ERROR_WANT_WRITE:
            return {0, Want::write};
        case SSL_ERROR_ZERO_RETURN:
            return {0, Want::none};
        case SSL_ERROR_SYSCALL:
            im.failed = true;
            if (errno == 0) return {0, Want::none};
            throw_errno(errno, "tls read");
        default:
            im.failed = true;
            throw TlsError(openssl_error("TLS read failed"));
    }
}

TlsStream::Attempt TlsStream::try_write(std::string_view data) {
    if (!impl_ || !impl_->ssl) throw_errno(EBADF, "tls write");
    Impl& im = *impl_;
    if (data.empty()) return {};
    ERR_clear_error();
    const int n = static_cast<int>(std::min<std::size_t>(data.size(), 1 << 30));
    const int r = SSL_write(im.ssl, data.data(), n);
    if (r > 0) return {static_cast<std::size_t>(r), Want::none};
    const int e = SSL_get_error(im.ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        if (auto* io = im.stream.io_handle()) io->read_hint = false;
        return {0, Want::read};
    }
    if (e == SSL_ERROR_WANT_WRITE) return {0, Want::write};
    im.failed = true;
    if (e == SSL_ERROR_SYSCALL && errno != 0) throw_errno(errno, "tls write");
    throw TlsError(openssl_error("TLS write failed"));
}

Task<std::size_t> TlsStream::read_some(std::span<char> buf) {
    for (;;) {
        const Attempt a = try_read(buf);
        if (a.want == Want::none) co_return a.bytes;
        co_await WaitIo(impl_->stream.io_handle(), a.want == Want::write);
    }
}

Task<void> TlsStream::write_all(std::string_view data) {
    while (!data.empty()) {
        const Attempt a = try_write(data);
        data.remove_prefix(a.bytes);
        if (a.want != Want::none) co_await WaitIo(impl_->stream.io_handle(), a.want == Want::write);
    }
}

void TlsStream::shutdown() noexcept {
    if (impl_) impl_->send_close_notify();
}

std::string TlsStream::alpn_selected() const {
    if (!impl_ || !impl_->ssl) return {};
    const unsigned char* p = nullptr;
    unsigned len = 0;
    SSL_get0_alpn_selected(impl_->ssl, &p, &len);
    return p ? std::string(reinterpret_cast<const char*>(p), len) : std::string();
}

bool TlsStream::is_open() const noexcept { return impl_ && impl_->stream.is_open(); }

int TlsStream::fd() const noexcept { return impl_ ? impl_->stream.fd() : -1; }

void TlsStream::close() noexcept {
    if (impl_) impl_->close();
}

Stream& TlsStream::stream() noexcept {
    static thread_local Stream none;
    return impl_ ? impl_->stream : none;
}

}  // namespace weir::net
