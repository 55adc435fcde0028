// Command: one Redis command with its arguments, encoded as a RESP array of
// bulk strings as it is built (binary-safe; numbers are formatted in C).
//
//     Command c("SET", key, value, "EX", 10);
//     c.arg("NX");                              // append more later
//     Command m("MGET");  m.args(keys);        // any range of string-likes
//
// Arguments may be anything convertible to std::string_view, integers,
// floating-point numbers (shortest round-trip form) or ranges of those.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>

namespace weir::redis {

class Command {
public:
    Command() = default;
    template <class... Args>
    explicit Command(std::string_view name, const Args&... args) {
        arg(name);
        (arg(args), ...);
    }

    Command& arg(std::string_view s) {
        body_ += '$';
        append_number(static_cast<std::uint64_t>(s.size()));
        body_ += "\r\n";
        body_.append(s);
        body_ += "\r\n";
        if (argc_ == 0) set_name(s);
        ++argc_;
        return *this;
    }
    Command& arg(const char* s) { return arg(std::string_view(s)); }
    Command& arg(const std::string& s) { return arg(std::string_view(s)); }
    template <class T>
    requires(std::is_arithmetic_v<T>) Command& arg(T v) {
        char buf[64];
        std::to_chars_result r;
        if constexpr (std::is_same_v<T, bool>) {
            buf[0] = v ? '1' : '0';
            r.ptr = buf + 1;
        } else {
            r = std::to_chars(buf, buf + sizeof buf, v);
        }
        return arg(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
    }
    template <class R>
    requires(std::ranges::input_range<R> &&
             !std::is_convertible_v<const R&, std::string_view>) Command& arg(const R& range) {
        for (const auto& v : range) arg(v);
        return *this;
    }
    template <class R>
    Command& args(const R& range) {
        return arg(range);
    }

    // Appends all arguments of `other` after ours.
    Command& append_encoded_args(const Command& other) {
        if (argc_ == 0) name_ = other.name_;
        body_ += other.body_;
        argc_ += other.argc_;
        return *this;
    }

    std::size_t argc() const noexcept { return argc_; }
    // The command name, upper-cased ("GET"); for metrics and error messages.
    const std::string& name() const noexcept { return name_; }
    bool empty() const noexcept { return argc_ == 0; }

    // Appends the RESP encoding to `out`.
    void encode_to(std::string& out) const {
        out += '*';
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, argc_);
        out.append(buf, r.ptr);
        out += "\r\n";
        out += body_;
    }
    std::string encoded() const {
        std::string s;
        encode_to(s);
        return s;
    }

private:
    void append_number(std::uint64_t n) {
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, n);
        body_.append(buf, r.ptr);
    }
    void set_name(std::string_view s) {
        name_.assign(s);
        for (char& c : name_)
            if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }

    std::string body_;
    std::string name_;
    std::size_t argc_ = 0;
};

}  // namespace weir::redis
