// One HTTP/1.1 connection: read, parse, run the handler, write responses in
// batches. See src/http/server_shard.hpp for the structure.
#include <limits.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>

#include "server_shard.hpp"
#include "weir/core/errors.hpp"
#include "weir/core/runtime.hpp"
#include "weir/core/submit.hpp"
#include "weir/http/query.hpp"
#include "weir/net/detail/send_iov.hpp"

namespace weir::http::detail {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;

// Bodies up to this size are copied into the batch buffer; larger ones are
// written from the Response's own string.
constexpr std::size_t kInlineBody = 16 * 1024;
// Reads of a chunked body want at least this much free buffer.
constexpr std::size_t kMinRead = 2048;
// Lingering close: read (and drop) what the client still sends after an
// error response, so that closing does not reset the connection before the
// client has read the response.
constexpr auto kLingerTime = 2s;
constexpr std::size_t kMaxLingerBytes = 4 * 1024 * 1024;

constexpr std::string_view kUnmatched = "<unmatched>";

// While a handler runs, the socket's read side is watched (not read): when the
// peer hangs up, the request's scope is cancelled.
struct HangupWatch final : weir::detail::IoOp {
    HangupWatch(weir::detail::IoHandle* h, CancelScope* s) noexcept : io(h), scope(s) {}
    void install() noexcept {
        io->reader = this;
        if (io->hangup) on_ready();
    }
    void remove() noexcept {
        if (io->reader == this) io->reader = nullptr;
    }
    void on_ready() noexcept override {
        if (!io->hangup) return;  // more pipelined data: read later
        io->reader = nullptr;
        scope->cancel(CancelReason::peer_disconnected);
    }
    weir::detail::IoHandle* io;
    CancelScope* scope;
};

// Writes each piece of a streamed body as one chunk (or raw for HTTP/1.0).
class ChunkWriter final : public BodyWriter {
public:
    ChunkWriter(net::Stream& s, bool chunked, WriteGuard* guard) noexcept
        : stream_(s), chunked_(chunked), guard_(guard) {}
    Task<void> write(std::string_view data) override {
        if (data.empty()) co_return;
        if (!chunked_) {
            ConnWrite raw(stream_.io_handle(), data, guard_);
            co_await raw;
            co_return;
        }
        char line[24];
        auto r = std::to_chars(line, line + 20, data.size(), 16);
        *r.ptr++ = '\r';
        *r.ptr++ = '\n';
        iovec iov[3] = {{line, static_cast<std::size_t>(r.ptr - line)},
                        {const_cast<char*>(data.data()), data.size()},
                        {const_cast<char*>("\r\n"), 2}};
        ConnWrite chunk(stream_.io_handle(), iov, 3, guard_);
        co_await chunk;
    }

private:
    net::Stream& stream_;
    bool chunked_;
    WriteGuard* guard_;
};

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"') {
            out += "\\\"";
        } else if (c == '\\') {
            out += "\\\\";
        } else if (u < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    out += '"';
}

Response problem(int status, std::string_view detail) {
    std::string body = "{\"type\":\"about:blank\",\"title\":";
    append_json_string(body, reason_phrase(status));
    body += ",\"status\":";
    body += std::to_string(status);
    if (!detail.empty()) {
        body += ",\"detail\":";
        append_json_string(body, detail);
    }
    body += '}';
    return Response(status, std::move(body), "application/problem+json");
}

bool header_safe(std::string_view s) noexcept {
    for (char c : s)
        if (c == '\r' || c == '\n' || c == '\0') return false;
    return true;
}

std::uint64_t micros_since(TimePoint from, TimePoint to) noexcept {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(to - from).count();
    return us > 0 ? static_cast<std::uint64_t>(us) : 0;
}

