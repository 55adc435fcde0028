#include "weir/pg/result.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include <libpq-fe.h>

#include "oids.hpp"
#include "weir/pg/error.hpp"

namespace weir::pg {

namespace {

const PGresult* pg(const std::shared_ptr<void>& p) { return static_cast<const PGresult*>(p.get()); }

template <class T>
T read_be(const char* p) {
    std::make_unsigned_t<T> u = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
        u = static_cast<std::make_unsigned_t<T>>((u << 8) | static_cast<unsigned char>(p[i]));
    return std::bit_cast<T>(u);
}

std::uint32_t ftype(const detail::Field& f) {
    return f.elem_index >= 0 ? f.elem_type : f.result->column_type(f.column);
}
std::string_view fraw(const detail::Field& f) {
    if (f.elem_index >= 0) return {f.elem_data, static_cast<std::size_t>(f.elem_size)};
    return f.result->raw(f.row, f.column);
}

std::string type_name(std::uint32_t t) {
    if (const auto e = oid::element_of(t)) {
        std::string n = type_name(e);
        return n.starts_with("type oid") ? "type oid " + std::to_string(t) : n + "[]";
    }
    switch (t) {
        case oid::interval:
            return "interval";
        case oid::boolean:
            return "bool";
        case oid::bytea:
            return "bytea";
        case oid::name:
            return "name";
        case oid::int8:
            return "int8";
        case oid::int2:
            return "int2";
        case oid::int4:
            return "int4";
        case oid::text:
            return "text";
        case oid::oid:
            return "oid";
        case oid::json:
            return "json";
        case oid::float4:
            return "float4";
        case oid::float8:
            return "float8";
        case oid::bpchar:
            return "bpchar";
        case oid::varchar:
            return "varchar";
        case oid::date:
            return "date";
        case oid::timestamp:
            return "timestamp";
        case oid::timestamptz:
            return "timestamptz";
        case oid::numeric:
            return "numeric";
        case oid::uuid:
            return "uuid";
        case oid::jsonb:
            return "jsonb";
        default:
            return "type oid " + std::to_string(t);
    }
}

std::string column_label(const detail::Field& f) {
    std::string s = "column \"" + f.result->column_name(f.column) + "\" (index " +
                    std::to_string(f.column) + ")";
    if (f.elem_index >= 0) s += " element " + std::to_string(f.elem_index);
    return s;
}

[[noreturn]] void mismatch(const detail::Field& f, std::uint32_t type, const char* cpp) {
    throw TypeMismatch(column_label(f) + ": cannot read PostgreSQL " + type_name(type) +
                       " as C++ " + cpp);
}

void need_size(const detail::Field& f, std::string_view raw, std::size_t n) {
    if (raw.size() != n)
        throw TypeMismatch(column_label(f) + ": unexpected binary size " +
                           std::to_string(raw.size()));
}

std::string decode_numeric(const detail::Field& f, std::string_view raw) {
    if (raw.size() < 8) need_size(f, raw, 8);
    const char* p = raw.data();
    const int ndigits = read_be<std::int16_t>(p);
    const int weight = read_be<std::int16_t>(p + 2);
    const auto sign = static_cast<std::uint16_t>(read_be<std::int16_t>(p + 4));
    const int dscale = read_be<std::int16_t>(p + 6);
    if (sign == 0xC000) return "NaN";
    if (sign == 0xD000) return "Infinity";
    if (sign == 0xF000) return "-Infinity";
    if (ndigits < 0 || raw.size() != 8 + 2 * static_cast<std::size_t>(ndigits))
        need_size(f, raw, 8 + 2 * static_cast<std::size_t>(ndigits < 0 ? 0 : ndigits));
    for (int i = 0; i < ndigits; ++i) {
        const int d = read_be<std::int16_t>(p + 8 + 2 * i);
        if (d < 0 || d > 9999)
            throw TypeMismatch(column_label(f) + ": malformed numeric value (digit " +
                               std::to_string(d) + ")");
    }
    if (sign != 0 && sign != 0x4000)
        throw TypeMismatch(column_label(f) + ": malformed numeric value (sign " +
                           std::to_string(sign) + ")");
    auto digit = [&](int i) -> int {
        if (i < 0 || i >= ndigits) return 0;
        return read_be<std::int16_t>(p + 8 + 2 * i);
    };
    std::string out;
    if (sign == 0x4000 && ndigits > 0) out += '-';
    // Integer part: base-10000 groups 0..weight.
    if (weight < 0) {
        out += '0';
    } else {
        for (int i = 0; i <= weight; ++i) {
            std::string g = std::to_string(digit(i));
            if (i > 0) g.insert(0, 4 - g.size(), '0');
            out += g;
        }
    }
    if (dscale > 0) {
        out += '.';
        std::string frac;
        for (int i = weight + 1; static_cast<int>(frac.size()) < dscale; ++i) {
            std::string g = std::to_string(digit(i));
            g.insert(0, 4 - g.size(), '0');
            frac += g;
        }
        frac.resize(static_cast<std::size_t>(dscale));
        out += frac;
    }
    return out;
}

std::string decode_uuid(std::string_view raw) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
        auto b = static_cast<unsigned char>(raw[i]);
        s += hex[b >> 4];
        s += hex[b & 15];
    }
    return s;
}

