// MetricsWriter: collects samples and writes them in the Prometheus text
// exposition format (version 0.0.4), one HELP/TYPE block per metric family.
//
//     weir::http::MetricsWriter w;
//     w.gauge("db_pool_in_use", "Connections lent out.", {{"shard", "0"}}, 3);
//     std::string text = w.render();
//
// Samples of the same family written at different times (e.g. by different
// shards, then merge()d) are grouped under one header. Label values are
// escaped; names must be valid Prometheus names.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weir/core/histogram.hpp"

namespace weir::http {

class Resources;

class MetricsWriter {
public:
    using Label = std::pair<std::string_view, std::string_view>;
    using Labels = std::initializer_list<Label>;

    void counter(std::string_view name, std::string_view help, Labels labels, double value);
    void gauge(std::string_view name, std::string_view help, Labels labels, double value);
    // A log2 microsecond histogram (weir::Histogram), written in seconds:
    // cumulative name_bucket{le=...} series, name_sum and name_count.
    void histogram_us(std::string_view name, std::string_view help, Labels labels,
                      const Histogram::Snapshot& h);

    // Appends `other`'s samples (families keep their first position).
    void merge(MetricsWriter&& other);

    std::string render() const;
    bool empty() const noexcept { return families_.empty(); }

private:
    struct Family {
        std::string name;
        std::string help;
        const char* type;
        std::string samples;  // rendered lines
    };
    Family& family(std::string_view name, std::string_view help, const char* type);
    static void append_sample(std::string& out, std::string_view name, Labels labels,
                              const Label* extra, double value);

    std::vector<Family> families_;
};

// Adds metrics of one shard to /metrics: called on every shard (on that
// shard's thread) with the shard's Resources, e.g. by a connection pool.
using MetricsCollector =
    std::function<void(MetricsWriter& out, Resources& resources, unsigned shard)>;

}  // namespace weir::http
