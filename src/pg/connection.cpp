#include "weir/pg/connection.hpp"

#include <poll.h>

#include <chrono>
#include <deque>
#include <exception>
#include <list>
#include <unordered_map>

#include <libpq-fe.h>

#include "weir/core/cancelled.hpp"
#include "weir/core/detail/cancellable_wait.hpp"
#include "weir/core/event.hpp"
#include "weir/core/event_loop.hpp"
#include "weir/core/poller.hpp"
#include "weir/core/timeout.hpp"
#include "weir/core/to_thread.hpp"

namespace weir::pg {

namespace {

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

Error error_from(const PGresult* r, const std::string& query) {
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char* msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    std::string m = msg ? msg : trim(PQresultErrorMessage(r));
    return Error(state ? state : "", m, query);
}

// Waits until the fd is readable and/or writable (or cancellation).
//
// The registration is edge-triggered, so the current state is checked first
// (a poll(2) call), unless `trust_hint` and the handle's read_hint say that
// no data can be waiting: read_hint is cleared when the socket was seen empty
// (here) or when no response is outstanding (see Impl::step), and set again
// by the event loop on the next readable edge.
class ReadyWait final : public weir::detail::CancellableWait, public weir::detail::IoOp {
public:
    ReadyWait(weir::detail::IoHandle* io, bool read, bool write, bool trust_hint = false) noexcept
        : io_(io), read_(read), write_(write), trust_hint_(trust_hint) {}
    bool await_ready() {
        if (cancel_requested()) return true;
        if (io_->fd < 0) return true;
        if (read_ && !write_ && trust_hint_ && !io_->read_hint) return false;
        pollfd p{io_->fd, static_cast<short>((read_ ? POLLIN : 0) | (write_ ? POLLOUT : 0)), 0};
        const int n = ::poll(&p, 1, 0);
        if (n == 0 && read_) io_->read_hint = false;  // empty now: new data brings an edge
        return n > 0;
    }
    void await_suspend(std::coroutine_handle<> h) noexcept {
        if (read_) io_->reader = this;
        if (write_) io_->writer = this;
        park(h);
    }
    void await_resume() const { throw_if_cancelled(); }

private:
    void on_ready() noexcept override {
        cancel_registration();
        wake();
    }
    void cancel_registration() noexcept override {
        if (io_->reader == this) io_->reader = nullptr;
        if (io_->writer == this) io_->writer = nullptr;
    }
    weir::detail::IoHandle* io_;
    bool read_;
    bool write_;
    bool trust_hint_;
};

struct Request {
    std::string sql;
    std::string statement;
    bool setup = false;     // a set_config(statement_timeout) precedes the statement
    bool teardown = false;  // in a transaction: the previous value is restored after it
    bool setup_seen = false;
    bool prepare = false;
    bool prepare_seen = false;
    bool query_seen = false;
    bool done = false;
    bool internal = false;  // DEALLOCATE of an evicted statement: nobody waits
    bool waiting = false;   // its task waits on `ev` while another task drives
    // A read_only statement without a Sync of its own: it shares the sync
    // point (and implicit transaction) of the group it was flushed with.
    bool shared = false;
    // Shared: not run because an earlier statement of its group failed (or it
    // was cancelled by a neighbour's cancel request): safe to send again.
    bool aborted = false;
    bool marker = false;  // the Sync closing a group of shared statements
    // The cached statement was gone (26000) or its result type changed
    // (0A000): prepare again and retry once if that is safe.
    bool stale = false;
    bool stale_deallocate = false;  // the old statement still exists on the server
    // A cancel request meant for an earlier request (whose task was
    // cancelled) can land on this one if that one finished first: it failed
    // with 57014 while such a request was in flight, and is sent again if
    // that is safe (outside any transaction block, see run_query).
    std::uint64_t cancels_at_send = 0;  // Impl::cancels_sent when it was sent
    bool cancel_target = false;         // the cancel request was meant for this one
    bool hit_by_cancel = false;
    PGTransactionStatusType status_after = PQTRANS_UNKNOWN;
    std::optional<Result> result;
    std::exception_ptr error;
    Event ev;
};

}  // namespace

struct Connection::Impl {
    PGconn* conn = nullptr;
    weir::detail::IoHandle io;
    weir::detail::EventLoop* loop = nullptr;
    bool registered = false;
    bool broken = false;
    bool driving = false;
    bool exclusive = false;      // COPY or a notification wait owns the connection
    bool flush_pending = false;  // PQflush left data behind: wait for writability
    // Requests queued in libpq but not yet flushed. send() never writes: the
    // sender becomes the driver and flushes at once, or, if a driver is
    // parked, wakes it; it runs after the tasks already scheduled, so every
    // request they send in the same turn of the loop goes out in one write.
    bool unflushed = false;
    std::string key_scratch;  // statement-cache key of the request being sent
    // Shared statements were sent since the last Sync: one Sync (a marker in
    // the queue) closes the group before anything else is sent or flushed.
    bool group_open = false;
    std::deque<std::shared_ptr<Request>> queue;
    ConnectionOptions options;
    ConnectionStats stats;
    std::uint64_t next_statement = 0;
    std::uint64_t cancels_sent = 0;  // cancel requests sent (see Request::hit_by_cancel)
    int transaction_depth = 0;
    // LRU: most recent first.
    std::list<std::pair<std::string, std::string>> lru;  // key -> statement name
    std::unordered_map<std::string, std::list<std::pair<std::string, std::string>>::iterator> cache;
    // Statements whose PREPARE failed while later requests already used them
    // (pipelined): those requests report the PREPARE's error, not 26000.
    std::unordered_map<std::string, std::exception_ptr> failed_prepares;

