// The worker side of the jobs module; see include/weir/jobs/worker.hpp and the
// "jobs" section of docs/ARCHITECTURE.md.
#include "weir/jobs/worker.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

#include "scripts.hpp"
#include "weir/core/errors.hpp"
#include "weir/core/event.hpp"
#include "weir/core/mutex.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/supervisor.hpp"
#include "weir/core/task_group.hpp"
#include "weir/core/timeout.hpp"
#include "weir/redis/connection.hpp"
#include "weir/redis/error.hpp"

namespace weir::jobs {

using detail::KeyNames;
using namespace std::chrono_literals;

namespace {

std::int64_t to_ms(Duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::uint64_t to_us(std::int64_t ms) { return ms > 0 ? static_cast<std::uint64_t>(ms) * 1000 : 0; }

std::string default_consumer_name() {
    char host[256] = "host";
    ::gethostname(host, sizeof host - 1);
    return std::string(host) + "-" + std::to_string(::getpid()) + "-" +
           detail::random_id().substr(0, 6);
}

// How a job attempt ended.
enum class Outcome { done, retry, dead, release };

}  // namespace

struct Worker::Impl {
    explicit Impl(WorkerOptions o)
        : opt(std::move(o)),
          keys{opt.prefix},
          consumer(opt.name.empty() ? default_consumer_name() : opt.name) {
        if (opt.queues.empty()) throw std::invalid_argument("jobs::Worker: no queues");
        if (opt.concurrency == 0) throw std::invalid_argument("jobs::Worker: concurrency 0");
    }

    struct Periodic {
        std::string name;
        Duration period;
        std::string args;
        std::int64_t last_period = -1;
    };

    WorkerOptions opt;
    KeyNames keys;
    std::string consumer;
    std::map<std::string, JobFunction, std::less<>> functions;
    std::vector<Periodic> periodic;

    redis::Connection conn;    // every command but the blocking read (auto-pipelined)
    redis::Connection reader;  // XREADGROUP BLOCK, which would stall a shared pipeline
    Mutex connecting;
    // opt.url parsed, with its TLS context built, once: every (re)connect shares them.
    std::optional<redis::ConnectionOptions> redis_options;

    Event stopping;    // stop claiming
    Event slot_freed;  // a job finished (or stopping)
    Event drained;     // no job running
    std::size_t running = 0;
    std::map<std::string, std::string> running_entries;  // stream entry id -> stream

    WorkerMetrics counters;
    Histogram queue_latency;
    Histogram run_time;
    std::mt19937_64 rng{std::random_device{}()};

    // ---- connections --------------------------------------------------------------------

    static bool usable(const redis::Connection& c) { return c.is_open() && !c.is_broken(); }

    // Reconnects broken connections (with backoff while Redis is down) and makes sure every
    // queue's stream and consumer group exist. Returns false if the worker is stopping first.
    Task<bool> ensure_connected() {
        if (usable(conn) && usable(reader)) co_return true;
        auto guard = co_await connecting.lock();
        Duration pause = 50ms;
        while (!(usable(conn) && usable(reader))) {
            if (stopping.is_set()) co_return false;
            bool failed = false;
            try {
                if (!redis_options) {
                    auto o = redis::ConnectionOptions::from_url(opt.url);
                    o.prepare_tls();
                    redis_options = std::move(o);
                }
                if (!usable(conn)) conn = co_await redis::Connection::connect(*redis_options);
                if (!usable(reader)) reader = co_await redis::Connection::connect(*redis_options);
                co_await ensure_groups();
            } catch (const std::exception& e) {
                std::fprintf(stderr, "weir jobs %s: redis unavailable (%s), retrying\n",
                             consumer.c_str(), e.what());
                failed = true;
            }
            if (failed) {
                co_await sleep_for(pause);
                pause = std::min<Duration>(pause * 2, 2s);
            }
        }
        co_return true;
    }

