// ServerOptions::from_args / parse: command-line flags and environment variables.
#include "weir/http/server_options.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

namespace weir::http {
namespace {

enum class Kind { Text, Port, Count, Bytes, Seconds, OptionalSeconds, Flag, Priority };

struct Setting {
    const char* flag;  // without the leading "--"
    const char* env;
    Kind kind;
    const char* help;
};

constexpr Setting kSettings[] = {
    {"host", "HOST", Kind::Text, "IP address to listen on (default 127.0.0.1)"},
    {"port", "PORT", Kind::Port, "TCP port, 0 for any free port (default 8080)"},
    {"threads", "WEIR_THREADS", Kind::Count,
     "shards, one thread each; 0 = one per core (default 0)"},
    {"cpu-threads", "WEIR_CPU_THREADS", Kind::Count,
     "threads for to_cpu computations; 0 = one per core (default 0)"},
    {"cpu-priority", "WEIR_CPU_PRIORITY", Kind::Priority,
     "to_cpu threads' priority: background, low or normal (default background)"},
    {"backlog", "WEIR_BACKLOG", Kind::Count, "listen backlog per shard (default 4096)"},
    {"max-connections", "WEIR_MAX_CONNECTIONS", Kind::Count,
     "open connections per shard before it stops accepting (default 16384)"},
    {"max-body-bytes", "WEIR_MAX_BODY_BYTES", Kind::Bytes,
     "largest request body, -> 413 (default 1Mi; suffixes k, Ki, M, Mi)"},
    {"max-header-bytes", "WEIR_MAX_HEADER_BYTES", Kind::Bytes,
     "largest request head, -> 431 (default 16Ki)"},
    {"max-header-count", "WEIR_MAX_HEADER_COUNT", Kind::Count,
     "most header fields per request, -> 431 (default 100)"},
    {"max-uri-length", "WEIR_MAX_URI_LENGTH", Kind::Bytes,
     "longest request target, -> 414 (default 8Ki)"},
    {"max-pipeline", "WEIR_MAX_PIPELINE", Kind::Count,
     "pipelined requests answered per write batch (default 64)"},
    {"header-timeout", "WEIR_HEADER_TIMEOUT", Kind::Seconds,
     "time for a whole request head to arrive, -> 408 (default 10s; units ms, s, m)"},
    {"idle-timeout", "WEIR_IDLE_TIMEOUT", Kind::Seconds,
     "idle keep-alive connections are closed after this (default 75s)"},
    {"drain-timeout", "WEIR_DRAIN_TIMEOUT", Kind::Seconds,
     "graceful shutdown: time in-flight requests get to finish (default 30s)"},
    {"request-timeout", "WEIR_REQUEST_TIMEOUT", Kind::OptionalSeconds,
     "deadline of every handler, -> 504; 0 = none (default none)"},
    {"debug", "WEIR_DEBUG", Kind::Flag, "error responses include exception text (default off)"},
};

[[noreturn]] void bad(std::string_view what, std::string_view value, std::string_view why) {
    throw std::invalid_argument(std::string(what) + ": invalid value '" + std::string(value) +
                                "' (" + std::string(why) + ")");
}

std::uint64_t parse_unsigned(std::string_view what, std::string_view v, std::uint64_t max) {
    std::uint64_t n = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || r.ec != std::errc() || r.ptr != v.data() + v.size())
        bad(what, v, "expected a non-negative integer");
    if (n > max) bad(what, v, "too large");
    return n;
}

std::uint64_t parse_bytes(std::string_view what, std::string_view v) {
    std::size_t digits = 0;
    while (digits < v.size() && v[digits] >= '0' && v[digits] <= '9') ++digits;
    const std::string_view suffix = v.substr(digits);
    std::uint64_t unit = 1;
    if (suffix.empty() || suffix == "B")
        unit = 1;
    else if (suffix == "k" || suffix == "K" || suffix == "kB")
        unit = 1000;
    else if (suffix == "Ki" || suffix == "KiB")
        unit = 1024;
    else if (suffix == "M" || suffix == "MB")
        unit = 1000 * 1000;
    else if (suffix == "Mi" || suffix == "MiB")
        unit = 1024 * 1024;
    else if (suffix == "G" || suffix == "GB")
        unit = 1000 * 1000 * 1000;
    else if (suffix == "Gi" || suffix == "GiB")
        unit = 1024 * 1024 * 1024;
    else
        bad(what, v, "expected a byte count such as 1048576, 64Ki or 1Mi");
    const std::uint64_t n =
        parse_unsigned(what, v.substr(0, digits), std::numeric_limits<std::uint64_t>::max() / unit);
    return n * unit;
}

std::chrono::milliseconds parse_seconds(std::string_view what, std::string_view v) {
    std::size_t end = 0;
    while (end < v.size() && ((v[end] >= '0' && v[end] <= '9') || v[end] == '.')) ++end;
    const std::string_view number = v.substr(0, end);
    const std::string_view unit = v.substr(end);
    double x = 0;
    auto r = std::from_chars(number.data(), number.data() + number.size(), x);
    if (number.empty() || r.ec != std::errc() || r.ptr != number.data() + number.size() || x < 0)
        bad(what, v, "expected a duration such as 10, 2.5s, 500ms or 1m");
    double ms;
    if (unit.empty() || unit == "s")
        ms = x * 1000;
    else if (unit == "ms")
        ms = x;
    else if (unit == "m" || unit == "min")
        ms = x * 60'000;
    else
        bad(what, v, "unknown unit; use ms, s or m");
    if (ms > 1e12) bad(what, v, "too large");
    return std::chrono::milliseconds(static_cast<std::int64_t>(ms + 0.5));
}

bool parse_flag_value(std::string_view what, std::string_view v) {
    if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
    if (v.empty() || v == "0" || v == "false" || v == "no" || v == "off") return false;
    bad(what, v, "expected 1/0, true/false, yes/no or on/off");
}

void apply(ServerOptions& o, const Setting& s, std::string_view what, std::string_view v) {
    const std::string_view name = s.flag;
    switch (s.kind) {
        case Kind::Text:
            if (v.empty()) bad(what, v, "must not be empty");
            o.host = std::string(v);
            return;
        case Kind::Port:
            o.port = static_cast<std::uint16_t>(parse_unsigned(what, v, 65535));
            return;
        case Kind::Flag:
            o.debug = parse_flag_value(what, v);
            return;
        case Kind::Priority:
            if (v == "background")
                o.cpu_priority = CpuPriority::background;
            else if (v == "low")
                o.cpu_priority = CpuPriority::low;
            else if (v == "normal")
                o.cpu_priority = CpuPriority::normal;
            else
                bad(what, v, "expected background, low or normal");
            return;
        case Kind::Count: {
            const std::uint64_t n = parse_unsigned(what, v, std::numeric_limits<int>::max());
            if (name == "threads")
                o.threads = static_cast<unsigned>(n);
            else if (name == "cpu-threads")
                o.cpu_threads = static_cast<unsigned>(n);
            else if (name == "backlog")
                o.backlog = static_cast<int>(n);
            else if (name == "max-connections")
                o.max_connections = n;
            else if (name == "max-header-count")
                o.limits.max_header_count = n;
            else if (name == "max-pipeline")
                o.max_pipeline = n;
            if ((name == "max-connections" || name == "max-pipeline" ||
                 name == "max-header-count") &&
                n == 0)
                bad(what, v, "must be at least 1");
            return;
        }
        case Kind::Bytes: {
            const std::uint64_t n = parse_bytes(what, v);
            if (name == "max-body-bytes") {
                o.max_body_bytes = n;
            } else {
                if (n == 0 || n > (std::uint64_t{1} << 30)) bad(what, v, "must be 1 .. 1Gi");
                if (name == "max-header-bytes")
                    o.limits.max_head_bytes = n;
                else
                    o.limits.max_uri_length = n;
            }
            return;
        }
        case Kind::Seconds: {
            const auto d = parse_seconds(what, v);
            if (d.count() == 0) bad(what, v, "must be positive");
            if (name == "header-timeout")
                o.header_timeout = d;
            else if (name == "idle-timeout")
                o.idle_timeout = d;
            else
                o.drain_timeout = d;
            return;
        }
        case Kind::OptionalSeconds: {
            if (v == "none") {
                o.request_timeout.reset();
                return;
            }
            const auto d = parse_seconds(what, v);
            if (d.count() == 0)
                o.request_timeout.reset();
            else
                o.request_timeout = d;
            return;
        }
    }
}

}  // namespace

