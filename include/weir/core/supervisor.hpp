// Supervisor: the owned home of long-lived background work.
//
// weir has no detached "fire and forget" spawn. Work that outlives a request
// (cache refreshers, pollers, consumers) runs in a Supervisor owned by the
// runtime's main task or the application. Unlike a TaskGroup, a failing
// child does not cancel its siblings: the error is reported (stderr by
// default, or a handler) and counted. When the supervising body returns,
// the children still running are cancelled with reason shutdown and joined.
//
//     co_await weir::supervise([&](weir::Supervisor& bg) -> weir::Task<> {
//         bg.spawn(refresh_cache_forever());
//         co_await serve_http();          // returns at shutdown
//     });                                 // refresher cancelled + joined here
#pragma once

#include "weir/core/task_group.hpp"

namespace weir {

class Supervisor : public TaskGroup {
public:
    Supervisor() noexcept : TaskGroup(detail::GroupPolicy::supervise) {
        core_.set_error_handler(&report);
    }
    std::size_t failures() const noexcept { return core_.supervised_failures(); }
    void on_error(detail::GroupCore::ErrorHandler handler) noexcept {
        core_.set_error_handler(handler);
    }

private:
    static void report(const char* task_name, const std::exception_ptr& e) noexcept;
};

template <class F>
auto supervise(F body) -> Task<detail::BodyResult<F, Supervisor>> {
    using R = detail::BodyResult<F, Supervisor>;
    Supervisor sup;
    co_return co_await detail::run_group<R>(
        sup.core(), [&] { return body(sup); }, true);
}

}  // namespace weir
