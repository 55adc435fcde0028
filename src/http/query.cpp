// Percent-decoding and query-string parsing; see include/weir/http/query.hpp.
#include "weir/http/query.hpp"

#include "weir/http/ascii.hpp"

namespace weir::http {
namespace {

std::string describe(std::string_view input, std::size_t offset) {
    std::string message = "invalid percent-escape at offset ";
    message += std::to_string(offset);
    message += " of \"";
    // Quote at most a short excerpt: the input comes from the client.
    constexpr std::size_t kExcerpt = 64;
    message.append(input.substr(0, kExcerpt));
    if (input.size() > kExcerpt) message += "...";
    message += '"';
    return message;
}

// Decodes `in` into `out`; returns the offset of the first bad '%', or npos.
std::size_t decode(std::string_view in, std::string& out, bool plus_as_space) {
    out.reserve(out.size() + in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '%') {
            const int high = i + 1 < in.size() ? hex_value(in[i + 1]) : -1;
            const int low = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
            if (high < 0 || low < 0) return i;
            out.push_back(static_cast<char>(high * 16 + low));
            i += 2;
        } else if (c == '+' && plus_as_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return std::string_view::npos;
}

}  // namespace

UrlDecodeError::UrlDecodeError(std::string_view input, std::size_t offset)
    : std::runtime_error(describe(input, offset)), offset_(offset) {}

bool try_url_decode(std::string_view in, std::string& out, bool plus_as_space) {
    return decode(in, out, plus_as_space) == std::string_view::npos;
}

std::string url_decode(std::string_view in, bool plus_as_space) {
    std::string out;
    const std::size_t bad = decode(in, out, plus_as_space);
    if (bad != std::string_view::npos) throw UrlDecodeError(in, bad);
    return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view raw) {
    std::vector<std::pair<std::string, std::string>> fields;
    std::size_t begin = 0;
    while (begin <= raw.size()) {
        std::size_t end = raw.find('&', begin);
        if (end == std::string_view::npos) end = raw.size();
        const std::string_view field = raw.substr(begin, end - begin);
        if (!field.empty()) {
            const std::size_t equals = field.find('=');
            const std::string_view name = field.substr(0, equals);
            const std::string_view value =
                equals == std::string_view::npos ? std::string_view{} : field.substr(equals + 1);
            std::pair<std::string, std::string> decoded;
            std::size_t bad = decode(name, decoded.first, true);
            if (bad != std::string_view::npos) throw UrlDecodeError(raw, begin + bad);
            bad = decode(value, decoded.second, true);
            if (bad != std::string_view::npos) throw UrlDecodeError(raw, begin + equals + 1 + bad);
            fields.push_back(std::move(decoded));
        }
        begin = end + 1;
    }
    return fields;
}

}  // namespace weir::http
