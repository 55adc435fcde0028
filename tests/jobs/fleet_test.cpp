// The fleet fault test: 10,000 jobs processed by three weir-worker processes while one is
// killed with SIGKILL mid-run and restarted. Every job must complete; duplicates are allowed
// only for jobs the killed worker had in flight (at least once), and all are counted.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "jobs_test_util.hpp"
#include "weir/core/sleep.hpp"
#include "weir/core/when_all.hpp"
#include "weir/testing/async_test.hpp"
#include "weir/testing/server_process.hpp"

namespace weir::jobs {
namespace {

using namespace std::chrono_literals;

constexpr int kJobs = 10000;
constexpr int kConcurrency = 16;

// A weir-worker child process; killed (SIGKILL) by the destructor if still running.
class WorkerProcess {
public:
    WorkerProcess(const std::string& prefix, const std::string& name) {
        const std::string bin = std::string(WEIR_BIN_DIR) + "/weir-worker";
        const std::string url = test::url();
        const std::string concurrency = std::to_string(kConcurrency);
        pid_ = ::fork();
        if (pid_ == 0) {
            weir::testing::reset_signals_in_child();
            const int devnull = ::open("/dev/null", O_WRONLY);
            ::dup2(devnull, STDOUT_FILENO);
            ::execl(bin.c_str(), bin.c_str(), "--redis", url.c_str(), "--prefix", prefix.c_str(),
                    "--name", name.c_str(), "--concurrency", concurrency.c_str(), "--visibility-ms",
                    "1000", "--poll-ms", "100", "--grace-ms", "10000", static_cast<char*>(nullptr));
            ::_exit(127);
        }
    }
    WorkerProcess(const WorkerProcess&) = delete;
    WorkerProcess& operator=(const WorkerProcess&) = delete;
    ~WorkerProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            wait();
        }
    }
    // Sends `sig` and reaps the process; returns its wait status.
    int stop(int sig) {
        ::kill(pid_, sig);
        return wait();
    }

private:
    int wait() {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return status;
    }
    pid_t pid_ = -1;
};

// Outside the coroutine: g++ 12 cannot compile glibc's wait-status macros inside one.
bool exited_cleanly(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
bool was_signaled(int status) { return WIFSIGNALED(status); }

Task<std::int64_t> count_of(redis::Connection& conn, const std::string& key) {
    redis::Reply r = co_await conn.cmd("SCARD", key);
    co_return r.integer();
}

WEIR_TEST(JobsFleet, KilledWorkerLosesNoJob) {
    const std::string prefix = test::prefix();
    const std::string done_key = prefix + ":test:done";
    const std::string runs_key = prefix + ":test:runs";
    auto conn = co_await redis::Connection::connect(test::url());
    Queue queue(conn, test::queue_options());

    // Enqueue in pipelined batches.
    for (int batch = 0; batch < kJobs / 500; ++batch) {
        std::vector<Task<std::optional<Job>>> enqueues;
        for (int i = 0; i < 500; ++i) enqueues.push_back(queue.enqueue("count"));
        auto jobs = co_await when_all(std::move(enqueues));
        for (auto& j : jobs) CO_ASSERT_TRUE(j.has_value());
    }

    std::vector<std::unique_ptr<WorkerProcess>> workers;
    for (int i = 0; i < 3; ++i) {
        workers.push_back(std::make_unique<WorkerProcess>(prefix, "w" + std::to_string(i)));
    }

    // Kill worker 0 once a fair share of the work is done, then start a replacement.
    const auto limit = std::chrono::steady_clock::now() + 100s;
    std::int64_t done = 0;
    while (done < kJobs * 3 / 10 && std::chrono::steady_clock::now() < limit) {
        co_await sleep_for(5ms);
        done = co_await count_of(conn, done_key);
    }
    CO_ASSERT_TRUE(done < kJobs);  // the kill must land mid-run to mean anything
    const int killed = workers[0]->stop(SIGKILL);
    EXPECT_TRUE(was_signaled(killed));
    workers[0] = std::make_unique<WorkerProcess>(prefix, "w0-restarted");

    while (done < kJobs && std::chrono::steady_clock::now() < limit) {
        co_await sleep_for(20ms);
        done = co_await count_of(conn, done_key);
    }
    EXPECT_EQ(done, kJobs);
    // The killed worker's last jobs may have run without being acknowledged: they are
    // redelivered after the visibility timeout. Wait until nothing is queued or pending.
    for (;;) {
        const QueueStats pending = co_await queue.stats();
        if (pending.queued == 0 && pending.running == 0 && pending.deferred == 0) break;
        if (std::chrono::steady_clock::now() >= limit) break;
        co_await sleep_for(20ms);
    }

    // Graceful shutdown of the survivors: exit status 0.
    for (auto& w : workers) {
        const int status = w->stop(SIGTERM);
        EXPECT_TRUE(exited_cleanly(status)) << status;
    }

    auto runs_text = co_await conn.get(runs_key);
    const std::int64_t runs = runs_text ? std::stoll(*runs_text) : 0;
    const QueueStats s = co_await queue.stats();
    // Every job ran; a second run happened only for jobs the killed worker had in flight.
    EXPECT_GE(runs, kJobs);
    EXPECT_LE(runs - kJobs, kConcurrency) << "duplicates: " << (runs - kJobs);
    EXPECT_EQ(s.enqueued_total, kJobs);
    EXPECT_GE(s.done_total, kJobs);
    EXPECT_LE(s.done_total, runs);
    EXPECT_EQ(s.dead_total, 0);
    EXPECT_EQ(s.queued, 0);
    EXPECT_EQ(s.running, 0);
    EXPECT_EQ(s.deferred, 0);
    ::testing::Test::RecordProperty("duplicates", static_cast<int>(runs - kJobs));
    conn.close();
}

}  // namespace
}  // namespace weir::jobs
