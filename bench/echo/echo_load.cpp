// echo_load: the TCP echo load client that drives both weir's echo server and the Python
// asyncio+uvloop one (bench/echo/run). Plain C++20 on raw non-blocking sockets and epoll, with no
// weir dependency, so it favours neither side.
//
// Every connection keeps --depth messages of --size bytes in flight: each time a whole message has
// come back, it is counted and a new one is sent (ping-pong, pipelined at depth > 1). Every echoed
// byte is checked against what was sent. After --warmup seconds, messages are counted for
// --duration seconds; then the client half-closes each connection and drains the remaining echoes.
// Output, one line on stdout:
//   messages=<n> seconds=<t> msgs_per_sec=<r> errors=<e> [server_cpu_seconds=<c>]
// where server_cpu_seconds (only with --server-pid) is the server process's utime+stime over
// exactly the measured window. Exit status: 0 without errors, 1 with errors, 2 on bad usage or
// setup failure.

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr double kDrainTimeoutSeconds = 2.0;
constexpr std::size_t kReadBufferSize = 64 * 1024;
constexpr int kMaxEvents = 256;
constexpr int kMaxReports = 10;  // error messages per thread; all errors are counted

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_errno(const std::string& what, int err = errno) {
    throw std::system_error(err, std::generic_category(), what);
}

struct Options {
    std::string host = "127.0.0.1";
    long port = -1;
    long connections = 64;
    long size = 64;
    long depth = 1;
    double duration = 5.0;
    double warmup = 1.0;
    long threads = 1;
    long server_pid = 0;
};

constexpr const char* kUsage =
    "usage: echo_load --port P [--host 127.0.0.1] [--connections 64] [--size 64]\n"
    "                 [--depth 1] [--duration 5] [--warmup 1] [--threads 1] [--server-pid PID]\n"
    "  --connections C  TCP connections (spread over the client threads)\n"
    "  --size S         bytes per message\n"
    "  --depth D        messages in flight per connection\n"
    "  --duration SEC   measured window\n"
    "  --warmup SEC     unmeasured time before the window\n"
    "  --threads T      client threads, each with its own epoll instance\n"
    "  --server-pid PID also report that process's CPU seconds (utime+stime) over the window\n";

long parse_long(std::string_view name, const char* text, long min, long max) {
    errno = 0;
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < min || value > max) {
        throw UsageError(std::string(name) + ": expected an integer in [" + std::to_string(min) +
                         ", " + std::to_string(max) + "], got '" + text + "'");
    }
    return value;
}

double parse_seconds(std::string_view name, const char* text, double min) {
    errno = 0;
    char* end = nullptr;
    const double value = std::strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(value >= min) || value > 1e6) {
        throw UsageError(std::string(name) + ": expected seconds >= " + std::to_string(min) +
                         ", got '" + text + "'");
    }
    return value;
}

Options parse_options(int argc, char** argv) {
    Options opt;
    for (int i = 1; i < argc; ++i) {
        const std::string_view name = argv[i];
        if (name == "--help" || name == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        }
        if (i + 1 >= argc) {
            throw UsageError(std::string(name) + ": missing value or unknown option");
        }
        const char* value = argv[++i];
        if (name == "--host") {
            opt.host = value;
        } else if (name == "--port") {
            opt.port = parse_long(name, value, 1, 65535);
        } else if (name == "--connections") {
            opt.connections = parse_long(name, value, 1, 100000);
        } else if (name == "--size") {
            opt.size = parse_long(name, value, 1, 16 * 1024 * 1024);
        } else if (name == "--depth") {
            opt.depth = parse_long(name, value, 1, 100000);
        } else if (name == "--duration") {
            opt.duration = parse_seconds(name, value, 0.001);
        } else if (name == "--warmup") {
            opt.warmup = parse_seconds(name, value, 0.0);
        } else if (name == "--threads") {
            opt.threads = parse_long(name, value, 1, 1024);
        } else if (name == "--server-pid") {
            opt.server_pid = parse_long(name, value, 1, 1L << 30);
        } else {
            throw UsageError("unknown option " + std::string(name));
        }
    }
    if (opt.port < 0) {
        throw UsageError("--port is required");
    }
    opt.threads = std::min(opt.threads, opt.connections);  // no idle client threads
    if (opt.size * opt.depth > 256L * 1024 * 1024) {
        throw UsageError("--size * --depth must stay below 256 MiB per connection");
    }
    return opt;
}

