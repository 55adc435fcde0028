// The `email.confirmation` job: what storefront's worker runs for every order. There is no
// mail server here, so it writes the mail it would send to a log and returns a small JSON
// receipt (the job's result). Header-only so the integration tests run the very same function
// in an in-process worker.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "weir/core/task.hpp"
#include "weir/http/json.hpp"
#include "weir/jobs/job.hpp"

namespace storefront {

inline constexpr std::string_view kEmailJob = "email.confirmation";

// The job id of an order's confirmation: enqueueing it twice (a retried request) is a no-op.
inline std::string email_job_id(std::int64_t order_id) {
    return "order-" + std::to_string(order_id) + "-email";
}

// Args {"order_id":N,"email":"...","total":"12.34"} -> result {"sent_to":"...","order_id":N}.
inline weir::Task<std::string> send_confirmation(weir::jobs::JobContext& job, std::FILE* log) {
    const auto doc = weir::http::JsonDocument::parse(job.args);
    const auto root = doc.root();
    const auto order = root.find("order_id");
    const auto email = root.find("email");
    const auto total = root.find("total");
    if (!order || !email || !order->get_int64() || !email->get_string())
        throw std::invalid_argument("email.confirmation: bad args " + job.args);
    const std::int64_t order_id = *order->get_int64();
    const std::string to(*email->get_string());
    const std::string amount(total && total->get_string() ? *total->get_string() : "?");
    std::fprintf(log,
                 "email.confirmation (job %s, attempt %d): To: %s | Subject: Order #%lld "
                 "confirmed | Thank you for your order #%lld, total %s.\n",
                 job.id.c_str(), job.attempt, to.c_str(), static_cast<long long>(order_id),
                 static_cast<long long>(order_id), amount.c_str());
    std::fflush(log);
    std::string out;
    weir::http::JsonWriter w(out);
    w.begin_object().member("sent_to", to).member("order_id", order_id).end_object();
    co_return out;
}

}  // namespace storefront
