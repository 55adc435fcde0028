// Internals of the HTTP server (private to src/http): the cross-shard state of
// one serve() call, the per-shard server, and one connection.
//
// Layout per shard: ShardServer owns the listener, the intrusive list of open
// connections, a pool of WorkSets and the shard's metrics. A connection task
// holds only its socket and a small Connection object while idle; the
// buffers, parser and request objects (a WorkSet) are taken from the pool
// when bytes arrive and given back when the connection goes idle, so an idle
// keep-alive connection costs well under a kilobyte of user memory.
//
// Timeouts (header, idle, body reads, lingering close) cost no timer per
// request: each waiting connection records a deadline, and one sweeper per
// shard wakes the expired ones (kick()) a few times per timeout period.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "weir/core/clock.hpp"
#include "weir/core/event.hpp"
#include "weir/core/event_loop.hpp"
#include "weir/core/histogram.hpp"
#include "weir/core/runtime.hpp"
#include "weir/core/task.hpp"
#include "weir/core/task_group.hpp"
#include "weir/http/chunked_decoder.hpp"
#include "weir/http/context.hpp"
#include "weir/http/handler.hpp"
#include "weir/http/lifespan.hpp"
#include "weir/http/metrics.hpp"
#include "weir/http/request.hpp"
#include "weir/http/request_parser.hpp"
#include "weir/http/resources.hpp"
#include "weir/http/server.hpp"
#include "weir/http/server_options.hpp"
#include "weir/net/listener.hpp"
#include "weir/net/stream.hpp"

namespace weir::http::detail {

class ShardServer;
class Connection;

// Shared by every shard of one serve() call; owned by serve()'s frame.
struct ServerShared {
    ServerShared(const Handler& h, const ServerOptions& o, const Lifespan& l)
        : handler(h), options(o), lifespan(l), handle(*this) {}

    const Handler& handler;
    const ServerOptions& options;
    const Lifespan& lifespan;
    std::vector<std::unique_ptr<ShardServer>> shards;
    std::atomic<std::uint16_t> port{0};
    std::atomic<bool> ready{false};

    // ServerHandle::stop(): posts a drain request to every shard while open.
    Runtime* runtime = nullptr;
    std::mutex stop_mutex;
    bool stop_open = false;
    bool stop_requested = false;
    std::atomic<int> pending_posts{0};
    void request_stop() noexcept;

    ServerHandle handle;
};

// One read (or, with len 0, a wait for readability) on a connection socket
// that the shard's sweeper can end early with kick() (timeouts, drain).
class ConnRead final : public net::detail::IoAwait {
public:
    struct Result {
        std::size_t n = 0;  // bytes read (0 with error == 0 and !kicked: end of stream)
        int error = 0;
        bool kicked = false;
    };

    ConnRead(weir::detail::IoHandle* io, char* buf, std::size_t len, ConnRead** registry) noexcept
        : IoAwait(io, false), buf_(buf), len_(len), registry_(registry) {}
    ConnRead(const ConnRead&) = delete;
    ~ConnRead() {
        if (*registry_ == this) *registry_ = nullptr;
    }

    void await_suspend(std::coroutine_handle<> h) noexcept {
        *registry_ = this;
        suspended_ = true;
        IoAwait::await_suspend(h);
    }
    Result await_resume() {
        *registry_ = nullptr;
        throw_if_cancelled();
        return {n_, error_, kicked_};
    }

