// QueryApi: the statement calls shared by everything that runs statements
// (Connection, ShardPool, Pool): query(sql, args...), query(read_only, sql,
// args...) and execute(sql, args...), each binding its arguments as Params
// and calling the class's query_params / execute_params.
//
//     auto r = co_await conn.query("SELECT name FROM items WHERE id = $1", 42);
//     auto s = co_await pool.query(weir::pg::read_only, "SELECT count(*) FROM items");
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "weir/core/task.hpp"
#include "weir/pg/params.hpp"
#include "weir/pg/result.hpp"

namespace weir::pg {

// Tag for statements that only read (see Connection::query_params(read_only, ...)).
struct ReadOnly {
    explicit ReadOnly() = default;
};
inline constexpr ReadOnly read_only{};

namespace detail {

// Derived provides query_params(std::string, Params), query_params(ReadOnly,
// std::string, Params) and execute_params(std::string, Params).
template <class Derived>
class QueryApi {
public:
    template <class... Args>
    Task<Result> query(std::string_view sql, const Args&... args) {
        return self().query_params(std::string(sql), make_params(args...));
    }
    template <class... Args>
    Task<Result> query(ReadOnly, std::string_view sql, const Args&... args) {
        return self().query_params(read_only, std::string(sql), make_params(args...));
    }
    template <class... Args>
    Task<std::int64_t> execute(std::string_view sql, const Args&... args) {
        return self().execute_params(std::string(sql), make_params(args...));
    }

private:
    Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

}  // namespace detail

}  // namespace weir::pg
