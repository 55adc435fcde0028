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
// timestamptz; microseconds); std::chrono::sys_days (date). Anything else
// throws TypeMismatch naming the column and both types; reading NULL as a
// non-optional type throws too.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace weir::pg {

class Result;

namespace detail {

struct Field {
    const Result* result;
    int row;
    int column;
};

void decode(const Field& f, bool& out);
void decode(const Field& f, std::int16_t& out);
void decode(const Field& f, std::int32_t& out);
void decode(const Field& f, std::int64_t& out);
void decode(const Field& f, float& out);
void decode(const Field& f, double& out);
void decode(const Field& f, std::string& out);
void decode(const Field& f, std::vector<std::byte>& out);
void decode(const Field& f, std::chrono::system_clock::time_point& out);
void decode(const Field& f, std::chrono::sys_days& out);
[[noreturn]] void throw_null(const Field& f);

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

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

}  // namespace weir::pg