    Task<void> ensure_groups() {
        for (const std::string& q : opt.queues) {
            const std::string stream = keys.stream(q);
            co_await conn.xgroup_create(stream, detail::kGroup, "0", true);
        }
    }

    // ---- one job attempt ----------------------------------------------------------------

    Duration backoff(int attempt) {
        const double base = static_cast<double>(to_ms(opt.retry_base));
        const double grown = base * std::pow(2.0, std::max(0, attempt - 1));
        const double capped = std::min(grown, static_cast<double>(to_ms(opt.retry_max)));
        std::uniform_real_distribution<double> jitter(0.5, 1.0);
        return std::chrono::milliseconds(static_cast<std::int64_t>(capped * jitter(rng)));
    }

    // Parameters by value: the task is lazy and may outlive the caller's temporaries.
    Task<void> finish(std::string stream, std::string entry, std::string job_id, Outcome outcome,
                      std::string payload, Duration retry_after) {
        if (outcome == Outcome::done || outcome == Outcome::dead) {
            const bool done = outcome == Outcome::done;
            redis::Keys k{keys.job(job_id), stream, keys.stats(), keys.dead()};
            redis::Keys a{entry,
                          std::string(detail::kGroup),
                          done ? "done" : "dead",
                          payload,
                          std::to_string(to_ms(done ? opt.result_ttl : opt.dead_ttl)),
                          job_id,
                          std::to_string(detail::now_ms())};
            co_await conn.eval(detail::finish_script(), k, a);
        } else {
            const bool counts = outcome == Outcome::retry;
            redis::Keys k{keys.job(job_id), stream, keys.delayed(), keys.stats()};
            redis::Keys a{entry,   std::string(detail::kGroup),
                          job_id,  std::to_string(detail::now_ms() + to_ms(retry_after)),
                          payload, counts ? "1" : "0"};
            co_await conn.eval(detail::retry_script(), k, a);
        }
    }

    // Runs one claimed stream entry to its end; never throws except Cancelled.
    Task<void> run_entry(std::string stream, std::string entry, std::string job_id) {
        struct Slot {
            Impl& s;
            std::string entry;
            ~Slot() {
                s.running_entries.erase(entry);
                --s.running;
                s.slot_freed.set();
                if (s.running == 0) s.drained.set();
            }
        } slot{*this, entry};
        try {
            co_await attempt(stream, entry, job_id);
        } catch (const std::exception& e) {
            // Redis failed while moving the job: it stays pending and is redelivered after
            // the visibility timeout (at least once).
            std::fprintf(stderr, "weir jobs %s: job %s: %s\n", consumer.c_str(), job_id.c_str(),
                         e.what());
        }
    }

