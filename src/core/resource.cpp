#include "weir/core/resource.hpp"

#include <cstdio>

namespace weir {

void AsyncResource::report_leak() noexcept {
    leaked_.fetch_add(1, std::memory_order_relaxed);
    std::fprintf(stderr, "weir: %s destroyed while still open (missing co_await close())\n",
                 kind_);
}

}  // namespace weir
