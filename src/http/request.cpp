// Request: lazily decoded query parameters.
#include "weir/http/request.hpp"

#include "weir/http/query.hpp"

namespace weir::http {

const std::vector<std::pair<std::string, std::string>>& Request::query_params() const {
    if (!query_) query_.emplace(parse_query(raw_query()));
    return *query_;
}

std::optional<std::string> Request::query(std::string_view name) const {
    for (const auto& [k, v] : query_params())
        if (k == name) return v;
    return std::nullopt;
}

}  // namespace weir::http
