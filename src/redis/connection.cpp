#include "weir/redis/connection.hpp"

#include <cerrno>
#include <cstring>
#include <exception>

#include "connection_impl.hpp"
#include "weir/core/cancelled.hpp"
#include "weir/core/errors.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/timeout.hpp"
#include "weir/net/connect.hpp"
#include "weir/net/tls.hpp"

namespace weir::redis {

namespace {

constexpr std::size_t kReadBuffer = 256 * 1024;
constexpr std::size_t kMinReadSpace = 64 * 1024;
constexpr std::size_t kMaxFreeEntries = 256;  // recycled FIFO entries kept per connection
// Replies that wake tasks are dispatched in rounds of at most this many: the
// woken tasks queue their next commands and those are sent before the rest
// of the buffered replies is dispatched, so the server works on them
// meanwhile (one batch of all of them would leave it idle until the client
// has dispatched every reply, and the client idle while the server works).
constexpr std::size_t kMaxWakesPerRound = 32;

bool pending_done(void* p) { return static_cast<detail::Pending*>(p)->done; }

}  // namespace

Connection::Impl::Impl() : in(kReadBuffer) {}

Connection::Impl::~Impl() {
    set_broken("connection closed", false);
    while (Pending* p = free_) {
        free_ = p->next_;
        delete p;
    }
}

void Connection::Impl::set_broken(const std::string& why, bool count_error) noexcept {
    if (!broken) {
        if (count_error && metrics) metrics->connection_error();
        broken = true;
        broken_reason = why;
    }
    while (Pending* p = queue.pop_front()) {
        --queued;
        p->done = true;
        if (p->abandoned) {
            recycle(p);  // nobody waits for it
            continue;
        }
        if (!p->error) {
            try {
                const std::string what = "redis connection lost: " + broken_reason;
                p->error = tls_failure ? std::make_exception_ptr(TlsError(what))
                                       : std::make_exception_ptr(ConnectionError(what));
            } catch (...) {
                p->error = std::current_exception();
            }
        }
        p->waiter.ev.set();
    }
    unstamped = nullptr;
    abandoned_count = 0;
    out.clear();
    out_pos = 0;
    transport.close();  // wakes a parked driver
    wake_all_waiters();
}

void Connection::Impl::kick() noexcept {
    if (parked) parked->kick();
}

detail::Pending* Connection::Impl::acquire() {
    if (Pending* p = free_) {
        free_ = p->next_;
        p->next_ = nullptr;
        --free_count_;
        return p;
    }
    return new Pending();
}

void Connection::Impl::recycle(Pending* p) noexcept {
    if (free_count_ >= kMaxFreeEntries) {
        delete p;
        return;
    }
    p->expected = 1;
    p->received = 0;
    // A reply moved out by its caller holds no memory: skip the reset then.
    Reply& r = p->reply;
    if (r.mutable_str().capacity() > std::string().capacity() ||
        (r.is_aggregate() && !r.elements().empty()) || r.attributes())
        r = Reply();
    p->replies.clear();
    p->error = nullptr;
    p->done = false;
    p->abandoned = false;
    p->waiter.ev.clear();
    p->waiter.waiting = false;
    p->next_ = free_;
    free_ = p;
    ++free_count_;
}

void Connection::Impl::drop(Pending* p) noexcept {
    if (p->done) {
        recycle(p);
        return;
    }
    // The caller stopped waiting (cancelled, timed out): the reply is read
    // and dropped when it arrives, and the entry recycled then.
    p->abandoned = true;
    ++abandoned_count;
    metrics->abandoned();
}

Connection::Impl::PendingRef Connection::Impl::submit(const Command* cmds, std::size_t n,
                                                      std::size_t expected, const Command* prefix,
                                                      const Command* suffix) {
    if (broken) throw ConnectionError("redis connection is broken: " + broken_reason);
    Pending* p = nullptr;
    if (expected > 0) {
        p = acquire();
        p->expected = expected;
        if (expected > 1) {
            try {
                p->replies.reserve(expected);
            } catch (...) {
                recycle(p);
                throw;
            }
        }
    }
    const bool was_idle = out_pos == out.size();
    const std::size_t mark = out.size();
    try {
        if (prefix) prefix->encode_to(out);
        for (std::size_t i = 0; i < n; ++i) cmds[i].encode_to(out);
        if (suffix) suffix->encode_to(out);
        for (std::size_t i = 0; i < n; ++i) metrics->command(cmds[i].name());
    } catch (...) {
        out.resize(mark);  // nothing half queued: the stream stays in step
        if (p) recycle(p);
        throw;
    }
    if (p) {
        queue.push_back(p);
        ++queued;
        if (!unstamped) unstamped = p;
    }
    if (was_idle) kick();
    return PendingRef(this, p);
}

Task<void> Connection::Impl::await_reply(Pending& p) {
    if (!options.command_timeout) return wait_until(&pending_done, &p, p.waiter);
    return await_reply_timed(p);
}

Task<void> Connection::Impl::await_reply_timed(Pending& p) {
    auto t = wait_until(&pending_done, &p, p.waiter);
    co_await with_timeout(*options.command_timeout, std::move(t));
}

Task<void> Connection::Impl::wait_until(bool (*done)(void*), void* ctx, Waiter& w) {
    while (!done(ctx) && !broken) {
        if (!driving) {
            driving = true;
            std::exception_ptr err;
            try {
                co_await drive(done, ctx);
            } catch (...) {
                err = std::current_exception();
            }
            driving = false;
            hand_off();
            if (err) std::rethrow_exception(err);
        } else {
            w.ev.clear();
            w.waiting = true;
            waiters.push_back(&w);
            std::exception_ptr err;
            try {
                co_await w.ev.wait();
            } catch (...) {
                err = std::current_exception();
            }
            w.waiting = false;
            waiters.remove(&w);
            if (heir == &w) heir = nullptr;
            if (err) {
                // We may have been chosen to drive: pass that on.
                hand_off();
                std::rethrow_exception(err);
            }
        }
    }
    // A woken waiter whose reply had already arrived (in the same read as the
    // driver's) leaves without driving: make sure someone still does.
    hand_off();
}

void Connection::Impl::hand_off() noexcept {
    if (driving || heir) return;  // someone drives, or is already woken to
    // Pick a waiter not already woken: setting an event that is set already
    // would be a lost wake-up (its reply came in the driver's last read and
    // it would leave without driving). Waiters already woken hand off in turn
    // as they leave wait_until.
    for (Waiter* w = waiters.front(); w; w = w->next_) {
        if (w->waiting && !w->ev.is_set()) {
            heir = w;
            w->ev.set();
            return;
        }
    }
}

Task<void> Connection::Impl::drive(bool (*done)(void*), void* ctx) {
    // Tasks ready to run now (e.g. woken by the replies the last driver read)
    // are about to queue their next commands: let them, so that all of them
    // go out in one write with ours instead of ours alone first.
    if (out_pos < out.size() && weir::detail::EventLoop::current()->pending_ready() > 0)
        co_await weir::yield();
    for (;;) {
        if (broken) co_return;
        if (out_pos < out.size()) flush();
        const bool more = process();
        if (done(ctx) || broken) co_return;
        if (more) {
            // Let the tasks just woken queue their next commands, and send
            // them before dispatching the rest (see kMaxWakesPerRound).
            co_await weir::yield();
            continue;
        }
        switch (try_read()) {
            case ReadStatus::data:
                continue;
            case ReadStatus::closed:
                co_return;
            case ReadStatus::again:
                break;
        }
        detail::ReadyWait w(transport.io_handle(), out_pos < out.size() || transport.wants_write(),
                            &parked);
        co_await w;
    }
}

void Connection::Impl::flush() noexcept {
    if (unstamped) {
        // One clock read per write: latency counts from here.
        const TimePoint now = Clock::now();
        for (Pending* p = unstamped; p; p = p->next_) p->written = now;
        unstamped = nullptr;
    }
    try {
        while (out_pos < out.size()) {
            const auto r =
                transport.write(std::string_view(out.data() + out_pos, out.size() - out_pos));
            if (r.status != detail::Transport::Status::ok) return;
            out_pos += r.buffered;
            metrics->wrote();
        }
    } catch (const net::TlsError& e) {
        tls_failure = true;
        set_broken(std::string("write failed: ") + e.what());
        return;
    } catch (const std::exception& e) {
        set_broken(std::string("write failed: ") + e.what());
        return;
    }
    out.clear();
    out_pos = 0;
    if (out.capacity() > (1u << 20)) out.shrink_to_fit();
}

Connection::Impl::ReadStatus Connection::Impl::try_read() noexcept {
    weir::detail::IoHandle* io = transport.io_handle();
    if (!io || io->fd < 0) {
        set_broken(broken_reason);
        return ReadStatus::closed;
    }
    if (rpos == wpos) rpos = wpos = 0;
    if (in.size() - wpos < kMinReadSpace && rpos > 0) {
        std::memmove(in.data(), in.data() + rpos, wpos - rpos);
        wpos -= rpos;
        rpos = 0;
    }
    // process() consumed every buffered byte it could: if a big bulk body is
    // still being received, the rest of it goes straight into the reply.
    std::span<char> direct;
    if (rpos == wpos && options.direct_reads) direct = parser.body_space();
    try {
        const auto r = transport.read(direct, std::span<char>(in.data() + wpos, in.size() - wpos));
        switch (r.status) {
            case detail::Transport::Status::ok:
                if (r.direct > 0) parser.body_filled(r.direct);
                wpos += r.buffered;
                return ReadStatus::data;
            case detail::Transport::Status::again:
                return ReadStatus::again;
            case detail::Transport::Status::closed:
                break;
        }
    } catch (const net::TlsError& e) {
        tls_failure = true;
        set_broken(std::string("read failed: ") + e.what());
        return ReadStatus::closed;
    } catch (const std::exception& e) {
        set_broken(std::string("read failed: ") + e.what());
        return ReadStatus::closed;
    }
    set_broken("server closed the connection");
    return ReadStatus::closed;
}

bool Connection::Impl::process() noexcept {
    TimePoint now{};  // read once, when the first reply here completes an entry
    std::size_t woken = 0;
    while (rpos < wpos && !broken) {
        if (woken == kMaxWakesPerRound) return true;
        std::size_t used = 0;
        std::optional<Reply> r = parse_next(used);
        if (broken) return false;
        rpos += used;
        if (!r) return false;
        if (deliver(*r, now)) ++woken;
    }
    return false;
}

std::optional<Reply> Connection::Impl::parse_next(std::size_t& used) noexcept {
    try {
        return parser.parse(std::string_view(in.data() + rpos, wpos - rpos), used);
    } catch (const std::exception& e) {
        set_broken(e.what());
        return std::nullopt;
    }
}

bool Connection::Impl::deliver(Reply& r, TimePoint& now) noexcept {
    if (push_sink) {
        try {
            if (push_sink(r)) return false;
        } catch (...) {
            set_broken("pub/sub message could not be stored");
            return false;
        }
    } else if (r.type() == ReplyType::push) {
        return false;  // out-of-band (e.g. client tracking): not a reply to a command
    }
    if (queue.empty()) {
        set_broken("protocol error: a reply arrived with no command waiting for it");
        return false;
    }
    Pending& p = *queue.front();
    if (r.is_error()) metrics->server_error();
    if (p.expected == 1) {
        p.reply = std::move(r);
    } else {
        try {
            p.replies.push_back(std::move(r));
        } catch (...) {
            set_broken("out of memory");
            return false;
        }
    }
    if (++p.received < p.expected) return false;
    Pending* done = queue.pop_front();
    --queued;
    done->done = true;
    if (now == TimePoint{}) now = Clock::now();
    metrics->latency_us(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(now - done->written).count()));
    if (done->abandoned) {
        --abandoned_count;  // reply dropped: nobody waits for it
        recycle(done);
        return false;
    }
    done->waiter.ev.set();
    return true;
}

