// Type OIDs of the built-in PostgreSQL types the driver encodes and decodes.
#pragma once

#include <cstdint>

namespace weir::pg::oid {

inline constexpr std::uint32_t boolean = 16, bytea = 17, name = 19, int8 = 20, int2 = 21, int4 = 23,
                               text = 25, oid = 26, json = 114, float4 = 700, float8 = 701,
                               bpchar = 1042, varchar = 1043, date = 1082, timestamp = 1114,
                               timestamptz = 1184, numeric = 1700, uuid = 2950, jsonb = 3802;

}  // namespace weir::pg::oid

namespace weir::pg {
// Microseconds from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch).
inline constexpr std::int64_t pg_epoch_offset_us = 946'684'800LL * 1'000'000;
inline constexpr std::int32_t pg_epoch_offset_days = 10'957;
}  // namespace weir::pg
