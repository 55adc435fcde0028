// ResponseHeaders: one block of header text plus the fields' offsets; see
// include/weir/http/response_headers.hpp.
#include "weir/http/response_headers.hpp"

#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

#include "weir/http/ascii.hpp"

namespace weir::http {

void ResponseHeaders::Free::operator()(Block* b) const noexcept { ::operator delete(b); }

ResponseHeaders::ResponseHeaders(std::initializer_list<HeaderField> fields)
    : ResponseHeaders(std::span<const HeaderField>(fields.begin(), fields.size())) {}

ResponseHeaders::ResponseHeaders(std::span<const HeaderField> fields) {
    if (fields.empty()) return;
    // Text: each name then its value, back to back; the spans say where.
    std::size_t text_size = 0;
    for (const HeaderField& f : fields) text_size += f.name.size() + f.value.size();
    if (text_size > std::numeric_limits<std::uint32_t>::max() ||
        fields.size() > std::numeric_limits<std::uint32_t>::max())
        throw std::length_error("ResponseHeaders: too large");
    void* raw = ::operator new(block_bytes(fields.size(), text_size));
    block_.reset(::new (raw) Block{static_cast<std::uint32_t>(fields.size()),
                                   static_cast<std::uint32_t>(text_size)});
    auto* spans = reinterpret_cast<detail::HeaderSpan*>(block_.get() + 1);
    char* text = reinterpret_cast<char*>(spans + fields.size());
    std::uint32_t at = 0;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        const HeaderField& f = fields[i];
        detail::HeaderSpan s;
        s.name_offset = at;
        s.name_size = static_cast<std::uint32_t>(f.name.size());
        if (!f.name.empty()) std::memcpy(text + at, f.name.data(), f.name.size());
        at += s.name_size;
        s.value_offset = at;
        s.value_size = static_cast<std::uint32_t>(f.value.size());
        if (!f.value.empty()) std::memcpy(text + at, f.value.data(), f.value.size());
        at += s.value_size;
        std::memcpy(spans + i, &s, sizeof s);
    }
}

ResponseHeaders ResponseHeaders::from_text(std::string_view text,
                                           std::span<const detail::HeaderSpan> spans) {
    ResponseHeaders h;
    if (spans.empty()) return h;
    if (text.size() > std::numeric_limits<std::uint32_t>::max() ||
        spans.size() > std::numeric_limits<std::uint32_t>::max())
        throw std::length_error("ResponseHeaders: too large");
    void* raw = ::operator new(block_bytes(spans.size(), text.size()));
    h.block_.reset(::new (raw) Block{static_cast<std::uint32_t>(spans.size()),
                                     static_cast<std::uint32_t>(text.size())});
    auto* to = reinterpret_cast<unsigned char*>(h.block_.get() + 1);
    std::memcpy(to, spans.data(), spans.size_bytes());
    std::memcpy(to + spans.size_bytes(), text.data(), text.size());
    return h;
}

ResponseHeaders::ResponseHeaders(const ResponseHeaders& o) {
    if (!o.block_) return;
    const std::size_t n = block_bytes(o.block_->count, o.block_->text_size);
    void* raw = ::operator new(n);
    std::memcpy(raw, o.block_.get(), n);
    block_.reset(std::launder(static_cast<Block*>(raw)));
}

ResponseHeaders& ResponseHeaders::operator=(const ResponseHeaders& o) {
    if (this != &o) {
        ResponseHeaders copy(o);
        block_ = std::move(copy.block_);
    }
    return *this;
}

std::optional<std::string_view> ResponseHeaders::get(std::string_view name) const noexcept {
    const std::size_t n = size();
    if (n == 0) return std::nullopt;
    const detail::HeaderSpan* s = spans();
    const char* t = text();
    for (std::size_t i = 0; i < n; ++i) {
        if (s[i].name_size == name.size() &&
            iequals(std::string_view(t + s[i].name_offset, s[i].name_size), name))
            return std::string_view(t + s[i].value_offset, s[i].value_size);
    }
    return std::nullopt;
}

std::vector<std::string_view> ResponseHeaders::get_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const HeaderField f : *this)
        if (f.name.size() == name.size() && iequals(f.name, name)) out.push_back(f.value);
    return out;
}

}  // namespace weir::http
