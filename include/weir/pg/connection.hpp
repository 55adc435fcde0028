// Connection: one PostgreSQL connection on libpq in non-blocking pipeline
// mode, driven by the shard's event loop.
//
//     auto conn = co_await weir::pg::Connection::connect("postgresql://postgres@127.0.0.1/db");
//     auto r = co_await conn.query("SELECT name FROM items WHERE id = $1", 42);
//     auto n = co_await conn.execute("DELETE FROM items WHERE id = $1", 42);
//
// Parameters are always bound (see Params); results come in the binary
// format. Every query is prepared once per connection and then executed by
// name (a bounded LRU statement cache keyed by query text and parameter
// types). Many tasks may query one connection concurrently: requests are
// pipelined (sent without waiting) and answered in order; an error fails only
// its own request. Cancelling a waiting task cancels its statement on the
// server (libpq cancel request on a worker thread) and drains its result, so
// the connection stays usable. The inherited deadline (with_timeout around
// the caller) also becomes the statement's statement_timeout, plus a grace
// period so the client-side timeout normally fires first; such a statement
// runs in an implicit transaction with the set_config() call, so statements
// that refuse transaction blocks (VACUUM, CREATE DATABASE) must run without a
// deadline. Inside a pg::transaction scope the previous statement_timeout is
// restored after the statement; a transaction opened by hand (execute
// "BEGIN") keeps the deadline's value until it ends. Use a Connection on the
// shard that created it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weir/core/task.hpp"
#include "weir/pg/error.hpp"
#include "weir/pg/metrics.hpp"
#include "weir/pg/params.hpp"
#include "weir/pg/query_api.hpp"
#include "weir/pg/result.hpp"

namespace weir::pg {

struct ConnectionOptions {
    std::size_t statement_cache_size = 256;
    // Where query counts and latencies are recorded (nullptr: nowhere).
    std::shared_ptr<QueryMetrics> metrics = nullptr;
};

// The server's transaction state as last reported (PQtransactionStatus).
// `unknown`: requests are in flight or the connection is broken.
enum class TransactionStatus { idle, in_transaction, failed, unknown };

struct ConnectionStats {
    std::uint64_t statement_cache_hits = 0;
    std::uint64_t statement_cache_misses = 0;  // = statements prepared
    std::uint64_t statement_cache_evictions = 0;
    std::uint64_t statement_reprepares = 0;  // stale statements dropped (DISCARD, schema change)
    std::size_t statement_cache_size = 0;    // statements cached now
};

// Batch: several statements sent in one round trip, each with its own
// result or error (each is its own implicit transaction: an error fails only
// its statement).
//
//     weir::pg::Batch b;
//     b.add("INSERT INTO t VALUES ($1)", 1).add("SELECT count(*) FROM t");
//     auto results = co_await conn.run_batch(std::move(b));
//     auto n = results[1].get()[0].get<std::int64_t>(0);   // get() rethrows its error
class Batch {
public:
    template <class... Args>
    Batch& add(std::string_view sql, const Args&... args) {
        items_.emplace_back(std::string(sql), make_params(args...));
        return *this;
    }
    std::size_t size() const noexcept { return items_.size(); }

private:
    friend class Connection;
    std::vector<std::pair<std::string, Params>> items_;
};

struct BatchResult {
    std::optional<Result> result;
    std::exception_ptr error;
    bool ok() const noexcept { return !error; }
    // The result, or the statement's error rethrown.
    const Result& get() const {
        if (error) std::rethrow_exception(error);
        return *result;
    }
};

// One NOTIFY received (see Listener).
struct Notification {
    std::string channel;
    std::string payload;
    int sender_pid = 0;
    // Set only by pg::Listener::next(): not a notification but the mark of a
    // reconnection (channel and payload empty). Notifications sent while the
    // listener was disconnected are lost; re-read what they would announce.
    bool reconnected = false;
};

// COPY ... FROM STDIN: yields the next chunk of COPY data, or nullopt at the end.
using CopySource = std::function<Task<std::optional<std::string>>()>;
// COPY ... TO STDOUT: receives each chunk (one row per chunk in text format).
using CopySink = std::function<void(std::string_view)>;
// One row in COPY's text format (tab-separated, escaped, NULL as \N, newline-terminated).
std::string copy_text_row(const std::vector<std::optional<std::string>>& fields);

class Connection : public detail::QueryApi<Connection> {
public:
    struct Impl;

