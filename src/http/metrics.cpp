// MetricsWriter: Prometheus text exposition; see include/weir/http/metrics.hpp.
#include "weir/http/metrics.hpp"

#include <charconv>
#include <cmath>

namespace weir::http {
namespace {

void append_number(std::string& out, double v) {
    if (std::isnan(v)) {
        out += "NaN";
        return;
    }
    if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
        return;
    }
    char buf[32];
    // Integers (counts, gauges of things) print without an exponent.
    if (v == std::floor(v) && std::fabs(v) < 1e15) {
        auto r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
        out.append(buf, r.ptr);
        return;
    }
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

void append_label_value(std::string& out, std::string_view v) {
    for (char c : v) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += c;
        }
    }
}

void append_help(std::string& out, std::string_view help) {
    for (char c : help) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
}

}  // namespace

MetricsWriter::Family& MetricsWriter::family(std::string_view name, std::string_view help,
                                             const char* type) {
    for (auto& f : families_)
        if (f.name == name) return f;
    families_.push_back(Family{std::string(name), std::string(help), type, {}});
    return families_.back();
}

void MetricsWriter::append_sample(std::string& out, std::string_view name, Labels labels,
                                  const Label* extra, double value) {
    out += name;
    if (labels.size() != 0 || extra) {
        out += '{';
        bool first = true;
        auto add = [&](const Label& l) {
            if (!first) out += ',';
            first = false;
            out += l.first;
            out += "=\"";
            append_label_value(out, l.second);
            out += '"';
        };
        for (const Label& l : labels) add(l);
        if (extra) add(*extra);
        out += '}';
    }
    out += ' ';
    append_number(out, value);
    out += '\n';
}

void MetricsWriter::counter(std::string_view name, std::string_view help, Labels labels,
                            double value) {
    append_sample(family(name, help, "counter").samples, name, labels, nullptr, value);
}

void MetricsWriter::gauge(std::string_view name, std::string_view help, Labels labels,
                          double value) {
    append_sample(family(name, help, "gauge").samples, name, labels, nullptr, value);
}

void MetricsWriter::histogram_us(std::string_view name, std::string_view help, Labels labels,
                                 const Histogram::Snapshot& h) {
    std::string& out = family(name, help, "histogram").samples;
    const std::string bucket = std::string(name) + "_bucket";
    std::uint64_t cumulative = 0;
    char le[32];
    for (std::size_t i = 0; i < Histogram::kBuckets; ++i) {
        cumulative += h.buckets[i];
        std::string_view le_text;
        if (i + 1 == Histogram::kBuckets) {
            le_text = "+Inf";
        } else {
            const double seconds = static_cast<double>(Histogram::upper_bound_us(i)) / 1e6;
            auto r = std::to_chars(le, le + sizeof le, seconds);
            le_text = std::string_view(le, static_cast<std::size_t>(r.ptr - le));
        }
        const Label extra{"le", le_text};
        append_sample(out, bucket, labels, &extra, static_cast<double>(cumulative));
    }
    append_sample(out, std::string(name) + "_sum", labels, nullptr,
                  static_cast<double>(h.sum_us) / 1e6);
    append_sample(out, std::string(name) + "_count", labels, nullptr, static_cast<double>(h.count));
}

void MetricsWriter::merge(MetricsWriter&& other) {
    for (auto& f : other.families_) {
        Family& mine = family(f.name, f.help, f.type);
        mine.samples += f.samples;
    }
    other.families_.clear();
}

std::string MetricsWriter::render() const {
    std::string out;
    std::size_t total = 0;
    for (const auto& f : families_)
        total += f.samples.size() + f.help.size() + 2 * f.name.size() + 32;
    out.reserve(total);
    for (const auto& f : families_) {
        out += "# HELP ";
        out += f.name;
        out += ' ';
        append_help(out, f.help);
        out += "\n# TYPE ";
        out += f.name;
        out += ' ';
        out += f.type;
        out += '\n';
        out += f.samples;
    }
    return out;
}

}  // namespace weir::http
