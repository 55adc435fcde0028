// Route matching; see include/weir/http/router.hpp.
#include "weir/http/router.hpp"

#include <array>
#include <charconv>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <unordered_map>

#include "weir/http/query.hpp"

namespace weir::http {

namespace {

constexpr std::size_t kMethodCount = static_cast<std::size_t>(Method::Other) + 1;
constexpr std::size_t kNoTarget = static_cast<std::size_t>(-1);
constexpr std::size_t kMaxParams = 32;

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// A fast inline hash for short strings, 8 bytes per step (not for untrusted key sets: the
// table's keys are the application's routes).
inline std::uint64_t hash_path(std::string_view s) noexcept {
    const char* p = s.data();
    std::size_t n = s.size();
    std::uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    auto mix = [&h](std::uint64_t w) {
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    };
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        mix(w);
    }
    std::uint64_t tail = 0;
    if (n >= 4) {
        std::uint32_t w;
        std::memcpy(&w, p, 4);
        tail = w;
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        std::uint16_t w;
        std::memcpy(&w, p, 2);
        tail = (tail << 16) | w;
        p += 2;
        n -= 2;
    }
    if (n == 1) tail = (tail << 8) | static_cast<unsigned char>(*p);
    mix(tail);
    return h;
}

// Open-addressing table (power-of-two size, at most half full) from a whole path to a value:
// the lookup of every request, so it is kept flat and branch-light. The key set is fixed by
// the application, so probe sequences stay short whatever paths clients send.
template <class V>
class StaticTable {
public:
    bool empty() const noexcept { return count_ == 0; }

    V* find(std::string_view key) noexcept {
        if (count_ == 0) return nullptr;
        const std::uint64_t h = hash_path(key);
        for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
            Slot& s = slots_[i];
            if (!s.used) return nullptr;
            if (s.hash == h && s.key == key) return &s.value;
        }
    }
    const V* find(std::string_view key) const noexcept {
        return const_cast<StaticTable*>(this)->find(key);
    }

    // The value for `key`, default-constructed if new.
    V& operator[](std::string_view key) {
        if (V* v = find(key)) return *v;
        if ((count_ + 1) * 2 > slots_.size()) grow();
        Slot& s = probe_free(hash_path(key));
        s.used = true;
        s.hash = hash_path(key);
        s.key = key;
        ++count_;
        return s.value;
    }

private:
    struct Slot {
        bool used = false;
        std::uint64_t hash = 0;
        std::string key;
        V value{};
    };

    Slot& probe_free(std::uint64_t h) {
        for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
            if (!slots_[i].used) return slots_[i];
        }
    }

    void grow() {
        std::vector<Slot> old = std::move(slots_);
        slots_ = std::vector<Slot>(old.empty() ? 16 : old.size() * 2);
        mask_ = slots_.size() - 1;
        for (Slot& s : old) {
            if (s.used) probe_free(s.hash) = std::move(s);
        }
    }

    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
    std::size_t count_ = 0;
};

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool parse_int64(std::string_view s, std::int64_t& out) {
    if (s.empty() || s.size() > 20) return false;
    const char* first = s.data();
    const char* last = first + s.size();
    const auto r = std::from_chars(first, last, out);
    return r.ec == std::errc() && r.ptr == last;
}

[[noreturn]] void bad_pattern(std::string_view pattern, std::string_view why) {
    std::string msg = "invalid route pattern \"";
    msg += pattern;
    msg += "\": ";
    msg += why;
    throw std::invalid_argument(msg);
}

}  // namespace

std::string_view to_string(ParamType type) noexcept {
    switch (type) {
        case ParamType::String:
            return "str";
        case ParamType::Int:
            return "int";
        case ParamType::Path:
            return "path";
    }
    return "str";
}