// CPU seconds (user + system, all threads) used so far by process `pid`, from /proc/<pid>/stat.
double process_cpu_seconds(long pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/stat";
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        throw_errno("open " + path);
    }
    char buf[1024];
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    const int err = errno;
    ::close(fd);
    if (n <= 0) {
        throw_errno("read " + path, n < 0 ? err : EIO);
    }
    buf[n] = '\0';
    // Field 2 (comm) may contain spaces and ')'; fields 3.. follow the last ')'.
    const char* p = std::strrchr(buf, ')');
    if (p == nullptr) {
        throw std::runtime_error("cannot parse " + path);
    }
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    // Fields 3..13 are skipped; 14 = utime, 15 = stime (clock ticks).
    if (std::sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                    &stime) != 2) {
        throw std::runtime_error("cannot parse " + path);
    }
    static const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
    return static_cast<double>(utime + stime) / static_cast<double>(ticks_per_second);
}

sockaddr_storage resolve(const Options& opt, socklen_t& len) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* result = nullptr;
    const std::string port = std::to_string(opt.port);
    const int rc = ::getaddrinfo(opt.host.c_str(), port.c_str(), &hints, &result);
    if (rc != 0) {
        throw std::runtime_error("cannot resolve " + opt.host + ": " + ::gai_strerror(rc));
    }
    sockaddr_storage addr{};
    std::memcpy(&addr, result->ai_addr, result->ai_addrlen);
    len = result->ai_addrlen;
    ::freeaddrinfo(result);
    return addr;
}

int connect_to(const sockaddr_storage& addr, socklen_t len) {
    const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw_errno("socket");
    }
    int rc;
    do {
        rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), len);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        const int err = errno;
        ::close(fd);
        throw_errno("connect", err);
    }
    const int one = 1;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        const int err = errno;
        ::close(fd);
        throw_errno("setting up socket", err);
    }
    return fd;
}

std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// One client connection. Message k of a connection is its random template with the first
// min(8, size) bytes xor-ed with k (little endian), so lost, duplicated, reordered or mixed-up
// messages are all detected.
struct Connection {
    int fd = -1;
    unsigned id = 0;
    std::vector<unsigned char> pattern;
    std::vector<unsigned char> out;  // bytes queued but not yet accepted by the kernel
    std::size_t out_pos = 0;
    std::uint64_t sent = 0;      // messages queued for sending so far
    std::uint64_t received = 0;  // messages fully echoed so far
    std::size_t recv_pos = 0;    // bytes received of message `received`
    bool want_write = false;     // EPOLLOUT registered
    bool write_shut = false;     // shutdown(SHUT_WR) done
    bool open = false;

    unsigned char header_byte(std::uint64_t message, std::size_t i) const {
        return static_cast<unsigned char>(pattern[i] ^
                                          static_cast<unsigned char>(message >> (8 * i)));
    }

    void queue_message() {
        const std::size_t start = out.size();
        out.insert(out.end(), pattern.begin(), pattern.end());
        const std::size_t header = std::min<std::size_t>(8, pattern.size());
        for (std::size_t i = 0; i < header; ++i) {
            out[start + i] = header_byte(sent, i);
        }
        ++sent;
    }
};

enum class Phase { warmup, measure, drain, done };

struct WorkerResult {
    std::uint64_t messages = 0;
    double seconds = 0;
    std::uint64_t errors = 0;
    std::uint64_t not_closed = 0;  // connections the server left open after the client's half-close
    std::optional<double> server_cpu;
};

class Worker {
public:
    Worker(const Options& opt, std::vector<Connection> connections, Clock::time_point start,
           bool sample_cpu)
        : opt_(opt), conns_(std::move(connections)), start_(start), sample_cpu_(sample_cpu) {}

    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    ~Worker() {
        for (auto& c : conns_) {
            if (c.fd >= 0) {
                ::close(c.fd);
            }
        }
        if (epfd_ >= 0) {
            ::close(epfd_);
        }
    }

