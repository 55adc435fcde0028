// libFuzzer target for the PostgreSQL driver's binary decoders (weir/pg/result.hpp): a value as
// the server could send it, under any column type the driver knows (arrays included), read as
// every C++ type the driver maps. Each read either gives a value or throws TypeMismatch naming
// the column; nothing else escapes and nothing reads outside the value. The PGresult is built
// with libpq's own PQmakeEmptyPGresult / PQsetResultAttrs / PQsetvalue, as a server's reply
// would leave it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

#include "fuzz_support.hpp"
#include "weir/pg/error.hpp"
#include "weir/pg/interval.hpp"
#include "weir/pg/result.hpp"

namespace {

// Element types and their array types (pg_type OIDs).
constexpr unsigned kTypes[] = {16,   17,   19,   20,   21,   23,   25,   26,   114,  700,
                               701,  1042, 1043, 1082, 1114, 1184, 1186, 1700, 2950, 3802,
                               1000, 1001, 1003, 1005, 1007, 1009, 1014, 1015, 1016, 1021,
                               1022, 1028, 1115, 1182, 1185, 1187, 1231, 2951, 199,  3807};

weir::pg::Result make_result(unsigned type, std::string_view value, bool null) {
    PGresult* res = PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK);
    FUZZ_CHECK(res != nullptr);
    PGresAttDesc column{};
    column.name = const_cast<char*>("v");
    column.typid = type;
    column.format = 1;  // binary, as the driver asks for
    column.typlen = -1;
    column.atttypmod = -1;
    FUZZ_CHECK(PQsetResultAttrs(res, 1, &column) != 0);
    FUZZ_CHECK(PQsetvalue(res, 0, 0, null ? nullptr : const_cast<char*>(value.data()),
                          null ? -1 : static_cast<int>(value.size())) != 0);
    return weir::pg::Result(res);
}

template <class T>
void read_as(const weir::pg::Result& r) {
    try {
        (void)r[0].get<T>(0);
    } catch (const weir::pg::TypeMismatch& e) {
        FUZZ_CHECK(std::string_view(e.what()).find('v') != std::string_view::npos);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const unsigned type = kTypes[data[0] % std::size(kTypes)];
    const bool null = data[0] >= 0xF0;
    const weir::fuzz::HeapBuffer value(
        std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
    const weir::pg::Result r = make_result(type, value.view(), null);
    FUZZ_CHECK(r.rows() == 1 && r.columns() == 1);

    read_as<bool>(r);
    read_as<std::int16_t>(r);
    read_as<std::int32_t>(r);
    read_as<std::int64_t>(r);
    read_as<float>(r);
    read_as<double>(r);
    read_as<std::string>(r);
    read_as<std::vector<std::byte>>(r);
    read_as<std::chrono::system_clock::time_point>(r);
    read_as<std::chrono::sys_days>(r);
    read_as<weir::pg::Interval>(r);
    read_as<std::chrono::microseconds>(r);
    read_as<std::optional<std::string>>(r);
    read_as<std::vector<std::int32_t>>(r);
    read_as<std::vector<std::optional<std::int64_t>>>(r);
    read_as<std::vector<std::string>>(r);
    read_as<std::vector<std::optional<std::string>>>(r);
    read_as<std::vector<double>>(r);
    read_as<std::vector<weir::pg::Interval>>(r);
    return 0;
}