bool is_get_or_head(Method m) noexcept { return m == Method::Get || m == Method::Head; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// ConnRead and WorkSet
// ---------------------------------------------------------------------------------------------

bool ConnRead::attempt() {
    // Drained before and nothing pending: wait for the next edge.
    if (!io_->read_hint && !io_->hangup) return false;
    for (;;) {
        ssize_t n;
        if (len_ == 0) {
            // Readiness only. After a readiness event, that is the answer;
            // before suspending (data may be left from a full read), peek.
            if (suspended_) return true;
            char probe;
            n = ::recv(io_->fd, &probe, 1, MSG_PEEK);
            if (n >= 0) return true;
        } else {
            n = ::recv(io_->fd, buf_, len_, 0);
            if (n >= 0) {
                n_ = static_cast<std::size_t>(n);
                if (n > 0 && n_ < len_) io_->read_hint = false;  // a short read drained it
                return true;
            }
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            io_->read_hint = false;
            return false;
        }
        error_ = errno;
        return true;
    }
}

bool ConnWrite::attempt() {
    while (first_ < count_) {
        if (iov_[first_].iov_len == 0) {
            ++first_;
            continue;
        }
        const ssize_t n = net::detail::send_iov(io_->fd, iov_ + first_, count_ - first_);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
            error_ = errno;
            return true;
        }
        if (guard_ && guard_->pending == this) guard_->deadline = Clock::now() + guard_->timeout;
        auto left = static_cast<std::size_t>(n);
        while (left > 0 && first_ < count_) {
            iovec& v = iov_[first_];
            if (left >= v.iov_len) {
                left -= v.iov_len;
                ++first_;
            } else {
                v.iov_base = static_cast<char*>(v.iov_base) + left;
                v.iov_len -= left;
                left = 0;
            }
        }
    }
    return true;
}

WorkSet::WorkSet(Resources& resources, unsigned shard, const ServerOptions& options)
    : buf(new char[kInitialBuffer]),
      cap(kInitialBuffer),
      parser(options.limits),
      chunked(ChunkedLimits{options.max_body_bytes, 1024, 8 * 1024}),
      context(resources, shard) {
    out.reserve(1024);
}

void WorkSet::add_external(std::string body) {
    if (out.size() > out_mark) segments.push_back({false, out_mark, out.size() - out_mark});
    out_mark = out.size();
    segments.push_back({true, bodies.size(), body.size()});
    bodies.push_back(std::move(body));
}

void WorkSet::clear_batch() noexcept {
    out.clear();
    out_mark = 0;
    segments.clear();
    bodies.clear();
}

void WorkSet::recycle() {
    size = pos = 0;
    parser.reset();
    clear_batch();
    request.reset(nullptr);
    context.reset();
    constexpr std::size_t kKeep = 64 * 1024;
    if (cap > kKeep) {
        buf.reset(new char[kInitialBuffer]);
        cap = kInitialBuffer;
    }
    if (request.body().capacity() > kKeep) std::string().swap(request.body());
    if (out.capacity() > kKeep) {
        std::string().swap(out);
        out.reserve(1024);
    }
    if (bodies.capacity() > 64) std::vector<std::string>().swap(bodies);
}

// ---------------------------------------------------------------------------------------------
// Connection
// ---------------------------------------------------------------------------------------------

Connection::Connection(ShardServer& shard, net::Stream stream)
    : shard_(shard), opt_(shard.options()), stream_(std::move(stream)) {
    write_guard_.timeout = opt_.idle_timeout;
    shard_.link(this);  // also ends the reservation made when it was accepted
    try {
        stream_.set_nodelay(true);
    } catch (const SystemError&) {
        // Already reset by the peer: the first read will tell.
    }
}

Connection::~Connection() {
    if (ws_) shard_.release(ws_);
    shard_.unlink(this);
}

Task<void> serve_connection(ShardServer& shard, net::Stream stream) {
    Connection conn(shard, std::move(stream));
    try {
        co_await conn.run();
    } catch (const SystemError&) {
        // Reset, broken pipe: this connection only.
    } catch (const std::exception& e) {
        std::fprintf(stderr, "weir: http connection failed: %s\n", e.what());
    }
}

ConnRead Connection::read_into(char* buf, std::size_t len, TimePoint deadline) noexcept {
    deadline_ = deadline;
    timed_out_ = false;
    return ConnRead(stream_.io_handle(), buf, len, &waiting_);
}

