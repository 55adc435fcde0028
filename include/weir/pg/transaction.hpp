// Transactions as an async scope: the body runs inside BEGIN ... COMMIT; an
// exception or a cancellation rolls back (the rollback runs shielded, then
// the exception or Cancelled is rethrown). Nested scopes are savepoints.
//
//     int id = co_await weir::pg::transaction(conn, [&](weir::pg::Transaction& tx) ->
//     weir::Task<int> {
//         auto r = co_await tx->query("INSERT INTO t (v) VALUES ($1) RETURNING id", 1);
//         co_await tx.savepoint([&](weir::pg::Transaction& sp) -> weir::Task<void> {
//             co_await sp->execute("UPDATE t SET v = v + 1");   // undone alone if this throws
//         });
//         co_return r[0].get<std::int32_t>(0);
//     }, {.isolation = weir::pg::IsolationLevel::serializable});
//
// With a pool, pass the pooled connection: transaction(*conn, ...). If the
// rollback itself fails (connection lost), a bare Connection is closed and
// a pooled one is discarded: a connection is never reused inside a
// transaction. Inside a transaction the inherited deadline still becomes the
// statement's statement_timeout: the previous value is saved before and
// restored after each such statement; the transaction control statements
// themselves never get one. Options of a nested
// scope are ignored (a savepoint inherits the transaction's). While a
// transaction is open, its connection belongs to the scope: statements that
// other tasks pipeline onto the same connection would run inside it.
#pragma once

#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "weir/core/task.hpp"
#include "weir/core/timeout.hpp"
#include "weir/pg/connection.hpp"

namespace weir::pg {

enum class IsolationLevel { server_default, read_committed, repeatable_read, serializable };

struct TransactionOptions {
    IsolationLevel isolation = IsolationLevel::server_default;
    bool read_only = false;
    bool deferrable = false;  // only meaningful with serializable + read_only
};

// "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE" etc.
std::string begin_statement(const TransactionOptions& options);

class Transaction;

template <class F>
auto transaction(Connection& conn, F fn, TransactionOptions options = {})
    -> Task<typename std::invoke_result_t<F&, Transaction&>::value_type>;

class Transaction {
public:
    Transaction(Transaction&& o) noexcept
        : conn_(std::exchange(o.conn_, nullptr)), depth_(o.depth_), finished_(o.finished_) {}
    Transaction& operator=(Transaction&&) = delete;
    ~Transaction() = default;

    Connection& connection() noexcept { return *conn_; }
    Connection* operator->() noexcept { return conn_; }
    // 1 for the outermost transaction, 2 for a savepoint inside it, ...
    int depth() const noexcept { return depth_; }

    // Runs `fn` inside a savepoint: released on success, rolled back to on
    // exception or cancellation (the outer transaction goes on).
    template <class F>
    auto savepoint(F fn) {
        return transaction(*conn_, std::move(fn));
    }

    // Scope machinery (used by transaction()).
    static Task<Transaction> begin(Connection& conn, TransactionOptions options);
    Task<void> commit();
    // Never throws a std::exception: on failure the connection is closed.
    Task<void> rollback();

private:
    Transaction(Connection* c, int depth) noexcept : conn_(c), depth_(depth) {}
    void leave() noexcept;
    // A transaction control statement (never given a statement_timeout).
    static Task<Result> control(Connection& conn, std::string sql);
    Connection* conn_;
    int depth_;
    bool finished_ = false;
};

template <class F>
auto transaction(Connection& conn, F fn, TransactionOptions options)
    -> Task<typename std::invoke_result_t<F&, Transaction&>::value_type> {
    using R = typename std::invoke_result_t<F&, Transaction&>::value_type;
    Transaction tx = co_await Transaction::begin(conn, options);
    std::exception_ptr error;
    if constexpr (std::is_void_v<R>) {
        try {
            co_await fn(tx);
            co_await tx.commit();
            co_return;
        } catch (...) {  // also weir::Cancelled: roll back, then rethrow it
            error = std::current_exception();
        }
    } else {
        std::optional<R> value;
        try {
            value.emplace(co_await fn(tx));
            co_await tx.commit();
        } catch (...) {
            error = std::current_exception();
        }
        if (!error) co_return std::move(*value);
    }
    co_await shield(tx.rollback());
    std::rethrow_exception(error);
}

}  // namespace weir::pg