std::vector<PatternSegment> parse_route_pattern(std::string_view pattern) {
    if (pattern.empty() || pattern[0] != '/') bad_pattern(pattern, "must start with '/'");
    std::vector<PatternSegment> segments;
    std::string_view rest = pattern.substr(1);
    for (;;) {
        const std::size_t slash = rest.find('/');
        const std::string_view seg = rest.substr(0, slash);
        PatternSegment ps;
        if (!seg.empty() && seg.front() == '{') {
            if (seg.back() != '}') bad_pattern(pattern, "a parameter must fill its whole segment");
            std::string_view inner = seg.substr(1, seg.size() - 2);
            std::string_view type;
            if (const std::size_t colon = inner.find(':'); colon != std::string_view::npos) {
                type = inner.substr(colon + 1);
                inner = inner.substr(0, colon);
            }
            if (inner.empty()) bad_pattern(pattern, "empty parameter name");
            for (char c : inner) {
                if (!is_name_char(c)) bad_pattern(pattern, "parameter names are [A-Za-z0-9_]+");
            }
            ps.is_param = true;
            ps.text = inner;
            if (type.empty() || type == "str") {
                ps.type = ParamType::String;
            } else if (type == "int") {
                ps.type = ParamType::Int;
            } else if (type == "path") {
                ps.type = ParamType::Path;
                if (slash != std::string_view::npos) {
                    bad_pattern(pattern, "a {name:path} parameter must be the last segment");
                }
            } else {
                bad_pattern(pattern, "unknown parameter type (use str, int or path)");
            }
            for (const PatternSegment& other : segments) {
                if (other.is_param && other.text == ps.text) {
                    bad_pattern(pattern, "duplicate parameter name");
                }
            }
        } else {
            if (seg.find_first_of("{}") != std::string_view::npos) {
                bad_pattern(pattern, "a parameter must fill its whole segment");
            }
            ps.text = seg;
        }
        segments.push_back(std::move(ps));
        if (slash == std::string_view::npos) break;
        rest = rest.substr(slash + 1);
    }
    std::size_t params = 0;
    for (const PatternSegment& s : segments) params += s.is_param ? 1 : 0;
    if (params > kMaxParams) bad_pattern(pattern, "too many parameters");
    return segments;
}

// ---------------------------------------------------------------------------------------------

struct Router::Impl {
    struct Endpoint {
        std::string pattern;
        std::vector<std::pair<std::string, ParamType>> params;  // in path order
        std::array<std::size_t, kMethodCount> targets;
        std::uint16_t mask = 0;
        Endpoint() { targets.fill(kNoTarget); }
    };

    struct Node {
        StringMap<std::unique_ptr<Node>> literals;
        std::unique_ptr<Node> int_child;
        std::unique_ptr<Node> str_child;
        Endpoint* path_endpoint = nullptr;  // {x:path} covering the rest from here
        Endpoint* endpoint = nullptr;       // a pattern ending at this node
    };

    // Raw parameter values, in path order. Deliberately left uninitialised (no string_view
    // default constructors): only the first `size` entries are ever read.
    struct Captures {
        struct Raw {
            const char* data;
            std::size_t size;
        };
        Raw values[kMaxParams];
        std::size_t size = 0;
        void push(std::string_view v) noexcept { values[size++] = Raw{v.data(), v.size()}; }
        void pop() noexcept { --size; }
        std::string_view operator[](std::size_t i) const noexcept {
            return {values[i].data, values[i].size};
        }
    };

    struct Search {
        std::size_t method;
        bool head;
        const Endpoint* found = nullptr;
        std::size_t target = 0;
        std::uint16_t allowed = 0;

        bool visit(const Endpoint& e) noexcept {
            std::size_t t = e.targets[method];
            if (t == kNoTarget && head) t = e.targets[static_cast<std::size_t>(Method::Get)];
            if (t != kNoTarget) {
                found = &e;
                target = t;
                return true;
            }
            allowed |= e.mask;
            return false;
        }
    };

    std::vector<std::unique_ptr<Endpoint>> endpoints;
    StaticTable<Endpoint*> statics;  // patterns without parameters, by whole path
    Node root;
    bool has_dynamic = false;

    Endpoint* new_endpoint(std::string_view pattern, const std::vector<PatternSegment>& segs) {
        auto e = std::make_unique<Endpoint>();
        e->pattern = pattern;
        for (const PatternSegment& s : segs) {
            if (s.is_param) e->params.emplace_back(s.text, s.type);
        }
        endpoints.push_back(std::move(e));
        return endpoints.back().get();
    }

    // The endpoint slot for a dynamic pattern, creating trie nodes on the way.
    Endpoint*& slot_for(const std::vector<PatternSegment>& segs) {
        Node* n = &root;
        for (const PatternSegment& s : segs) {
            if (!s.is_param) {
                auto& child = n->literals[s.text];
                if (!child) child = std::make_unique<Node>();
                n = child.get();
            } else if (s.type == ParamType::Path) {
                return n->path_endpoint;  // always the last segment
            } else {
                auto& child = s.type == ParamType::Int ? n->int_child : n->str_child;
                if (!child) child = std::make_unique<Node>();
                n = child.get();
            }
        }
        return n->endpoint;
    }