    ~Impl() { close(); }

    void register_fd() {
        unregister_fd();
        io.fd = PQsocket(conn);
        if (io.fd < 0) return;
        loop->add_io(&io);
        registered = true;
    }
    void unregister_fd() noexcept {
        if (registered) loop->remove_io(&io);
        registered = false;
        io.fd = -1;
        // Wake a driver waiting for readiness (it sees the connection broken).
        if (auto* op = io.reader) op->on_ready();
        if (auto* op = io.writer) op->on_ready();
    }
    void close() noexcept {
        unregister_fd();
        if (conn) PQfinish(conn);
        conn = nullptr;
        broken = true;
        fail_all(Error("08003", "connection closed"));
    }

    std::string conn_message() const { return conn ? trim(PQerrorMessage(conn)) : "no connection"; }

    void fail_all(const Error& e) noexcept {
        while (!queue.empty()) {
            auto r = std::move(queue.front());
            queue.pop_front();
            r->done = true;
            if (!r->error)
                r->error = std::make_exception_ptr(Error(e.sqlstate(), e.message(), r->sql));
            r->ev.set();
        }
    }
    void set_broken(const std::string& why) noexcept {
        broken = true;
        fail_all(Error("08006", why));
        unregister_fd();  // libpq still owns the socket until PQfinish
    }
    // The driver is done: the oldest request whose task waits takes over
    // (one wake-up, not one per task in the pipeline).
    void hand_off() noexcept {
        for (auto& r : queue) {
            if (r->waiting) {
                r->ev.set();
                return;
            }
        }
    }

    // Ends the open group of shared statements with one Sync: the server then
    // commits their implicit transaction and flushes its answers once for
    // the whole group instead of once per statement.
    void close_group() noexcept {
        if (!group_open) return;
        group_open = false;
        if (!PQpipelineSync(conn)) {
            set_broken(conn_message());
            return;
        }
        auto m = std::make_shared<Request>();
        m->internal = true;
        m->marker = true;
        m->sql = "(sync)";
        queue.push_back(std::move(m));
    }

    // Statement name for `key`; true if it must be prepared first.
    std::pair<std::string, bool> statement(const std::string& key) {
        if (auto it = cache.find(key); it != cache.end()) {
            lru.splice(lru.begin(), lru, it->second);
            ++stats.statement_cache_hits;
            return {it->second->second, false};
        }
        ++stats.statement_cache_misses;
        std::string name = "weir_s" + std::to_string(next_statement++);
        lru.emplace_front(key, name);
        cache[key] = lru.begin();
        while (lru.size() > options.statement_cache_size && lru.size() > 1) evict_last();
        return {name, true};
    }
    void evict_last() {
        close_group();
        auto [key, name] = lru.back();
        cache.erase(key);
        lru.pop_back();
        ++stats.statement_cache_evictions;
        auto r = std::make_shared<Request>();
        r->internal = true;
        r->sql = "DEALLOCATE " + name;
        if (!PQsendQueryParams(conn, r->sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 1) ||
            !PQpipelineSync(conn))
            return;  // the connection is failing; the next send reports it
        queue.push_back(std::move(r));
    }
    bool forget_statement(const std::string& name) {
        for (auto it = lru.begin(); it != lru.end(); ++it) {
            if (it->second == name) {
                cache.erase(it->first);
                lru.erase(it);
                return true;
            }
        }
        return false;
    }
    // After a stale-statement error: drop the cache entry (DEALLOCATE it if
    // the server still has it). True if a retry is safe: the request ran
    // outside any transaction block, so nothing else was affected by the
    // error (a failed transaction is never retried into).
    bool drop_stale(const Request& r) {
        if (forget_statement(r.statement)) {
            ++stats.statement_reprepares;
            if (r.stale_deallocate && !broken) {
                close_group();
                auto d = std::make_shared<Request>();
                d->internal = true;
                d->sql = "DEALLOCATE " + r.statement;
                if (PQsendQueryParams(conn, d->sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr,
                                      1) &&
                    PQpipelineSync(conn)) {
                    queue.push_back(std::move(d));
                    flush();
                }
            }
        }
        if (transaction_depth != 0) return false;
        return r.status_after == PQTRANS_IDLE || r.status_after == PQTRANS_ACTIVE;
    }