    Connection() noexcept = default;
    Connection(Connection&&) noexcept = default;
    Connection& operator=(Connection&&) noexcept = default;
    ~Connection();

    // Connects (libpq conninfo string or postgresql:// URL; PG* environment
    // variables fill in the rest). Throws Error (SQLSTATE 08xxx) on failure.
    static Task<Connection> connect(std::string url, ConnectionOptions options = {});

    // query(sql, args...), query(read_only, sql, args...) and execute(sql,
    // args...) come from QueryApi: they bind the arguments (see Params) and
    // call these.
    Task<Result> query_params(std::string sql, Params params);
    // A statement that only reads (the caller promises it: no writes, no
    // side-effecting functions). Concurrent read_only statements flushed in
    // one write share one Sync, so the server commits and answers the group
    // at once (about half its cost per statement when pipelined) instead of
    // once per statement. They share an implicit transaction: if one fails,
    // the ones after it in the group did not run and are sent again; results
    // already delivered stay valid (they only read). Inside a transaction
    // scope, or with a deadline (its statement_timeout is per transaction),
    // it runs as an ordinary query.
    Task<Result> query_params(ReadOnly, std::string sql, Params params);
    Task<std::int64_t> execute_params(std::string sql, Params params);
    // The rows as described structs (see result.hpp).
    template <class T, class... Args>
    Task<std::vector<T>> query_as(std::string_view sql, const Args&... args) {
        return query_as_params<T>(std::string(sql), make_params(args...));
    }
    template <class T>
    Task<std::vector<T>> query_as_params(std::string sql, Params params) {
        Result r = co_await query_params(std::move(sql), std::move(params));
        co_return r.as<T>();
    }
    // Sends every statement of the batch before waiting for any result.
    // Stale cached statements are prepared again and retried as in query().
    Task<std::vector<BatchResult>> run_batch(Batch batch);

    // COPY. These need the connection to themselves (nothing else in flight;
    // other requests fail with SQLSTATE 55000 meanwhile) and run outside
    // pipeline mode. They return the rows copied. An error of the server or
    // of the source/sink is thrown after the COPY ended and leaves the
    // connection usable; a cancellation or connection loss mid-COPY closes it.
    //
    //     co_await conn.copy_from_rows("COPY t (id, name) FROM STDIN", {{"1", "a"}, {"2",
    //     std::nullopt}}); co_await conn.copy_to("COPY t TO STDOUT", [&](std::string_view chunk) {
    //     out += chunk; });
    Task<std::int64_t> copy_from(std::string sql, CopySource next_chunk);
    Task<std::int64_t> copy_from_chunks(std::string sql, std::vector<std::string> chunks);
    Task<std::int64_t> copy_from_rows(std::string sql,
                                      std::vector<std::vector<std::optional<std::string>>> rows);
    Task<std::int64_t> copy_to(std::string sql, CopySink on_chunk);

    // Waits for the next NOTIFY on a connection that has run LISTEN and has
    // nothing else in flight (see Listener for the reconnecting stream).
    Task<Notification> next_notification();

    bool is_open() const noexcept { return impl_ != nullptr; }
    // The connection failed (server gone, terminated, protocol error).
    bool is_broken() const noexcept;
    // Requests sent or queued whose results have not all arrived.
    std::size_t pending() const noexcept;
    // Waits until pending() is 0 (or the connection breaks), reading the
    // results of what is in flight (e.g. the Sync closing a read_only group).
    Task<void> drain();
    // Quick idle check without a round trip: reads whatever the server sent
    // while idle (e.g. a termination notice) and reports whether the
    // connection still looks usable.
    bool check_idle() noexcept;
    ConnectionStats stats() const noexcept;
    // Idle, in a transaction block, in a failed transaction block, or unknown
    // (requests in flight, broken). A pool reuses only idle connections.
    TransactionStatus transaction_status() const noexcept;
    // Server process id (pg_backend_pid()).
    int backend_pid() const noexcept;
    // Closes now; requests still pending fail.
    void close() noexcept;

private:
    friend class Transaction;
    // with_deadline = false: no statement_timeout (transaction control).
    Task<Result> run_query(std::string sql, Params params, bool with_deadline, bool read_only);
    // Nesting depth of Transaction scopes open on this connection.
    int* transaction_depth() noexcept;
    explicit Connection(std::shared_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
    std::shared_ptr<Impl> impl_;
};

}  // namespace weir::pg
