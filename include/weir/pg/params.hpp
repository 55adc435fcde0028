// Params: the bound parameters of one query, encoded for libpq. Numbers,
// bool, bytea and timestamps go in the binary format with their type OID;
// strings go as text with an unspecified type, so the server infers it from
// the context (text, varchar, json, numeric, uuid, date ...). std::nullopt
// or an empty std::optional binds NULL. A std::vector of any of these (other
// than std::byte) binds a one-dimensional array in the binary format (an
// array of strings is text[]); std::optional elements bind NULL elements.
#pragma once

#include <chrono>
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
    void add(std::chrono::sys_days v);                  // date
    void add(const Interval& v);                        // interval
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

    std::size_t size() const noexcept { return values_.size(); }
    // A key for the statement cache: the parameter type OIDs.
    std::string type_signature() const;

    // For the driver (parallel arrays in libpq's layout).
    const std::vector<std::uint32_t>& types() const noexcept { return types_; }
    std::vector<const char*> value_pointers() const;
    const std::vector<int>& lengths() const noexcept { return lengths_; }
    const std::vector<int>& formats() const noexcept { return formats_; }

private:
    void push(std::uint32_t oid, std::string bytes, int format);
    std::vector<std::uint32_t> types_;
    std::vector<std::string> values_;
    std::vector<bool> nulls_;
    std::vector<int> lengths_;
    std::vector<int> formats_;
};

}  // namespace weir::pg
