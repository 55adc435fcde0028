// weir::pg errors: Error carries the server's SQLSTATE, its message and the
// query that failed; connection failures use SQLSTATE class 08. TypeMismatch
// reports a result column read as an incompatible C++ type.
#pragma once

#include <stdexcept>
#include <string>

namespace weir::pg {

class Error : public std::runtime_error {
public:
    Error(std::string sqlstate, std::string message, std::string query = {})
        : std::runtime_error(format(sqlstate, message, query)),
          sqlstate_(std::move(sqlstate)),
          message_(std::move(message)),
          query_(std::move(query)) {}

    // Five-character SQLSTATE ("23505"); empty if the server sent none.
    const std::string& sqlstate() const noexcept { return sqlstate_; }
    const std::string& message() const noexcept { return message_; }
    const std::string& query() const noexcept { return query_; }
    // Class 08 (connection exception): the connection is unusable.
    bool is_connection_error() const noexcept { return sqlstate_.rfind("08", 0) == 0; }

private:
    static std::string format(const std::string& state, const std::string& msg,
                              const std::string& query) {
        std::string s = msg;
        if (!state.empty()) s += " [SQLSTATE " + state + "]";
        if (!query.empty()) s += " (query: " + query + ")";
        return s;
    }
    std::string sqlstate_;
    std::string message_;
    std::string query_;
};

// A column was read as a C++ type its PostgreSQL type cannot convert to.
class TypeMismatch : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace weir::pg