    // `rest` is what follows the '/' that ended the previous segment; `more` says whether a
    // segment (possibly empty) remains.
    static bool walk(const Node& n, std::string_view rest, bool more, Captures& caps, Search& s) {
        if (!more) return n.endpoint && s.visit(*n.endpoint);
        const std::size_t slash = rest.find('/');
        const std::string_view seg = rest.substr(0, slash);
        const bool next_more = slash != std::string_view::npos;
        const std::string_view next = next_more ? rest.substr(slash + 1) : std::string_view();
        if (!n.literals.empty()) {
            if (auto it = n.literals.find(seg); it != n.literals.end()) {
                if (walk(*it->second, next, next_more, caps, s)) return true;
            }
        }
        if (n.int_child) {
            std::int64_t ignored;
            if (parse_int64(seg, ignored)) {
                caps.push(seg);
                if (walk(*n.int_child, next, next_more, caps, s)) return true;
                caps.pop();
            }
        }
        if (n.str_child && !seg.empty()) {
            caps.push(seg);
            if (walk(*n.str_child, next, next_more, caps, s)) return true;
            caps.pop();
        }
        if (n.path_endpoint) {
            caps.push(rest);
            if (s.visit(*n.path_endpoint)) return true;
            caps.pop();
        }
        return false;
    }
};

Router::Router() : impl_(std::make_unique<Impl>()) {}
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;
Router::~Router() = default;

void Router::add(Method method, std::string_view pattern, std::size_t target) {
    if (method == Method::Other) {
        throw std::invalid_argument("Router::add: only standard methods can be routed");
    }
    const std::vector<PatternSegment> segs = parse_route_pattern(pattern);
    bool dynamic = false;
    for (const PatternSegment& s : segs) dynamic = dynamic || s.is_param;

    Impl::Endpoint* endpoint = nullptr;
    if (!dynamic) {
        auto& slot = impl_->statics[pattern];
        if (!slot) slot = impl_->new_endpoint(pattern, segs);
        endpoint = slot;
    } else {
        Impl::Endpoint*& slot = impl_->slot_for(segs);
        if (!slot) slot = impl_->new_endpoint(pattern, segs);
        if (slot->pattern != pattern) {
            throw std::logic_error("route pattern \"" + std::string(pattern) +
                                   "\" conflicts with \"" + slot->pattern +
                                   "\" (same shape, different parameters)");
        }
        endpoint = slot;
        impl_->has_dynamic = true;
    }
    const auto m = static_cast<std::size_t>(method);
    if (endpoint->targets[m] != kNoTarget) {
        throw std::logic_error("duplicate route: " + std::string(method_name(method)) + " " +
                               std::string(pattern));
    }
    endpoint->targets[m] = target;
    endpoint->mask = static_cast<std::uint16_t>(endpoint->mask | method_bit(method));
}

Router::Match Router::match(Method method, std::string_view path, Request& request) const {
    Impl::Search s{static_cast<std::size_t>(method), method == Method::Head};
    Impl::Captures caps;
    bool found = false;
    if (Impl::Endpoint* const* e = impl_->statics.find(path)) found = s.visit(**e);
    if (!found && impl_->has_dynamic && !path.empty() && path[0] == '/') {
        found = Impl::walk(impl_->root, path.substr(1), true, caps, s);
    }
    Match m;
    if (found) {
        m.kind = MatchKind::Found;
        m.target = s.target;
        m.pattern = s.found->pattern;
        for (std::size_t i = 0; i < s.found->params.size(); ++i) {
            const auto& [name, type] = s.found->params[i];
            if (type == ParamType::Int) {
                request.add_path_param(name, std::string(caps[i]));
            } else {
                request.add_path_param(name, url_decode(caps[i], false));
            }
        }
    } else if (s.allowed != 0) {
        m.kind = MatchKind::MethodNotAllowed;
        m.allowed = s.allowed;
    }
    return m;
}

std::string Router::allow_header(std::uint16_t allowed) {
    if (allowed & method_bit(Method::Get)) allowed |= method_bit(Method::Head);
    std::string out;
    for (std::size_t i = 0; i < kMethodCount; ++i) {
        const auto m = static_cast<Method>(i);
        if (m == Method::Other || !(allowed & method_bit(m))) continue;
        if (!out.empty()) out += ", ";
        out += method_name(m);
    }
    return out;
}

std::int64_t path_param_int(const Request& request, std::string_view name) {
    const auto v = request.path_param(name);
    std::int64_t out = 0;
    if (!v || !parse_int64(*v, out)) {
        throw std::logic_error("no {" + std::string(name) + ":int} path parameter in this route");
    }
    return out;
}

}  // namespace weir::http