    Task<void> attempt(const std::string& stream, const std::string& entry,
                       const std::string& job_id) {
        redis::Keys sk{keys.job(job_id)};
        redis::Keys sa{consumer, std::to_string(detail::now_ms())};
        redis::Reply r = co_await conn.eval(detail::start_script(), sk, sa);
        if (r.is_nil()) {  // stale entry: the job finished or moved meanwhile
            redis::Keys ids{entry};
            co_await conn.xack(stream, detail::kGroup, ids);
            co_await conn.xdel(stream, ids);
            co_return;
        }
        ++counters.claimed;
        JobContext ctx;
        ctx.id = job_id;
        ctx.name = std::string(r[0].str());
        ctx.args = r[1].is_nil() ? "null" : std::string(r[1].str());
        ctx.queue = std::string(r[2].str());
        ctx.attempt = static_cast<int>(r[3].to_int());
        ctx.max_tries = static_cast<int>(r[4].to_int());
        const Duration timeout = std::chrono::milliseconds(r[5].to_int());
        const std::int64_t enqueued = r[6].to_int();
        const std::int64_t due = std::max(enqueued, r[7].to_int());
        ctx.enqueued_at = SystemTime(std::chrono::milliseconds(enqueued));
        const std::int64_t started = detail::now_ms();
        queue_latency.record(to_us(started - due));

        Outcome outcome = Outcome::done;
        std::string payload;
        Duration retry_after{};
        auto fn = functions.find(ctx.name);
        if (ctx.attempt > ctx.max_tries) {
            outcome = Outcome::dead;
            payload = "exhausted " + std::to_string(ctx.max_tries) + " tries (worker lost)";
        } else if (fn == functions.end()) {
            outcome = opt.unknown_jobs_dead ? Outcome::dead : Outcome::release;
            payload = "no function registered for job '" + ctx.name + "'";
        } else if (stopping.is_set()) {
            outcome = Outcome::release;  // claimed while shutting down: give it back
        } else {
            std::exception_ptr cancelled;
            try {
                JobFunction& f = fn->second;
                payload = co_await with_timeout(timeout, f(ctx));
                if (payload.empty()) payload = "null";
            } catch (const Cancelled&) {
                cancelled = std::current_exception();
            } catch (const Retry& e) {
                outcome = Outcome::retry;
                payload = e.what();
                retry_after = e.delay();
            } catch (const TimeoutError&) {
                outcome = Outcome::retry;
                payload = "timed out after " + std::to_string(to_ms(timeout)) + " ms";
            } catch (const std::exception& e) {
                outcome = Outcome::retry;
                payload = e.what();
            } catch (...) {
                outcome = Outcome::retry;
                payload = "unknown exception";
            }
            run_time.record(to_us(detail::now_ms() - started));
            if (cancelled) {
                // Shutdown (or the worker's owner) cancelled the job: release it, politely.
                ++counters.released;
                auto release = finish(stream, entry, job_id, Outcome::release, "", Duration{});
                try {
                    co_await shield(with_timeout(5s, std::move(release)));
                } catch (const std::exception&) {
                    // left pending: redelivered after the visibility timeout
                }
                std::rethrow_exception(cancelled);
            }
            if (outcome == Outcome::retry) {
                ++counters.failed;
                if (ctx.attempt >= ctx.max_tries) {
                    outcome = Outcome::dead;
                } else if (retry_after == Duration{}) {
                    retry_after = backoff(ctx.attempt);
                }
            }
        }
        switch (outcome) {
            case Outcome::done:
                ++counters.succeeded;
                break;
            case Outcome::retry:
                ++counters.retried;
                break;
            case Outcome::dead:
                ++counters.dead;
                break;
            case Outcome::release:
                ++counters.released;
                break;
        }
        co_await finish(stream, entry, job_id, outcome, payload, retry_after);
    }

    // ---- claiming -----------------------------------------------------------------------

    void start_entries(Supervisor& jobs, const std::string& stream,
                       std::vector<redis::StreamEntry>& entries) {
        for (redis::StreamEntry& e : entries) {
            auto id = e.get("id");
            if (!id) continue;
            ++running;
            drained.clear();
            running_entries[e.id] = stream;
            jobs.spawn(run_entry(stream, e.id, std::string(*id)), "weir.jobs.run");
        }
    }

    Task<void> reclaim(Supervisor& jobs) {
        for (const std::string& q : opt.queues) {
            const std::size_t free = opt.concurrency - running;
            if (free == 0) break;
            const std::string stream = keys.stream(q);
            auto claimed = co_await conn.xautoclaim(
                stream, detail::kGroup, consumer,
                std::chrono::duration_cast<std::chrono::milliseconds>(opt.visibility_timeout),
                "0-0", free);
            counters.reclaimed += claimed.entries.size();
            start_entries(jobs, stream, claimed.entries);
        }
    }

