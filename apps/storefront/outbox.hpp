// The transactional outbox: jobs that must follow a committed write (an order's confirmation
// mail) are first written to the `outbox` table in the same transaction, so a crash or a Redis
// outage between the commit and the enqueue cannot lose them. The service enqueues and deletes
// the row right after the commit; whatever is left (enqueue failed, process died) is enqueued
// by the relay, a periodic job of `storefront worker` (once per period across the fleet).
// Job ids are derived from the order, so a job enqueued twice while queued or running is one
// job; delivery is at least once. Header-only so the tests run the very same relay.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "weir/core/task.hpp"
#include "weir/jobs/queue.hpp"
#include "weir/pg/connection.hpp"
#include "weir/pg/transaction.hpp"

namespace storefront {

inline constexpr std::string_view kOutboxRelayJob = "storefront.outbox_relay";

inline constexpr const char* kOutboxSchema =
    "CREATE TABLE IF NOT EXISTS outbox (job_id text PRIMARY KEY, job text NOT NULL, "
    "args text NOT NULL, max_tries integer NOT NULL, created_at timestamptz NOT NULL "
    "DEFAULT now())";

// Inside the transaction of the write the job follows.
inline weir::Task<void> outbox_add(weir::pg::Connection& tx_conn, std::string job_id,
                                   std::string job, std::string args, int max_tries) {
    co_await tx_conn.execute(
        "INSERT INTO outbox (job_id, job, args, max_tries) VALUES ($1, $2, $3, $4)", job_id, job,
        args, max_tries);
}

// After the commit: enqueues the job (throws if Redis is unavailable; the row then waits for
// the relay). Its id makes a second enqueue while it is queued or running a no-op.
inline weir::Task<void> outbox_enqueue(weir::jobs::Queue& queue, std::string job_id,
                                       std::string job, std::string args, int max_tries) {
    weir::jobs::JobOptions options;
    options.id = std::move(job_id);
    options.max_tries = max_tries;
    co_await queue.enqueue(job, args, options);
}

// Once the job is enqueued: its row is done with.
inline weir::Task<void> outbox_remove(weir::pg::Connection& conn, std::string job_id) {
    co_await conn.execute("DELETE FROM outbox WHERE job_id = $1", job_id);
}

// Enqueues the jobs whose rows are older than `min_age` (younger ones are normally being
// delivered by the service that wrote them) and deletes those rows, at most `limit` per call,
// in one transaction: rows stay if anything fails, and concurrent relays skip locked rows.
// Returns how many were enqueued.
inline weir::Task<std::size_t> outbox_relay(weir::pg::Connection& conn, weir::jobs::Queue& queue,
                                            std::chrono::milliseconds min_age, int limit = 100) {
    auto body = [&](weir::pg::Transaction& tx) -> weir::Task<std::size_t> {
        const std::string age = std::to_string(min_age.count()) + " milliseconds";
        auto rows = co_await tx->query(
            "SELECT job_id, job, args, max_tries FROM outbox WHERE created_at < now() - "
            "$1::interval ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            age, limit);
        std::size_t n = 0;
        for (int i = 0; i < rows.rows(); ++i) {
            auto row = rows[i];
            std::string job_id = row.get<std::string>(0);
            std::string job = row.get<std::string>(1);
            std::string args = row.get<std::string>(2);
            co_await outbox_enqueue(queue, job_id, std::move(job), std::move(args),
                                    row.get<std::int32_t>(3));
            co_await outbox_remove(tx.connection(), std::move(job_id));
            ++n;
        }
        co_return n;
    };
    weir::pg::TransactionOptions options;
    co_return co_await weir::pg::transaction(conn, std::move(body), options);
}

}  // namespace storefront