Task<void> Connection::run() {
    bool fresh = true;
    for (;;) {
        if (!ws_ || ws_->pos == ws_->size) {
            if (ws_) {
                shard_.release(ws_);
                ws_ = nullptr;
            }
            if (shard_.draining()) co_return;
            // Idle: wait for the next request without holding any buffer. A
            // new connection gets the header timeout to send its first byte.
            idle_ = true;
            const auto wait = fresh ? opt_.header_timeout : opt_.idle_timeout;
            if (fresh) now_ = Clock::now();
            ConnRead op = read_into(nullptr, 0, now_ + wait);
            const ConnRead::Result r = co_await op;
            idle_ = false;
            if (r.kicked) {
                if (timed_out_) ++shard_.metrics().idle_timeouts;
                co_return;
            }
            if (r.error) co_return;
            ws_ = shard_.acquire();
            head_started_ = now_ = Clock::now();
        }
        fresh = false;
        if (!co_await read_head_bytes()) co_return;
        if (!co_await process_batch()) co_return;
    }
}

Task<bool> Connection::read_head_bytes() {
    WorkSet& w = *ws_;
    if (w.pos > 0) {
        // Only a partial head is left: move it to the front (the parser keeps offsets).
        std::memmove(w.buf.get(), w.buf.get() + w.pos, w.size - w.pos);
        w.size -= w.pos;
        w.pos = 0;
    }
    if (w.size == w.cap) {
        const std::size_t limit = std::max(opt_.limits.max_head_bytes, WorkSet::kInitialBuffer);
        if (w.cap >= limit) {
            // The parser answers 431 before this can happen; be safe anyway.
            error_response(431, "request head too large");
            co_await flush();
            co_return false;
        }
        const std::size_t new_cap = std::min(w.cap * 2, limit);
        std::unique_ptr<char[]> bigger(new char[new_cap]);
        std::memcpy(bigger.get(), w.buf.get(), w.size);
        w.buf = std::move(bigger);
        w.cap = new_cap;
    }
    ConnRead op =
        read_into(w.buf.get() + w.size, w.cap - w.size, head_started_ + opt_.header_timeout);
    const ConnRead::Result r = co_await op;
    if (r.kicked) {
        // Slowloris: the head did not arrive in time.
        ++shard_.metrics().header_timeouts;
        error_response(408, "request head not received in time");
        co_await flush();
        co_return false;
    }
    if (r.error || r.n == 0) co_return false;
    w.size += r.n;
    co_return true;
}

Task<bool> Connection::process_batch() {
    std::size_t answered = 0;
    for (;;) {
        WorkSet& w = *ws_;
        if (w.pos == w.size) {
            w.pos = w.size = 0;
            break;
        }
        const ParseResult pr =
            w.parser.parse(std::string_view(w.buf.get() + w.pos, w.size - w.pos));
        if (pr.need_more()) break;
        if (pr.failed()) {
            shard_.metrics().protocol_error(pr.error.status);
            error_response(pr.error.status, pr.error.reason);
            linger_ = true;
            break;
        }
        const RequestHead& head = w.parser.head();
        w.request.reset(&head);
        w.context.reset();
        std::size_t end = w.pos + head.head_length;
        if (head.has_body()) {
            const BodyOutcome b = co_await read_body(end);
            if (b == BodyOutcome::Closed) co_return false;
            if (b == BodyOutcome::Error) {
                linger_ = true;
                break;
            }
        }
        co_await handle_request();
        if (disconnected_) co_return false;
        w.pos = end;
        w.parser.reset();
        if (close_) break;
        if (++answered >= opt_.max_pipeline) {
            co_await flush();
            answered = 0;
        }
    }
    if (!ws_->batch_empty()) co_await flush();
    if (close_) {
        if (linger_) co_await linger();
        co_return false;
    }
    if (ws_->pos < ws_->size) head_started_ = now_;  // a partial head is left
    co_return true;
}

void Connection::make_room_for_body(std::size_t& body_start) {
    WorkSet& w = *ws_;
    if (w.cap - w.size >= kMinRead) return;
    const std::size_t head_len = body_start - w.pos;
    if (w.pos > 0 && w.cap - head_len >= kMinRead) {
        std::memmove(w.buf.get(), w.buf.get() + w.pos, head_len);
    } else {
        const std::size_t new_cap = std::max(w.cap * 2, head_len + kMinRead);
        std::unique_ptr<char[]> bigger(new char[new_cap]);
        std::memcpy(bigger.get(), w.buf.get() + w.pos, head_len);
        w.buf = std::move(bigger);
        w.cap = new_cap;
    }
    w.pos = 0;
    w.size = head_len;
    body_start = head_len;
    // The head's views pointed at its old place: parse it again where it is now.
    w.parser.reset();
    [[maybe_unused]] const ParseResult again =
        w.parser.parse(std::string_view(w.buf.get(), w.size));
}

