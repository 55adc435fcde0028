// Typed query and path parameters; see include/weir/http/params.hpp.
#include "weir/http/params.hpp"

namespace weir::http::detail {

void add_param_issue(std::vector<ValidationIssue>& issues, std::string_view location,
                     std::string_view name, std::string_view msg, std::string_view type) {
    ValidationIssue issue;
    issue.loc = {std::string(location), std::string(name)};
    issue.msg = std::string(msg);
    issue.type = std::string(type);
    issues.push_back(std::move(issue));
}

std::vector<std::pair<std::string, std::string>> path_param_pairs(const Request& req) {
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(req.path_params().size());
    for (const auto& [k, v] : req.path_params()) out.emplace_back(std::string(k), v);
    return out;
}

}  // namespace weir::http::detail