    // Ends the wait now (only if it is still pending).
    void kick() noexcept {
        if (io_->reader != this) return;
        io_->reader = nullptr;
        kicked_ = true;
        wake();
    }

private:
    bool attempt() override;
    char* buf_;
    std::size_t len_;
    ConnRead** registry_;
    std::size_t n_ = 0;
    bool kicked_ = false;
    bool suspended_ = false;  // later attempts come from readiness events
};

class ConnWrite;

// A connection's watch over its writes: while one waits for the socket to
// drain, the sweeper closes the connection if no byte went out for `timeout`
// (a client that stopped reading).
struct WriteGuard {
    ConnWrite* pending = nullptr;
    TimePoint deadline = kNoDeadline;
    Duration timeout{};
};

// Writes a list of buffers completely (one sendmsg when the socket takes it
// all). The iovec array is the caller's and is advanced in place, so the
// awaitable stays small (it lives in coroutine frames). Always a named
// object (it has a destructor; see the g++ 12 note in conventions).
class ConnWrite final : public net::detail::IoAwait {
public:
    ConnWrite(weir::detail::IoHandle* io, iovec* iov, std::size_t count, WriteGuard* guard) noexcept
        : IoAwait(io, true), iov_(iov), count_(count), guard_(guard) {}
    // One buffer, kept inside the awaitable.
    ConnWrite(weir::detail::IoHandle* io, std::string_view data, WriteGuard* guard) noexcept
        : IoAwait(io, true),
          one_{const_cast<char*>(data.data()), data.size()},
          iov_(&one_),
          count_(1),
          guard_(guard) {}
    ConnWrite(const ConnWrite&) = delete;
    ~ConnWrite() {
        if (guard_ && guard_->pending == this) guard_->pending = nullptr;
    }
    void await_suspend(std::coroutine_handle<> h) noexcept {
        if (guard_) {
            guard_->pending = this;
            guard_->deadline = Clock::now() + guard_->timeout;
        }
        IoAwait::await_suspend(h);
    }
    void await_resume() const {
        if (guard_ && guard_->pending == this) guard_->pending = nullptr;
        check("write");
    }

private:
    bool attempt() override;
    iovec one_{};
    iovec* iov_;
    std::size_t count_;
    WriteGuard* guard_;
    std::size_t first_ = 0;
};

// accept4() on a listening socket, reporting errors as a value (EMFILE and
// friends are expected under load and handled by backing off).
class AcceptOp final : public net::detail::IoAwait {
public:
    struct Result {
        int fd = -1;
        int error = 0;
    };
    explicit AcceptOp(weir::detail::IoHandle* io) noexcept : IoAwait(io, false) {}
    AcceptOp(const AcceptOp&) = delete;
    Result await_resume() const {
        throw_if_cancelled();
        return {fd_, error_};
    }

private:
    bool attempt() override;
    int fd_ = -1;
};

// Buffers and per-request objects of a connection that is working on a
// request; pooled per shard.
struct WorkSet {
    static constexpr std::size_t kInitialBuffer = 4096;

    WorkSet(Resources& resources, unsigned shard, const ServerOptions& options);

    std::unique_ptr<char[]> buf;
    std::size_t cap = 0;
    std::size_t size = 0;  // bytes in buf
    std::size_t pos = 0;   // start of the first request not yet answered
    RequestParser parser;
    ChunkedDecoder chunked;
    Request request;
    Context context;

    // The response batch: heads and small bodies in `out`; large bodies are
    // moved into `bodies` and written from there (segments keep the order).
    std::string out;
    std::size_t out_mark = 0;  // start of `out` not yet in a segment
    struct Segment {
        bool external;
        std::size_t index;  // offset into out, or index into bodies
        std::size_t len;
    };
    std::vector<Segment> segments;
    std::vector<std::string> bodies;
    std::vector<iovec> iov;  // built from the segments by a flush

    void add_external(std::string body);
    bool batch_empty() const noexcept { return out.empty() && segments.empty(); }
    void clear_batch() noexcept;
    void recycle();  // back to the pool: drop what grew large
};

struct RouteMetrics {
    explicit RouteMetrics(std::string_view r) : route(r) {}
    std::string route;
    Histogram latency;
    std::vector<std::pair<int, std::uint64_t>> by_status;
};

// Counters of one shard, written and read only on the shard's thread.
struct ShardMetrics {
    std::vector<std::unique_ptr<RouteMetrics>> routes;
    RouteMetrics* last = nullptr;
    std::uint64_t connections_accepted = 0;
    std::uint64_t accept_errors = 0;
    std::uint64_t requests_disconnected = 0;  // handler cancelled: client went away
    std::uint64_t requests_timed_out = 0;     // 504 from the request deadline
    std::uint64_t header_timeouts = 0;        // 408
    std::uint64_t idle_timeouts = 0;
    std::vector<std::pair<int, std::uint64_t>> protocol_errors;  // by status

    void record(std::string_view route, int status, std::uint64_t micros);
    void protocol_error(int status);
};

class ShardServer {
public:
    ShardServer(ServerShared& shared, unsigned index);
    ~ShardServer();

    // Phase 1 (shard 0 only): bind the configured port.
    Task<void> bind_first();
    // Phase 2: bind the shared port (shards > 0), copy the handler, run startup.
    Task<void> start();
    // Phase 3: serve until cancelled or stopped, drain, run the shutdown hook.
    Task<void> run();
    // Always, last: release what belongs to this shard.
    Task<void> teardown();