    // statement_timeout for a request sent now (0: none).
    long long statement_timeout_ms() const {
        // The inherited deadline becomes the statement's statement_timeout, so
        // the server stops on its own even if the cancel request never arrives.
        // It gets a grace period: the client's own timer must normally fire
        // first, so callers see TimeoutError rather than a 57014 server error.
        auto left = remaining_time();
        if (!left) return 0;
        const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*left).count();
        return ms + ms / 10 + 500;
    }

    // `timeout_ms` > 0: the statement runs with that statement_timeout (set
    // with is_local, so it ends with the request's implicit transaction).
    //
    // Inside a transaction block a local setting would last until the end of
    // the transaction, so the previous value is saved before and restored
    // after the statement (if the statement fails, the transaction is
    // aborted and its rollback reverts the setting anyway).
    //
    // `read_only` outside a transaction block and without a deadline: the
    // statement gets no Sync of its own and joins the open group (see
    // close_group); anything else closes the group first.
    void send(const std::shared_ptr<Request>& r, const Params& p, long long timeout_ms,
              bool read_only = false) {
        const bool in_transaction = transaction_depth != 0;
        if (broken || !conn) throw Error("08003", "connection is broken or closed", r->sql);
        if (exclusive)
            throw Error("55000", "connection is busy with COPY or a notification wait", r->sql);
        const bool shared = read_only && !in_transaction && timeout_ms <= 0;
        if (!shared) close_group();
        if (broken) throw Error("08006", "connection is broken", r->sql);
        key_scratch.clear();  // the statement-cache key: parameter types and text
        p.append_type_signature(key_scratch);
        key_scratch += '|';
        key_scratch += r->sql;
        auto [name, prepare] = statement(key_scratch);
        r->cancels_at_send = cancels_sent;
        r->statement = std::move(name);
        r->prepare = prepare;
        // libpq's parallel parameter arrays, on the stack for up to kStack parameters.
        constexpr std::size_t kStack = 16;
        const std::size_t count = p.size();
        const char* values_stack[kStack];
        int lengths_stack[kStack];
        int formats_stack[kStack];
        std::uint32_t types_stack[kStack];
        std::vector<const char*> values_heap;
        std::vector<int> lengths_heap, formats_heap;
        std::vector<std::uint32_t> types_heap;
        const char** values = values_stack;
        int* lengths = lengths_stack;
        int* formats = formats_stack;
        std::uint32_t* types = types_stack;
        if (count > kStack) {
            values_heap.resize(count);
            lengths_heap.resize(count);
            formats_heap.resize(count);
            types_heap.resize(count);
            values = values_heap.data();
            lengths = lengths_heap.data();
            formats = formats_heap.data();
            types = types_heap.data();
        }
        p.fill(values, lengths, formats, types);
        const int n = static_cast<int>(count);
        bool ok = true;
        if (timeout_ms > 0) {
            r->setup = true;
            const std::string ms = std::to_string(timeout_ms);
            const char* setup_values[1] = {ms.c_str()};
            const char* setup_sql = in_transaction
                                        ? "SELECT set_config('weir.saved_statement_timeout', "
                                          "current_setting('statement_timeout'), true), "
                                          "set_config('statement_timeout', $1, true)"
                                        : "SELECT set_config('statement_timeout', $1, true)";
            ok = PQsendQueryParams(conn, setup_sql, 1, nullptr, setup_values, nullptr, nullptr,
                                   1) != 0;
        }
        static_assert(sizeof(Oid) == sizeof(std::uint32_t));
        if (ok && prepare) {
            ok = PQsendPrepare(conn, r->statement.c_str(), r->sql.c_str(), n,
                               reinterpret_cast<const Oid*>(types)) != 0;
        }
        ok = ok &&
             PQsendQueryPrepared(conn, r->statement.c_str(), n, values, lengths, formats, 1) != 0;
        if (ok && r->setup && in_transaction) {
            r->teardown = true;
            ok = PQsendQueryParams(conn,
                                   "SELECT set_config('statement_timeout', "
                                   "current_setting('weir.saved_statement_timeout'), true)",
                                   0, nullptr, nullptr, nullptr, nullptr, 1) != 0;
        }
        if (shared) {
            r->shared = true;
            group_open = true;
        } else {
            ok = ok && PQpipelineSync(conn) != 0;
        }
        if (!ok) {
            // Nothing of this request may remain queued in libpq in a
            // consistent way: treat the connection as broken.
            std::string why = conn_message();
            set_broken(why);
            throw Error("08006", why, r->sql);
        }
        queue.push_back(r);
        unflushed = true;
        // A parked driver flushes it when it runs (after the tasks scheduled now).
        if (driving && io.reader) io.reader->on_ready();
    }