Task<Connection::BodyOutcome> Connection::read_body(std::size_t& end) {
    WorkSet& w = *ws_;
    const RequestHead& head = w.parser.head();  // same object after a re-parse
    std::size_t body_start = w.pos + head.head_length;
    std::string& body = w.request.body();
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

    if (head.content_length) {
        const std::uint64_t length = *head.content_length;
        if (length > opt_.max_body_bytes) {
            error_response(413, "request body too large");
            co_return BodyOutcome::Error;
        }
        const auto want = static_cast<std::size_t>(length);
        const std::size_t have_now = std::min(want, w.size - body_start);
        body.assign(w.buf.get() + body_start, have_now);
        if (have_now == want) {
            end = body_start + want;
            co_return BodyOutcome::Ok;
        }
        // The rest goes straight into the body. Earlier responses go first.
        if (!w.batch_empty()) co_await flush();
        if (head.expect_continue) co_await write_bytes(kContinue);
        body.resize(want);
        std::size_t have = have_now;
        while (have < want) {
            ConnRead op =
                read_into(body.data() + have, want - have, Clock::now() + opt_.header_timeout);
            const ConnRead::Result r = co_await op;
            if (r.kicked) {
                ++shard_.metrics().header_timeouts;
                error_response(408, "request body not received in time");
                co_return BodyOutcome::Error;
            }
            if (r.error || r.n == 0) co_return BodyOutcome::Closed;
            have += r.n;
        }
        end = w.size;  // everything buffered belonged to the body
        co_return BodyOutcome::Ok;
    }

    // Chunked.
    w.chunked.reset();
    bool waited = false;
    for (;;) {
        const ChunkedResult res =
            w.chunked.feed(std::string_view(w.buf.get() + body_start, w.size - body_start), body);
        if (res.status == ChunkedStatus::Done) {
            end = body_start + res.consumed;
            co_return BodyOutcome::Ok;
        }
        if (res.status == ChunkedStatus::Error) {
            if (res.error.status != 413) shard_.metrics().protocol_error(res.error.status);
            error_response(res.error.status, res.error.reason);
            co_return BodyOutcome::Error;
        }
        // Every buffered byte was consumed: read more over them.
        w.size = body_start;
        if (!waited) {
            waited = true;
            if (!w.batch_empty()) co_await flush();
            if (head.expect_continue) co_await write_bytes(kContinue);
        }
        make_room_for_body(body_start);
        ConnRead op =
            read_into(w.buf.get() + w.size, w.cap - w.size, Clock::now() + opt_.header_timeout);
        const ConnRead::Result r = co_await op;
        if (r.kicked) {
            ++shard_.metrics().header_timeouts;
            error_response(408, "request body not received in time");
            co_return BodyOutcome::Error;
        }
        if (r.error || r.n == 0) co_return BodyOutcome::Closed;
        w.size += r.n;
    }
}

