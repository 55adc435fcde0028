// Params: the bound parameters of one query, encoded for libpq. Numbers,
// bool, bytea and timestamps go in the binary format with their type OID;
// strings go as text with an unspecified type, so the server infers it from
// the context (text, varchar, json, numeric, uuid, date ...). std::nullopt
// or an empty std::optional binds NULL. A std::vector of any of these (other
// than std::byte) binds a one-dimensional array in the binary format (an
// array of strings is text[]); std::optional elements bind NULL elements.
#pragma once

#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "weir/pg/interval.hpp"

namespace weir::pg {

namespace detail {
template <class T>
struct ArrayElementOid;
template <class T>
struct ArrayElementOid<std::optional<T>> : ArrayElementOid<T> {};
// clang-format off
template <> struct ArrayElementOid<bool> { static constexpr std::uint32_t value = 16; };
template <> struct ArrayElementOid<std::int16_t> { static constexpr std::uint32_t value = 21; };
template <> struct ArrayElementOid<std::int32_t> { static constexpr std::uint32_t value = 23; };
template <> struct ArrayElementOid<std::int64_t> { static constexpr std::uint32_t value = 20; };
template <> struct ArrayElementOid<float> { static constexpr std::uint32_t value = 700; };
template <> struct ArrayElementOid<double> { static constexpr std::uint32_t value = 701; };
template <> struct ArrayElementOid<std::string> { static constexpr std::uint32_t value = 25; };
template <> struct ArrayElementOid<std::string_view> { static constexpr std::uint32_t value = 25; };
template <> struct ArrayElementOid<const char*> { static constexpr std::uint32_t value = 25; };
template <> struct ArrayElementOid<std::vector<std::byte>> { static constexpr std::uint32_t value = 17; };
template <> struct ArrayElementOid<std::chrono::system_clock::time_point> { static constexpr std::uint32_t value = 1184; };
template <> struct ArrayElementOid<std::chrono::sys_time<std::chrono::microseconds>> { static constexpr std::uint32_t value = 1184; };
template <> struct ArrayElementOid<std::chrono::sys_days> { static constexpr std::uint32_t value = 1082; };
template <> struct ArrayElementOid<Interval> { static constexpr std::uint32_t value = 1186; };
// clang-format on
}  // namespace detail

class Params {
public:
    void add(bool v);
    void add(std::int16_t v);
    void add(std::int32_t v);
    void add(std::int64_t v);
    void add(float v);
    void add(double v);
    void add(std::string_view v);
    void add(const std::string& v) { add(std::string_view(v)); }
    void add(const char* v) { add(std::string_view(v)); }
    void add(std::span<const std::byte> v);  // bytea
    void add(const std::vector<std::byte>& v) { add(std::span<const std::byte>(v)); }
    void add(std::chrono::system_clock::time_point v);  // timestamptz, microseconds
    // timestamptz for any year PostgreSQL accepts; max()/min() are 'infinity'/'-infinity'.
    // (A template so that other sys_time durations keep converting to time_point unambiguously.)
    template <class D>
    requires std::same_as<D, std::chrono::microseconds>
    void add(std::chrono::sys_time<D> v) { add_timestamp(v); }
    void add(std::chrono::sys_days v);  // date
    void add(const Interval& v);        // interval
    void add(std::nullopt_t) { add_null(); }
    template <class T>
    void add(const std::optional<T>& v) {
        if (v)
            add(*v);
        else
            add_null();
    }
    void add_null();
    // One-dimensional array (binary format).
    template <class T>
    void add(const std::vector<T>& v) {
        Params elements;
        for (const auto& e : v) elements.add(e);
        add_array(elements, detail::ArrayElementOid<T>::value);
    }
    // An array whose elements are the values of `elements`, of type `element_oid`.
    void add_array(const Params& elements, std::uint32_t element_oid);

    std::size_t size() const noexcept { return size_; }
    // Appends the statement cache's key part (the parameter type OIDs) to `key`.
    void append_type_signature(std::string& key) const;
    std::string type_signature() const {
        std::string s;
        append_type_signature(s);
        return s;
    }

    // For the driver: fills libpq's parallel arrays (size() elements each).
    void fill(const char** values, int* lengths, int* formats, std::uint32_t* types) const noexcept;

private:
    void add_timestamp(std::chrono::sys_time<std::chrono::microseconds> v);
    void add_timestamp_infinity(bool positive_infinity);  // 'infinity' / '-infinity'
    struct Slot {
        std::uint32_t oid = 0;
        int format = 0;
        bool null = false;
        std::string bytes;
    };
    // The first kInline parameters live inline: a query with few parameters
    // allocates nothing for them (small values fit std::string's own buffer).
    static constexpr std::size_t kInline = 4;
    Slot& next_slot();
    const Slot& slot(std::size_t i) const noexcept {
        return i < kInline ? inline_[i] : more_[i - kInline];
    }
    void push(std::uint32_t oid, std::string bytes, int format);
    std::array<Slot, kInline> inline_{};
    std::vector<Slot> more_;
    std::size_t size_ = 0;
};

// The bound parameters of one query, in order.
template <class... Args>
Params make_params(const Args&... args) {
    Params p;
    (p.add(args), ...);
    return p;
}

}  // namespace weir::pg
