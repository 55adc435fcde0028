// libFuzzer target for weir::http::ResponseParser + BodyDecoder: parsing never reads past the
// input, the result does not depend on how the input is split, and a body never yields more
// bytes than it consumed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "weir/http/response_parser.hpp"

namespace {

using weir::http::BodyDecoder;
using weir::http::BodyFraming;
using weir::http::ResponseParser;

struct Outcome {
    int head_status = 0;  // 0 need more, 1 complete, 2 error
    int status = 0;
    BodyFraming framing = BodyFraming::None;
    bool keep_alive = false;
    std::size_t head_bytes = 0;
    int body_status = 0;  // 0 need more, 1 done, 2 error
    std::string body;
    std::string fields;  // the head's fields, each as name ':' value '\n'
};

// Feeds the input in pieces of `piece` bytes (the buffer grows like a connection's).
Outcome run(std::string_view input, std::size_t piece, bool head_request, bool eof) {
    Outcome out;
    ResponseParser parser;
    parser.set_head_request(head_request);
    std::string buf;
    std::size_t fed = 0;
    while (true) {
        const std::size_t n = std::min(piece, input.size() - fed);
        buf.append(input.substr(fed, n));
        fed += n;
        auto r = parser.parse(buf);
        if (r.failed()) {
            out.head_status = 2;
            return out;
        }
        if (r.complete()) {
            FUZZ_CHECK(r.consumed <= buf.size());
            out.head_status = 1;
            out.head_bytes = r.consumed;
            break;
        }
        if (fed == input.size()) return out;
    }
    const auto& head = parser.head();
    FUZZ_CHECK(head.status >= 100 && head.status <= 999);
    out.status = head.status;
    out.framing = head.framing;
    out.keep_alive = head.keep_alive;
    // The fields: own copies (the buffer is overwritten first), names non-empty, values
    // trimmed, and the first field of each name is what a lookup in other case finds.
    const weir::http::ResponseHeaders fields = head.headers;
    buf.assign(buf.size(), '\0');
    for (const weir::http::HeaderField f : fields) {
        FUZZ_CHECK(!f.name.empty());
        FUZZ_CHECK(f.value.empty() || (f.value.front() != ' ' && f.value.back() != ' '));
        out.fields.append(f.name).append(":").append(f.value).append("\n");
        std::string upper(f.name);
        for (char& c : upper)
            if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        const auto found = fields.get(upper);
        FUZZ_CHECK(found.has_value());
        FUZZ_CHECK(found->data() >= fields[0].name.data());
    }
    FUZZ_CHECK(fields.size() == head.headers.size());
    BodyDecoder body(head.framing, head.content_length, 1 << 20);
    std::string_view rest = input.substr(out.head_bytes);
    std::size_t consumed = 0;
    while (true) {
        // Deliver the rest in pieces too.
        std::string_view avail = rest.substr(0, std::min(rest.size(), consumed + piece));
        auto s = body.step(avail.substr(consumed));
        FUZZ_CHECK(s.consumed <= avail.size() - consumed);
        if (s.status == BodyDecoder::Status::Data) {
            FUZZ_CHECK(!s.data.empty() && s.data.size() <= s.consumed);
            out.body.append(s.data);
        }
        consumed += s.consumed;
        if (s.status == BodyDecoder::Status::Done) {
            out.body_status = 1;
            break;
        }
        if (s.status == BodyDecoder::Status::Error) {
            out.body_status = 2;
            break;
        }
        if (s.status == BodyDecoder::Status::NeedMore && consumed >= rest.size()) {
            if (eof) {
                auto e = body.finish_at_eof();
                out.body_status = e.status == BodyDecoder::Status::Done ? 1 : 2;
            }
            break;
        }
    }
    FUZZ_CHECK(out.body.size() <= consumed);
    FUZZ_CHECK(out.body.size() <= (1u << 20));
    if (head.framing == BodyFraming::Length && out.body_status == 1)
        FUZZ_CHECK(out.body.size() == head.content_length);
    if (head.framing == BodyFraming::None) FUZZ_CHECK(out.body.empty());
    return out;
}

void check_same(const Outcome& a, const Outcome& b) {
    FUZZ_CHECK(a.head_status == b.head_status);
    FUZZ_CHECK(a.status == b.status);
    FUZZ_CHECK(a.framing == b.framing);
    FUZZ_CHECK(a.keep_alive == b.keep_alive);
    FUZZ_CHECK(a.head_bytes == b.head_bytes);
    FUZZ_CHECK(a.body_status == b.body_status);
    FUZZ_CHECK(a.body == b.body);
    FUZZ_CHECK(a.fields == b.fields);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const bool head_request = (data[0] & 1) != 0;
    const bool eof = (data[0] & 2) != 0;
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    const Outcome whole = run(input, input.size() + 1, head_request, eof);
    check_same(whole, run(input, 1, head_request, eof));
    check_same(whole, run(input, 7, head_request, eof));
    return 0;
}