Task<void> Connection::handle_request() {
    WorkSet& w = *ws_;
    const RequestHead& head = w.parser.head();
    Request& req = w.request;
    Context& ctx = w.context;
    const bool head_only = head.method == Method::Head;
    // Latency counts from when the request's bytes were read (pipelined: from
    // the previous response), so a request costs one clock reading.
    const TimePoint t0 = now_;
    ++shard_.in_flight;
    struct InFlight {
        ShardServer& s;
        ~InFlight() { --s.in_flight; }
    } in_flight{shard_};

    Response resp;
    std::string_view route;
    const std::string_view path = head.path;
    if (is_get_or_head(head.method) && !opt_.health_path.empty() && path == opt_.health_path) {
        route = opt_.health_path;
        resp = Response::json("{\"status\":\"ok\"}");
    } else if (is_get_or_head(head.method) && !opt_.ready_path.empty() && path == opt_.ready_path) {
        route = opt_.ready_path;
        const bool ready =
            shard_.shared().ready.load(std::memory_order_relaxed) && !shard_.draining();
        resp = ready ? Response::json("{\"status\":\"ready\"}")
                     : Response::json("{\"status\":\"not ready\"}", 503);
    } else if (is_get_or_head(head.method) && !opt_.metrics_path.empty() &&
               path == opt_.metrics_path) {
        route = opt_.metrics_path;
        MetricsWriter all = co_await gather_metrics();
        resp = Response(200, all.render(), "text/plain; version=0.0.4; charset=utf-8");
    } else {
        // The handler, in its own scope: cancelled when the client hangs up,
        // with the request deadline if one is configured.
        weir::detail::TaskNode* node = weir::detail::current_node();
        CancelScope scope;
        scope.enter(node);
        if (opt_.request_timeout) scope.set_deadline(t0 + *opt_.request_timeout);
        HangupWatch watch(stream_.io_handle(), &scope);
        watch.install();
        std::exception_ptr error;
        try {
            resp = co_await shard_.handler()(req, ctx);
        } catch (...) {
            error = std::current_exception();
        }
        watch.remove();
        scope.exit();
        if (node->pending_cancel()) throw node->make_cancelled();  // shutdown: give up
        route = ctx.route().empty() ? kUnmatched : ctx.route();
        if (scope.cancel_called() && scope.reason() == CancelReason::peer_disconnected) {
            // Nobody is left to answer.
            ++shard_.metrics().requests_disconnected;
            now_ = Clock::now();
            shard_.metrics().record(route, 499, micros_since(t0, now_));
            disconnected_ = true;
            co_return;
        }
        if (error) {
            int status = 500;
            std::string detail;
            try {
                std::rethrow_exception(error);
            } catch (const HttpError& e) {
                status = e.status();
                detail = e.what();
            } catch (const TimeoutError&) {
                status = 504;
                detail = "request timed out";
            } catch (const UrlDecodeError& e) {
                status = 400;
                detail = e.what();
            } catch (const Cancelled& c) {
                if (c.reason() == CancelReason::timeout && scope.cancel_called()) {
                    status = 504;
                    detail = "request timed out";
                } else {
                    detail = opt_.debug ? std::string("handler cancelled: ") + c.what()
                                        : "internal server error";
                }
            } catch (const std::exception& e) {
                std::fprintf(stderr, "weir: handler failed on %.*s %.*s: %s\n",
                             static_cast<int>(head.method_token.size()), head.method_token.data(),
                             static_cast<int>(path.size()), path.data(), e.what());
                detail = opt_.debug ? e.what() : "internal server error";
            } catch (...) {
                detail = opt_.debug ? "unknown exception" : "internal server error";
            }
            if (status == 504) ++shard_.metrics().requests_timed_out;
            if (status < 100 || status > 999) status = 500;
            resp = problem(status, detail);
        }
    }

    const bool streamed = resp.is_streamed();
    const bool http11 = head.version == HttpVersion::Http11;
    // Draining (checked now: it may have begun while the handler ran) tells
    // the client to go elsewhere.
    const bool keep_alive =
        head.keep_alive && !shard_.draining() && !resp.close() && (http11 || !streamed);
    format_response(resp, head.version, head_only, keep_alive, streamed);
    if (!keep_alive) close_ = true;
    const int status = resp.status();
    const bool body_allowed = status >= 200 && status != 204 && status != 304;
    if (streamed && !head_only && body_allowed) co_await send_streamed(resp, http11);
    now_ = Clock::now();
    shard_.metrics().record(route, status, micros_since(t0, now_));
}

Task<void> Connection::send_streamed(Response& resp, bool chunked) {
    co_await flush();  // the head, after the earlier responses
    ChunkWriter writer(stream_, chunked, &write_guard_);
    weir::detail::TaskNode* node = weir::detail::current_node();
    CancelScope scope;
    scope.enter(node);
    HangupWatch watch(stream_.io_handle(), &scope);
    watch.install();
    bool failed = false;
    try {
        co_await resp.stream()(writer);
    } catch (...) {
        failed = true;  // the body is cut short: the client sees it incomplete
    }
    watch.remove();
    scope.exit();
    if (node->pending_cancel()) throw node->make_cancelled();
    if (failed || scope.cancel_called()) {
        if (scope.cancel_called() && scope.reason() == CancelReason::peer_disconnected) {
            ++shard_.metrics().requests_disconnected;
        }
        disconnected_ = true;  // nothing more can be sent on this connection
        co_return;
    }
    if (chunked) co_await write_bytes("0\r\n\r\n"sv);
}

