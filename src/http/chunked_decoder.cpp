// Incremental chunked transfer-coding decoder; see include/weir/http/chunked_decoder.hpp.
#include "weir/http/chunked_decoder.hpp"

#include <algorithm>
#include <limits>

#include "weir/http/ascii.hpp"

namespace weir::http {
namespace {

constexpr std::size_t kMaxSizeDigits = 16;
constexpr std::uint64_t kMaxChunkSize =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

constexpr bool is_control(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7F;
}

}  // namespace

void ChunkedDecoder::reset() noexcept {
    state_ = State::Size;
    chunk_size_ = 0;
    body_size_ = 0;
    size_digits_ = 0;
    line_bytes_ = 0;
    trailer_bytes_ = 0;
    error_ = {};
}

ChunkedResult ChunkedDecoder::fail(std::size_t consumed, int status,
                                   std::string_view reason) noexcept {
    state_ = State::Failed;
    error_ = {status, reason};
    return {ChunkedStatus::Error, consumed, {}, error_};
}

ChunkedResult ChunkedDecoder::step(std::string_view in) noexcept {
    if (state_ == State::Done) return {ChunkedStatus::Done, 0, {}, {}};
    if (state_ == State::Failed) return {ChunkedStatus::Error, 0, {}, error_};

    std::size_t i = 0;
    while (i < in.size()) {
        if (state_ == State::Data) {
            const auto n =
                static_cast<std::size_t>(std::min<std::uint64_t>(chunk_size_, in.size() - i));
            chunk_size_ -= n;
            if (chunk_size_ == 0) state_ = State::DataCr;
            return {ChunkedStatus::Data, i + n, in.substr(i, n), {}};
        }

        // The usual framing, when a whole piece of it is in `in`: a size line of hex digits and
        // CRLF, the CRLF after a chunk's data, the final CRLF. Anything else (a piece split
        // across calls, extensions, trailers, a limit reached, an error) goes byte by byte
        // below, which decides as it always did; so does a size line that fails a check.
        const std::size_t left = in.size() - i;
        if (left >= 2) {
            if (state_ == State::Size && size_digits_ == 0) {
                std::size_t j = i;
                std::uint64_t size = 0;
                while (j < in.size() && j - i < kMaxSizeDigits) {
                    const int digit = hex_value(in[j]);
                    if (digit < 0) break;
                    size = size * 16 + static_cast<std::uint64_t>(digit);
                    ++j;
                }
                // Every prefix of the digits passed the checks too: the size only grows.
                if (j > i && in.size() - j >= 2 && in[j] == '\r' && in[j + 1] == '\n' &&
                    size <= kMaxChunkSize && size <= limits_.max_body_bytes - body_size_) {
                    size_digits_ = j - i;
                    chunk_size_ = size;
                    i = j + 2;
                    if (size == 0) {
                        state_ = State::TrailerStart;
                    } else {
                        body_size_ += size;
                        state_ = State::Data;
                    }
                    continue;
                }
            } else if (state_ == State::DataCr && in[i] == '\r' && in[i + 1] == '\n') {
                i += 2;
                state_ = State::Size;
                chunk_size_ = 0;
                size_digits_ = 0;
                line_bytes_ = 0;
                continue;
            } else if (state_ == State::TrailerStart && in[i] == '\r' && in[i + 1] == '\n' &&
                       trailer_bytes_ + 2 <= limits_.max_trailer_bytes) {
                trailer_bytes_ += 2;
                state_ = State::Done;
                return {ChunkedStatus::Done, i + 2, {}, {}};
            }
        }

        const char c = in[i++];
        switch (state_) {
            case State::Size: {
                const int digit = hex_value(c);
                if (digit >= 0) {
                    if (++size_digits_ > kMaxSizeDigits) return fail(i, 400, "chunk size too long");
                    chunk_size_ = chunk_size_ * 16 + static_cast<std::uint64_t>(digit);
                    if (chunk_size_ > kMaxChunkSize) return fail(i, 400, "chunk size overflow");
                    if (chunk_size_ > limits_.max_body_bytes - body_size_) {
                        return fail(i, 413, "request body too large");
                    }
                    break;
                }
                if (size_digits_ == 0) return fail(i, 400, "missing chunk size");
                if ((c == ';' || is_ows(c)) && ++line_bytes_ > limits_.max_extension_bytes) {
                    return fail(i, 400, "chunk extension too long");
                }
                if (c == '\r') {
                    state_ = State::SizeLf;
                } else if (c == ';') {
                    state_ = State::Extension;
                } else if (is_ows(c)) {
                    state_ = State::SizeSpace;
                } else if (c == '\n') {
                    return fail(i, 400, "bare LF in chunk size line");
                } else {
                    return fail(i, 400, "invalid chunk size");
                }
                break;
            }
            case State::SizeSpace:
                if (++line_bytes_ > limits_.max_extension_bytes) {
                    return fail(i, 400, "chunk extension too long");
                }
                if (c == ';') {
                    state_ = State::Extension;
                } else if (!is_ows(c)) {
                    return fail(i, 400, "invalid chunk size");
                }
                break;
            case State::Extension:
                if (c == '\r') {
                    state_ = State::SizeLf;
                    break;
                }
                if (c == '\n') return fail(i, 400, "bare LF in chunk size line");
                if (is_control(c)) return fail(i, 400, "control character in chunk extension");
                if (++line_bytes_ > limits_.max_extension_bytes) {
                    return fail(i, 400, "chunk extension too long");
                }
                break;
            case State::SizeLf:
                if (c != '\n') return fail(i, 400, "bare CR in chunk size line");
                if (chunk_size_ == 0) {
                    state_ = State::TrailerStart;
                } else {
                    body_size_ += chunk_size_;
                    state_ = State::Data;
                }
                break;
            case State::DataCr:
                if (c != '\r') return fail(i, 400, "missing CRLF after chunk data");
                state_ = State::DataLf;
                break;
            case State::DataLf:
                if (c != '\n') return fail(i, 400, "missing CRLF after chunk data");
                state_ = State::Size;
                chunk_size_ = 0;
                size_digits_ = 0;
                line_bytes_ = 0;
                break;
            case State::TrailerStart:
            case State::TrailerName:
            case State::TrailerValue:
            case State::TrailerLf:
            case State::FinalLf:
                if (++trailer_bytes_ > limits_.max_trailer_bytes) {
                    return fail(i, 431, "chunked trailer section too large");
                }
                switch (state_) {
                    case State::TrailerStart:
                        if (c == '\r') {
                            state_ = State::FinalLf;
                        } else if (is_tchar(c)) {
                            state_ = State::TrailerName;
                        } else if (c == '\n') {
                            return fail(i, 400, "bare LF in chunked trailer");
                        } else if (is_ows(c)) {
                            return fail(i, 400, "obsolete line folding in chunked trailer");
                        } else {
                            return fail(i, 400, "invalid character in trailer field name");
                        }
                        break;
                    case State::TrailerName:
                        if (c == ':') {
                            state_ = State::TrailerValue;
                        } else if (!is_tchar(c)) {
                            return fail(i, 400, "invalid character in trailer field name");
                        }
                        break;
                    case State::TrailerValue:
                        if (c == '\r') {
                            state_ = State::TrailerLf;
                        } else if (c == '\n') {
                            return fail(i, 400, "bare LF in chunked trailer");
                        } else if (is_control(c)) {
                            return fail(i, 400, "control character in chunked trailer");
                        }
                        break;
                    case State::TrailerLf:
                        if (c != '\n') return fail(i, 400, "bare CR in chunked trailer");
                        state_ = State::TrailerStart;
                        break;
                    default:  // FinalLf
                        if (c != '\n') return fail(i, 400, "bare CR after chunked trailer");
                        state_ = State::Done;
                        return {ChunkedStatus::Done, i, {}, {}};
                }
                break;
            case State::Data:
            case State::Done:
            case State::Failed:
                break;  // handled above
        }
    }
    return {ChunkedStatus::NeedMore, i, {}, {}};
}

ChunkedResult ChunkedDecoder::feed(std::string_view in, std::string& out) {
    std::size_t consumed = 0;
    while (true) {
        ChunkedResult r = step(in.substr(consumed));
        consumed += r.consumed;
        if (r.status != ChunkedStatus::Data) {
            r.consumed = consumed;
            return r;
        }
        out.append(r.data);
    }
}

}  // namespace weir::http