template <class Int>
void decode_int(const detail::Field& f, Int& out, const char* cpp) {
    const auto t = ftype(f);
    const auto raw = fraw(f);
    if (t == oid::int2 && sizeof(Int) >= 2) {
        need_size(f, raw, 2);
        out = read_be<std::int16_t>(raw.data());
    } else if ((t == oid::int4 || t == oid::oid) && sizeof(Int) >= 4) {
        need_size(f, raw, 4);
        if (t == oid::oid)
            out = static_cast<Int>(read_be<std::uint32_t>(raw.data()));
        else
            out = read_be<std::int32_t>(raw.data());
    } else if (t == oid::int8 && sizeof(Int) >= 8) {
        need_size(f, raw, 8);
        out = static_cast<Int>(read_be<std::int64_t>(raw.data()));
    } else {
        mismatch(f, t, cpp);
    }
}

}  // namespace

Result::Result(void* pg_result)
    : res_(pg_result, [](void* r) { PQclear(static_cast<PGresult*>(r)); }) {
    const PGresult* r = pg(res_);
    rows_ = PQntuples(r);
    columns_ = PQnfields(r);
    const char* n = PQcmdTuples(const_cast<PGresult*>(r));
    if (n && *n) affected_ = std::stoll(n);
}

Row Result::row(int r) const {
    if (r < 0 || r >= rows_)
        throw std::out_of_range("row " + std::to_string(r) + " out of range (" +
                                std::to_string(rows_) + " rows)");
    return Row(this, r);
}

std::string Result::column_name(int column) const {
    const char* n = res_ ? PQfname(pg(res_), column) : nullptr;
    return n ? n : "?";
}

int Result::find_column(std::string_view name) const {
    for (int c = 0; c < columns_; ++c)
        if (name == PQfname(pg(res_), c)) return c;
    return -1;
}

std::uint32_t Result::column_type(int column) const { return PQftype(pg(res_), column); }

bool Result::is_null(int row, int column) const {
    if (row < 0 || row >= rows_ || column < 0 || column >= columns_)
        throw std::out_of_range("field (" + std::to_string(row) + ", " + std::to_string(column) +
                                ") out of range");
    return PQgetisnull(pg(res_), row, column) != 0;
}

std::string_view Result::raw(int row, int column) const {
    return {PQgetvalue(pg(res_), row, column),
            static_cast<std::size_t>(PQgetlength(pg(res_), row, column))};
}

bool Row::is_null(int column) const { return result_->is_null(row_, column); }

int Row::column_index(std::string_view name) const {
    int c = result_->find_column(name);
    if (c < 0) throw std::out_of_range("no column named \"" + std::string(name) + "\"");
    return c;
}

