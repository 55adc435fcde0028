// Type OIDs of the built-in PostgreSQL types the driver encodes and decodes.
#pragma once

#include <cstdint>
#include <utility>

namespace weir::pg::oid {

inline constexpr std::uint32_t boolean = 16, bytea = 17, name = 19, int8 = 20, int2 = 21, int4 = 23,
                               text = 25, oid = 26, json = 114, float4 = 700, float8 = 701,
                               bpchar = 1042, varchar = 1043, date = 1082, timestamp = 1114,
                               timestamptz = 1184, interval = 1186, numeric = 1700, uuid = 2950,
                               jsonb = 3802;

// Array type of an element type (0 if the driver does not know it) and back.
inline constexpr std::pair<std::uint32_t, std::uint32_t> arrays[] = {
    {boolean, 1000},  {bytea, 1001},   {name, 1003},      {int2, 1005}, {int4, 1007},
    {text, 1009},     {bpchar, 1014},  {varchar, 1015},   {int8, 1016}, {float4, 1021},
    {float8, 1022},   {oid, 1028},     {timestamp, 1115}, {date, 1182}, {timestamptz, 1185},
    {interval, 1187}, {numeric, 1231}, {uuid, 2951},      {json, 199},  {jsonb, 3807}};
inline constexpr std::uint32_t array_of(std::uint32_t element) {
    for (auto [e, a] : arrays)
        if (e == element) return a;
    return 0;
}
inline constexpr std::uint32_t element_of(std::uint32_t array) {
    for (auto [e, a] : arrays)
        if (a == array) return e;
    return 0;
}

}  // namespace weir::pg::oid

namespace weir::pg {
// Microseconds from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch).
inline constexpr std::int64_t pg_epoch_offset_us = 946'684'800LL * 1'000'000;
inline constexpr std::int32_t pg_epoch_offset_days = 10'957;
}  // namespace weir::pg
