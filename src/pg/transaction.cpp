#include "weir/pg/transaction.hpp"

#include <chrono>
#include <stdexcept>

namespace weir::pg {

namespace {

std::string savepoint_name(int depth) { return "weir_sp_" + std::to_string(depth); }

}  // namespace

std::string begin_statement(const TransactionOptions& o) {
    std::string s = "BEGIN";
    switch (o.isolation) {
        case IsolationLevel::server_default:
            break;
        case IsolationLevel::read_committed:
            s += " ISOLATION LEVEL READ COMMITTED";
            break;
        case IsolationLevel::repeatable_read:
            s += " ISOLATION LEVEL REPEATABLE READ";
            break;
        case IsolationLevel::serializable:
            s += " ISOLATION LEVEL SERIALIZABLE";
            break;
    }
    if (o.read_only) s += " READ ONLY";
    if (o.deferrable) s += " DEFERRABLE";
    return s;
}

// Not a coroutine: the Params temporary never sits in a co_await expression
// (g++ 12 would destroy it twice).
Task<Result> Transaction::control(Connection& conn, std::string sql) {
    return conn.run_query(std::move(sql), Params(), false, false);
}

Task<Transaction> Transaction::begin(Connection& conn, TransactionOptions options) {
    int* depth = conn.transaction_depth();
    if (!depth) throw Error("08003", "connection is closed", "BEGIN");
    const int d = *depth + 1;
    *depth = d;
    Transaction tx(&conn, d);
    try {
        if (d == 1) {
            co_await control(conn, begin_statement(options));
        } else {
            co_await control(conn, "SAVEPOINT " + savepoint_name(d));
        }
    } catch (...) {
        tx.finished_ = true;
        tx.leave();
        throw;
    }
    co_return tx;
}

void Transaction::leave() noexcept {
    if (!conn_) return;
    if (int* depth = conn_->transaction_depth(); depth && *depth >= depth_) *depth = depth_ - 1;
}

Task<void> Transaction::commit() {
    finished_ = true;
    struct Leave {
        Transaction* t;
        ~Leave() { t->leave(); }
    } leave_on_exit{this};
    if (depth_ == 1) {
        co_await control(*conn_, "COMMIT");
    } else {
        co_await control(*conn_, "RELEASE SAVEPOINT " + savepoint_name(depth_));
    }
}

Task<void> Transaction::rollback() {
    struct Leave {
        Transaction* t;
        ~Leave() { t->leave(); }
    } leave_on_exit{this};
    Connection& conn = *conn_;
    if (!conn.is_open() || conn.is_broken()) co_return;
    const bool outer = depth_ == 1;
    if (finished_ && outer && conn.transaction_status() == TransactionStatus::idle) co_return;
    finished_ = true;
    bool ok = true;
    try {
        if (outer) {
            auto t = control(conn, "ROLLBACK");
            co_await with_timeout(std::chrono::seconds(10), std::move(t));
        } else {
            const std::string name = savepoint_name(depth_);
            auto t1 = control(conn, "ROLLBACK TO SAVEPOINT " + name);
            co_await with_timeout(std::chrono::seconds(10), std::move(t1));
            auto t2 = control(conn, "RELEASE SAVEPOINT " + name);
            co_await with_timeout(std::chrono::seconds(10), std::move(t2));
        }
    } catch (const std::exception&) {
        ok = false;
    }
    // Never leave a connection in an unknown transaction state.
    if (!ok || (outer && conn.transaction_status() != TransactionStatus::idle)) conn.close();
}

}  // namespace weir::pg