// --- Connection ---------------------------------------------------------------------------

Connection::~Connection() = default;

Task<Connection> Connection::connect(std::string url) {
    return connect(ConnectionOptions::from_url(url));
}

Task<Connection> Connection::connect(ConnectionOptions o) {
    auto impl = std::make_shared<Impl>();
    impl->metrics = o.metrics ? o.metrics : std::make_shared<Metrics>();
    o.metrics = impl->metrics;
    o.prepare_tls();
    impl->options = o;
    const std::string where =
        o.unix_path.empty() ? o.host + ":" + std::to_string(o.port) : o.unix_path;
    std::string failure;
    std::exception_ptr tls_error;
    try {
        if (!o.unix_path.empty()) {
            impl->transport.attach(co_await net::connect_unix(o.unix_path));
        } else {
            net::Stream tcp = co_await net::connect_tcp(o.host, o.port, o.connect_timeout);
            tcp.set_nodelay(true);
            if (o.tls.enabled) {
                const std::string name = o.tls.server_name.empty() ? o.host : o.tls.server_name;
                auto handshake = net::TlsStream::connect(std::move(tcp), o.tls.context, name);
                if (o.connect_timeout) {
                    impl->transport.attach(
                        co_await with_timeout(*o.connect_timeout, std::move(handshake)));
                } else {
                    impl->transport.attach(co_await std::move(handshake));
                }
            } else {
                impl->transport.attach(std::move(tcp));
            }
        }
    } catch (const net::TlsVerifyError& e) {
        tls_error = std::make_exception_ptr(TlsVerifyError(
            "redis: cannot connect to " + where + ": " + e.what(), e.verify_result()));
    } catch (const net::TlsError& e) {
        tls_error = std::make_exception_ptr(
            TlsError("redis: cannot connect to " + where + ": " + e.what()));
    } catch (const TimeoutError&) {
        failure = "timed out";
    } catch (const std::exception& e) {
        failure = e.what();
    }
    if (tls_error || !failure.empty()) {
        impl->metrics->connection_error();
        if (tls_error) std::rethrow_exception(tls_error);
        throw ConnectionError("redis: cannot connect to " + where + ": " + failure);
    }
    impl->broken = false;
    impl->broken_reason.clear();
    Connection c(std::move(impl));

    // Handshake.
    bool resp2 = o.protocol < 3;
    if (!resp2) {
        Command hello("HELLO", 3);
        if (!o.password.empty())
            hello.arg("AUTH")
                .arg(o.username.empty() ? std::string("default") : o.username)
                .arg(o.password);
        if (!o.client_name.empty()) hello.arg("SETNAME").arg(o.client_name);
        try {
            co_await c.execute(std::move(hello));
            c.impl_->protocol = 3;
        } catch (const ServerError& e) {
            // Redis < 6 has no HELLO: fall back to RESP2.
            if (e.prefix() == "NOPROTO" ||
                (e.prefix() == "ERR" &&
                 e.message().find("unknown command") != std::string_view::npos))
                resp2 = true;
            else
                throw;
        }
    }
    if (resp2) {
        c.impl_->protocol = 2;
        if (!o.password.empty()) {
            Command auth("AUTH");
            if (!o.username.empty()) auth.arg(o.username);
            auth.arg(o.password);
            co_await c.execute(std::move(auth));
        }
        if (!o.client_name.empty()) {
            Command setname("CLIENT", "SETNAME", o.client_name);
            co_await c.execute(std::move(setname));
        }
    }
    if (o.db != 0) {
        Command select("SELECT", o.db);
        co_await c.execute(std::move(select));
    }
    c.impl_->metrics->connected();
    co_return c;
}