    void flush() noexcept {
        if (broken) return;
        close_group();
        if (broken) return;
        unflushed = false;
        int rc = PQflush(conn);
        if (rc < 0) set_broken(conn_message());
        flush_pending = rc == 1;
    }

    // Reads what is available and completes requests. Never throws.
    void step() noexcept {
        if (broken) return;
        if (flush_pending || unflushed) flush();
        if (broken) return;
        // No read when the socket is known to hold nothing (read_hint clear, see ReadyWait).
        if (io.read_hint && !PQconsumeInput(conn)) {
            set_broken(conn_message());
            return;
        }
        int nulls = 0;
        while (!queue.empty() && !broken) {
            if (PQisBusy(conn)) break;
            PGresult* res = PQgetResult(conn);
            if (!res) {
                if (++nulls > 2) break;
                continue;
            }
            nulls = 0;
            handle(queue.front(), res);
        }
        if (!broken && PQstatus(conn) == CONNECTION_BAD) set_broken(conn_message());
        // Every response read in full: until the next request's response brings
        // a new edge, there is nothing to read (at most unsolicited messages, which
        // the next read picks up; waits outside step() always poll).
        if (queue.empty()) io.read_hint = false;
    }

    void handle(std::shared_ptr<Request> r, PGresult* res) noexcept {  // a copy: may be popped
        const auto st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            r->status_after = PQtransactionStatus(conn);
            r->done = true;
            queue.pop_front();
            if (queue.empty()) failed_prepares.clear();
            r->ev.set();
            return;
        }
        // Which command of the request this result belongs to.
        const bool is_setup = r->setup && !r->setup_seen;
        if (is_setup) r->setup_seen = true;
        const bool is_prepare = !is_setup && r->prepare && !r->prepare_seen;
        if (is_prepare) r->prepare_seen = true;
        if (!is_setup && !is_prepare && r->teardown && r->query_seen) {
            PQclear(res);  // the statement_timeout restore (or its abort)
            return;
        }
        if (st == PGRES_PIPELINE_ABORTED) {
            // An earlier command of this request failed (its error is kept),
            // or, for a shared statement, an earlier one of its group.
            if (is_prepare) forget_statement(r->statement);
            if (!is_setup && !is_prepare) r->query_seen = true;
            PQclear(res);
            if (r->shared && r->query_seen) {
                if (!r->error) r->aborted = true;
                finish_shared(r);
            }
            return;
        }
        if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR || st == PGRES_BAD_RESPONSE) {
            if (!is_setup && !is_prepare) r->query_seen = true;
            if (!r->error && !is_prepare && !is_setup && !r->prepare) {
                const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
                const char* msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
                const std::string_view sv = state ? state : "";
                if (sv == "26000") r->stale = true;
                if (sv == "0A000" && msg &&
                    std::string_view(msg).find("cached plan must not change result type") !=
                        std::string_view::npos) {
                    r->stale = true;
                    r->stale_deallocate = true;
                }
            }
            if (!r->error) {
                auto failed = failed_prepares.find(r->statement);
                if (!is_prepare && !is_setup && failed != failed_prepares.end()) {
                    r->error = failed->second;
                } else {
                    r->error = std::make_exception_ptr(error_from(res, r->sql));
                }
            }
            if (is_prepare) {
                failed_prepares[r->statement] = r->error;
                forget_statement(r->statement);
            }
            if (!r->cancel_target) {
                // A cancel request meant for the statement before it (whose
                // task was cancelled) can land on this one. A shared statement:
                // nothing of its group ran, so it is sent again; an ordinary
                // one is sent again by run_query if it was in flight when this
                // connection sent a cancel request and ran in a transaction of
                // its own.
                const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
                if (state && std::string_view(state) == "57014") {
                    if (r->shared && !is_prepare) {
                        r->error = nullptr;
                        r->aborted = true;
                    } else if (!r->shared && r->cancels_at_send != cancels_sent) {
                        r->hit_by_cancel = true;
                    }
                }
            }
            PQclear(res);
            if (r->shared && r->query_seen) finish_shared(r);
            return;
        }
        if (is_setup) {
            PQclear(res);
            return;
        }
        if (is_prepare) {
            PQclear(res);
            return;
        }
        r->query_seen = true;
        if (!r->internal && !r->result && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)) {
            r->result.emplace(res);
        } else {
            PQclear(res);
        }
        if (r->shared) finish_shared(r);
    }

    // A shared statement is complete with its own result (its group's Sync
    // comes later, as the marker). Outside any transaction block by
    // construction, so a stale statement may be retried.
    void finish_shared(const std::shared_ptr<Request>& r) noexcept {
        r->status_after = PQTRANS_IDLE;
        r->done = true;
        queue.pop_front();
        r->ev.set();
    }

    // Drives the connection until `r` completes (or the connection breaks).
    Task<void> drive(std::shared_ptr<Request> r) {
        for (;;) {
            step();
            if (r->done) co_return;
            ReadyWait w(&io, true, flush_pending, true);
            co_await w;
        }
    }

    Task<void> wait_done(std::shared_ptr<Request> r) {
        while (!r->done) {
            if (!driving) {
                driving = true;
                try {
                    co_await drive(r);
                } catch (...) {
                    driving = false;
                    hand_off();
                    throw;
                }
                driving = false;
                hand_off();
            } else {
                // Woken when `r` completes or when this task is to drive.
                r->ev.clear();
                r->waiting = true;
                try {
                    co_await r->ev.wait();
                } catch (...) {
                    r->waiting = false;
                    throw;
                }
                r->waiting = false;
            }
        }
    }

    // --- Exclusive use (COPY, notifications): nothing else is in flight. ---
    [[noreturn]] void fail(const std::string& sql) {
        std::string why = conn_message();
        set_broken(why);
        throw Error("08006", why, sql);
    }
    Task<void> wait_io(bool write, const std::string& sql) {
        ReadyWait w(&io, true, write);
        co_await w;
        if (broken || io.fd < 0) fail(sql);
    }
    Task<void> flush_all(const std::string& sql) {
        for (;;) {
            const int rc = PQflush(conn);
            if (rc == 0) co_return;
            if (rc < 0) fail(sql);
            co_await wait_io(true, sql);
            if (!PQconsumeInput(conn)) fail(sql);
        }
    }
    // The next result of a simple-protocol query (nullptr: no more).
    Task<PGresult*> next_result(const std::string& sql) {
        for (;;) {
            if (!PQconsumeInput(conn)) fail(sql);
            if (!PQisBusy(conn)) co_return PQgetResult(conn);
            co_await wait_io(false, sql);
        }
    }
    // Leaves pipeline mode and sends `sql` with the simple protocol.
    void begin_exclusive(const std::string& sql) {
        if (broken || !conn) throw Error("08003", "connection is broken or closed", sql);
        if (exclusive || driving || !queue.empty())
            throw Error("55000", "COPY needs a connection with nothing else in flight", sql);
        if (PQexitPipelineMode(conn) != 1) fail(sql);
        exclusive = true;
        if (!PQsendQuery(conn, sql.c_str())) fail(sql);
    }
    void end_exclusive(const std::string& sql) {
        exclusive = false;
        if (!broken && PQenterPipelineMode(conn) != 1) fail(sql);
    }

    // After the waiting task was cancelled: cancel the statement on the
    // server if it may be running, then drain its results.
    //
    // A request behind others is not running yet and cannot be cancelled on
    // the server without hitting another request's statement: it is left in
    // the queue and its results are dropped when they arrive.
    Task<void> cancel_and_drain(std::shared_ptr<Request> r) {
        if (r->done || broken) co_return;
        if (queue.empty() || queue.front() != r) co_return;
        if (!r->query_seen) {
            r->cancel_target = true;
            ++cancels_sent;
            PGcancel* pc = PQgetCancel(conn);
            if (pc) {
                auto fn = [pc] {
                    char buf[256];
                    PQcancel(pc, buf, sizeof buf);
                    PQfreeCancel(pc);
                };
                co_await to_thread(std::move(fn));
            }
        }
        try {
            co_await with_timeout(std::chrono::seconds(10), wait_done(r));
        } catch (const std::exception&) {
            set_broken("statement could not be cancelled");
        }
    }
};