    Task<void> fetch_loop(Supervisor& jobs) {
        TimePoint next_reclaim = Clock::now();
        bool lost_groups = false;
        bool pause = false;
        while (!stopping.is_set()) {
            while (running >= opt.concurrency && !stopping.is_set()) {
                slot_freed.clear();
                co_await slot_freed.wait();
            }
            if (stopping.is_set()) break;
            try {
                const bool connected = co_await ensure_connected();
                if (!connected) break;
                if (Clock::now() >= next_reclaim) {
                    next_reclaim = Clock::now() + opt.visibility_timeout / 2;
                    co_await reclaim(jobs);
                }
                // Earlier queues first: a non-blocking read of each in order...
                bool got = false;
                for (const std::string& q : opt.queues) {
                    const std::size_t free = opt.concurrency - running;
                    if (free == 0) break;
                    const std::string stream = keys.stream(q);
                    redis::FieldValues streams{{stream, ">"}};
                    redis::XReadGroupOptions ro;
                    ro.count = free;
                    auto batches = co_await conn.xreadgroup(detail::kGroup, consumer, streams, ro);
                    for (redis::StreamBatch& b : batches) {
                        got = got || !b.entries.empty();
                        start_entries(jobs, b.stream, b.entries);
                    }
                    if (got) break;
                }
                if (got || running >= opt.concurrency) continue;
                // ...then one blocking read of all of them. It is never cancelled (entries
                // it returns after a stop are released, not lost), so it is kept short.
                redis::FieldValues streams;
                for (const std::string& q : opt.queues) streams.emplace_back(keys.stream(q), ">");
                redis::XReadGroupOptions ro;
                ro.count = opt.concurrency - running;
                ro.block = std::chrono::duration_cast<std::chrono::milliseconds>(opt.poll_interval);
                auto read = reader.xreadgroup(detail::kGroup, consumer, streams, ro);
                auto batches = co_await shield(std::move(read));
                for (redis::StreamBatch& b : batches) start_entries(jobs, b.stream, b.entries);
            } catch (const redis::ServerError& e) {
                // NOGROUP: Redis lost its data (a restart without persistence): recreate.
                lost_groups = e.prefix() == "NOGROUP";
                if (!lost_groups)
                    std::fprintf(stderr, "weir jobs %s: %s\n", consumer.c_str(), e.what());
                pause = true;
            } catch (const std::exception& e) {
                std::fprintf(stderr, "weir jobs %s: %s\n", consumer.c_str(), e.what());
                pause = true;
            }
            if (lost_groups) {
                lost_groups = false;
                try {
                    co_await ensure_groups();
                } catch (const std::exception&) {
                }
            }
            if (pause) {
                pause = false;
                co_await sleep_for(std::min<Duration>(opt.poll_interval, 200ms));
            }
        }
    }

    // ---- background duties --------------------------------------------------------------

    // Moves due deferred jobs to their queues and enqueues periodic jobs.
    Task<void> maintenance_loop() {
        const Duration tick = std::clamp<Duration>(opt.poll_interval / 5, 5ms, 200ms);
        for (;;) {
            try {
                const bool connected = co_await ensure_connected();
                if (!connected) co_return;
                for (;;) {
                    redis::Keys k{keys.delayed()};
                    redis::Keys a{opt.prefix, std::to_string(detail::now_ms()), "500"};
                    redis::Reply moved = co_await conn.eval(detail::promote_script(), k, a);
                    if (moved.integer() < 500) break;
                }
                for (Periodic& p : periodic) co_await fire_periodic(p);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "weir jobs %s: maintenance: %s\n", consumer.c_str(), e.what());
            }
            co_await sleep_for(tick);
        }
    }

    Task<void> fire_periodic(Periodic& p) {
        const std::int64_t period_ms = std::max<std::int64_t>(1, to_ms(p.period));
        const std::int64_t now = detail::now_ms();
        const std::int64_t index = now / period_ms;
        if (index == p.last_period) co_return;
        const std::string id = "periodic:" + p.name + ":" + std::to_string(index);
        redis::Keys k{keys.job(id), keys.stream(opt.queues.front()), keys.delayed(), keys.stats(),
                      keys.cron(p.name)};
        redis::Keys a{id,
                      p.name,
                      p.args,
                      opt.queues.front(),
                      "1",
                      std::to_string(std::max<std::int64_t>(period_ms, 1000)),
                      std::to_string(now),
                      std::to_string(now),
                      std::to_string(index)};
        co_await conn.eval(detail::enqueue_script(), k, a);
        p.last_period = index;
    }