Task<Reply> Connection::execute(Command c) {
    auto impl = impl_;
    if (!impl) throw ConnectionError("redis connection is closed");
    auto p = impl->submit(&c, 1, 1);
    co_await impl->await_reply(*p);
    if (p->error) std::rethrow_exception(p->error);
    if (p->reply.is_error()) throw ServerError(std::string(p->reply.str()), c.name());
    co_return std::move(p->reply);
}

Task<std::vector<Reply>> Connection::pipeline(Pipeline pl) {
    auto impl = impl_;
    if (!impl) throw ConnectionError("redis connection is closed");
    if (pl.empty()) co_return std::vector<Reply>{};
    const auto& cmds = pl.commands();
    auto p = impl->submit(cmds.data(), cmds.size(), cmds.size());
    co_await impl->await_reply(*p);
    if (p->error) std::rethrow_exception(p->error);
    if (cmds.size() == 1) {
        std::vector<Reply> one;
        one.push_back(std::move(p->reply));
        co_return one;
    }
    co_return std::move(p->replies);
}

Task<std::optional<std::vector<Reply>>> Connection::transaction(Pipeline pl) {
    auto impl = impl_;
    if (!impl) throw ConnectionError("redis connection is closed");
    const auto& cmds = pl.commands();
    const Command multi("MULTI");
    const Command exec("EXEC");
    auto p = impl->submit(cmds.data(), cmds.size(), cmds.size() + 2, &multi, &exec);
    co_await impl->await_reply(*p);
    if (p->error) std::rethrow_exception(p->error);
    Reply& result = p->replies.back();
    if (result.is_nil()) co_return std::nullopt;
    if (result.is_error()) {
        std::string why(result.str());
        for (std::size_t i = 1; i + 1 < p->replies.size(); ++i)
            if (p->replies[i].is_error()) why += "; " + std::string(p->replies[i].str());
        throw ServerError(why, "EXEC");
    }
    co_return std::move(result.elements());
}

bool Connection::is_broken() const noexcept { return !impl_ || impl_->broken; }
std::size_t Connection::pending() const noexcept { return impl_ ? impl_->queued : 0; }
std::size_t Connection::abandoned() const noexcept { return impl_ ? impl_->abandoned_count : 0; }
bool Connection::check_idle() noexcept {
    if (!impl_ || impl_->broken || !impl_->queue.empty()) return false;
    switch (impl_->transport.probe_idle()) {
        case detail::Transport::Status::ok:
            return true;
        case detail::Transport::Status::again:
            impl_->set_broken("unexpected data on an idle connection");
            return false;
        case detail::Transport::Status::closed:
            break;
    }
    impl_->set_broken("server closed the connection (or the connection failed)");
    return false;
}

int Connection::protocol() const noexcept { return impl_ ? impl_->protocol : 0; }

const ConnectionOptions& Connection::options() const {
    if (!impl_) throw ConnectionError("redis connection is closed");
    return impl_->options;
}

MetricsSnapshot Connection::metrics() const {
    return impl_ ? impl_->metrics->snapshot() : MetricsSnapshot{};
}

void Connection::close() noexcept {
    if (impl_) impl_->set_broken("connection closed", false);
    impl_.reset();
}

}  // namespace weir::redis
