// http::Client internals: connections, DNS cache, connecting, per-origin pools.
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "client_impl.hpp"
#include "weir/core/errors.hpp"
#include "weir/net/connect.hpp"
#include "weir/net/detail/send_iov.hpp"

namespace weir::http::detail {

namespace {
constexpr std::size_t kReadChunk = 16 * 1024;
}

// ---------------------------------------------------------------------------------------------
// Connection
// ---------------------------------------------------------------------------------------------

std::span<char> Connection::room_for_read() {
    if (begin_ > 0 && (cap_ - end_ < kReadChunk)) {
        std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    if (cap_ - end_ < kReadChunk) {
        std::size_t ncap = cap_ == 0 ? kReadChunk * 2 : cap_ * 2;
        while (ncap - end_ < kReadChunk) ncap *= 2;
        std::unique_ptr<char[]> nb(new char[ncap]);
        if (end_ > begin_) std::memcpy(nb.get(), buf_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
        buf_ = std::move(nb);
        cap_ = ncap;
    }
    return {buf_.get() + end_, cap_ - end_};
}

Task<std::size_t> Connection::fill() {
    std::span<char> room = room_for_read();
    std::size_t n;
    if (tls) {
        n = co_await tls->read_some(room);
    } else {
        n = co_await tcp.read_some(room);
    }
    commit_read(n);
    co_return n;
}

Task<void> Connection::write(std::string_view data) {
    if (tls) {
        co_await tls->write_all(data);
    } else {
        co_await tcp.write_all(data);
    }
}

Task<void> Connection::write2(std::string_view a, std::string_view b) {
    if (tls) {
        co_await tls->write_all(a);
        co_await tls->write_all(b);
    } else {
        iovec v[2] = {{const_cast<char*>(a.data()), a.size()},
                      {const_cast<char*>(b.data()), b.size()}};
        co_await tcp.writev_all(std::span<const iovec>(v, 2));
    }
}

std::size_t Connection::write_now(std::string_view a, std::string_view b) {
    iovec v[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
    for (;;) {
        const ssize_t n = net::detail::send_iov(tcp.fd(), v, b.empty() ? 1 : 2);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        throw_errno(errno, "write");
    }
}

bool Connection::looks_alive(bool trust_poller) const noexcept {
    if (!is_open() || has_unread()) return false;
    if (!tls) {
        // The loop's edge-triggered registration already tells most of what a peek would:
        // `hangup` is sticky once EPOLLRDHUP/HUP/ERR was seen, and `read_hint` is false only
        // while the last recv() drained the socket and no EPOLLIN edge came since. So with
        // hangup unset and read_hint false, the peek below could only find bytes or a FIN
        // that arrived after the loop last polled: the same race as between a peek and the
        // request's write. A request the stale-connection retry covers (idempotent: the
        // reused connection failing before any response byte is retried once on a fresh
        // one) can take that; others keep the peek. Saves one recv() per reused request.
        const weir::detail::IoHandle* io = tcp.io_handle();
        if (io->hangup) return false;
        if (trust_poller && !io->read_hint) return true;
    }
    char c;
    ssize_t n = ::recv(fd(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    // EOF, an error, or unexpected bytes (for TLS: possibly a close_notify or a
    // session ticket; either way, a fresh connection is the safe choice).
    if (n > 0 && tls) return true;  // TLS 1.3 session tickets arrive after the handshake
    return false;
}

// ---------------------------------------------------------------------------------------------
// Waiters and leases
// ---------------------------------------------------------------------------------------------

Waiter::Waiter(ClientImpl& i, OriginPool& o) : impl(i), origin(&o) { impl.link(*this); }

Waiter::~Waiter() {
    impl.unlink(*this);
    if (conn) impl.release(std::move(conn));
    if (slot) {
        slot = false;
        --origin->open;
        --impl.total_open_;
        impl.slot_freed();
    }
}

void ClientImpl::link(Waiter& w) {
    waiters_.push_back(&w);
    w.it = std::prev(waiters_.end());
    w.linked = true;
    ++w.origin->waiters;
}

void ClientImpl::unlink(Waiter& w) noexcept {
    if (!w.linked) return;
    waiters_.erase(w.it);
    w.linked = false;
    --w.origin->waiters;
}

void Lease::give_back(TimePoint now) noexcept {
    if (conn_) impl_->release(std::move(conn_), now);
}

void Lease::drop() noexcept {
    if (conn_) impl_->discard(std::move(conn_));
}

// ---------------------------------------------------------------------------------------------
// Pool
// ---------------------------------------------------------------------------------------------

OriginPool& ClientImpl::pool_for(const Url& url) {
    // Most clients talk to one origin over and over: skip building the key then.
    if (last_pool_ && last_pool_->url.port == url.port && last_pool_->url.host == url.host &&
        last_pool_->url.scheme == url.scheme)
        return *last_pool_;
    std::string key = url.origin();
    auto it = pools_.find(key);
    if (it != pools_.end()) {
        last_pool_ = it->second.get();
        return *last_pool_;
    }
    auto p = std::make_unique<OriginPool>();
    p->url = url;
    p->url.target = "/";
    p->key = key;
    p->metrics.origin = key;
    OriginPool& ref = *p;
    pools_.emplace(std::move(key), std::move(p));
    last_pool_ = &ref;
    return ref;
}

void ClientImpl::discard(std::unique_ptr<Connection> conn) noexcept {
    OriginPool* op = conn->pool;
    conn.reset();  // closes the socket
    --op->open;
    --total_open_;
    slot_freed();
}

void ClientImpl::slot_freed() noexcept {
    for (auto it = waiters_.begin();
         it != waiters_.end() && total_open_ < options_.max_connections;) {
        Waiter* w = *it;
        ++it;
        if (closed_) {
            unlink(*w);
            w->closed = true;
            w->ready.set();
            continue;
        }
        if (w->origin->open < options_.max_connections_per_origin) {
            unlink(*w);
            w->slot = true;
            ++w->origin->open;
            ++total_open_;
            w->ready.set();
        }
    }
    if (closed_) {
        while (!waiters_.empty()) {
            Waiter* w = waiters_.front();
            unlink(*w);
            w->closed = true;
            w->ready.set();
        }
    }
}

void ClientImpl::release(std::unique_ptr<Connection> conn, TimePoint now) noexcept {
    OriginPool& op = *conn->pool;
    if (closed_ || !conn->is_open() || conn->has_unread() ||
        (options_.max_requests_per_connection &&
         conn->requests >= options_.max_requests_per_connection)) {
        discard(std::move(conn));
        return;
    }
    // Straight to the longest waiter of this origin.
    for (Waiter* w : waiters_) {
        if (w->origin == &op) {
            unlink(*w);
            w->conn = std::move(conn);
            w->ready.set();
            return;
        }
    }
    // Others wait for room under the total limit: make it.
    if (!waiters_.empty() || op.idle.size() >= options_.max_idle_per_origin) {
        discard(std::move(conn));
        return;
    }
    conn->idle_since = now;
    op.idle.push_back(std::move(conn));
}

namespace {
bool expired(const Connection& c, const ClientOptions& o, TimePoint now) {
    return now - c.idle_since >= o.idle_timeout;
}
}  // namespace

Lease ClientImpl::reuse_idle(OriginPool& op, bool force_new, bool idempotent, TimePoint now) {
    if (closed_) throw ClientClosed();
    if (now - last_sweep_ > std::chrono::seconds(1)) {
        last_sweep_ = now;
        for (auto& [key, pool] : pools_) {
            while (!pool->idle.empty() && expired(*pool->idle.front(), options_, now)) {
                auto c = std::move(pool->idle.front());
                pool->idle.pop_front();
                discard(std::move(c));
            }
        }
    }
    if (!force_new) {
        while (!op.idle.empty()) {
            auto c = std::move(op.idle.back());
            op.idle.pop_back();
            if (expired(*c, options_, now) || !c->looks_alive(idempotent)) {
                discard(std::move(c));
                continue;
            }
            ++op.metrics.reuses;
            ++counters_.reuses;
            return Lease(this, std::move(c), true);
        }
    } else if (op.open >= options_.max_connections_per_origin && !op.idle.empty()) {
        auto c = std::move(op.idle.front());
        op.idle.pop_front();
        discard(std::move(c));
    }
    return Lease();
}

Task<Lease> ClientImpl::acquire(OriginPool& op, PhaseScope& ps) {
    // At the total limit: close idle connections of other origins to make room.
    if (op.open < options_.max_connections_per_origin) {
        for (auto it = pools_.begin();
             total_open_ >= options_.max_connections && it != pools_.end(); ++it) {
            OriginPool& other = *it->second;
            while (total_open_ >= options_.max_connections && !other.idle.empty()) {
                auto c = std::move(other.idle.front());
                other.idle.pop_front();
                OriginPool* o = c->pool;
                c.reset();
                --o->open;
                --total_open_;
            }
        }
    }
    if (op.open < options_.max_connections_per_origin && total_open_ < options_.max_connections) {
        ++op.open;
        ++total_open_;
    } else {
        ps.arm(Phase::Pool);
        Waiter w(*this, op);
        co_await w.ready.wait();
        if (w.closed) throw ClientClosed();
        if (w.conn) {
            ++op.metrics.reuses;
            ++counters_.reuses;
            co_return Lease(this, std::move(w.conn), true);
        }
        w.slot = false;  // the slot is ours now (counted in op.open)
    }
    std::unique_ptr<Connection> conn;
    bool ok = false;
    struct Undo {
        ClientImpl* self;
        OriginPool& op;
        bool& ok;
        ~Undo() {
            if (ok) return;
            --op.open;
            --self->total_open_;
            self->slot_freed();
        }
    } undo{this, op, ok};
    conn = co_await connect(op, ps);
    ok = true;
    ++op.metrics.connects;
    ++counters_.connects;
    co_return Lease(this, std::move(conn), false);
}

// ---------------------------------------------------------------------------------------------
// DNS and connecting
// ---------------------------------------------------------------------------------------------

Task<std::vector<net::SocketAddress>> ClientImpl::resolve(const std::string& host,
                                                          std::uint16_t port) {
    if (auto numeric = net::SocketAddress::from_ip(host, port)) co_return std::vector{*numeric};
    const std::string key = host + ":" + std::to_string(port);
    const TimePoint now = Clock::now();
    if (auto it = dns_.find(key); it != dns_.end()) {
        if (it->second.expires > now) co_return it->second.addrs;
        dns_.erase(it);
    }
    std::vector<net::SocketAddress> addrs;
    std::string error;
    try {
        addrs = co_await net::resolve(host, port);
    } catch (const std::runtime_error& e) {
        error = e.what();
    }
    if (!error.empty() || addrs.empty())
        throw ConnectError(error.empty() ? "no address for " + host : error);
    if (options_.dns_ttl.count() > 0) {
        if (dns_.size() > 4096) dns_.clear();
        dns_[key] = DnsEntry{addrs, Clock::now() + options_.dns_ttl};
    }
    co_return addrs;
}

Task<std::unique_ptr<Connection>> ClientImpl::connect(OriginPool& op, PhaseScope& ps) {
    ps.arm(Phase::Connect);
    auto addrs = co_await resolve(op.url.host, op.url.port);
    auto conn = std::make_unique<Connection>();
    conn->pool = &op;
    int last_errno = 0;
    std::string last_what;
    for (const auto& addr : addrs) {
        try {
            conn->tcp = co_await net::connect(addr);
            break;
        } catch (const SystemError& e) {
            last_errno = e.error_number();
            last_what = e.what();
        }
    }
    if (!conn->tcp.is_open())
        throw ConnectError("cannot connect to " + op.key + ": " + last_what, last_errno);
    conn->tcp.set_nodelay(true);
    if (op.url.is_tls()) {
        if (!tls_.valid()) tls_ = net::TlsContext::client(options_.tls);
        net::Stream tcp = std::move(conn->tcp);
        auto tls = co_await net::TlsStream::connect(std::move(tcp), tls_, op.url.host);
        conn->tls = std::make_unique<net::TlsStream>(std::move(tls));
    }
    co_return conn;
}

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

ClientMetrics ClientImpl::metrics() const {
    ClientMetrics m = counters_;
    m.origins.clear();
    m.in_use = m.idle = m.waiters = 0;
    const TimePoint now = Clock::now();
    for (const auto& [key, op] : pools_) {
        OriginMetrics om = op->metrics;
        om.idle = op->idle.size();
        om.in_use = op->open - op->idle.size();
        om.waiters = op->waiters;
        om.circuit_open = options_.circuit_breaker.enabled &&
                          op->failures >= options_.circuit_breaker.failure_threshold &&
                          now < op->open_until;
        m.in_use += om.in_use;
        m.idle += om.idle;
        m.waiters += om.waiters;
        m.origins.push_back(std::move(om));
    }
    m.latency = latency_.snapshot();
    return m;
}

}  // namespace weir::http::detail
