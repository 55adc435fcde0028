// Internals of http::Client: connections, per-origin pools with FIFO waiters,
// timeouts per phase, and the state of a response being read.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "weir/core/cancel_scope.hpp"
#include "weir/core/event.hpp"
#include "weir/core/frame_allocator.hpp"
#include "weir/core/histogram.hpp"
#include "weir/core/task.hpp"
#include "weir/core/task_node.hpp"
#include "weir/http/client.hpp"
#include "weir/http/response_parser.hpp"
#include "weir/http/url.hpp"
#include "weir/net/socket_address.hpp"
#include "weir/net/stream.hpp"
#include "weir/net/tls.hpp"

namespace weir::http::detail {

class ClientImpl;
struct OriginPool;

// One HTTP/1.1 connection with its read buffer.
class Connection {
public:
    net::Stream tcp;
    std::unique_ptr<net::TlsStream> tls;
    OriginPool* pool = nullptr;
    TimePoint idle_since{};
    std::uint64_t requests = 0;

    std::string_view unread() const noexcept { return {buf_.get() + begin_, end_ - begin_}; }
    void consume(std::size_t n) noexcept {
        begin_ += n;
        if (begin_ == end_) begin_ = end_ = 0;
    }
    bool has_unread() const noexcept { return end_ > begin_; }
    // Reads more bytes after the unread ones; 0 at EOF.
    Task<std::size_t> fill();
    // fill() in two steps, for plain TCP without a coroutine of its own:
    //     n = co_await c.tcp.read_some(c.room_for_read()); c.commit_read(n);
    std::span<char> room_for_read();
    void commit_read(std::size_t n) noexcept { end_ += n; }
    Task<void> write(std::string_view data);
    Task<void> write2(std::string_view a, std::string_view b);
    // Plain TCP only: writes what the socket takes of `a` then `b` now, without waiting, and
    // returns how many bytes that was (0 if none). Throws SystemError as write() does.
    std::size_t write_now(std::string_view a, std::string_view b);
    bool is_open() const noexcept { return tls ? tls->is_open() : tcp.is_open(); }
    int fd() const noexcept { return tls ? tls->fd() : tcp.fd(); }
    // An idle connection that the server closed (or sent something on) is not reusable.
    // With `trust_poller`, a plain TCP connection whose last read drained the socket and
    // that saw no readiness event since is taken as alive without a system call (for
    // requests that the stale-connection retry covers; see client_pool.cpp).
    bool looks_alive(bool trust_poller) const noexcept;

private:
    std::unique_ptr<char[]> buf_;
    std::size_t cap_ = 0;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

struct Waiter;

struct OriginPool {
    Url url;  // scheme, host, port
    std::string key;
    std::deque<std::unique_ptr<Connection>> idle;  // oldest first
    std::size_t open = 0;                          // idle + lent out + connecting
    std::size_t waiters = 0;
    OriginMetrics metrics;
    // Circuit breaker.
    int failures = 0;
    TimePoint open_until{};
    bool probing = false;
    TimePoint probe_until{};  // a probe that never reported back (cancelled) expires
};

// A request queued for a connection of `origin`.
struct Waiter {
    Waiter(ClientImpl& impl, OriginPool& origin);
    ~Waiter();
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;

    ClientImpl& impl;
    OriginPool* origin;
    Event ready;
    std::unique_ptr<Connection> conn;  // handed over by release()
    bool slot = false;                 // allowed to open a new connection (counted)
    bool closed = false;               // the client was closed
    bool linked = false;
    std::list<Waiter*>::iterator it;
};

class Lease {
public:
    Lease() noexcept = default;
    Lease(ClientImpl* impl, std::unique_ptr<Connection> c, bool reused) noexcept
        : impl_(impl), conn_(std::move(c)), reused_(reused) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&& o) noexcept {
        if (this != &o) {
            drop();
            impl_ = o.impl_;
            conn_ = std::move(o.conn_);
            reused_ = o.reused_;
        }
        return *this;
    }
    ~Lease() { drop(); }