std::string ServerOptions::usage(std::string_view program) {
    std::string out = "usage: ";
    out += program;
    out += " [options]\n\noptions (flag / environment variable):\n";
    for (const Setting& s : kSettings) {
        std::string left = "  --";
        left += s.flag;
        if (s.kind != Kind::Flag) left += " VALUE";
        left += " / ";
        left += s.env;
        out += left;
        out.append(left.size() < 44 ? 44 - left.size() : 1, ' ');
        out += s.help;
        out += '\n';
    }
    out += "  --help";
    out.append(44 - 8, ' ');
    out += "print this help and exit\n";
    return out;
}

ServerOptions ServerOptions::parse(const std::vector<std::string_view>& args, bool* help,
                                   const std::function<const char*(const char*)>& getenv) {
    ServerOptions o;
    if (help) *help = false;
    // Environment first, flags override it.
    for (const Setting& s : kSettings) {
        const char* v = getenv ? getenv(s.env) : std::getenv(s.env);
        if (v) apply(o, s, s.env, v);
    }
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        if (a == "--help" || a == "-h") {
            if (help) *help = true;
            continue;
        }
        if (a.substr(0, 2) != "--")
            throw std::invalid_argument("unexpected argument '" + std::string(a) + "'");
        a.remove_prefix(2);
        std::string_view name = a;
        std::optional<std::string_view> value;
        if (auto eq = a.find('='); eq != std::string_view::npos) {
            name = a.substr(0, eq);
            value = a.substr(eq + 1);
        }
        const Setting* setting = nullptr;
        for (const Setting& s : kSettings)
            if (name == s.flag) setting = &s;
        if (!setting) throw std::invalid_argument("unknown option '--" + std::string(name) + "'");
        const std::string what = "--" + std::string(name);
        if (setting->kind == Kind::Flag) {
            apply(o, *setting, what, value.value_or("1"));
            continue;
        }
        if (!value) {
            if (i + 1 >= args.size()) throw std::invalid_argument(what + " needs a value");
            value = args[++i];
        }
        apply(o, *setting, what, *value);
    }
    return o;
}

ServerOptions ServerOptions::from_args(int argc, const char* const* argv) {
    std::vector<std::string_view> args;
    for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
    const std::string_view program = argc > 0 && argv[0] ? argv[0] : "server";
    bool help = false;
    try {
        ServerOptions o = parse(args, &help);
        if (help) {
            std::fputs(usage(program).c_str(), stdout);
            std::fflush(stdout);
            std::exit(0);
        }
        return o;
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "%.*s: %s\n\n%s", static_cast<int>(program.size()), program.data(),
                     e.what(), usage(program).c_str());
        std::exit(2);
    }
}

}  // namespace weir::http
