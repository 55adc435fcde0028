// serve(), run_server() and the per-shard server: listeners, lifespan hooks,
// accepting, timeouts, graceful drain and /metrics. Connections are in
// server_connection.cpp.
#include "weir/http/server.hpp"

#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

#include "server_shard.hpp"
#include "weir/core/errors.hpp"
#include "weir/core/runtime.hpp"
#include "weir/core/signals.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/submit.hpp"
#include "weir/core/timeout.hpp"
#include "weir/core/when_any.hpp"

namespace weir::http {

namespace detail {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kPoolMax = 1024;

std::string listen_ip(const std::string& host) { return host == "localhost" ? "127.0.0.1" : host; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

void ShardMetrics::record(std::string_view route, int status, std::uint64_t micros) {
    RouteMetrics* r = last;
    if (!r || r->route != route) {
        r = nullptr;
        for (auto& m : routes)
            if (m->route == route) r = m.get();
        if (!r) {
            routes.push_back(std::make_unique<RouteMetrics>(route));
            r = routes.back().get();
        }
        last = r;
    }
    r->latency.record(micros);
    for (auto& [s, n] : r->by_status) {
        if (s == status) {
            ++n;
            return;
        }
    }
    r->by_status.emplace_back(status, 1);
}

void ShardMetrics::protocol_error(int status) {
    for (auto& [s, n] : protocol_errors) {
        if (s == status) {
            ++n;
            return;
        }
    }
    protocol_errors.emplace_back(status, 1);
}

Task<MetricsWriter> ShardServer::collect_metrics() {
    MetricsWriter w;
    const std::string shard = std::to_string(index_);
    const MetricsWriter::Label sl{"shard", shard};
    for (const auto& r : metrics_.routes) {
        for (const auto& [status, n] : r->by_status) {
            const std::string st = std::to_string(status);
            w.counter("weir_http_requests_total", "HTTP requests answered, by route and status.",
                      {{"route", r->route}, {"status", st}, sl}, static_cast<double>(n));
        }
    }
    for (const auto& r : metrics_.routes) {
        w.histogram_us("weir_http_request_duration_seconds",
                       "Time from reading a request to its response, by route.",
                       {{"route", r->route}, sl}, r->latency.snapshot());
    }
    w.gauge("weir_http_requests_in_flight", "Requests being handled now.", {sl},
            static_cast<double>(in_flight));
    w.gauge("weir_http_connections_open", "Open client connections.", {sl},
            static_cast<double>(open_));
    w.counter("weir_http_connections_accepted_total", "Client connections accepted.", {sl},
              static_cast<double>(metrics_.connections_accepted));
    w.counter("weir_http_accept_errors_total",
              "Failed accepts (e.g. out of file descriptors), retried after a pause.", {sl},
              static_cast<double>(metrics_.accept_errors));
    w.counter("weir_http_requests_disconnected_total",
              "Requests whose handler was cancelled because the client went away.", {sl},
              static_cast<double>(metrics_.requests_disconnected));
    w.counter("weir_http_requests_timed_out_total", "Requests answered 504 (deadline).", {sl},
              static_cast<double>(metrics_.requests_timed_out));
    w.counter("weir_http_header_timeouts_total",
              "Connections closed with 408 because a request did not arrive in time.", {sl},
              static_cast<double>(metrics_.header_timeouts));
    w.counter("weir_http_idle_timeouts_total", "Idle keep-alive connections closed.", {sl},
              static_cast<double>(metrics_.idle_timeouts));
    for (const auto& [status, n] : metrics_.protocol_errors) {
        const std::string st = std::to_string(status);
        w.counter("weir_http_protocol_errors_total",
                  "Malformed or refused requests answered with an error and closed.",
                  {{"status", st}, sl}, static_cast<double>(n));
    }
    w.gauge("weir_http_ready", "1 while /readyz answers 200.", {sl},
            shared_.ready.load(std::memory_order_relaxed) && !draining_ ? 1 : 0);

    if (Runtime* rt = Runtime::current()) {
        const LoopStats::Snapshot st = rt->stats(index_);
        w.histogram_us("weir_loop_lag_seconds", "How late timers fire on the shard's event loop.",
                       {sl}, st.loop_lag_us);
        for (std::size_t i = 0; i < kCancelReasonCount; ++i) {
            const std::string_view reason = to_string(static_cast<CancelReason>(i));
            w.counter("weir_tasks_cancelled_total", "Tasks that ended cancelled, by reason.",
                      {{"reason", reason}, sl}, static_cast<double>(st.tasks_cancelled[i]));
        }
        w.counter("weir_slow_callbacks_total",
                  "Resumes that held the event loop longer than the slow-callback threshold.", {sl},
                  static_cast<double>(st.slow_callbacks));
        w.gauge("weir_tasks_alive", "Tasks alive on the shard.", {sl},
                static_cast<double>(st.tasks_alive));
        w.counter("weir_loop_iterations_total", "Event loop iterations.", {sl},
                  static_cast<double>(st.iterations));
    }
    for (const MetricsCollector& c : opt_.metrics_collectors) {
        if (c) c(w, resources_, index_);
    }
    co_return w;
}

// ---------------------------------------------------------------------------------------------
// ShardServer
// ---------------------------------------------------------------------------------------------

ShardServer::ShardServer(ServerShared& shared, unsigned index)
    : shared_(shared),
      index_(index),
      opt_(shared.options),
      handler_(shared.handler),
      lifespan_(shared.lifespan) {
    stop_item.self = this;
    stop_item.run = [](weir::detail::RemoteItem* item) noexcept {
        ShardServer* self = static_cast<StopItem*>(item)->self;
        self->begin_drain();
        self->shared_.pending_posts.fetch_sub(1, std::memory_order_release);
    };
    // The sweeper looks a few times per timeout period, at most once per second.
    const auto shortest = std::min(opt_.header_timeout, opt_.idle_timeout);
    sweep_interval_ =
        std::clamp(shortest / 8, std::chrono::milliseconds(5), std::chrono::milliseconds(1000));
}

ShardServer::~ShardServer() = default;

WorkSet* ShardServer::acquire() {
    if (pool_.empty()) return new WorkSet(resources_, index_, opt_);
    WorkSet* w = pool_.back().release();
    pool_.pop_back();
    return w;
}

void ShardServer::release(WorkSet* w) noexcept {
    std::unique_ptr<WorkSet> owned(w);
    try {
        if (pool_.size() < kPoolMax && !draining_) {
            w->recycle();
            pool_.push_back(std::move(owned));
        }
    } catch (...) {
        // Out of memory while recycling: just free it.
    }
}

std::string_view ShardServer::date() {
    timespec ts;
    ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec != date_sec_) {
        date_sec_ = ts.tv_sec;
        tm t;
        ::gmtime_r(&ts.tv_sec, &t);
        static constexpr char kDays[] = "SunMonTueWedThuFriSat";
        static constexpr char kMonths[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        auto two = [](char* p, int v) {
            p[0] = static_cast<char>('0' + v / 10);
            p[1] = static_cast<char>('0' + v % 10);
        };
        // "Sun, 06 Nov 1994 08:49:37 GMT"
        char* p = date_;
        std::memcpy(p, kDays + 3 * t.tm_wday, 3);
        p[3] = ',';
        p[4] = ' ';
        two(p + 5, t.tm_mday);
        p[7] = ' ';
        std::memcpy(p + 8, kMonths + 3 * t.tm_mon, 3);
        p[11] = ' ';
        const int year = t.tm_year + 1900;
        two(p + 12, year / 100 % 100);
        two(p + 14, year % 100);
        p[16] = ' ';
        two(p + 17, t.tm_hour);
        p[19] = ':';
        two(p + 20, t.tm_min);
        p[22] = ':';
        two(p + 23, t.tm_sec);
        std::memcpy(p + 25, " GMT", 4);
    }
    return std::string_view(date_, sizeof date_);
}

void ShardServer::link(Connection* c) noexcept {
    c->prev_ = nullptr;
    c->next_ = conns_;
    if (conns_) conns_->prev_ = c;
    conns_ = c;
    ++open_;
    if (reserved_ > 0) --reserved_;
}

void ShardServer::unlink(Connection* c) noexcept {
    if (c->prev_)
        c->prev_->next_ = c->next_;
    else
        conns_ = c->next_;
    if (c->next_) c->next_->prev_ = c->prev_;
    c->prev_ = c->next_ = nullptr;
    --open_;
    if (open_ + reserved_ < opt_.max_connections) slot_free_.set();
    if (open_ == 0 && draining_) all_closed_.set();
}

void ShardServer::begin_drain() noexcept {
    if (draining_) return;
    draining_ = true;
    shared_.ready.store(false, std::memory_order_relaxed);
    if (accept_scope_) accept_scope_->cancel(CancelReason::shutdown);
    for (Connection* c = conns_; c; c = c->next_) c->kick_if_idle();
    pool_.clear();
    if (open_ == 0) all_closed_.set();
}

Task<void> ShardServer::bind_first() {
    listener_ = net::Listener::bind_tcp(listen_ip(opt_.host), opt_.port,
                                        net::ListenOptions{true, opt_.backlog});
    shared_.port.store(listener_.local_address().port(), std::memory_order_relaxed);
    co_return;
}

Task<void> ShardServer::start() {
    if (index_ != 0) {
        listener_ = net::Listener::bind_tcp(listen_ip(opt_.host),
                                            shared_.port.load(std::memory_order_relaxed),
                                            net::ListenOptions{true, opt_.backlog});
    }
    if (lifespan_.startup) co_await lifespan_.startup(resources_);
    started_ = true;
}

Task<void> ShardServer::run() {
    // The serving part is shielded: cancelling serve() starts the drain
    // instead of tearing connections down.
    auto body = [this](TaskGroup& g) -> Task<void> {
        Task<void> inner = shield(serve_inner());
        g.spawn(std::move(inner), "http-shard");
        try {
            co_await finished_.wait();  // ended by itself (stop request)
        } catch (const Cancelled&) {
            begin_drain();
            throw;
        }
    };
    co_await task_group(body);
}

Task<void> ShardServer::serve_inner() {
    std::exception_ptr error;
    try {
        auto body = [this](TaskGroup& conns) -> Task<void> { return accept_and_drain(conns); };
        co_await task_group(body);
    } catch (...) {
        error = std::current_exception();
    }
    try {
        co_await run_shutdown();
    } catch (...) {
        if (!error) error = std::current_exception();
    }
    finished_.set();
    if (error) std::rethrow_exception(error);
}

Task<void> ShardServer::accept_and_drain(TaskGroup& conns) {
    Task<void> sweeper_task = sweep_loop();
    JoinHandle<void> sweeper = conns.spawn(std::move(sweeper_task), "http-sweeper");
    co_await accept_loop(conns);
    // Draining: no new connections; idle ones were closed by begin_drain().
    listener_.close();
    if (open_ > 0) {
        all_closed_.clear();
        bool timed_out = false;
        try {
            co_await with_timeout(opt_.drain_timeout, as_task(all_closed_.wait()));
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        if (timed_out) conns.cancel(CancelReason::shutdown);  // what remains is cancelled
    }
    sweeper.cancel(CancelReason::shutdown);
}

Task<void> ShardServer::accept_loop(TaskGroup& conns) {
    if (draining_) co_return;
    weir::detail::TaskNode* node = weir::detail::current_node();
    CancelScope scope;
    scope.enter(node);
    accept_scope_ = &scope;
    std::chrono::milliseconds backoff{0};
    bool cancelled = false;
    try {
        while (!draining_) {
            // Accepted connections count from the accept on, before their
            // task first runs.
            if (open_ + reserved_ >= opt_.max_connections) {
                // At the limit: leave new connections in the backlog.
                slot_free_.clear();
                co_await slot_free_.wait();
                continue;
            }
            const AcceptOp::Result accepted = co_await AcceptOp(listener_.io_handle());
            const int err = accepted.error;
            if (err != 0) {
                // EMFILE, ENFILE, ENOBUFS...: back off and retry, never die.
                ++metrics_.accept_errors;
                if (backoff.count() == 0) {
                    std::fprintf(stderr, "weir: accept failed on shard %u: %s; backing off\n",
                                 index_, std::strerror(err));
                }
                backoff = std::clamp(backoff * 2, std::chrono::milliseconds(10),
                                     std::chrono::milliseconds(1000));
                co_await sleep_for(backoff);
                continue;
            }
            backoff = std::chrono::milliseconds(0);
            std::optional<net::Stream> stream;
            try {
                stream.emplace(accepted.fd);  // registers with the loop (closes fd on failure)
            } catch (const std::exception&) {
                ++metrics_.accept_errors;
                continue;
            }
            ++metrics_.connections_accepted;
            ++reserved_;
            Task<void> conn = serve_connection(*this, std::move(*stream));
            conns.spawn(std::move(conn), "http-connection");
        }
    } catch (const Cancelled&) {
        cancelled = true;
    }
    accept_scope_ = nullptr;
    scope.exit();
    // Our own scope was cancelled by begin_drain(); anything else goes on.
    if (cancelled && node->pending_cancel()) throw node->make_cancelled();
}

Task<void> ShardServer::sweep_loop() {
    for (;;) {
        co_await sleep_for(sweep_interval_);
        const TimePoint now = Clock::now();
        for (Connection* c = conns_; c; c = c->next_) c->sweep(now);
    }
}

Task<void> ShardServer::run_shutdown() {
    if (started_ && !shutdown_done_) {
        shutdown_done_ = true;
        if (lifespan_.shutdown) co_await lifespan_.shutdown(resources_);
    }
    shutdown_done_ = true;
    resources_.clear();
}

Task<void> ShardServer::teardown() {
    listener_.close();
    pool_.clear();
    std::exception_ptr error;
    try {
        co_await run_shutdown();
    } catch (...) {
        error = std::current_exception();
    }
    handler_ = nullptr;
    if (error) std::rethrow_exception(error);
}

bool AcceptOp::attempt() {
    for (;;) {
        const int fd = ::accept4(io_->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            fd_ = fd;
            return true;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
        error_ = errno;
        return true;
    }
}

void ServerShared::request_stop() noexcept {
    std::lock_guard lock(stop_mutex);
    if (!stop_open || stop_requested) return;
    stop_requested = true;
    ready.store(false, std::memory_order_relaxed);
    for (auto& s : shards) {
        pending_posts.fetch_add(1, std::memory_order_relaxed);
        runtime->loop(s->index()).post(&s->stop_item);
    }
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// ServerHandle, serve, run_server
// ---------------------------------------------------------------------------------------------

std::uint16_t ServerHandle::port() const noexcept {
    return shared_.port.load(std::memory_order_relaxed);
}
bool ServerHandle::ready() const noexcept { return shared_.ready.load(std::memory_order_relaxed); }
void ServerHandle::stop() noexcept { shared_.request_stop(); }

Task<void> serve(Handler handler, ServerOptions options, Lifespan lifespan) {
    Runtime* rt = Runtime::current();
    if (!rt || !weir::detail::EventLoop::current())
        throw std::logic_error("weir::http::serve() must run on a runtime shard");
    if (!handler) throw std::invalid_argument("weir::http::serve(): empty handler");

    detail::ServerShared shared(handler, options, lifespan);
    shared.runtime = rt;
    for (unsigned s = 0; s < rt->shard_count(); ++s)
        shared.shards.push_back(std::make_unique<detail::ShardServer>(shared, s));
    {
        std::lock_guard lock(shared.stop_mutex);
        shared.stop_open = true;
    }
    detail::ServerShared* sp = &shared;

    std::exception_ptr error;
    try {
        // Shard 0 binds first (it resolves port 0), the others join its port.
        auto bind_first = [sp]() { return sp->shards[0]->bind_first(); };
        co_await submit_to(0, bind_first);
        auto start = [sp]() { return sp->shards[this_shard()]->start(); };
        co_await on_all_shards(start);
        {
            std::lock_guard lock(shared.stop_mutex);
            shared.ready.store(!shared.stop_requested, std::memory_order_relaxed);
        }
        if (options.on_listening) options.on_listening(shared.handle);
        auto run = [sp]() { return sp->shards[this_shard()]->run(); };
        co_await on_all_shards(run);
    } catch (...) {
        error = std::current_exception();
    }
    shared.ready.store(false, std::memory_order_relaxed);

    // Always: every shard releases what it owns, on its own thread.
    std::exception_ptr teardown_error;
    try {
        auto teardown = [sp]() { return sp->shards[this_shard()]->teardown(); };
        co_await shield(on_all_shards(teardown));
    } catch (...) {
        teardown_error = std::current_exception();
    }
    {
        std::lock_guard lock(shared.stop_mutex);
        shared.stop_open = false;
    }
    // A stop request may still be on its way to a shard.
    while (shared.pending_posts.load(std::memory_order_acquire) > 0)
        co_await shield(as_task(sleep_for(std::chrono::milliseconds(1))));
    if (error) std::rethrow_exception(error);
    if (teardown_error) std::rethrow_exception(teardown_error);
}

namespace {

Task<void> serve_until_signal(Handler handler, ServerOptions options, Lifespan lifespan) {
    Task<int> signal = wait_for_signal(SIGINT, SIGTERM);
    Task<void> server = serve(std::move(handler), std::move(options), std::move(lifespan));
    co_await when_any(std::move(signal), std::move(server));
}

}  // namespace

int run_server(Handler handler, ServerOptions options, Lifespan lifespan) {
    try {
        RuntimeOptions ro;
        ro.shards = options.threads;
        ro.cpu_threads = options.cpu_threads;
        ro.cpu_priority = options.cpu_priority;
        Runtime rt(ro);
        const std::string host = options.host;
        auto user_callback = std::move(options.on_listening);
        options.on_listening = [host, user_callback](ServerHandle& h) {
            const bool v6 = host.find(':') != std::string::npos;
            std::printf(v6 ? "listening on [%s]:%u\n" : "listening on %s:%u\n", host.c_str(),
                        static_cast<unsigned>(h.port()));
            std::fflush(stdout);
            if (user_callback) user_callback(h);
        };
        rt.run(serve_until_signal(std::move(handler), std::move(options), std::move(lifespan)));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "weir: server failed: %s\n", e.what());
        return 1;
    }
    return 0;
}

}  // namespace weir::http