    Connection* operator->() const noexcept { return conn_.get(); }
    Connection& operator*() const noexcept { return *conn_; }
    bool reused() const noexcept { return reused_; }
    explicit operator bool() const noexcept { return conn_ != nullptr; }
    // The response was read completely and the connection may carry another request.
    void give_back() noexcept { give_back(Clock::now()); }
    void give_back(TimePoint now) noexcept;  // `now`: a current clock reading
    // Closes the connection (default on destruction).
    void drop() noexcept;

private:
    ClientImpl* impl_ = nullptr;
    std::unique_ptr<Connection> conn_;
    bool reused_ = false;
};

enum class Phase : std::uint8_t { Pool, Connect, Write, Read };

struct Limits {
    std::optional<Duration> connect, read, write, pool;
    TimePoint total = kNoDeadline;  // the request's own total timeout
};

// A cancel scope around one step of a request, whose deadline is moved to the
// current phase's timeout: when it expires the step unwinds with Cancelled and
// on_cancelled() turns that into the typed timeout.
class PhaseScope {
public:
    explicit PhaseScope(const Limits& limits)
        : node_(weir::detail::current_node()), limits_(limits) {
        scope_.enter(node_);
    }
    ~PhaseScope() {
        if (!exited_) scope_.exit();
    }
    PhaseScope(const PhaseScope&) = delete;
    PhaseScope& operator=(const PhaseScope&) = delete;

    void arm(Phase p) {
        phase_ = p;
        std::optional<Duration> d;
        switch (p) {
            case Phase::Pool:
                d = limits_.pool;
                break;
            case Phase::Connect:
                d = limits_.connect;
                break;
            case Phase::Write:
                d = limits_.write;
                break;
            case Phase::Read:
                d = limits_.read;
                break;
        }
        TimePoint t = d ? Clock::now() + *d : kNoDeadline;
        if (limits_.total < t) t = limits_.total;
        if (t != scope_.deadline() || t != kNoDeadline) scope_.set_deadline(t);
    }
    Phase phase() const noexcept { return phase_; }

    // Call inside `catch (const Cancelled&)`: throws the typed timeout when
    // this scope's deadline caused the cancellation, else rethrows.
    [[noreturn]] void on_cancelled(ClientImpl& impl, OriginPool* origin, const std::string& what);

private:
    CancelScope scope_;
    weir::detail::TaskNode* node_;
    const Limits& limits_;
    Phase phase_ = Phase::Pool;
    bool exited_ = false;
};

// gzip / deflate decoding of a response body.
class Inflater {
public:
    explicit Inflater(bool gzip);
    ~Inflater();
    Inflater(const Inflater&) = delete;
    Inflater& operator=(const Inflater&) = delete;
    // Appends the decoded bytes of `in` to `out`. Throws RemoteProtocolError.
    void feed(std::string_view in, std::string& out);
    bool finished() const noexcept { return finished_; }

private:
    z_stream zs_{};
    bool gzip_;
    bool raw_fallback_tried_ = false;
    bool finished_ = false;
    bool started_ = false;
};

// A request URL, parsed once: the client keeps the last few (services call the same few URLs
// again and again), and each request and response holds on to its own.
struct Target {
    std::string text;        // as given (empty for a redirect's target)
    Url url;                 // its parts
    std::string normalized;  // url.to_string(): what responses and errors report
    // The head of a plain GET of this URL (no per-request headers, query or body), which is
    // the same for every such request: built by prepare() on first use.
    std::string get_head;
};

// A request ready to be written. Views into the ClientRequest it was made from, which
// outlives it (start() rebuilds it after a redirect changed the request).
struct Prepared {
    std::shared_ptr<Target> target;
    std::string_view method;
    std::string query_target;  // the request target with added query parameters, else empty
    std::string own_head;      // the head built for this request, unless the target's is used
    std::string_view head;     // request line and header fields, ending in CRLFCRLF
    std::string_view body;
    const BodyStream* body_stream = nullptr;
    bool chunked_body = false;
    bool idempotent = false;
    bool head_request = false;
    Limits limits;

