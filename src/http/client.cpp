// http::Client: requests, responses, redirects, retries, circuit breaker.
#include "weir/http/client.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <iterator>

#include "client_impl.hpp"
#include "weir/core/errors.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/timeout.hpp"
#include "weir/http/ascii.hpp"

namespace weir::http {

namespace detail {

namespace {

// The server closed a reused keep-alive connection before answering.
class StaleConnection : public std::runtime_error {
public:
    StaleConnection() : std::runtime_error("stale keep-alive connection") {}
};

bool valid_header_text(std::string_view s) noexcept {
    for (char c : s)
        if (c == '\r' || c == '\n' || c == '\0') return false;
    return true;
}

bool has_header(const HeaderPairs& h, std::string_view name) noexcept {
    for (const auto& [k, v] : h)
        if (iequals(k, name)) return true;
    return false;
}

std::optional<Duration> pick(const std::optional<Duration>& req,
                             const std::optional<Duration>& cl) {
    return req ? req : cl;
}

}  // namespace

[[noreturn]] void PhaseScope::on_cancelled(ClientImpl& impl, OriginPool* origin,
                                           const std::string& what) {
    const bool ours = scope_.cancel_called();
    scope_.exit();
    exited_ = true;
    if (!ours || node_->pending_cancel()) throw;
    if (origin) ++origin->metrics.errors;
    if (Clock::now() >= limits_.total) {
        ++impl.counters_.request_timeouts;
        throw RequestTimeout("request timed out: " + what);
    }
    switch (phase_) {
        case Phase::Pool:
            ++impl.counters_.pool_timeouts;
            throw PoolTimeout("no connection available within the pool timeout: " + what);
        case Phase::Connect:
            ++impl.counters_.connect_timeouts;
            throw ConnectTimeout("connect timed out: " + what);
        case Phase::Write:
            ++impl.counters_.write_timeouts;
            throw WriteTimeout("write timed out: " + what);
        case Phase::Read:
            ++impl.counters_.read_timeouts;
            throw ReadTimeout("read timed out: " + what);
    }
    throw;
}

// ---------------------------------------------------------------------------------------------
// Inflater
// ---------------------------------------------------------------------------------------------

Inflater::Inflater(bool gzip) : gzip_(gzip) {
    // 15 + 32: zlib or gzip header, detected automatically.
    if (inflateInit2(&zs_, gzip ? 15 + 16 : 15 + 32) != Z_OK)
        throw RemoteProtocolError("inflateInit failed");
}

Inflater::~Inflater() { inflateEnd(&zs_); }

void Inflater::feed(std::string_view in, std::string& out) {
    if (finished_ || in.empty()) return;
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    char tmp[32 * 1024];
    while (zs_.avail_in > 0 && !finished_) {
        zs_.next_out = reinterpret_cast<Bytef*>(tmp);
        zs_.avail_out = sizeof tmp;
        int rc = inflate(&zs_, Z_NO_FLUSH);
        if (rc == Z_DATA_ERROR && !gzip_ && !started_ && !raw_fallback_tried_) {
            // "deflate" sent as a raw deflate stream (no zlib header).
            raw_fallback_tried_ = true;
            inflateEnd(&zs_);
            zs_ = z_stream{};
            if (inflateInit2(&zs_, -15) != Z_OK) throw RemoteProtocolError("inflateInit failed");
            zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
            zs_.avail_in = static_cast<uInt>(in.size());
            continue;
        }
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
            throw RemoteProtocolError("invalid compressed response body");
        started_ = true;
        out.append(tmp, sizeof tmp - zs_.avail_out);
        if (rc == Z_STREAM_END) finished_ = true;
        if (rc == Z_BUF_ERROR && zs_.avail_out != 0) break;
    }
}

// ---------------------------------------------------------------------------------------------
// Reading a response body
// ---------------------------------------------------------------------------------------------

void StreamState::finish(bool reusable) noexcept {
    if (finished) return;
    finished = true;
    const TimePoint now = Clock::now();
    impl->latency_.record(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(now - started).count()));
    if (reusable && head.keep_alive && body.done() && lease && !lease->has_unread()) {
        lease.give_back(now);
    } else {
        lease.drop();
    }
}

Task<std::optional<std::string_view>> StreamState::next() {
    if (finished) co_return std::nullopt;
    // Entered only before the first read: a body already buffered needs no timeout.
    std::optional<PhaseScope> ps;
    std::string error;
    bool too_large = false;
    try {
        for (;;) {
            auto s = body.step(lease->unread());
            if (s.status == BodyDecoder::Status::Data) {
                lease->consume(s.consumed);
                bytes += s.data.size();
                if (inflater) {
                    decoded.clear();
                    inflater->feed(s.data, decoded);
                    if (decoded.empty()) continue;
                    if (body.done()) finish(true);
                    co_return std::string_view(decoded);
                }
                if (sink) {
                    impl->check_size(*this, sink->size() + s.data.size());
                    sink->append(s.data);
                    if (!body.done()) continue;
                    finish(true);
                    co_return std::nullopt;  // the whole body is in the sink
                }
                // The view stays valid until the next fill(): consume() only moves offsets.
                // The last piece is copied, since finishing lends the connection out again.
                if (body.done()) {
                    decoded.assign(s.data);
                    finish(true);
                    co_return std::string_view(decoded);
                }
                co_return s.data;
            }
            if (s.status == BodyDecoder::Status::Done) {
                lease->consume(s.consumed);
                finish(true);
                co_return std::nullopt;
            }
            if (s.status == BodyDecoder::Status::Error) {
                too_large = s.error == "response body too large";
                error = std::string(s.error);
                break;
            }
            lease->consume(s.consumed);
            if (!ps) ps.emplace(limits);
            ps->arm(Phase::Read);
            std::size_t n = 0;
            try {
                Connection& conn = *lease;
                if (conn.tls) {
                    n = co_await conn.fill();
                } else {
                    n = co_await conn.tcp.read_some(conn.room_for_read());
                    conn.commit_read(n);
                }
            } catch (const SystemError& e) {
                error = std::string("connection failed while reading the body: ") + e.what();
                break;
            }
            if (n == 0) {
                auto e = body.finish_at_eof();
                if (e.status == BodyDecoder::Status::Done) {
                    finish(false);
                    co_return std::nullopt;
                }
                error = std::string(e.error);
                break;
            }
        }
    } catch (const Cancelled&) {
        finish(false);
        if (!ps) throw;  // not ours: nothing was awaited under a phase timeout
        ps->on_cancelled(*impl, origin, url_text());
    } catch (...) {
        finish(false);
        throw;
    }
    finish(false);
    ++origin->metrics.errors;
    if (too_large) throw ResponseTooLarge(url_text() + ": response body too large");
    throw RemoteProtocolError(url_text() + ": " + error);
}

void ClientImpl::start_response(ClientResponse& r, StreamState& s) {
    r.status = s.head.status;
    r.reason = std::move(s.head.reason);
    r.headers = std::move(s.head.headers);
    if (s.head.framing == BodyFraming::Length && !s.inflater)
        r.body.reserve(static_cast<std::size_t>(s.head.content_length));
}

void ClientImpl::check_size(StreamState& s, std::uint64_t total) {
    if (total <= options_.max_response_bytes) return;
    s.finish(false);
    throw ResponseTooLarge(s.url_text() + ": response body too large");
}

Task<void> ClientImpl::drain(StreamState& s) {
    std::uint64_t total = 0;
    for (;;) {
        auto piece = co_await s.next();
        if (!piece) break;
        total += piece->size();
        check_size(s, total);
    }
}

void ClientImpl::finish_response(ClientResponse& r, StreamState& s, std::string* url_text) {
    // Not needed by `s` any more: its body is read.
    if (!s.url.empty()) {
        r.url = std::move(s.url);
    } else if (url_text && *url_text == s.target->normalized) {
        r.url = std::move(*url_text);  // the caller's string says the same: no copy
    } else {
        r.url = s.target->normalized;
    }
}

// ---------------------------------------------------------------------------------------------
// Sending a request
// ---------------------------------------------------------------------------------------------

std::string Prepared::url_text() const {
    if (query_target.empty()) return target->normalized;
    Url u = target->url;
    u.target = query_target;
    return u.to_string();
}

void ClientImpl::write_head(std::string& h, Prepared& p, const ClientRequest& req,
                            std::string_view target) const {
    h.reserve(128 + target.size());
    h += p.method;
    h += ' ';
    h += target;
    h += " HTTP/1.1\r\nHost: ";
    p.target->url.append_host_header(h);
    h += "\r\n";
    auto add = [&](const std::string& k, const std::string& v) {
        if (k.empty() || !std::all_of(k.begin(), k.end(), is_tchar) || !valid_header_text(v))
            throw std::invalid_argument("invalid request header: " + k);
        h += k;
        h += ": ";
        h += v;
        h += "\r\n";
    };
    for (const auto& [k, v] : req.headers) add(k, v);
    for (const auto& [k, v] : req.options.headers) add(k, v);
    auto user_has = [&](std::string_view name) {
        return has_header(req.headers, name) || has_header(req.options.headers, name);
    };
    for (const auto& [k, v] : options_.default_headers)
        if (!user_has(k)) add(k, v);
    if (!options_.user_agent.empty() && !user_has("user-agent"))
        add("User-Agent", options_.user_agent);
    if (options_.decompress && !user_has("accept-encoding"))
        h += "Accept-Encoding: gzip, deflate\r\n";
    if (req.body_stream) {
        if (req.body_length) {
            h += "Content-Length: " + std::to_string(*req.body_length) + "\r\n";
        } else {
            h += "Transfer-Encoding: chunked\r\n";
            p.chunked_body = true;
        }
    } else if (!req.body.empty() || p.method == "POST" || p.method == "PUT" ||
               p.method == "PATCH") {
        h += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
    }
    h += "\r\n";
}

void ClientImpl::prepare(Prepared& p, ClientRequest& req, TimePoint total) {
    p.method = req.method;
    for (char c : p.method)
        if (!is_tchar(c)) throw std::invalid_argument("invalid HTTP method: " + req.method);
    const bool plain_get = req.method == "GET" && req.headers.empty() &&
                           req.options.headers.empty() && req.query.empty() &&
                           req.options.query.empty() && !req.body_stream && req.body.empty();
    if (plain_get) {
        // Always the same bytes for this URL: built once, kept with the URL.
        Target& t = *p.target;
        if (t.get_head.empty()) write_head(t.get_head, p, req, t.url.target);
        p.head = t.get_head;
    } else {
        if (!req.query.empty() || !req.options.query.empty()) {
            std::string& target = p.query_target;
            target = p.target->url.target;
            bool has_query = target.find('?') != std::string::npos;
            auto add_query = [&](const HeaderPairs& q) {
                for (const auto& [k, v] : q) {
                    target.push_back(has_query ? '&' : '?');
                    has_query = true;
                    append_percent_encoded(target, k);
                    target.push_back('=');
                    append_percent_encoded(target, v);
                }
            };
            add_query(req.query);
            add_query(req.options.query);
        }
        write_head(p.own_head, p, req,
                   p.query_target.empty() ? p.target->url.target : p.query_target);
        p.head = p.own_head;
    }
    if (req.body_stream) {
        p.body_stream = &req.body_stream;
    } else {
        p.body = req.body;
    }
    p.idempotent = req.idempotent();
    p.head_request = p.method == "HEAD";
    const ClientOptions& o = options_;
    const RequestOptions& r = req.options;
    p.limits.connect = pick(r.connect_timeout, o.connect_timeout);
    p.limits.read = pick(r.read_timeout, o.read_timeout);
    p.limits.write = pick(r.write_timeout, o.write_timeout);
    p.limits.pool = pick(r.pool_timeout, o.pool_timeout);
    p.limits.total = total;
}

Task<std::unique_ptr<StreamState>> ClientImpl::send(Prepared& p, OriginPool& op, bool force_new) {
    auto state = std::make_unique<StreamState>();
    state->impl = this;
    state->origin = &op;
    state->limits = p.limits;
    state->target = p.target;
    if (!p.query_target.empty()) state->url = p.url_text();
    state->started = Clock::now();
    PhaseScope ps(state->limits);
    bool stale = false;
    std::string error;
    try {
        state->lease = reuse_idle(op, force_new, p.idempotent, state->started);
        if (!state->lease) state->lease = co_await acquire(op, ps);
        Connection& conn = *state->lease;
        ++conn.requests;
        const bool reused = state->lease.reused();
        try {
            // The usual request goes out in one send() right away: its write timeout is armed
            // only when the socket cannot take it all at once (as when the write waits). Not
            // past a deadline or a cancellation that has already come, which must stop it.
            std::string_view head = p.head;
            std::string_view body = p.body;
            if (!p.body_stream && !conn.tls && p.limits.total == kNoDeadline &&
                !weir::detail::current_node()->pending_cancel()) {
                std::size_t n = conn.write_now(head, body);
                const std::size_t from_head = std::min(n, head.size());
                head.remove_prefix(from_head);
                body.remove_prefix(n - from_head);
            }
            if (!head.empty() || !body.empty() || p.body_stream) ps.arm(Phase::Write);
            if (p.body_stream) {
                co_await conn.write(head);
                for (;;) {
                    std::optional<std::string> piece = co_await (*p.body_stream)();
                    if (!piece) break;
                    if (piece->empty()) continue;
                    ps.arm(Phase::Write);
                    if (p.chunked_body) {
                        char size[32];
                        int n = std::snprintf(size, sizeof size, "%zx\r\n", piece->size());
                        piece->append("\r\n");
                        co_await conn.write2(std::string_view(size, static_cast<std::size_t>(n)),
                                             *piece);
                    } else {
                        co_await conn.write(*piece);
                    }
                }
                if (p.chunked_body) co_await conn.write("0\r\n\r\n");
            } else if (body.empty()) {
                if (!head.empty()) co_await conn.write(head);
            } else if (head.size() + body.size() <= 8192) {
                std::string all;
                all.reserve(head.size() + body.size());
                all += head;
                all += body;
                co_await conn.write(all);
            } else {
                co_await conn.write2(head, body);
            }
        } catch (const SystemError& e) {
            if (reused) {
                stale = true;
            } else {
                error = std::string("cannot send the request: ") + e.what();
            }
        }
        if (!stale && error.empty()) {
            ps.arm(Phase::Read);
            ResponseParser parser(ResponseLimits{options_.max_head_bytes, 200, 16});
            parser.set_head_request(p.head_request);
            bool got_any = false;
            for (;;) {
                // Usually nothing is buffered yet: read before parsing.
                if (got_any || conn.has_unread()) {
                    auto r = parser.parse(conn.unread());
                    if (r.complete()) {
                        conn.consume(r.consumed);
                        break;
                    }
                    if (r.failed()) {
                        error = std::string("malformed response: ") + std::string(r.error);
                        break;
                    }
                }
                std::size_t n = 0;
                try {
                    if (conn.tls) {
                        n = co_await conn.fill();
                    } else {
                        n = co_await conn.tcp.read_some(conn.room_for_read());
                        conn.commit_read(n);
                    }
                } catch (const SystemError& e) {
                    if (reused && !got_any) {
                        stale = true;
                    } else {
                        error = std::string("connection failed while reading the response: ") +
                                e.what();
                    }
                    break;
                }
                if (n == 0) {
                    if (reused && !got_any) {
                        stale = true;
                    } else {
                        error = "server closed the connection before a complete response head";
                    }
                    break;
                }
                got_any = true;
            }
            if (!stale && error.empty()) {
                state->head = std::move(parser.head());
                const std::uint64_t max_body = p.head_request ? 0 : UINT64_MAX;
                state->body =
                    BodyDecoder(state->head.framing, state->head.content_length, max_body);
                if (p.head_request) state->body = BodyDecoder(BodyFraming::None, 0);
                if (options_.decompress && state->head.framing != BodyFraming::None) {
                    if (auto ce = state->head.header("content-encoding")) {
                        if (iequals(*ce, "gzip") || iequals(*ce, "x-gzip")) {
                            state->inflater = std::make_unique<Inflater>(true);
                        } else if (iequals(*ce, "deflate")) {
                            state->inflater = std::make_unique<Inflater>(false);
                        }
                    }
                }
            }
        }
    } catch (const Cancelled&) {
        ps.on_cancelled(*this, &op, state->url_text());
    }
    if (stale) {
        state->lease.drop();
        throw StaleConnection();
    }
    if (!error.empty()) {
        state->lease.drop();
        ++op.metrics.errors;
        throw RemoteProtocolError(state->url_text() + ": " + error);
    }
    if (state->body.done() && state->head.framing != BodyFraming::UntilClose) state->finish(true);
    co_return state;
}

std::shared_ptr<Target> ClientImpl::parse_url(const std::string& text) {
    for (const std::shared_ptr<Target>& e : url_cache_)
        if (e && e->text == text) return e;
    auto t = std::make_shared<Target>();
    t->url = Url::parse(text);  // throws InvalidUrl: nothing cached then
    t->text = text;
    t->normalized = t->url.to_string();
    url_cache_[url_cache_next_++ % std::size(url_cache_)] = t;
    return t;
}

void ClientImpl::check_circuit(OriginPool& op) {
    const auto& cb = options_.circuit_breaker;
    if (!cb.enabled || op.failures < cb.failure_threshold) return;
    const TimePoint now = Clock::now();
    if (now < op.open_until || (op.probing && now < op.probe_until)) {
        ++counters_.circuit_rejections;
        throw CircuitOpen("circuit open for " + op.key);
    }
    op.probing = true;  // this request is the probe
    op.probe_until = now + cb.cool_down;
}

void ClientImpl::record_failure(OriginPool& op) noexcept {
    const auto& cb = options_.circuit_breaker;
    if (!cb.enabled) return;
    op.probing = false;
    if (++op.failures >= cb.failure_threshold) op.open_until = Clock::now() + cb.cool_down;
}

void ClientImpl::record_success(OriginPool& op) noexcept {
    op.failures = 0;
    op.probing = false;
}

Task<std::unique_ptr<StreamState>> ClientImpl::start(ClientRequest& req, bool streaming) {
    if (closed_) throw ClientClosed();
    const auto total_d = req.options.timeout ? req.options.timeout : options_.timeout;
    const TimePoint total = total_d ? Clock::now() + *total_d : kNoDeadline;
    const bool follow = req.options.follow_redirects.value_or(options_.follow_redirects);
    const RetryPolicy& retry = req.options.retry ? *req.options.retry : options_.retry;
    std::shared_ptr<Target> target = parse_url(req.url);
    int redirects = 0;
    int attempt = 0;
    for (;;) {
        OriginPool& op = pool_for(target->url);
        check_circuit(op);
        ++counters_.requests;
        ++op.metrics.requests;
        Prepared p;
        p.target = target;
        prepare(p, req, total);
        std::unique_ptr<StreamState> state;
        std::exception_ptr failure;
        bool retryable = false;
        try {
            bool stale = false;
            try {
                state = co_await send(p, op, false);
            } catch (const StaleConnection&) {
                stale = true;
            }
            if (stale) {
                if (!p.idempotent)
                    throw RemoteProtocolError(p.url_text() +
                                              ": server closed the keep-alive connection");
                ++counters_.stale_retries;
                state = co_await send(p, op, true);
            }
        } catch (const PoolTimeout&) {
            failure = std::current_exception();
        } catch (const RequestTimeout&) {
            failure = std::current_exception();
        } catch (const TimeoutError&) {
            failure = std::current_exception();
            retryable = true;
        } catch (const ConnectError&) {
            failure = std::current_exception();
            retryable = true;
        } catch (const RemoteProtocolError&) {
            failure = std::current_exception();
            retryable = true;
        } catch (const net::TlsError&) {
            failure = std::current_exception();
        }
        int status = state ? state->head.status : 0;
        if (failure) {
            record_failure(op);
        } else if (status >= 500) {
            record_failure(op);
        } else {
            record_success(op);
        }
        if (state) op.metrics.statuses[status]++;
        // Only asked when a retry could follow (none with retries off, the default).
        const bool retry_status =
            state && attempt < retry.max_retries &&
            std::find(retry.retry_statuses.begin(), retry.retry_statuses.end(), status) !=
                retry.retry_statuses.end();
        if ((failure && retryable) || retry_status) {
            if (attempt < retry.max_retries && p.idempotent) {
                double ms = static_cast<double>(retry.initial_backoff.count()) *
                            std::pow(retry.multiplier, attempt);
                ms = std::min(ms, static_cast<double>(retry.max_backoff.count()));
                if (retry.jitter) ms = std::uniform_real_distribution<double>(0.0, ms)(rng_);
                const TimePoint wake =
                    Clock::now() + std::chrono::microseconds(static_cast<std::int64_t>(ms * 1000));
                if (wake < total && wake < current_deadline()) {
                    ++attempt;
                    ++counters_.retries;
                    state.reset();  // closes its connection if unread
                    co_await sleep_until(wake);
                    continue;
                }
            }
        }
        if (failure) std::rethrow_exception(failure);
        // Redirects.
        if (follow &&
            (status == 301 || status == 302 || status == 303 || status == 307 || status == 308)) {
            auto loc = state->head.header("location");
            if (loc && !(req.body_stream && (status == 307 || status == 308))) {
                if (++redirects > options_.max_redirects)
                    throw TooManyRedirects(p.url_text() + ": more than " +
                                           std::to_string(options_.max_redirects) + " redirects");
                Url next = target->url.resolve(*loc);
                if (status == 303 || ((status == 301 || status == 302) && req.method == "POST")) {
                    if (req.method != "HEAD") req.method = "GET";
                    req.body.clear();
                    req.body_stream = nullptr;
                    std::erase_if(req.headers, [](const auto& kv) {
                        return iequals(kv.first, "content-type") ||
                               iequals(kv.first, "content-length");
                    });
                }
                if (next.origin() != target->url.origin()) {
                    auto drop = [](const auto& kv) {
                        return iequals(kv.first, "authorization") || iequals(kv.first, "cookie");
                    };
                    std::erase_if(req.headers, drop);
                    std::erase_if(req.options.headers, drop);
                }
                // Small redirect bodies are read so the connection can be reused.
                if (!state->finished && state->body.framing() == BodyFraming::Length &&
                    state->head.content_length <= 64 * 1024) {
                    co_await drain(*state);
                }
                state.reset();
                ++counters_.redirects;
                target = std::make_shared<Target>();
                target->url = std::move(next);
                target->normalized = target->url.to_string();
                req.query.clear();
                req.options.query.clear();
                continue;
            }
        }
        (void)streaming;
        // The response reports the URL without the query parameters added to it.
        state->url.clear();
        co_return state;
    }
}

Task<ClientResponse> ClientImpl::request(ClientRequest req) {
    // start() retries failures up to the response head; a body that fails
    // halfway is retried here, under the same policy.
    const RetryPolicy& retry = req.options.retry ? *req.options.retry : options_.retry;
    const bool idempotent = req.idempotent();
    std::optional<ClientRequest> original;
    if (retry.max_retries > 0 && idempotent) original = req;
    for (int attempt = 0;; ++attempt) {
        auto state = co_await start(req, false);
        bool failed = false;
        try {
            // The whole body, read here rather than in a coroutine of its own (one frame and
            // one move of the response fewer). Without an inflater, next() appends it to
            // r.body itself and returns once, at the end.
            ClientResponse r;
            start_response(r, *state);
            struct SinkGuard {
                StreamState& s;
                ~SinkGuard() { s.sink = nullptr; }
            } guard{*state};
            state->sink = &r.body;
            for (;;) {
                auto piece = co_await state->next();
                if (!piece) break;
                check_size(*state, r.body.size() + piece->size());
                r.body.append(*piece);
            }
            finish_response(r, *state, &req.url);
            co_return r;
        } catch (const RemoteProtocolError&) {
            if (attempt >= retry.max_retries || !idempotent) throw;
            failed = true;
        } catch (const ReadTimeout&) {
            if (attempt >= retry.max_retries || !idempotent) throw;
            failed = true;
        }
        if (failed) {
            record_failure(*state->origin);
            state.reset();
            double ms = static_cast<double>(retry.initial_backoff.count()) *
                        std::pow(retry.multiplier, attempt);
            ms = std::min(ms, static_cast<double>(retry.max_backoff.count()));
            if (retry.jitter) ms = std::uniform_real_distribution<double>(0.0, ms)(rng_);
            ++counters_.retries;
            co_await sleep_for(std::chrono::microseconds(static_cast<std::int64_t>(ms * 1000)));
            req = *original;
        }
    }
}

ClientImpl::ClientImpl(ClientOptions options) : options_(std::move(options)) {}

ClientImpl::~ClientImpl() {
    closed_ = true;
    waiters_.clear();
    pools_.clear();
}

Task<void> ClientImpl::close() {
    closed_ = true;
    for (auto& [key, op] : pools_) {
        while (!op->idle.empty()) {
            auto c = std::move(op->idle.front());
            op->idle.pop_front();
            discard(std::move(c));  // a TLS connection sends close_notify as it closes
        }
    }
    slot_freed();
    co_return;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

ClientRequest& ClientRequest::set_json(std::string json_text) {
    body = std::move(json_text);
    std::erase_if(headers, [](const auto& kv) { return iequals(kv.first, "content-type"); });
    headers.emplace_back("Content-Type", "application/json");
    return *this;
}

ClientRequest& ClientRequest::set_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
}

bool ClientRequest::idempotent() const noexcept {
    if (body_stream) return false;
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
           method == "PUT" || method == "DELETE";
}

const ClientResponse& ClientResponse::raise_for_status() const {
    if (status >= 400)
        throw HttpStatusError(url + ": HTTP " + std::to_string(status) + " " + reason, status);
    return *this;
}

ResponseStream::ResponseStream() noexcept = default;
ResponseStream::ResponseStream(std::unique_ptr<detail::StreamState> s) noexcept
    : state_(std::move(s)) {}
ResponseStream::ResponseStream(ResponseStream&&) noexcept = default;
ResponseStream& ResponseStream::operator=(ResponseStream&& o) noexcept {
    if (this != &o) {
        close();
        state_ = std::move(o.state_);
    }
    return *this;
}
ResponseStream::~ResponseStream() { close(); }

int ResponseStream::status() const noexcept { return state_ ? state_->head.status : 0; }
const std::string& ResponseStream::reason() const noexcept {
    static const std::string none;
    return state_ ? state_->head.reason : none;
}
const ResponseHeaders& ResponseStream::headers() const noexcept {
    static const ResponseHeaders none;
    return state_ ? state_->head.headers : none;
}
std::optional<std::string_view> ResponseStream::header(std::string_view name) const noexcept {
    if (!state_) return std::nullopt;
    return state_->head.headers.get(name);
}
Task<std::optional<std::string_view>> ResponseStream::next() {
    if (!state_) co_return std::nullopt;
    co_return co_await state_->next();
}
Task<std::string> ResponseStream::read_all() {
    std::string out;
    for (;;) {
        auto piece = co_await next();
        if (!piece) break;
        out.append(*piece);
    }
    co_return out;
}
bool ResponseStream::done() const noexcept { return !state_ || state_->finished; }
std::uint64_t ResponseStream::bytes_read() const noexcept { return state_ ? state_->bytes : 0; }
void ResponseStream::close() noexcept {
    if (state_) state_->finish(false);
}

Client::Client(ClientOptions options)
    : AsyncResource("http::Client"),
      impl_(std::make_unique<detail::ClientImpl>(std::move(options))) {}
Client::Client(Client&& o) noexcept : AsyncResource(std::move(o)), impl_(std::move(o.impl_)) {}
Client::~Client() = default;

namespace {

ClientRequest make_request(const char* method, std::string_view url, std::string body,
                           RequestOptions options) {
    ClientRequest req;
    req.method = method;
    req.url = std::string(url);
    req.body = std::move(body);
    req.options = std::move(options);
    return req;
}

// A GET without per-request options (no RequestOptions moved through).
ClientRequest make_get(std::string_view url) {
    ClientRequest req;
    req.url = std::string(url);
    return req;
}

}  // namespace

Task<ClientResponse> Client::get(std::string_view url) { return impl_->request(make_get(url)); }
Task<ClientResponse> Client::get(std::string_view url, RequestOptions options) {
    return impl_->request(make_request("GET", url, {}, std::move(options)));
}
Task<ClientResponse> Client::head(std::string_view url, RequestOptions options) {
    return impl_->request(make_request("HEAD", url, {}, std::move(options)));
}
Task<ClientResponse> Client::post(std::string_view url, std::string body, RequestOptions options) {
    return impl_->request(make_request("POST", url, std::move(body), std::move(options)));
}
Task<ClientResponse> Client::put(std::string_view url, std::string body, RequestOptions options) {
    return impl_->request(make_request("PUT", url, std::move(body), std::move(options)));
}
Task<ClientResponse> Client::del(std::string_view url, RequestOptions options) {
    return impl_->request(make_request("DELETE", url, {}, std::move(options)));
}
Task<ClientResponse> Client::request(ClientRequest request) {
    return impl_->request(std::move(request));
}
Task<ResponseStream> Client::stream(ClientRequest request) {
    auto state = co_await impl_->start(request, true);
    co_return ResponseStream(std::move(state));
}
Task<void> Client::close() {
    co_await impl_->close();
    mark_closed();
}
ClientMetrics Client::metrics() const { return impl_->metrics(); }
const ClientOptions& Client::options() const noexcept { return impl_->options_; }

}  // namespace weir::http