Connection::~Connection() = default;

Task<Connection> Connection::connect(std::string url, ConnectionOptions options) {
    auto impl = std::make_shared<Impl>();
    impl->options = options;
    impl->loop = weir::detail::EventLoop::current();
    if (!impl->loop) throw std::logic_error("pg::Connection::connect must run on a runtime shard");
    impl->conn = PQconnectStart(url.c_str());
    if (!impl->conn) throw Error("08001", "out of memory creating the connection");
    if (PQstatus(impl->conn) == CONNECTION_BAD) throw Error("08001", impl->conn_message());
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    for (;;) {
        if (st == PGRES_POLLING_OK) break;
        if (st == PGRES_POLLING_FAILED) {
            std::string why = impl->conn_message();
            impl->unregister_fd();
            throw Error("08001", why);
        }
        // libpq may switch sockets (another address, SSL retry): register
        // whatever it uses now.
        impl->register_fd();
        ReadyWait w(&impl->io, st == PGRES_POLLING_READING, st == PGRES_POLLING_WRITING);
        co_await w;
        st = PQconnectPoll(impl->conn);
    }
    impl->register_fd();
    if (PQsetnonblocking(impl->conn, 1) != 0 || PQenterPipelineMode(impl->conn) != 1)
        throw Error("08001", impl->conn_message());
    impl->broken = false;
    co_return Connection(std::move(impl));
}

