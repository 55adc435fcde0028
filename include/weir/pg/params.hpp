// Params: the bound parameters of one query, encoded for libpq. Numbers,
// bool, bytea and timestamps go in the binary format with their type OID;
// strings go as text with an unspecified type, so the server infers it from
// the context (text, varchar, json, numeric, uuid, date ...). std::nullopt
// or an empty std::optional binds NULL.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace weir::pg {

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
    void add(std::nullopt_t) { add_null(); }
    template <class T>
    void add(const std::optional<T>& v) {
        if (v)
            add(*v);
        else
            add_null();
    }
    void add_null();

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
