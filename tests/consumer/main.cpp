// Smallest program using an installed weir: runs one task on a one-shard runtime.
#include <weir/core/runtime.hpp>
#include <weir/core/task.hpp>

int main() {
    weir::Runtime rt{weir::RuntimeOptions{.shards = 1}};
    int v = rt.run([]() -> weir::Task<int> { co_return 42; }());
    return v == 42 ? 0 : 1;
}
