// Result / Row: the rows of one query, received in the binary format.
//
//     Result r = co_await conn.query("SELECT name, price FROM items WHERE id = $1", 42);
//     for (Row row : r) {
//         auto name = row.get<std::string>(0);
//         auto price = row.get<std::string>("price");            // numeric as decimal text
//         auto note = row.get<std::optional<std::string>>("note"); // NULL -> nullopt
//     }
//
// Supported reads: bool; int16/int32/int64 (from int2/4/8, widening only);
// float/double (from float4/8); std::string (text, varchar, bpchar, name,
// json, jsonb, numeric as exact decimal, uuid as 8-4-4-4-12 hex);
// std::vector<std::byte> (bytea); system_clock::time_point (timestamp,
// timestamptz; microseconds); std::chrono::sys_days (date); Interval
// (interval; std::chrono::microseconds too when it has no months); and
// std::vector<T> of any of these for one-dimensional arrays (NULL elements
// need std::vector<std::optional<T>>). Anything else throws TypeMismatch
// naming the column and both types; reading NULL as a non-optional type
// throws too.
//
// Rows map to plain structs described with Boost.Describe (as the HTTP
// layer's typed bodies), member by member from the column of the same name:
//
//     struct Item { std::int32_t id; std::string name; std::optional<std::string> note; };
//     BOOST_DESCRIBE_STRUCT(Item, (), (id, name, note))
//     std::vector<Item> items = r.as<Item>();   // or co_await conn.query_as<Item>(sql, ...)
//     Item first = r[0].as<Item>();
//
// A member without a column of its name, or whose column cannot be read as
// the member's type, throws TypeMismatch naming the struct, the member, the
// column and both types. Extra columns are ignored.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include <boost/core/demangle.hpp>
#include <boost/describe/class.hpp>  // BOOST_DESCRIBE_STRUCT for users
#include <boost/describe/members.hpp>
#include <boost/describe/modifiers.hpp>
#include <boost/mp11/algorithm.hpp>

#include "weir/pg/error.hpp"
#include "weir/pg/interval.hpp"

namespace weir::pg {

class Result;

namespace detail {

struct Field {
    Field(const Result* r, int row_, int column_) noexcept
        : result(r), row(row_), column(column_) {}
    // An element of an array field.
    Field(const Field& array, const char* data, int size, std::uint32_t type, int index) noexcept
        : result(array.result),
          row(array.row),
          column(array.column),
          elem_data(data),
          elem_size(size),
          elem_type(type),
          elem_index(index) {}
    const Result* result;
    int row;
    int column;
    const char* elem_data = nullptr;
    int elem_size = 0;
    std::uint32_t elem_type = 0;
    int elem_index = -1;  // >= 0 for an array element
};

// The elements of a one-dimensional array field (data == nullptr: NULL).
struct ArrayElements {
    std::uint32_t element_type = 0;
    std::vector<std::pair<const char*, int>> items;
};
ArrayElements array_elements(const Field& f);
[[noreturn]] void throw_null_element(const Field& f, std::size_t index);
[[noreturn]] void throw_missing_column(const Result& r, const std::string& type,
                                       std::string_view member);
[[noreturn]] void throw_member_mismatch(const TypeMismatch& e, const std::string& type,
                                        std::string_view member);

void decode(const Field& f, bool& out);
void decode(const Field& f, std::int16_t& out);
void decode(const Field& f, std::int32_t& out);
void decode(const Field& f, std::int64_t& out);
void decode(const Field& f, float& out);
void decode(const Field& f, double& out);
void decode(const Field& f, std::string& out);
void decode(const Field& f, std::vector<std::byte>& out);
void decode(const Field& f, std::chrono::system_clock::time_point& out);  // years 1677-2262
void decode(const Field& f, std::chrono::sys_time<std::chrono::microseconds>& out);  // all
void decode(const Field& f, std::chrono::sys_days& out);
void decode(const Field& f, Interval& out);
void decode(const Field& f, std::chrono::microseconds& out);  // interval without months
[[noreturn]] void throw_null(const Field& f);

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <class T>
void decode(const Field& f, std::vector<T>& out) {
    ArrayElements a = array_elements(f);
    out.clear();
    out.reserve(a.items.size());
    for (std::size_t i = 0; i < a.items.size(); ++i) {
        const auto [data, size] = a.items[i];
        if constexpr (IsOptional<T>::value) {
            if (!data) {
                out.emplace_back();
                continue;
            }
            typename T::value_type v{};
            decode(Field(f, data, size, a.element_type, static_cast<int>(i)), v);
            out.emplace_back(std::move(v));
        } else {
            if (!data) throw_null_element(f, i);
            T v{};
            decode(Field(f, data, size, a.element_type, static_cast<int>(i)), v);
            out.push_back(std::move(v));
        }
    }
}

template <class T>
inline constexpr bool is_described_struct =
    boost::describe::has_describe_members<T>::value&& std::is_class_v<T>;

}  // namespace detail

class Row {
public:
    Row(const Result* r, int row) noexcept : result_(r), row_(row) {}