namespace {

void record_error(QueryMetrics& m, const std::string& sqlstate) {
    m.errors.fetch_add(1, std::memory_order_relaxed);
    try {
        ++m.errors_by_sqlstate[sqlstate.empty() ? "?????" : sqlstate];
    } catch (...) {
    }
}

void record_latency(QueryMetrics& m, std::chrono::steady_clock::time_point started) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    m.queries.fetch_add(1, std::memory_order_relaxed);
    m.latency_us.record(static_cast<std::uint64_t>(us < 0 ? 0 : us));
}

}  // namespace

Task<Result> Connection::query_params(std::string sql, Params params) {
    return run_query(std::move(sql), std::move(params), true, false);
}

Task<Result> Connection::query_params(ReadOnly, std::string sql, Params params) {
    return run_query(std::move(sql), std::move(params), true, true);
}

Task<Result> Connection::run_query(std::string sql, Params params, bool with_deadline,
                                   bool read_only) {
    if (!impl_) throw Error("08003", "connection is closed", sql);
    auto impl = impl_;
    QueryMetrics* metrics = impl->options.metrics.get();
    const auto started = std::chrono::steady_clock::now();
    // A shared statement that did not run because a neighbour in its group
    // failed is sent again; the bound only guards against a server that
    // keeps cancelling it.
    int resends = 0;
    for (int attempt = 0;; ++attempt) {
        auto r = std::make_shared<Request>();
        r->sql = std::move(sql);  // a retry takes it back below
        try {
            impl->send(r, params, with_deadline ? impl->statement_timeout_ms() : 0,
                       read_only && resends < 8);
        } catch (const Error& e) {
            if (metrics) record_error(*metrics, e.sqlstate());
            throw;
        }
        std::exception_ptr cancelled;
        try {
            co_await impl->wait_done(r);
        } catch (const Cancelled&) {
            cancelled = std::current_exception();
        }
        if (cancelled) {
            co_await shield(impl->cancel_and_drain(r));
            if (metrics) metrics->cancellations.fetch_add(1, std::memory_order_relaxed);
            std::rethrow_exception(cancelled);
        }
        if (r->aborted) {
            ++resends;
            --attempt;
            sql = std::move(r->sql);
            continue;
        }
        if (r->error && r->hit_by_cancel && impl->transaction_depth == 0 &&
            (r->status_after == PQTRANS_IDLE || r->status_after == PQTRANS_ACTIVE) && resends < 8) {
            // Another task's cancel request landed on this statement (see
            // Request::hit_by_cancel): its implicit transaction was rolled
            // back (ACTIVE: more requests in flight, as in drop_stale).
            ++resends;
            --attempt;
            sql = std::move(r->sql);
            continue;
        }
        if (r->error) {
            if (r->stale && impl->drop_stale(*r) && attempt == 0) {
                sql = std::move(r->sql);
                continue;
            }
            if (metrics) {
                std::string state;
                try {
                    std::rethrow_exception(r->error);
                } catch (const Error& e) {
                    state = e.sqlstate();
                } catch (...) {
                }
                record_error(*metrics, state);
                record_latency(*metrics, started);
            }
            std::rethrow_exception(r->error);
        }
        if (metrics) record_latency(*metrics, started);
        if (!r->result) throw Error("", "no result", r->sql);
        co_return std::move(*r->result);
    }
}

Task<std::vector<BatchResult>> Connection::run_batch(Batch batch) {
    if (!impl_) throw Error("08003", "connection is closed");
    auto impl = impl_;
    const long long timeout_ms = impl->statement_timeout_ms();
    std::vector<std::shared_ptr<Request>> requests;
    requests.reserve(batch.items_.size());
    for (auto& [sql, params] : batch.items_) {
        auto r = std::make_shared<Request>();
        r->sql = sql;
        impl->send(r, params, timeout_ms);
        requests.push_back(std::move(r));
    }
    std::exception_ptr cancelled;
    try {
        for (auto& r : requests) co_await impl->wait_done(r);
    } catch (const Cancelled&) {
        cancelled = std::current_exception();
    }
    if (cancelled) {
        for (auto& r : requests) {
            if (!r->done) {
                co_await shield(impl->cancel_and_drain(r));
                break;
            }
        }
        std::rethrow_exception(cancelled);
    }
    std::vector<BatchResult> out(requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i) {
        auto& r = requests[i];
        if (r->error && r->stale && impl->drop_stale(*r)) {
            // Prepared again and retried alone (still in order: the batch ran
            // outside a transaction block).
            try {
                out[i].result.emplace(co_await query_params(batch.items_[i].first,
                                                            std::move(batch.items_[i].second)));
            } catch (const std::exception&) {
                out[i].error = std::current_exception();
            }
            continue;
        }
        if (r->error) {
            out[i].error = r->error;
        } else if (r->result) {
            out[i].result = std::move(*r->result);
        } else {
            out[i].error = std::make_exception_ptr(Error("", "no result", r->sql));
        }
    }
    co_return out;
}

