#include "weir/redis/reply.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "weir/redis/error.hpp"

namespace weir::redis {

std::string_view to_string(ReplyType t) noexcept {
    switch (t) {
        case ReplyType::nil:
            return "nil";
        case ReplyType::simple_string:
            return "simple_string";
        case ReplyType::error:
            return "error";
        case ReplyType::integer:
            return "integer";
        case ReplyType::bulk_string:
            return "bulk_string";
        case ReplyType::array:
            return "array";
        case ReplyType::map:
            return "map";
        case ReplyType::set:
            return "set";
        case ReplyType::double_:
            return "double";
        case ReplyType::boolean:
            return "boolean";
        case ReplyType::big_number:
            return "big_number";
        case ReplyType::verbatim:
            return "verbatim";
        case ReplyType::push:
            return "push";
    }
    return "unknown";
}

void Reply::type_error(const char* wanted) const {
    std::string what = "redis reply is ";
    what += to_string(type_);
    if (type_ == ReplyType::error) what += " '" + str_ + "'";
    what += ", not ";
    what += wanted;
    throw ReplyTypeError(what);
}

std::string_view Reply::str() const {
    switch (type_) {
        case ReplyType::simple_string:
        case ReplyType::bulk_string:
        case ReplyType::verbatim:
        case ReplyType::error:
        case ReplyType::big_number:
            return str_;
        default:
            type_error("a string");
    }
}

std::string Reply::take_str() {
    (void)str();
    return std::move(str_);
}

std::string_view Reply::error_prefix() const {
    if (type_ != ReplyType::error) type_error("an error");
    std::string_view t = str_;
    return t.substr(0, t.find(' '));
}

std::string_view Reply::error_message() const {
    if (type_ != ReplyType::error) type_error("an error");
    std::string_view t = str_;
    auto sp = t.find(' ');
    return sp == std::string_view::npos ? std::string_view{} : t.substr(sp + 1);
}

std::int64_t Reply::integer() const {
    if (type_ == ReplyType::integer || type_ == ReplyType::boolean) return int_;
    type_error("an integer");
}

std::int64_t Reply::to_int() const {
    if (type_ == ReplyType::integer || type_ == ReplyType::boolean) return int_;
    if (type_ == ReplyType::simple_string || type_ == ReplyType::bulk_string ||
        type_ == ReplyType::big_number) {
        std::int64_t v = 0;
        auto [p, ec] = std::from_chars(str_.data(), str_.data() + str_.size(), v);
        if (ec == std::errc{} && p == str_.data() + str_.size() && !str_.empty()) return v;
        throw ReplyTypeError("redis reply '" + str_ + "' is not an integer");
    }
    type_error("an integer");
}

double Reply::to_double() const {
    if (type_ == ReplyType::double_) return dbl_;
    if (type_ == ReplyType::integer) return static_cast<double>(int_);
    if (type_ == ReplyType::simple_string || type_ == ReplyType::bulk_string ||
        type_ == ReplyType::big_number) {
        if (str_ == "inf" || str_ == "+inf") return HUGE_VAL;
        if (str_ == "-inf") return -HUGE_VAL;
        char* end = nullptr;
        double d = std::strtod(str_.c_str(), &end);
        if (!str_.empty() && end == str_.c_str() + str_.size()) return d;
        throw ReplyTypeError("redis reply '" + str_ + "' is not a number");
    }
    type_error("a number");
}

bool Reply::to_bool() const {
    if (type_ == ReplyType::boolean || type_ == ReplyType::integer) return int_ != 0;
    type_error("a boolean");
}

std::optional<std::string> Reply::to_optional_string() const {
    if (type_ == ReplyType::nil) return std::nullopt;
    return std::string(str());
}

const std::vector<Reply>& Reply::elements() const {
    if (!is_aggregate()) type_error("an aggregate");
    return elems_;
}

std::vector<Reply>& Reply::elements() {
    if (!is_aggregate()) type_error("an aggregate");
    return elems_;
}

bool operator==(const Reply& a, const Reply& b) noexcept {
    if (a.type_ != b.type_) return false;
    switch (a.type_) {
        case ReplyType::nil:
            return true;
        case ReplyType::integer:
        case ReplyType::boolean:
            return a.int_ == b.int_;
        case ReplyType::double_:
            return a.dbl_ == b.dbl_ || (std::isnan(a.dbl_) && std::isnan(b.dbl_));
        case ReplyType::array:
        case ReplyType::map:
        case ReplyType::set:
        case ReplyType::push:
            return a.elems_ == b.elems_;
        default:
            return a.str_ == b.str_ && a.format() == b.format();
    }
}

std::string Reply::debug_string() const {
    std::string s;
    switch (type_) {
        case ReplyType::nil:
            return "(nil)";
        case ReplyType::simple_string:
            return str_;
        case ReplyType::error:
            return "(error) " + str_;
        case ReplyType::integer:
            return "(integer) " + std::to_string(int_);
        case ReplyType::boolean:
            return int_ ? "(true)" : "(false)";
        case ReplyType::double_:
            return "(double) " + std::to_string(dbl_);
        case ReplyType::big_number:
            return "(big) " + str_;
        case ReplyType::bulk_string:
            return "\"" + str_ + "\"";
        case ReplyType::verbatim:
            return "(" + std::string(format()) + ") \"" + str_ + "\"";
        default:
            break;
    }
    s = type_ == ReplyType::array ? "["
        : type_ == ReplyType::map ? "{"
        : type_ == ReplyType::set ? "~["
                                  : ">[";
    for (std::size_t i = 0; i < elems_.size(); ++i) {
        if (i) s += (type_ == ReplyType::map && i % 2 == 1) ? ": " : ", ";
        s += elems_[i].debug_string();
    }
    s += type_ == ReplyType::map ? "}" : "]";
    return s;
}

}  // namespace weir::redis