    WorkerResult run();

private:
    void report(Connection& c, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
    void fail(Connection& c);
    void close_connection(Connection& c);
    void set_write_interest(Connection& c, bool on);
    void flush(Connection& c);
    void on_readable(Connection& c);
    bool consume(Connection& c, const unsigned char* data, std::size_t n);
    bool mismatch(Connection& c, std::size_t offset, unsigned char want, unsigned char got);
    void begin_drain();
    double sample_server_cpu();

    const Options& opt_;
    std::vector<Connection> conns_;
    Clock::time_point start_;
    bool sample_cpu_;
    int epfd_ = -1;
    Phase phase_ = Phase::warmup;
    std::size_t open_ = 0;
    std::uint64_t completed_ = 0;
    std::uint64_t errors_ = 0;
    int reports_ = 0;
    std::vector<unsigned char> buf_ = std::vector<unsigned char>(kReadBufferSize);
};

bool Worker::mismatch(Connection& c, std::size_t offset, unsigned char want, unsigned char got) {
    report(c,
           "echoed bytes differ from sent bytes: message %llu, offset %zu: expected 0x%02x, got "
           "0x%02x",
           static_cast<unsigned long long>(c.received), offset, want, got);
    return false;
}

void Worker::report(Connection& c, const char* fmt, ...) {
    if (++reports_ > kMaxReports) {
        if (reports_ == kMaxReports + 1) {
            std::fprintf(stderr,
                         "echo_load: ERROR: more errors on this thread; not reporting them\n");
        }
        return;
    }
    char text[512];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    std::fprintf(stderr, "echo_load: ERROR: connection %u: %s\n", c.id, text);
}

void Worker::fail(Connection& c) {
    ++errors_;
    close_connection(c);
}

void Worker::close_connection(Connection& c) {
    if (!c.open) {
        return;
    }
    ::close(c.fd);  // also removes it from the epoll set
    c.fd = -1;
    c.open = false;
    --open_;
}

void Worker::set_write_interest(Connection& c, bool on) {
    if (c.want_write == on) {
        return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.ptr = &c;
    if (::epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev) != 0) {
        throw_errno("epoll_ctl");
    }
    c.want_write = on;
}

void Worker::flush(Connection& c) {
    while (c.out_pos < c.out.size()) {
        const ssize_t n =
            ::send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
        if (n > 0) {
            c.out_pos += static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_write_interest(c, true);
            return;
        } else {
            report(c, "send failed: %s", std::strerror(errno));
            fail(c);
            return;
        }
    }
    c.out.clear();
    c.out_pos = 0;
    set_write_interest(c, false);
    if (phase_ == Phase::drain && !c.write_shut) {
        ::shutdown(c.fd, SHUT_WR);
        c.write_shut = true;
    }
}

// Checks `n` echoed bytes against what was sent and counts whole messages. Returns false (after
// reporting) on a mismatch.
bool Worker::consume(Connection& c, const unsigned char* data, std::size_t n) {
    const std::size_t size = c.pattern.size();
    const std::size_t header = std::min<std::size_t>(8, size);
    while (n > 0) {
        if (c.received >= c.sent) {
            report(c, "server sent %zu bytes more than the client sent", n);
            return false;
        }
        const std::size_t pos = c.recv_pos;
        const std::size_t take = std::min(n, size - pos);
        std::size_t i = 0;
        for (; i < take && pos + i < header; ++i) {
            if (data[i] != c.header_byte(c.received, pos + i)) {
                return mismatch(c, pos + i, c.header_byte(c.received, pos + i), data[i]);
            }
        }
        if (i < take && std::memcmp(data + i, c.pattern.data() + pos + i, take - i) != 0) {
            for (; data[i] == c.pattern[pos + i]; ++i) {
            }
            return mismatch(c, pos + i, c.pattern[pos + i], data[i]);
        }
        data += take;
        n -= take;
        c.recv_pos += take;
        if (c.recv_pos == size) {
            c.recv_pos = 0;
            ++c.received;
            ++completed_;
            if (phase_ == Phase::warmup || phase_ == Phase::measure) {
                c.queue_message();
            }
        }
    }
    return true;
}

void Worker::on_readable(Connection& c) {
    for (;;) {
        const ssize_t n = ::recv(c.fd, buf_.data(), buf_.size(), 0);
        if (n > 0) {
            if (!consume(c, buf_.data(), static_cast<std::size_t>(n))) {
                fail(c);
                return;
            }
            if (static_cast<std::size_t>(n) < buf_.size()) {
                break;  // socket drained for now; level-triggered epoll reports more data
            }
        } else if (n == 0) {
            const bool in_flight = c.received < c.sent || c.recv_pos != 0;
            if (phase_ != Phase::drain) {
                report(c, "server closed the connection during the run");
                fail(c);
            } else if (in_flight) {
                report(c, "server closed the connection with %llu echoed messages missing",
                       static_cast<unsigned long long>(c.sent - c.received));
                fail(c);
            } else {
                close_connection(c);  // clean end: everything echoed, then EOF
            }
            return;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else {
            report(c, "recv failed: %s", std::strerror(errno));
            fail(c);
            return;
        }
    }
    if (c.open) {
        flush(c);
    }
}

void Worker::begin_drain() {
    phase_ = Phase::drain;
    for (auto& c : conns_) {
        if (c.open && c.out_pos >= c.out.size()) {
            ::shutdown(c.fd, SHUT_WR);
            c.write_shut = true;
        }
    }
}

double Worker::sample_server_cpu() {
    try {
        return process_cpu_seconds(opt_.server_pid);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "echo_load: ERROR: server CPU time: %s\n", e.what());
        ++errors_;
        return 0;
    }
}

WorkerResult Worker::run() {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) {
        throw_errno("epoll_create1");
    }
    for (auto& c : conns_) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = &c;
        if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
            throw_errno("epoll_ctl");
        }
        c.open = true;
        ++open_;
    }

    using Seconds = std::chrono::duration<double>;
    const auto measure_at =
        start_ + std::chrono::duration_cast<Clock::duration>(Seconds(opt_.warmup));
    const auto drain_at =
        measure_at + std::chrono::duration_cast<Clock::duration>(Seconds(opt_.duration));
    const auto drain_limit =
        std::chrono::duration_cast<Clock::duration>(Seconds(kDrainTimeoutSeconds));
    Clock::time_point done_at = Clock::time_point::max();
    Clock::time_point window_start{};
    Clock::time_point window_end{};
    std::uint64_t count_start = 0;
    std::uint64_t count_end = 0;
    double cpu_start = 0;
    double cpu_end = 0;

    phase_ = Phase::warmup;
    for (auto& c : conns_) {
        for (long i = 0; i < opt_.depth; ++i) {
            c.queue_message();
        }
        flush(c);
    }

    epoll_event events[kMaxEvents];
    for (;;) {
        const auto now = Clock::now();
        if (phase_ == Phase::warmup && now >= measure_at) {
            phase_ = Phase::measure;
            if (sample_cpu_) {
                cpu_start = sample_server_cpu();
            }
            window_start = now;
            count_start = completed_;
        }
        if (phase_ == Phase::measure && now >= drain_at) {
            if (sample_cpu_) {
                cpu_end = sample_server_cpu();
            }
            window_end = now;
            count_end = completed_;
            begin_drain();
            done_at = now + drain_limit;
        }
        if (open_ == 0 && phase_ != Phase::drain) {
            // Every connection failed: nothing left to measure. Close the window now.
            if (phase_ == Phase::warmup) {
                window_start = now;
                count_start = completed_;
                if (sample_cpu_) {
                    cpu_start = sample_server_cpu();
                }
            }
            if (sample_cpu_) {
                cpu_end = sample_server_cpu();
            }
            window_end = now;
            count_end = completed_;
            phase_ = Phase::done;
        }
        if (phase_ == Phase::drain && (open_ == 0 || now >= done_at)) {
            phase_ = Phase::done;
        }
        if (phase_ == Phase::done) {
            break;
        }

        const auto next = phase_ == Phase::warmup    ? measure_at
                          : phase_ == Phase::measure ? drain_at
                                                     : done_at;
        const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
        const int n =
            ::epoll_wait(epfd_, events, kMaxEvents, static_cast<int>(std::max<long long>(wait, 0)));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_errno("epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            auto& c = *static_cast<Connection*>(events[i].data.ptr);
            if (!c.open) {
                continue;
            }
            if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                on_readable(c);
            } else if (events[i].events & EPOLLOUT) {
                flush(c);
            }
        }
    }

    WorkerResult result;
    for (auto& c : conns_) {
        if (!c.open) {
            continue;
        }
        if (c.received < c.sent || c.recv_pos != 0) {
            report(c, "%llu echoed messages still missing %.1f s after the end of the run",
                   static_cast<unsigned long long>(c.sent - c.received), kDrainTimeoutSeconds);
            ++errors_;
        } else {
            ++result.not_closed;
        }
        close_connection(c);
    }
    result.messages = count_end - count_start;
    result.seconds = Seconds(window_end - window_start).count();
    result.errors = errors_;
    if (sample_cpu_) {
        result.server_cpu = cpu_end - cpu_start;
    }
    return result;
}

