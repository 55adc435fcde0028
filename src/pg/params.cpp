#include "weir/pg/params.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "oids.hpp"

namespace weir::pg {

namespace {

template <class T>
std::string big_endian(T v) {
    std::string s(sizeof(T), '\0');
    auto u = std::bit_cast<std::make_unsigned_t<T>>(v);
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        s[sizeof(T) - 1 - i] = static_cast<char>(u & 0xff);
        u = static_cast<std::make_unsigned_t<T>>(u >> 8);
    }
    return s;
}

}  // namespace

Params::Slot& Params::next_slot() {
    if (size_ < kInline) return inline_[size_++];
    more_.emplace_back();
    ++size_;
    return more_.back();
}

void Params::push(std::uint32_t oid, std::string bytes, int format) {
    Slot& s = next_slot();
    s.oid = oid;
    s.format = format;
    s.null = false;
    s.bytes = std::move(bytes);
}

void Params::add_null() {
    Slot& s = next_slot();
    s.oid = 0;
    s.format = 0;
    s.null = true;
    s.bytes.clear();
}

void Params::add(bool v) { push(oid::boolean, std::string(1, v ? '\1' : '\0'), 1); }
void Params::add(std::int16_t v) { push(oid::int2, big_endian(v), 1); }
void Params::add(std::int32_t v) { push(oid::int4, big_endian(v), 1); }
void Params::add(std::int64_t v) { push(oid::int8, big_endian(v), 1); }
void Params::add(float v) { push(oid::float4, big_endian(std::bit_cast<std::int32_t>(v)), 1); }
void Params::add(double v) { push(oid::float8, big_endian(std::bit_cast<std::int64_t>(v)), 1); }
void Params::add(std::string_view v) { push(0, std::string(v), 0); }
void Params::add(std::span<const std::byte> v) {
    std::string s(v.size(), '\0');
    if (!v.empty()) std::memcpy(s.data(), v.data(), v.size());
    push(oid::bytea, std::move(s), 1);
}
// max() and min() are 'infinity' and '-infinity', as the decoder reads them.
void Params::add(std::chrono::system_clock::time_point v) {
    using Clock = std::chrono::system_clock;
    if (v == Clock::time_point::max() || v == Clock::time_point::min()) {
        add_timestamp_infinity(v == Clock::time_point::max());
        return;
    }
    add_timestamp(std::chrono::time_point_cast<std::chrono::microseconds>(v));
}

void Params::add_timestamp(std::chrono::sys_time<std::chrono::microseconds> v) {
    using Micros = std::chrono::sys_time<std::chrono::microseconds>;
    if (v == Micros::max() || v == Micros::min()) {
        add_timestamp_infinity(v == Micros::max());
        return;
    }
    std::int64_t us = 0;
    if (__builtin_sub_overflow(v.time_since_epoch().count(), pg_epoch_offset_us, &us))
        throw std::out_of_range("pg::Params: timestamp out of range");
    push(oid::timestamptz, big_endian<std::int64_t>(us), 1);
}

void Params::add_timestamp_infinity(bool positive_infinity) {
    push(oid::timestamptz,
         big_endian<std::int64_t>(positive_infinity ? std::numeric_limits<std::int64_t>::max()
                                                    : std::numeric_limits<std::int64_t>::min()),
         1);
}

void Params::add(std::chrono::sys_days v) {
    const auto d = static_cast<std::int32_t>(v.time_since_epoch().count() - pg_epoch_offset_days);
    push(oid::date, big_endian(d), 1);
}

void Params::add(const Interval& v) {
    push(oid::interval, big_endian(v.microseconds) + big_endian(v.days) + big_endian(v.months), 1);
}

void Params::add_array(const Params& e, std::uint32_t element_oid) {
    const std::uint32_t array_oid = oid::array_of(element_oid);
    if (array_oid == 0)
        throw std::invalid_argument("pg::Params: no array type for element oid " +
                                    std::to_string(element_oid));
    bool has_null = false;
    for (std::size_t i = 0; i < e.size_; ++i) has_null = has_null || e.slot(i).null;
    std::string s;
    const auto n = static_cast<std::int32_t>(e.size_);
    s += big_endian<std::int32_t>(n == 0 ? 0 : 1);
    s += big_endian<std::int32_t>(has_null ? 1 : 0);
    s += big_endian(static_cast<std::int32_t>(element_oid));
    if (n > 0) {
        s += big_endian(n);
        s += big_endian<std::int32_t>(1);  // lower bound
    }
    for (std::size_t i = 0; i < e.size_; ++i) {
        const Slot& el = e.slot(i);
        if (el.null) {
            s += big_endian<std::int32_t>(-1);
        } else {
            s += big_endian(static_cast<std::int32_t>(el.bytes.size()));
            s += el.bytes;
        }
    }
    push(array_oid, std::move(s), 1);
}

void Params::append_type_signature(std::string& key) const {
    char buf[16];
    for (std::size_t i = 0; i < size_; ++i) {
        key.append(buf, std::to_chars(buf, buf + sizeof buf, slot(i).oid).ptr);
        key += ',';
    }
}

void Params::fill(const char** values, int* lengths, int* formats,
                  std::uint32_t* types) const noexcept {
    for (std::size_t i = 0; i < size_; ++i) {
        const Slot& s = slot(i);
        values[i] = s.null ? nullptr : s.bytes.c_str();
        lengths[i] = static_cast<int>(s.bytes.size());
        formats[i] = s.format;
        types[i] = s.oid;
    }
}

}  // namespace weir::pg
