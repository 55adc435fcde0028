// HTTP request methods: the standard ones as an enum, anything else as Method::Other.
#pragma once

#include <cstdint>
#include <string_view>

namespace weir::http {

enum class Method : std::uint8_t {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Patch,
    Options,
    Trace,
    Connect,
    Other,  // a well-formed token that is none of the above; see RequestHead::method_token
};

// Maps a method token to the enum. Methods are case-sensitive (RFC 9110 section 9.1), so "get" is
// Method::Other.
constexpr Method method_from_token(std::string_view token) noexcept {
    switch (token.size()) {
        case 3:
            if (token == "GET") return Method::Get;
            if (token == "PUT") return Method::Put;
            break;
        case 4:
            if (token == "HEAD") return Method::Head;
            if (token == "POST") return Method::Post;
            break;
        case 5:
            if (token == "PATCH") return Method::Patch;
            if (token == "TRACE") return Method::Trace;
            break;
        case 6:
            if (token == "DELETE") return Method::Delete;
            break;
        case 7:
            if (token == "OPTIONS") return Method::Options;
            if (token == "CONNECT") return Method::Connect;
            break;
        default:
            break;
    }
    return Method::Other;
}

// The canonical token of a standard method; "" for Method::Other.
constexpr std::string_view method_name(Method method) noexcept {
    switch (method) {
        case Method::Get:
            return "GET";
        case Method::Head:
            return "HEAD";
        case Method::Post:
            return "POST";
        case Method::Put:
            return "PUT";
        case Method::Delete:
            return "DELETE";
        case Method::Patch:
            return "PATCH";
        case Method::Options:
            return "OPTIONS";
        case Method::Trace:
            return "TRACE";
        case Method::Connect:
            return "CONNECT";
        case Method::Other:
            break;
    }
    return {};
}

}  // namespace weir::http