Task<std::int64_t> Connection::execute_params(std::string sql, Params params) {
    Result r = co_await query_params(std::move(sql), std::move(params));
    co_return r.affected_rows();
}

namespace {

std::int64_t command_tuples(PGresult* res) {
    const char* n = PQcmdTuples(res);
    return n && *n ? std::stoll(n) : 0;
}

}  // namespace

Task<std::int64_t> Connection::copy_from(std::string sql, CopySource next_chunk) {
    if (!impl_) throw Error("08003", "connection is closed", sql);
    auto impl = impl_;
    impl->begin_exclusive(sql);
    std::exception_ptr error;        // the server's or the source's
    std::exception_ptr interrupted;  // cancellation or connection loss: connection closed
    std::int64_t rows = 0;
    try {
        // Until the server asks for data.
        bool copying = false;
        for (;;) {
            PGresult* res = co_await impl->next_result(sql);
            if (!res) break;
            const auto st = PQresultStatus(res);
            if (st == PGRES_COPY_IN) {
                PQclear(res);
                copying = true;
                break;
            }
            if (!error && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
                error = std::make_exception_ptr(error_from(res, sql));
            PQclear(res);
        }
        if (copying) {
            std::exception_ptr source_error;
            try {
                for (;;) {
                    std::optional<std::string> chunk = co_await next_chunk();
                    if (!chunk) break;
                    for (;;) {
                        const int rc = PQputCopyData(impl->conn, chunk->data(),
                                                     static_cast<int>(chunk->size()));
                        if (rc == 1) break;
                        if (rc < 0) impl->fail(sql);
                        co_await impl->wait_io(true, sql);
                    }
                    if (PQflush(impl->conn) < 0) impl->fail(sql);
                }
            } catch (const std::exception&) {
                source_error = std::current_exception();
            }
            if (impl->broken) std::rethrow_exception(source_error);
            for (;;) {
                const int rc =
                    PQputCopyEnd(impl->conn, source_error ? "aborted by the client" : nullptr);
                if (rc == 1) break;
                if (rc < 0) impl->fail(sql);
                co_await impl->wait_io(true, sql);
            }
            co_await impl->flush_all(sql);
            for (;;) {
                PGresult* res = co_await impl->next_result(sql);
                if (!res) break;
                const auto st = PQresultStatus(res);
                if (st == PGRES_COMMAND_OK) {
                    rows = command_tuples(res);
                } else if (!error && !source_error) {
                    error = std::make_exception_ptr(error_from(res, sql));
                }
                PQclear(res);
            }
            if (source_error) error = source_error;
        }
    } catch (...) {
        interrupted = std::current_exception();
    }
    if (interrupted) {
        impl->set_broken("COPY interrupted");
        impl->exclusive = false;
        std::rethrow_exception(interrupted);
    }
    impl->end_exclusive(sql);
    if (error) std::rethrow_exception(error);
    co_return rows;
}

Task<std::int64_t> Connection::copy_from_chunks(std::string sql, std::vector<std::string> chunks) {
    std::size_t i = 0;
    CopySource source = [&]() -> Task<std::optional<std::string>> {
        if (i == chunks.size()) co_return std::nullopt;
        co_return std::move(chunks[i++]);
    };
    co_return co_await copy_from(std::move(sql), std::move(source));
}

std::string copy_text_row(const std::vector<std::optional<std::string>>& fields) {
    std::string out;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i) out += '\t';
        if (!fields[i]) {
            out += "\\N";
            continue;
        }
        for (char c : *fields[i]) {
            switch (c) {
                case '\\':
                    out += "\\\\";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                case '\n':
                    out += "\\n";
                    break;
                case '\r':
                    out += "\\r";
                    break;
                default:
                    out += c;
            }
        }
    }
    out += '\n';
    return out;
}

Task<std::int64_t> Connection::copy_from_rows(
    std::string sql, std::vector<std::vector<std::optional<std::string>>> rows) {
    std::vector<std::string> chunks;
    std::string chunk;
    for (const auto& row : rows) {
        chunk += copy_text_row(row);
        if (chunk.size() >= 64 * 1024) chunks.push_back(std::exchange(chunk, {}));
    }
    if (!chunk.empty()) chunks.push_back(std::move(chunk));
    co_return co_await copy_from_chunks(std::move(sql), std::move(chunks));
}

