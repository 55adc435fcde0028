// libFuzzer target for typed JSON bodies (weir/http/typed_body.hpp), the path every request body
// of a typed handler takes: parse_json either gives a value or throws ValidationError with at
// least one issue with a location, a message and a type; a value written back with to_json reads
// back equal, and the 422 body is a "detail" object. Both with and without
// forbid_extra_fields.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "weir/http/typed_body.hpp"

namespace fuzz_types {

enum class Colour { red, green, blue };
BOOST_DESCRIBE_ENUM(Colour, red, green, blue)

struct Line {
    std::string sku;
    std::uint16_t quantity = 0;
    double price = 0;
    std::optional<std::string> note;
    bool operator==(const Line&) const = default;
};
BOOST_DESCRIBE_STRUCT(Line, (), (sku, quantity, price, note))

struct Order {
    std::int64_t id = 0;
    std::int8_t priority = 0;
    bool rush = false;
    float weight = 0;
    Colour colour = Colour::red;
    std::vector<Line> lines;
    std::map<std::string, std::int32_t> counters;
    std::optional<std::vector<std::optional<std::uint64_t>>> tags;
    bool operator==(const Order&) const = default;
};
BOOST_DESCRIBE_STRUCT(Order, (), (id, priority, rush, weight, colour, lines, counters, tags))

}  // namespace fuzz_types

namespace {

using weir::http::JsonReadOptions;
using weir::http::ValidationError;

template <class T>
void check(std::string_view text, const JsonReadOptions& options) {
    T value;
    try {
        value = weir::http::parse_json<T>(text, options);
    } catch (const ValidationError& e) {
        FUZZ_CHECK(!e.issues().empty());
        for (const auto& issue : e.issues()) {
            FUZZ_CHECK(!issue.loc.empty());
            FUZZ_CHECK(!issue.msg.empty() && !issue.type.empty());
        }
        const std::string body = weir::http::validation_error_json(e.issues());
        FUZZ_CHECK(body.rfind("{\"detail\":[", 0) == 0 && body.back() == '}');
        return;
    }
    const std::string written = weir::http::to_json(value);
    T again;
    try {
        again = weir::http::parse_json<T>(written, options);
    } catch (const ValidationError&) {
        FUZZ_CHECK(!"to_json of a parsed value does not parse back");
    }
    FUZZ_CHECK(again == value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const weir::fuzz::HeapBuffer input(std::string_view(reinterpret_cast<const char*>(data), size));
    JsonReadOptions lax;
    JsonReadOptions strict;
    strict.forbid_extra_fields = true;
    check<fuzz_types::Order>(input.view(), lax);
    check<fuzz_types::Order>(input.view(), strict);
    check<std::vector<fuzz_types::Line>>(input.view(), lax);
    return 0;
}