void Connection::format_response(Response& resp, HttpVersion version, bool head_only,
                                 bool keep_alive, bool streamed) {
    WorkSet& w = *ws_;
    std::string& out = w.out;
    int status = resp.status();
    if (status < 100 || status > 999) status = 500;
    const bool body_allowed = status >= 200 && status != 204 && status != 304;
    char num[24];
    num[0] = static_cast<char>('0' + status / 100);
    num[1] = static_cast<char>('0' + status / 10 % 10);
    num[2] = static_cast<char>('0' + status % 10);
    out += "HTTP/1.1 "sv;
    out.append(num, 3);
    out += ' ';
    out += reason_phrase(status);
    out += "\r\nServer: weir\r\nDate: "sv;
    out += shard_.date();
    out += "\r\n"sv;
    if (body_allowed && !resp.content_type().empty() && header_safe(resp.content_type())) {
        out += "Content-Type: "sv;
        out += resp.content_type();
        out += "\r\n"sv;
    }
    for (const auto& [name, value] : resp.headers()) {
        if (name.empty() || !header_safe(name) || !header_safe(value)) continue;
        out += name;
        out += ": "sv;
        out += value;
        out += "\r\n"sv;
    }
    if (body_allowed) {
        if (streamed) {
            if (version == HttpVersion::Http11) out += "Transfer-Encoding: chunked\r\n"sv;
        } else {
            out += "Content-Length: "sv;
            auto r = std::to_chars(num, num + sizeof num, resp.body().size());
            out.append(num, r.ptr);
            out += "\r\n"sv;
        }
    }
    if (!keep_alive)
        out += "Connection: close\r\n"sv;
    else if (version == HttpVersion::Http10)
        out += "Connection: keep-alive\r\n"sv;
    out += "\r\n"sv;
    if (!streamed && body_allowed && !head_only && !resp.body().empty()) {
        if (resp.body().size() <= kInlineBody)
            out += resp.body();
        else
            w.add_external(std::move(resp.body()));
    }
}

void Connection::error_response(int status, std::string_view detail) {
    Response r = problem(status, detail);
    format_response(r, HttpVersion::Http11, false, false, false);
    close_ = true;
}

Task<void> Connection::flush() {
    WorkSet& w = *ws_;
    if (w.segments.empty()) {
        ConnWrite all(stream_.io_handle(), std::string_view(w.out), &write_guard_);
        co_await all;
    } else {
        if (w.out.size() > w.out_mark)
            w.segments.push_back({false, w.out_mark, w.out.size() - w.out_mark});
        w.iov.clear();
        for (const WorkSet::Segment& s : w.segments) {
            char* base = s.external ? w.bodies[s.index].data() : w.out.data() + s.index;
            w.iov.push_back(iovec{base, s.len});
        }
        ConnWrite all(stream_.io_handle(), w.iov.data(), w.iov.size(), &write_guard_);
        co_await all;
    }
    w.clear_batch();
}

Task<void> Connection::write_bytes(std::string_view data) {
    ConnWrite write(stream_.io_handle(), data, &write_guard_);
    co_await write;
}

Task<void> Connection::linger() {
    try {
        stream_.shutdown_write();
    } catch (const SystemError&) {
        co_return;
    }
    const TimePoint until = Clock::now() + kLingerTime;
    WorkSet& w = *ws_;
    std::size_t dropped = 0;
    while (dropped < kMaxLingerBytes) {
        ConnRead op = read_into(w.buf.get(), w.cap, until);
        const ConnRead::Result r = co_await op;
        if (r.kicked || r.error || r.n == 0) break;
        dropped += r.n;
    }
}

Task<MetricsWriter> Connection::gather_metrics() {
    ServerShared* shared = &shard_.shared();
    auto collect = [shared]() -> Task<MetricsWriter> {
        return shared->shards[this_shard()]->collect_metrics();
    };
    std::vector<MetricsWriter> parts = co_await on_all_shards(collect);
    MetricsWriter all;
    for (MetricsWriter& p : parts) all.merge(std::move(p));
    co_return all;
}

}  // namespace weir::http::detail