    template <class T>
    T get(int column) const;
    template <class T>
    T get(std::string_view column) const {
        return get<T>(column_index(column));
    }
    bool is_null(int column) const;
    int index() const noexcept { return row_; }
    // This row as a described struct (see the top of this file).
    template <class T>
    T as() const;

private:
    int column_index(std::string_view name) const;
    const Result* result_;
    int row_;
};

class Result {
public:
    Result() = default;
    // Takes ownership of a PGresult (driver use).
    explicit Result(void* pg_result);

    int rows() const noexcept { return rows_; }
    int columns() const noexcept { return columns_; }
    bool empty() const noexcept { return rows_ == 0; }
    // Rows affected by INSERT/UPDATE/DELETE/... (0 if not applicable).
    std::int64_t affected_rows() const noexcept { return affected_; }

    Row operator[](int row) const noexcept { return Row(this, row); }
    Row row(int r) const;  // bounds-checked
    std::string column_name(int column) const;
    // -1 if there is no such column.
    int find_column(std::string_view name) const;
    std::uint32_t column_type(int column) const;
    // All rows as described structs (see the top of this file).
    template <class T>
    std::vector<T> as() const;

    class Iterator {
    public:
        Iterator(const Result* r, int i) noexcept : r_(r), i_(i) {}
        Row operator*() const noexcept { return Row(r_, i_); }
        Iterator& operator++() noexcept {
            ++i_;
            return *this;
        }
        bool operator==(const Iterator& o) const noexcept { return i_ == o.i_; }

    private:
        const Result* r_;
        int i_;
    };
    Iterator begin() const noexcept { return Iterator(this, 0); }
    Iterator end() const noexcept { return Iterator(this, rows_); }

    // Raw access (driver and decoders).
    bool is_null(int row, int column) const;
    std::string_view raw(int row, int column) const;

    // Column index of each described member of T (throws if one is missing).
    template <class T>
    std::vector<int> member_columns() const;
    template <class T>
    T map_row(int row, const std::vector<int>& columns) const;

private:
    std::shared_ptr<void> res_;
    int rows_ = 0;
    int columns_ = 0;
    std::int64_t affected_ = 0;
};

template <class T>
T Row::get(int column) const {
    detail::Field f{result_, row_, column};
    if constexpr (detail::IsOptional<T>::value) {
        if (is_null(column)) return std::nullopt;
        typename T::value_type v{};
        detail::decode(f, v);
        return T(std::move(v));
    } else {
        if (is_null(column)) detail::throw_null(f);
        T v{};
        detail::decode(f, v);
        return v;
    }
}

template <class T>
std::vector<int> Result::member_columns() const {
    static_assert(detail::is_described_struct<T>,
                  "pg: describe the struct with BOOST_DESCRIBE_STRUCT to map rows to it");
    std::vector<int> cols;
    boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>(
        [&](auto D) {
            const int c = find_column(D.name);
            if (c < 0)
                detail::throw_missing_column(*this, boost::core::demangle(typeid(T).name()),
                                             D.name);
            cols.push_back(c);
        });
    return cols;
}

template <class T>
T Result::map_row(int row, const std::vector<int>& columns) const {
    T out{};
    std::size_t i = 0;
    boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>(
        [&](auto D) {
            using M = std::remove_cvref_t<decltype(out.*D.pointer)>;
            try {
                out.*D.pointer = Row(this, row).get<M>(columns[i++]);
            } catch (const TypeMismatch& e) {
                detail::throw_member_mismatch(e, boost::core::demangle(typeid(T).name()), D.name);
            }
        });
    return out;
}

template <class T>
std::vector<T> Result::as() const {
    const std::vector<int> cols = member_columns<T>();
    std::vector<T> out;
    out.reserve(static_cast<std::size_t>(rows_));
    for (int r = 0; r < rows_; ++r) out.push_back(map_row<T>(r, cols));
    return out;
}

template <class T>
T Row::as() const {
    return result_->map_row<T>(row_, result_->member_columns<T>());
}

}  // namespace weir::pg
