// Reply: one decoded RESP2/RESP3 value (what the server answered).
//
//     Reply r = co_await conn.cmd("HGETALL", "user:1");
//     for (std::size_t i = 0; i + 1 < r.size(); i += 2)
//         std::cout << r[i].str() << " = " << r[i + 1].str() << "\n";
//
// Maps (RESP3 '%') keep their entries flattened as key, value, key, value...
// in elements(), exactly like the flat arrays RESP2 uses for the same
// replies, so code reading a map works with both protocols. Sets ('~') and
// pushes ('>') are arrays with another type tag. Error replies inside
// aggregates (a failed command inside EXEC or a pipeline) stay Reply values
// of type error; a top-level error reply to cmd() is thrown as ServerError.
// RESP3 attributes ('|') are attached to the value they precede.
// Accessors throw ReplyTypeError when the reply has another type.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weir::redis {

enum class ReplyType : std::uint8_t {
    nil,            // RESP2 $-1 / *-1, RESP3 '_'
    simple_string,  // '+'
    error,          // '-' and RESP3 bulk error '!'
    integer,        // ':'
    bulk_string,    // '$'
    array,          // '*'
    map,            // '%' (elements flattened: k, v, k, v, ...)
    set,            // '~'
    double_,        // ','
    boolean,        // '#'
    big_number,     // '(' (kept as its decimal text)
    verbatim,       // '=' (format() is e.g. "txt"; str() is the text after "txt:")
    push,           // '>' (out-of-band: pub/sub messages, invalidations)
};

std::string_view to_string(ReplyType t) noexcept;

class Reply {
public:
    Reply() noexcept = default;  // nil

    static Reply nil() { return Reply(); }
    static Reply simple(std::string s) { return Reply(ReplyType::simple_string, std::move(s)); }
    static Reply bulk(std::string s) { return Reply(ReplyType::bulk_string, std::move(s)); }
    static Reply error(std::string s) { return Reply(ReplyType::error, std::move(s)); }
    static Reply integer(std::int64_t v) {
        Reply r;
        r.type_ = ReplyType::integer;
        r.int_ = v;
        return r;
    }
    static Reply dbl(double v) {
        Reply r;
        r.type_ = ReplyType::double_;
        r.dbl_ = v;
        return r;
    }
    static Reply boolean(bool v) {
        Reply r;
        r.type_ = ReplyType::boolean;
        r.int_ = v ? 1 : 0;
        return r;
    }
    static Reply aggregate(ReplyType t, std::vector<Reply> elements) {
        Reply r;
        r.type_ = t;
        r.elems_ = std::move(elements);
        return r;
    }
    static Reply array(std::vector<Reply> elements) {
        return aggregate(ReplyType::array, std::move(elements));
    }

    ReplyType type() const noexcept { return type_; }
    bool is_nil() const noexcept { return type_ == ReplyType::nil; }
    bool is_error() const noexcept { return type_ == ReplyType::error; }
    bool is_integer() const noexcept { return type_ == ReplyType::integer; }
    // simple_string, bulk_string or verbatim.
    bool is_string() const noexcept {
        return type_ == ReplyType::simple_string || type_ == ReplyType::bulk_string ||
               type_ == ReplyType::verbatim;
    }
    // array, set, push or map (elements() is usable).
    bool is_aggregate() const noexcept {
        return type_ == ReplyType::array || type_ == ReplyType::set || type_ == ReplyType::push ||
               type_ == ReplyType::map;
    }
    // "+OK".
    bool is_ok() const noexcept { return type_ == ReplyType::simple_string && str_ == "OK"; }

    // Text of a string, error, big number or verbatim reply.
    std::string_view str() const;
    // Moves the text out (same types as str()).
    std::string take_str();
    // Verbatim format ("txt", "mkd"); empty for other types.
    std::string_view format() const noexcept { return {fmt_, fmt_len_}; }
    // Error replies: the first word ("ERR", "WRONGTYPE") and the rest.
    std::string_view error_prefix() const;
    std::string_view error_message() const;

    // Integer reply (or boolean as 0/1).
    std::int64_t integer() const;
    // Integer, or a string holding a decimal integer (RESP2 answers many numbers as strings).
    std::int64_t to_int() const;
    // Double, integer, or a string holding a number ("inf", "-inf" included).
    double to_double() const;
    // Boolean, or integer 0/1.
    bool to_bool() const;
    // nullopt for nil, otherwise the string.
    std::optional<std::string> to_optional_string() const;

    const std::vector<Reply>& elements() const;
    std::vector<Reply>& elements();
    // Number of elements (for maps: twice the number of entries).
    std::size_t size() const { return elements().size(); }
    const Reply& operator[](std::size_t i) const { return elements().at(i); }
    auto begin() const { return elements().begin(); }
    auto end() const { return elements().end(); }

    // RESP3 attributes that preceded this value (flattened k, v, ...), or null.
    const std::vector<Reply>* attributes() const noexcept { return attrs_.get(); }
    void set_attributes(std::vector<Reply> a) {
        attrs_ = std::make_shared<const std::vector<Reply>>(std::move(a));
    }

    // A compact human-readable rendering, for logs and test failures.
    std::string debug_string() const;

    friend bool operator==(const Reply& a, const Reply& b) noexcept;

    // Parser plumbing.
    Reply(ReplyType t, std::string s) : type_(t), str_(std::move(s)) {}
    // RESP3 formats are 3 bytes; longer ones are cut there.
    void set_format(std::string_view f) noexcept {
        fmt_len_ = static_cast<std::uint8_t>(f.size() < sizeof fmt_ ? f.size() : sizeof fmt_);
        for (std::size_t i = 0; i < fmt_len_; ++i) fmt_[i] = f[i];
    }
    std::string& mutable_str() noexcept { return str_; }

private:
    [[noreturn]] void type_error(const char* wanted) const;

    ReplyType type_ = ReplyType::nil;
    std::uint8_t fmt_len_ = 0;
    char fmt_[3] = {};  // verbatim format, inline: moving a Reply stays cheap
    std::int64_t int_ = 0;
    double dbl_ = 0;
    std::string str_;
    std::vector<Reply> elems_;
    std::shared_ptr<const std::vector<Reply>> attrs_;
};

}  // namespace weir::redis