    // The URL as sent (with the added query parameters), for error messages.
    std::string url_text() const;
};

// A response whose head has been read; the body is read through next().
struct StreamState {
    ClientImpl* impl = nullptr;
    OriginPool* origin = nullptr;
    Lease lease;
    ResponseHead head;
    BodyDecoder body;
    std::unique_ptr<Inflater> inflater;
    std::string decoded;  // inflater output handed out by next()
    // request(): next() appends the (undecoded) body here as it arrives and returns only
    // at its end (nullopt), so one call reads a whole body, without a copy per piece.
    std::string* sink = nullptr;
    Limits limits;
    std::shared_ptr<const Target> target;  // the URL asked for
    std::string url;  // when not empty: the URL to report instead of target->normalized
    TimePoint started{};
    std::uint64_t bytes = 0;
    bool finished = false;

    Task<std::optional<std::string_view>> next();
    void finish(bool reusable) noexcept;
    std::string url_text() const { return url.empty() ? target->normalized : url; }

    // One per request: recycled like coroutine frames instead of a malloc each time.
    static void* operator new(std::size_t n) { return weir::detail::FrameAllocator::allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept {
        weir::detail::FrameAllocator::deallocate(p, n);
    }
};

class ClientImpl {
public:
    explicit ClientImpl(ClientOptions options);
    ~ClientImpl();

    Task<ClientResponse> request(ClientRequest request);
    Task<std::unique_ptr<StreamState>> start(ClientRequest& request, bool streaming);
    Task<void> close();
    ClientMetrics metrics() const;

    // Pool, in two steps: reuse_idle() returns an idle connection (none with force_new) or an
    // empty Lease; then acquire() opens a new one, or waits for a connection or a free slot.
    // `now`: a current clock reading.
    Lease reuse_idle(OriginPool& origin, bool force_new, bool idempotent, TimePoint now);
    Task<Lease> acquire(OriginPool& origin, PhaseScope& ps);
    void release(std::unique_ptr<Connection> conn) noexcept {
        release(std::move(conn), Clock::now());
    }
    void release(std::unique_ptr<Connection> conn, TimePoint now) noexcept;
    void discard(std::unique_ptr<Connection> conn) noexcept;
    void slot_freed() noexcept;
    void link(Waiter& w);
    void unlink(Waiter& w) noexcept;

    OriginPool& pool_for(const Url& url);
    std::shared_ptr<Target> parse_url(const std::string& text);
    void prepare(Prepared& p, ClientRequest& req, TimePoint total);
    void write_head(std::string& h, Prepared& p, const ClientRequest& req,
                    std::string_view target) const;
    Task<std::unique_ptr<StreamState>> send(Prepared& p, OriginPool& origin, bool force_new);
    Task<std::unique_ptr<Connection>> connect(OriginPool& origin, PhaseScope& ps);
    Task<std::vector<net::SocketAddress>> resolve(const std::string& host, std::uint16_t port);
    // Reading a whole response (request()): status and headers first, the URL at the end,
    // moved from `url_text` (the request's URL string) when that says the same.
    void start_response(ClientResponse& r, StreamState& s);
    void finish_response(ClientResponse& r, StreamState& s, std::string* url_text);
    // Throws ResponseTooLarge (and closes the connection) when `total` body bytes are too many.
    void check_size(StreamState& s, std::uint64_t total);
    // Reads the rest of a (redirect's) body, so the connection can carry another request.
    Task<void> drain(StreamState& s);

    void record_failure(OriginPool& origin) noexcept;
    void record_success(OriginPool& origin) noexcept;
    void check_circuit(OriginPool& origin);

    ClientOptions options_;
    std::unordered_map<std::string, std::unique_ptr<OriginPool>> pools_;
    OriginPool* last_pool_ = nullptr;  // pool_for()'s last answer (pools live as long as this)
    // The last few request URLs, parsed.
    std::shared_ptr<Target> url_cache_[4];
    unsigned url_cache_next_ = 0;
    std::list<Waiter*> waiters_;
    std::size_t total_open_ = 0;
    bool closed_ = false;
    net::TlsContext tls_;
    struct DnsEntry {
        std::vector<net::SocketAddress> addrs;
        TimePoint expires;
    };
    std::unordered_map<std::string, DnsEntry> dns_;
    TimePoint last_sweep_{};
    std::mt19937_64 rng_{std::random_device{}()};

    ClientMetrics counters_;  // totals only (origins and gauges filled by metrics())
    Histogram latency_;
};

}  // namespace weir::http::detail