namespace detail {

void throw_null(const Field& f) {
    throw TypeMismatch(column_label(f) + " is NULL: read it as std::optional");
}

void decode(const Field& f, bool& out) {
    const auto t = ftype(f);
    if (t != oid::boolean) mismatch(f, t, "bool");
    auto raw = fraw(f);
    need_size(f, raw, 1);
    out = raw[0] != 0;
}
void decode(const Field& f, std::int16_t& out) { decode_int(f, out, "int16_t"); }
void decode(const Field& f, std::int32_t& out) { decode_int(f, out, "int32_t"); }
void decode(const Field& f, std::int64_t& out) { decode_int(f, out, "int64_t"); }

void decode(const Field& f, float& out) {
    const auto t = ftype(f);
    if (t != oid::float4) mismatch(f, t, "float");
    auto raw = fraw(f);
    need_size(f, raw, 4);
    out = std::bit_cast<float>(read_be<std::int32_t>(raw.data()));
}

void decode(const Field& f, double& out) {
    const auto t = ftype(f);
    auto raw = fraw(f);
    if (t == oid::float8) {
        need_size(f, raw, 8);
        out = std::bit_cast<double>(read_be<std::int64_t>(raw.data()));
    } else if (t == oid::float4) {
        need_size(f, raw, 4);
        out = std::bit_cast<float>(read_be<std::int32_t>(raw.data()));
    } else {
        mismatch(f, t, "double");
    }
}

void decode(const Field& f, std::string& out) {
    const auto t = ftype(f);
    auto raw = fraw(f);
    switch (t) {
        case oid::text:
        case oid::varchar:
        case oid::bpchar:
        case oid::name:
        case oid::json:
            out.assign(raw);
            return;
        case oid::jsonb:
            if (raw.empty() || raw[0] != 1)
                throw TypeMismatch(column_label(f) + ": unknown jsonb binary version");
            out.assign(raw.substr(1));
            return;
        case oid::numeric:
            out = decode_numeric(f, raw);
            return;
        case oid::uuid:
            need_size(f, raw, 16);
            out = decode_uuid(raw);
            return;
        default:
            mismatch(f, t, "std::string");
    }
}

void decode(const Field& f, std::vector<std::byte>& out) {
    const auto t = ftype(f);
    if (t != oid::bytea) mismatch(f, t, "std::vector<std::byte>");
    auto raw = fraw(f);
    out.resize(raw.size());
    if (!raw.empty()) std::memcpy(out.data(), raw.data(), raw.size());
}

namespace {

// Microseconds since 1970 of a timestamp[tz] value; false for +/-infinity (max/min).
bool timestamp_us(const Field& f, const char* cpp, std::int64_t& us_since_1970, bool& positive) {
    const auto t = ftype(f);
    if (t != oid::timestamp && t != oid::timestamptz) mismatch(f, t, cpp);
    auto raw = fraw(f);
    need_size(f, raw, 8);
    const auto us = read_be<std::int64_t>(raw.data());
    if (us == std::numeric_limits<std::int64_t>::max() ||
        us == std::numeric_limits<std::int64_t>::min()) {
        positive = us > 0;
        return false;
    }
    if (__builtin_add_overflow(us, pg_epoch_offset_us, &us_since_1970))
        throw TypeMismatch(column_label(f) + ": timestamp out of range");
    return true;
}

}  // namespace

void decode(const Field& f, std::chrono::system_clock::time_point& out) {
    using namespace std::chrono;
    std::int64_t us = 0;
    bool positive = false;
    if (!timestamp_us(f, "system_clock::time_point", us, positive)) {
        out = positive ? system_clock::time_point::max() : system_clock::time_point::min();
        return;
    }
    // system_clock counts nanoseconds in 64 bits: years 1677 to 2262 only. PostgreSQL goes
    // further (4713 BC to 294276 AD; '9999-12-31' is a common "never"), so say so instead of
    // wrapping around.
    constexpr std::int64_t limit =
        duration_cast<microseconds>(system_clock::duration::max()).count();
    if (us > limit || us < -limit)
        throw TypeMismatch(column_label(f) +
                           ": timestamp outside the range of std::chrono::system_clock::time_point "
                           "(years 1677-2262); read it as "
                           "std::chrono::sys_time<std::chrono::microseconds>");
    out = system_clock::time_point(duration_cast<system_clock::duration>(microseconds(us)));
}

void decode(const Field& f, std::chrono::sys_time<std::chrono::microseconds>& out) {
    using namespace std::chrono;
    std::int64_t us = 0;
    bool positive = false;
    if (!timestamp_us(f, "sys_time<microseconds>", us, positive)) {
        out = positive ? sys_time<microseconds>::max() : sys_time<microseconds>::min();
        return;
    }
    out = sys_time<microseconds>(microseconds(us));
}

ArrayElements array_elements(const Field& f) {
    const auto t = f.result->column_type(f.column);
    if (oid::element_of(t) == 0) mismatch(f, t, "std::vector (a PostgreSQL array)");
    const auto raw = fraw(f);
    auto bad = [&](const char* why) {
        throw TypeMismatch(column_label(f) + ": malformed " + type_name(t) + " value (" + why +
                           ")");
    };
    if (raw.size() < 12) bad("short header");
    const char* p = raw.data();
    const char* end = p + raw.size();
    const auto ndim = read_be<std::int32_t>(p);
    ArrayElements a;
    a.element_type = static_cast<std::uint32_t>(read_be<std::int32_t>(p + 8));
    p += 12;
    if (ndim == 0) return a;
    if (ndim != 1)
        throw TypeMismatch(column_label(f) + ": " + std::to_string(ndim) +
                           "-dimensional array; only one-dimensional arrays map to std::vector");
    if (end - p < 8) bad("short dimension");
    const auto n = read_be<std::int32_t>(p);
    p += 8;
    if (n < 0) bad("negative size");
    // Each element takes at least its 4-byte length: never reserve more than the value can hold.
    a.items.reserve(std::min(static_cast<std::size_t>(n), static_cast<std::size_t>(end - p) / 4));
    for (std::int32_t i = 0; i < n; ++i) {
        if (end - p < 4) bad("truncated");
        const auto len = read_be<std::int32_t>(p);
        p += 4;
        if (len < 0) {
            a.items.emplace_back(nullptr, 0);
            continue;
        }
        if (end - p < len) bad("truncated element");
        a.items.emplace_back(p, len);
        p += len;
    }
    return a;
}

void throw_null_element(const Field& f, std::size_t index) {
    throw TypeMismatch(column_label(f) + " element " + std::to_string(index) +
                       " is NULL: read the array as std::vector<std::optional<T>>");
}

void throw_missing_column(const Result& r, const std::string& type, std::string_view member) {
    std::string cols;
    for (int c = 0; c < r.columns(); ++c) {
        if (c) cols += ", ";
        cols += r.column_name(c);
    }
    throw TypeMismatch(type + "::" + std::string(member) + ": the result has no column \"" +
                       std::string(member) + "\" (columns: " + cols + ")");
}

void throw_member_mismatch(const TypeMismatch& e, const std::string& type,
                           std::string_view member) {
    throw TypeMismatch(type + "::" + std::string(member) + ": " + e.what());
}

void decode(const Field& f, Interval& out) {
    const auto t = ftype(f);
    if (t != oid::interval) mismatch(f, t, "pg::Interval");
    auto raw = fraw(f);
    need_size(f, raw, 16);
    out.microseconds = read_be<std::int64_t>(raw.data());
    out.days = read_be<std::int32_t>(raw.data() + 8);
    out.months = read_be<std::int32_t>(raw.data() + 12);
}

void decode(const Field& f, std::chrono::microseconds& out) {
    Interval i;
    decode(f, i);
    if (i.months != 0)
        throw TypeMismatch(column_label(f) +
                           ": interval with months cannot be read as "
                           "std::chrono::microseconds (read it as pg::Interval)");
    std::int64_t us = 0;
    if (__builtin_mul_overflow(std::int64_t{i.days}, 86'400'000'000LL, &us) ||
        __builtin_add_overflow(us, i.microseconds, &us))
        throw TypeMismatch(column_label(f) +
                           ": interval out of range for std::chrono::microseconds");
    out = std::chrono::microseconds(us);
}

void decode(const Field& f, std::chrono::sys_days& out) {
    using namespace std::chrono;
    const auto t = ftype(f);
    if (t != oid::date) mismatch(f, t, "std::chrono::sys_days");
    auto raw = fraw(f);
    need_size(f, raw, 4);
    out = sys_days(
        days(static_cast<std::int64_t>(read_be<std::int32_t>(raw.data())) + pg_epoch_offset_days));
}

}  // namespace detail
}  // namespace weir::pg
