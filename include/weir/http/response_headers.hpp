// ResponseHeaders: the header fields of one response received by http::Client
// (ClientResponse::headers, ResponseStream::headers(), ResponseHead::headers).
// One heap block holds the received header bytes and a small index of where
// each name and value is in them, so a response costs one allocation however
// many fields it has.
//
//     if (auto ct = r.headers.get("content-type")) use(*ct);  // any case, first match
//     for (auto [name, value] : r.headers) log(name, value);   // received order, duplicates kept
//     for (std::string_view c : r.headers.get_all("Set-Cookie")) jar.add(c);
//
// Names keep the case they were received in; values have their surrounding
// whitespace removed. Every view stays valid as long as the object holding it
// (moving it keeps them valid: the block does not move; a copy has its own).
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace weir::http {

struct HeaderField {
    std::string_view name;
    std::string_view value;
};

namespace detail {
// Where a field is in the header text (offsets from its start); for parsers.
struct HeaderSpan {
    std::uint32_t name_offset;
    std::uint32_t name_size;
    std::uint32_t value_offset;
    std::uint32_t value_size;
};
}  // namespace detail

class ResponseHeaders {
public:
    class iterator {
    public:
        // Fields are made on access (no reference to return): random access for ranges,
        // an input iterator for the legacy algorithms.
        using iterator_concept = std::random_access_iterator_tag;
        using iterator_category = std::input_iterator_tag;
        using value_type = HeaderField;
        using difference_type = std::ptrdiff_t;
        using reference = HeaderField;
        using pointer = void;

        iterator() noexcept = default;
        HeaderField operator*() const noexcept { return (*h_)[i_]; }
        HeaderField operator[](difference_type n) const noexcept {
            return (*h_)[i_ + static_cast<std::size_t>(n)];
        }
        iterator& operator++() noexcept { return ++i_, *this; }
        iterator operator++(int) noexcept { return {h_, i_++}; }
        iterator& operator--() noexcept { return --i_, *this; }
        iterator operator--(int) noexcept { return {h_, i_--}; }
        iterator& operator+=(difference_type n) noexcept {
            i_ += static_cast<std::size_t>(n);
            return *this;
        }
        iterator& operator-=(difference_type n) noexcept {
            i_ -= static_cast<std::size_t>(n);
            return *this;
        }
        friend iterator operator+(iterator it, difference_type n) noexcept { return it += n; }
        friend iterator operator+(difference_type n, iterator it) noexcept { return it += n; }
        friend iterator operator-(iterator it, difference_type n) noexcept { return it -= n; }
        friend difference_type operator-(iterator a, iterator b) noexcept {
            return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
        }
        friend bool operator==(iterator a, iterator b) noexcept { return a.i_ == b.i_; }
        friend auto operator<=>(iterator a, iterator b) noexcept { return a.i_ <=> b.i_; }

    private:
        friend class ResponseHeaders;
        iterator(const ResponseHeaders* h, std::size_t i) noexcept : h_(h), i_(i) {}
        const ResponseHeaders* h_ = nullptr;
        std::size_t i_ = 0;
    };
    using const_iterator = iterator;
    using value_type = HeaderField;
    using size_type = std::size_t;

    ResponseHeaders() noexcept = default;
    // The fields in this order (for tests and hand-made responses).
    ResponseHeaders(std::initializer_list<HeaderField> fields);
    explicit ResponseHeaders(std::span<const HeaderField> fields);
    // For parsers: the fields at `spans` in `text` (copied, one allocation).
    static ResponseHeaders from_text(std::string_view text,
                                     std::span<const detail::HeaderSpan> spans);

    ResponseHeaders(const ResponseHeaders& o);
    ResponseHeaders& operator=(const ResponseHeaders& o);
    ResponseHeaders(ResponseHeaders&& o) noexcept = default;
    ResponseHeaders& operator=(ResponseHeaders&& o) noexcept = default;
    ~ResponseHeaders() = default;

    std::size_t size() const noexcept { return block_ ? block_->count : 0; }
    bool empty() const noexcept { return size() == 0; }
    // The i-th field as received (i < size()).
    HeaderField operator[](std::size_t i) const noexcept {
        const detail::HeaderSpan& s = spans()[i];
        const char* t = text();
        return {{t + s.name_offset, s.name_size}, {t + s.value_offset, s.value_size}};
    }
    iterator begin() const noexcept { return {this, 0}; }
    iterator end() const noexcept { return {this, size()}; }

    // The value of the first field with this name, ignoring case.
    std::optional<std::string_view> get(std::string_view name) const noexcept;
    bool contains(std::string_view name) const noexcept { return get(name).has_value(); }
    // The values of every field with this name, ignoring case, in received order.
    std::vector<std::string_view> get_all(std::string_view name) const;

    void clear() noexcept { block_.reset(); }

private:
    // Block layout: Block, then `count` HeaderSpans, then `text_size` chars.
    struct Block {
        std::uint32_t count;
        std::uint32_t text_size;
    };
    struct Free {
        void operator()(Block* b) const noexcept;
    };
    static std::size_t block_bytes(std::size_t count, std::size_t text_size) noexcept {
        return sizeof(Block) + count * sizeof(detail::HeaderSpan) + text_size;
    }
    const detail::HeaderSpan* spans() const noexcept {
        return reinterpret_cast<const detail::HeaderSpan*>(block_.get() + 1);
    }
    const char* text() const noexcept {
        return reinterpret_cast<const char*>(spans() + block_->count);
    }

    std::unique_ptr<Block, Free> block_;
};

}  // namespace weir::http