int run(const Options& opt) {
    socklen_t addr_len = 0;
    const sockaddr_storage addr = resolve(opt, addr_len);

    // Connect everything before the clock starts, then deal connections out to the threads.
    std::vector<std::vector<Connection>> per_thread(static_cast<std::size_t>(opt.threads));
    std::uint64_t seed = 0x5eed0f3c40ULL;
    for (long i = 0; i < opt.connections; ++i) {
        Connection c;
        c.id = static_cast<unsigned>(i);
        c.pattern.resize(static_cast<std::size_t>(opt.size));
        for (std::size_t j = 0; j < c.pattern.size(); j += 8) {
            const std::uint64_t r = splitmix64(seed);
            std::memcpy(c.pattern.data() + j, &r, std::min<std::size_t>(8, c.pattern.size() - j));
        }
        c.out.reserve(static_cast<std::size_t>(opt.size * opt.depth));
        try {
            c.fd = connect_to(addr, addr_len);
        } catch (...) {
            for (auto& list : per_thread) {
                for (auto& done : list) {
                    ::close(done.fd);
                }
            }
            throw;
        }
        per_thread[static_cast<std::size_t>(i % opt.threads)].push_back(std::move(c));
    }

    const auto start = Clock::now();
    std::vector<WorkerResult> results(per_thread.size());
    std::vector<std::exception_ptr> failures(per_thread.size());
    {
        std::vector<std::thread> threads;
        for (std::size_t t = 0; t < per_thread.size(); ++t) {
            auto body = [&, t] {
                try {
                    Worker worker(opt, std::move(per_thread[t]), start,
                                  t == 0 && opt.server_pid > 0);
                    results[t] = worker.run();
                } catch (...) {
                    failures[t] = std::current_exception();
                }
            };
            if (t + 1 == per_thread.size()) {
                body();  // the last share runs on the main thread
            } else {
                threads.emplace_back(body);
            }
        }
        for (auto& th : threads) {
            th.join();
        }
    }
    for (auto& f : failures) {
        if (f) {
            std::rethrow_exception(f);
        }
    }

    std::uint64_t messages = 0;
    std::uint64_t errors = 0;
    std::uint64_t not_closed = 0;
    for (const auto& r : results) {
        messages += r.messages;
        errors += r.errors;
        not_closed += r.not_closed;
    }
    // Thread 0's window stands for all: every thread switches phase on the same deadlines, so their
    // windows differ by at most one event-loop iteration.
    const double seconds = results[0].seconds;
    if (not_closed > 0) {
        std::fprintf(
            stderr,
            "echo_load: warning: server kept %llu connections open %.1f s after the client's "
            "half-close\n",
            static_cast<unsigned long long>(not_closed), kDrainTimeoutSeconds);
    }
    std::printf("messages=%llu seconds=%.3f msgs_per_sec=%.1f errors=%llu",
                static_cast<unsigned long long>(messages), seconds,
                seconds > 0 ? static_cast<double>(messages) / seconds : 0.0,
                static_cast<unsigned long long>(errors));
    if (results[0].server_cpu) {
        std::printf(" server_cpu_seconds=%.3f", *results[0].server_cpu);
    }
    std::printf("\n");
    std::fflush(stdout);
    return errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(parse_options(argc, argv));
    } catch (const UsageError& e) {
        std::fprintf(stderr, "echo_load: %s\n%s", e.what(), kUsage);
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "echo_load: %s\n", e.what());
        return 2;
    }
}
