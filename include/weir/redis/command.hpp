// Command: one Redis command with its arguments, encoded as a RESP array of
// bulk strings as it is built (binary-safe; numbers are formatted in C).
//
//     Command c("SET", key, value, "EX", 10);
//     c.arg("NX");                              // append more later
//     Command m("MGET");  m.args(keys);        // any range of string-likes
//
// Arguments may be anything convertible to std::string_view, integers,
// floating-point numbers (shortest round-trip form) or ranges of those.
// Small commands (up to ~100 encoded bytes) are built without allocating.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
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
        // "$<length>\r\n<bytes>\r\n"
        char head[24];
        head[0] = '$';
        auto r = std::to_chars(head + 1, head + sizeof head - 2, s.size());
        r.ptr[0] = '\r';
        r.ptr[1] = '\n';
        const auto n = static_cast<std::size_t>(r.ptr + 2 - head);
        char* p = body_.extend(n + s.size() + 2);
        std::memcpy(p, head, n);
        if (!s.empty()) std::memcpy(p + n, s.data(), s.size());
        p[n + s.size()] = '\r';
        p[n + s.size() + 1] = '\n';
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
        if (this == &other) {
            const Command copy(other);
            return append_encoded_args(copy);
        }
        if (argc_ == 0) name_ = other.name_;
        const std::string_view b = other.body_.view();
        if (!b.empty()) std::memcpy(body_.extend(b.size()), b.data(), b.size());
        argc_ += other.argc_;
        return *this;
    }

    std::size_t argc() const noexcept { return argc_; }
    // The command name, upper-cased ("GET"); for metrics and error messages.
    const std::string& name() const noexcept { return name_; }
    bool empty() const noexcept { return argc_ == 0; }

    // Appends the RESP encoding to `out`.
    void encode_to(std::string& out) const {
        char head[24];
        head[0] = '*';
        auto r = std::to_chars(head + 1, head + sizeof head - 2, argc_);
        r.ptr[0] = '\r';
        r.ptr[1] = '\n';
        out.append(head, r.ptr + 2);
        out += body_.view();
    }
    std::string encoded() const {
        std::string s;
        encode_to(s);
        return s;
    }

private:
    // The encoded arguments: inline up to kInline bytes, on the heap beyond.
    class Buffer {
    public:
        Buffer() noexcept = default;
        Buffer(const Buffer& o) { copy_from(o); }
        Buffer(Buffer&& o) noexcept { take(o); }
        Buffer& operator=(const Buffer& o) {
            if (this != &o) {
                size_ = 0;
                copy_from(o);
            }
            return *this;
        }
        Buffer& operator=(Buffer&& o) noexcept {
            if (this != &o) {
                release();
                take(o);
            }
            return *this;
        }
        ~Buffer() { release(); }

        // Grows by n bytes and returns where they go.
        char* extend(std::size_t n) {
            if (cap_ - size_ < n) grow(size_ + n);
            char* p = data_ + size_;
            size_ += n;
            return p;
        }
        std::string_view view() const noexcept { return {data_, size_}; }

    private:
        static constexpr std::size_t kInline = 96;
        void copy_from(const Buffer& o) {
            if (o.size_ > 0) std::memcpy(extend(o.size_), o.data_, o.size_);
        }
        void grow(std::size_t need) {
            const std::size_t cap = std::max(need, cap_ * 2);
            char* d = new char[cap];
            if (size_ > 0) std::memcpy(d, data_, size_);
            release();
            data_ = d;
            cap_ = cap;
        }
        void release() noexcept {
            if (data_ != inline_) delete[] data_;
            data_ = inline_;
            cap_ = kInline;
        }
        void take(Buffer& o) noexcept {
            size_ = o.size_;
            if (o.data_ == o.inline_) {
                if (size_ > 0) std::memcpy(inline_, o.inline_, size_);
            } else {
                data_ = o.data_;
                cap_ = o.cap_;
                o.data_ = o.inline_;
                o.cap_ = kInline;
            }
            o.size_ = 0;
        }

        char* data_ = inline_;
        std::size_t size_ = 0;
        std::size_t cap_ = kInline;
        char inline_[kInline];
    };

    void set_name(std::string_view s) {
        name_.assign(s);
        for (char& c : name_)
            if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }

    Buffer body_;
    std::string name_;
    std::size_t argc_ = 0;
};

}  // namespace weir::redis
