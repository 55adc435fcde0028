// The header fields of a request as views, stored inline for the common case (no allocation).
#pragma once

#include <array>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string_view>
#include <vector>

#include "weir/http/ascii.hpp"

namespace weir::http {

struct Header {
    std::string_view name;   // as received (case preserved)
    std::string_view value;  // leading and trailing whitespace removed
};

// A small vector of headers: the first `inline_capacity` entries live in the object, only
// requests with more headers than that allocate. clear() keeps the overflow capacity.
class HeaderList {
public:
    static constexpr std::size_t inline_capacity = 32;

    class const_iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = Header;
        using difference_type = std::ptrdiff_t;
        using pointer = const Header*;
        using reference = const Header&;

        const_iterator() = default;
        const_iterator(const HeaderList* list, std::size_t index) : list_(list), index_(index) {}
        reference operator*() const { return (*list_)[index_]; }
        pointer operator->() const { return &(*list_)[index_]; }
        const_iterator& operator++() {
            ++index_;
            return *this;
        }
        const_iterator operator++(int) {
            const_iterator old = *this;
            ++index_;
            return old;
        }
        friend bool operator==(const const_iterator& a, const const_iterator& b) {
            return a.index_ == b.index_;
        }

    private:
        const HeaderList* list_ = nullptr;
        std::size_t index_ = 0;
    };

    void push_back(Header header) {
        if (size_ < inline_capacity) {
            inline_[size_] = header;
        } else {
            overflow_.push_back(header);
        }
        ++size_;
    }

    void clear() noexcept {
        size_ = 0;
        overflow_.clear();
    }

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

    const Header& operator[](std::size_t index) const noexcept {
        return index < inline_capacity ? inline_[index] : overflow_[index - inline_capacity];
    }

    const_iterator begin() const noexcept { return {this, 0}; }
    const_iterator end() const noexcept { return {this, size_}; }

    // Value of the first header whose name equals `name` ignoring ASCII case.
    std::optional<std::string_view> find(std::string_view name) const noexcept {
        for (std::size_t i = 0; i < size_; ++i) {
            const Header& header = (*this)[i];
            if (iequals(header.name, name)) return header.value;
        }
        return std::nullopt;
    }

private:
    std::array<Header, inline_capacity> inline_{};
    std::vector<Header> overflow_;
    std::size_t size_ = 0;
};

}  // namespace weir::http
