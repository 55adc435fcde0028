#include <weir/core.hpp>
#include <weir/testing/async_test.hpp>

using namespace std::chrono_literals;

namespace {

weir::Task<int> add(int a, int b) { co_return a + b; }

}  // namespace

WEIR_TEST(Smoke, AwaitsAndSleeps) {
    int v = co_await add(1, 2);
    EXPECT_EQ(v, 3);
    co_await weir::sleep_for(1ms);
    auto [a, b] = co_await weir::when_all(add(1, 1), add(2, 2));
    EXPECT_EQ(a, 2);
    EXPECT_EQ(b, 4);
}
