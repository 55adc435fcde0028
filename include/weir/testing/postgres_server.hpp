// PostgresServer: a throwaway PostgreSQL cluster for tests and benchmarks.
//
//     weir::testing::PostgresServer pg;        // initdb + start on a free loopback port
//     auto url = pg.url();                     // postgresql://postgres@127.0.0.1:PORT/postgres
//     pg.restart();                            // fault tests: the server goes away and back
//                                              // (destructor: stop and remove everything)
//
// Debian's postgresql package provides the binaries (/usr/lib/postgresql/15/bin).
// PostgreSQL refuses to run as root, so when the tests run as root the
// cluster belongs to the `postgres` system user (runuser). Durability is
// switched off (fsync, synchronous_commit): the data is thrown away anyway.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "weir/testing/server_process.hpp"

namespace weir::testing {

class PostgresServer {
public:
    explicit PostgresServer(std::string bin_dir = default_bin_dir())
        : bin_(std::move(bin_dir)), port_(free_port()), dir_(make_temp_dir("weir-pg-")) {
        if (::geteuid() == 0) {
            run_command("chown postgres: " + dir_.string(), "chown");
            as_user_ = "runuser -u postgres -- ";
        }
        run_command(as_user_ + bin_ + "/initdb -D " + data() +
                        " -U postgres --auth=trust -E UTF8 --no-sync --no-instructions >" +
                        dir_.string() + "/initdb.log 2>&1",
                    "initdb (see " + dir_.string() + "/initdb.log)");
        start();
    }
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;
    ~PostgresServer() {
        stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    void start() {
        run_command(as_user_ + bin_ + "/pg_ctl -D " + data() + " -l " + dir_.string() +
                        "/server.log -w -t 60 -o \"-p " + std::to_string(port_) + " -k " +
                        dir_.string() +
                        " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                        " -c full_page_writes=off -c max_connections=200\" start >/dev/null",
                    "pg_ctl start (see " + dir_.string() + "/server.log)");
        running_ = true;
    }
    // Fast shutdown: connections are terminated, as in a real outage.
    void stop() noexcept {
        if (!running_) return;
        std::string cmd = as_user_ + bin_ + "/pg_ctl -D " + data() + " -m fast -w stop >/dev/null 2>&1";
        [[maybe_unused]] int rc = std::system(cmd.c_str());
        running_ = false;
    }
    void restart() {
        stop();
        start();
    }

    std::uint16_t port() const noexcept { return port_; }
    std::string url(const std::string& db = "postgres") const {
        return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + db;
    }
    // Runs SQL through psql (set-up only, e.g. creating and seeding tables).
    void psql(const std::string& sql, const std::string& db = "postgres") const {
        std::string file = dir_.string() + "/setup.sql";
        if (FILE* f = std::fopen(file.c_str(), "w")) {
            std::fputs(sql.c_str(), f);
            std::fclose(f);
        }
        run_command("psql -q -v ON_ERROR_STOP=1 -X '" + url(db) + "' -f " + file + " >/dev/null",
                    "psql");
    }
    const std::filesystem::path& dir() const noexcept { return dir_; }

    static std::string default_bin_dir() {
        if (const char* env = std::getenv("WEIR_PG_BIN")) return env;
        return "/usr/lib/postgresql/15/bin";
    }

private:
    std::string data() const { return dir_.string() + "/data"; }

    std::string bin_;
    std::uint16_t port_;
    std::filesystem::path dir_;
    std::string as_user_;
    bool running_ = false;
};

}  // namespace weir::testing