    // Keeps the running jobs' entries fresh so that other workers do not reclaim them.
    Task<void> heartbeat_loop() {
        const Duration every = std::max<Duration>(opt.visibility_timeout / 3, 10ms);
        for (;;) {
            co_await sleep_for(every);
            std::map<std::string, redis::Keys> by_stream;
            for (const auto& [entry, stream] : running_entries) by_stream[stream].push_back(entry);
            for (auto& [stream, ids] : by_stream) {
                redis::Command c("XCLAIM");
                c.arg(stream).arg(detail::kGroup).arg(consumer).arg("0");
                for (const std::string& id : ids) c.arg(id);
                c.arg("JUSTID");
                try {
                    co_await conn.execute(std::move(c));
                } catch (const std::exception&) {
                    // Redis is down: the entries may be redelivered (at least once).
                }
            }
        }
    }

    // ---- the whole life of the worker -----------------------------------------------------

    Task<void> work() {
        const bool connected = co_await ensure_connected();
        if (!connected) co_return;
        co_await supervise([&](Supervisor& jobs) -> Task<void> {
            jobs.spawn(heartbeat_loop(), "weir.jobs.heartbeat");
            co_await supervise([&](Supervisor& loops) -> Task<void> {
                loops.spawn(maintenance_loop(), "weir.jobs.maintenance");
                co_await fetch_loop(jobs);
            });
            // Stopping: running jobs get the grace period, then are cancelled (and release
            // themselves) when this body returns.
            if (running > 0) {
                try {
                    co_await with_timeout(opt.shutdown_grace, as_task(drained.wait()));
                } catch (const TimeoutError&) {
                }
            }
        });
    }
};

Worker::Worker(WorkerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Worker::~Worker() = default;

Worker& Worker::add(std::string name, JobFunction fn) {
    if (!fn) throw std::invalid_argument("jobs::Worker::add: empty function");
    impl_->functions[std::move(name)] = std::move(fn);
    return *this;
}

Worker& Worker::every(std::string name, Duration period, std::string args_json) {
    if (period <= Duration::zero()) throw std::invalid_argument("jobs::Worker::every: period");
    impl_->periodic.push_back(Impl::Periodic{std::move(name), period, std::move(args_json), -1});
    return *this;
}

Task<void> Worker::run() {
    Impl& s = *impl_;
    if (s.functions.empty()) throw std::logic_error("jobs::Worker::run: no job functions");
    s.stopping.clear();
    Event finished;
    co_await task_group([&](TaskGroup& g) -> Task<void> {
        // The work is shielded: cancelling run() starts a graceful shutdown instead of
        // tearing the running jobs down at once.
        auto work = [](Impl& impl, Event& done) -> Task<void> {
            struct Done {
                Event& e;
                ~Done() { e.set(); }
            } d{done};
            co_await impl.work();
        };
        g.spawn(shield(work(s, finished)), "weir.jobs.worker");
        try {
            co_await finished.wait();
        } catch (...) {
            s.stopping.set();
            s.slot_freed.set();
            throw;
        }
    });
}

void Worker::stop() noexcept {
    impl_->stopping.set();
    impl_->slot_freed.set();
}

WorkerMetrics Worker::metrics() const {
    WorkerMetrics m = impl_->counters;
    m.running = impl_->running;
    m.queue_latency = impl_->queue_latency.snapshot();
    m.run_time = impl_->run_time.snapshot();
    return m;
}

const WorkerOptions& Worker::options() const noexcept { return impl_->opt; }
const std::string& Worker::name() const noexcept { return impl_->consumer; }

}  // namespace weir::jobs
