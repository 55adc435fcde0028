#include "weir/core/supervisor.hpp"

#include <cstdio>

namespace weir {

void Supervisor::report(const char* task_name, const std::exception_ptr& e) noexcept {
    const char* what = "<non-standard exception>";
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        what = x.what();
        std::fprintf(stderr, "weir: supervised task '%s' failed: %s\n", task_name, what);
        return;
    } catch (...) {
    }
    std::fprintf(stderr, "weir: supervised task '%s' failed: %s\n", task_name, what);
}

}  // namespace weir