Task<std::int64_t> Connection::copy_to(std::string sql, CopySink on_chunk) {
    if (!impl_) throw Error("08003", "connection is closed", sql);
    auto impl = impl_;
    impl->begin_exclusive(sql);
    std::exception_ptr error;
    std::exception_ptr interrupted;
    std::int64_t rows = 0;
    try {
        co_await impl->flush_all(sql);
        bool copying = false;
        for (;;) {
            PGresult* res = co_await impl->next_result(sql);
            if (!res) break;
            const auto st = PQresultStatus(res);
            if (st == PGRES_COPY_OUT) {
                PQclear(res);
                copying = true;
                break;
            }
            if (!error && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
                error = std::make_exception_ptr(error_from(res, sql));
            PQclear(res);
        }
        if (copying) {
            for (;;) {
                char* buf = nullptr;
                const int n = PQgetCopyData(impl->conn, &buf, 1);
                if (n > 0) {
                    std::string chunk(buf, static_cast<std::size_t>(n));
                    PQfreemem(buf);
                    if (!error) {
                        try {
                            on_chunk(chunk);
                        } catch (const std::exception&) {
                            error = std::current_exception();  // drained, then rethrown
                        }
                    }
                    continue;
                }
                if (n == 0) {
                    co_await impl->wait_io(false, sql);
                    if (!PQconsumeInput(impl->conn)) impl->fail(sql);
                    continue;
                }
                if (n == -2) impl->fail(sql);
                break;  // -1: done
            }
            for (;;) {
                PGresult* res = co_await impl->next_result(sql);
                if (!res) break;
                if (PQresultStatus(res) == PGRES_COMMAND_OK) {
                    rows = command_tuples(res);
                } else if (!error) {
                    error = std::make_exception_ptr(error_from(res, sql));
                }
                PQclear(res);
            }
        }
    } catch (...) {
        interrupted = std::current_exception();
    }
    if (interrupted) {
        impl->set_broken("COPY interrupted");
        impl->exclusive = false;
        std::rethrow_exception(interrupted);
    }
    impl->end_exclusive(sql);
    if (error) std::rethrow_exception(error);
    co_return rows;
}

Task<Notification> Connection::next_notification() {
    if (!impl_) throw Error("08003", "connection is closed");
    auto impl = impl_;
    const std::string what = "(waiting for notifications)";
    for (;;) {
        if (impl->broken || !impl->conn)
            throw Error("08006", "connection is broken or closed", what);
        if (PGnotify* n = PQnotifies(impl->conn)) {
            Notification out{n->relname ? n->relname : "", n->extra ? n->extra : "", n->be_pid};
            PQfreemem(n);
            co_return out;
        }
        if (impl->exclusive || impl->driving || !impl->queue.empty())
            throw std::logic_error(
                "pg::Connection::next_notification: other requests are in flight (use a "
                "dedicated connection, e.g. pg::Listener)");
        impl->exclusive = true;
        struct Release {
            Impl* i;
            ~Release() { i->exclusive = false; }
        } release{impl.get()};
        co_await impl->wait_io(false, what);
        if (!PQconsumeInput(impl->conn) || PQstatus(impl->conn) == CONNECTION_BAD) impl->fail(what);
    }
}

Task<void> Connection::drain() {
    if (!impl_) co_return;
    auto impl = impl_;
    while (!impl->broken && !impl->queue.empty()) {
        auto last = impl->queue.back();
        co_await impl->wait_done(std::move(last));
    }
}

bool Connection::is_broken() const noexcept { return !impl_ || impl_->broken; }
std::size_t Connection::pending() const noexcept { return impl_ ? impl_->queue.size() : 0; }

bool Connection::check_idle() noexcept {
    if (!impl_ || impl_->broken) return false;
    if (!impl_->queue.empty()) return true;
    // Nothing arrived since the socket was last known to be empty (no readable
    // edge from the event loop): no poll(2) needed.
    if (!impl_->io.read_hint && !impl_->io.hangup) return true;
    pollfd p{impl_->io.fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, 0);
    if (ready == 0) impl_->io.read_hint = false;
    if (ready > 0) {
        if (!PQconsumeInput(impl_->conn) || PQstatus(impl_->conn) == CONNECTION_BAD) {
            impl_->set_broken(impl_->conn_message());
            return false;
        }
    }
    return true;
}

ConnectionStats Connection::stats() const noexcept {
    if (!impl_) return {};
    ConnectionStats s = impl_->stats;
    s.statement_cache_size = impl_->lru.size();
    return s;
}

TransactionStatus Connection::transaction_status() const noexcept {
    if (!impl_ || impl_->broken || !impl_->conn || !impl_->queue.empty())
        return TransactionStatus::unknown;
    switch (PQtransactionStatus(impl_->conn)) {
        case PQTRANS_IDLE:
            return TransactionStatus::idle;
        case PQTRANS_INTRANS:
            return TransactionStatus::in_transaction;
        case PQTRANS_INERROR:
            return TransactionStatus::failed;
        default:
            return TransactionStatus::unknown;
    }
}

int* Connection::transaction_depth() noexcept {
    return impl_ ? &impl_->transaction_depth : nullptr;
}

int Connection::backend_pid() const noexcept {
    return impl_ && impl_->conn ? PQbackendPID(impl_->conn) : 0;
}

void Connection::close() noexcept {
    if (impl_) impl_->close();
    impl_.reset();
}

}  // namespace weir::pg