    // Graceful stop of this shard; idempotent, callable from a posted item.
    void begin_drain() noexcept;

    Task<MetricsWriter> collect_metrics();

    // Used by connections.
    const ServerOptions& options() const noexcept { return opt_; }
    ServerShared& shared() noexcept { return shared_; }
    const Handler& handler() const noexcept { return handler_; }
    bool draining() const noexcept { return draining_; }
    unsigned index() const noexcept { return index_; }
    ShardMetrics& metrics() noexcept { return metrics_; }
    WorkSet* acquire();
    void release(WorkSet* w) noexcept;
    std::string_view date();  // the Date header value, refreshed once per second
    void link(Connection* c) noexcept;
    void unlink(Connection* c) noexcept;
    std::size_t in_flight = 0;

    struct StopItem : weir::detail::RemoteItem {
        ShardServer* self = nullptr;
    } stop_item;

private:
    Task<void> serve_inner();
    Task<void> accept_and_drain(TaskGroup& conns);
    Task<void> accept_loop(TaskGroup& conns);
    Task<void> sweep_loop();
    Task<void> run_shutdown();

    ServerShared& shared_;
    unsigned index_;
    // Own copies, so shards never share a callable or a vector.
    ServerOptions opt_;
    Handler handler_;
    Lifespan lifespan_;
    Resources resources_;
    net::Listener listener_;
    bool started_ = false;
    bool shutdown_done_ = false;
    bool draining_ = false;

    Connection* conns_ = nullptr;  // intrusive list
    std::size_t open_ = 0;
    std::size_t reserved_ = 0;  // accepted, task not started yet
    Event slot_free_;
    Event all_closed_;
    Event finished_;
    CancelScope* accept_scope_ = nullptr;
    std::chrono::milliseconds sweep_interval_{1000};

    std::vector<std::unique_ptr<WorkSet>> pool_;
    std::time_t date_sec_ = -1;
    char date_[29] = {};

    ShardMetrics metrics_;
};

// Serves one accepted connection until it closes.
Task<void> serve_connection(ShardServer& shard, net::Stream stream);

// The sweeper's and the drain's view of a connection.
class Connection {
public:
    Connection(ShardServer& shard, net::Stream stream);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    Task<void> run();

    // Kicks a wait whose deadline has passed.
    void sweep(TimePoint now) noexcept {
        if (waiting_ && deadline_ <= now) {
            timed_out_ = true;
            waiting_->kick();
        }
        // A write stuck that long: the client stopped reading. Closing the
        // socket fails the write (EBADF), which ends the connection.
        if (write_guard_.pending && write_guard_.deadline <= now) stream_.close();
    }
    WriteGuard* write_guard() noexcept { return &write_guard_; }
    // Drain: close the connection now if it waits for a new request.
    void kick_if_idle() noexcept {
        if (idle_ && waiting_) waiting_->kick();
    }

    Connection* prev_ = nullptr;
    Connection* next_ = nullptr;

private:
    enum class BodyOutcome { Ok, Error, Closed };

    Task<bool> read_head_bytes();
    Task<bool> process_batch();
    Task<BodyOutcome> read_body(std::size_t& end);
    // A read (or readiness wait, len 0) that the sweeper ends at `deadline`.
    // Await it as a named object.
    ConnRead read_into(char* buf, std::size_t len, TimePoint deadline) noexcept;
    Task<void> handle_request();
    Task<void> send_streamed(Response& resp, bool chunked);
    Task<void> flush();
    Task<void> write_bytes(std::string_view data);
    Task<void> linger();
    Task<MetricsWriter> gather_metrics();

    void format_response(Response& resp, HttpVersion version, bool head_only, bool keep_alive,
                         bool streamed);
    void error_response(int status, std::string_view detail);
    void make_room_for_body(std::size_t& body_start);

    ShardServer& shard_;
    const ServerOptions& opt_;
    net::Stream stream_;
    WorkSet* ws_ = nullptr;
    ConnRead* waiting_ = nullptr;
    TimePoint deadline_ = kNoDeadline;
    WriteGuard write_guard_;
    TimePoint head_started_{};
    TimePoint now_{};  // a recent clock reading (after a read, or after a response)
    bool idle_ = false;
    bool timed_out_ = false;
    bool close_ = false;   // close after the current batch
    bool linger_ = false;  // ... and read what the client still sends first
    bool disconnected_ = false;
};

}  // namespace weir::http::detail
