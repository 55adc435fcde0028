// Throwaway TLS certificates for tests (openssl CLI): a private CA and
// certificates it signs, in a fixture's temporary directory. Used by
// NginxServer and RedisServer. Blocking: call outside a runtime.
//
//     weir::testing::make_test_ca(dir);                                  // ca.key, ca.crt
//     weir::testing::make_test_cert(dir, "server", "IP:127.0.0.1");      // server.key, server.crt
//     weir::testing::make_test_cert(dir, "client", "DNS:client.test");   // a client certificate
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "weir/testing/server_process.hpp"

namespace weir::testing {

// Makes a CA (name.key/name.crt, EC P-256, valid 2 days) in `dir`.
inline void make_test_ca(const std::filesystem::path& dir, const std::string& name = "ca") {
    const std::string d = dir.string();
    run_command(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        " -keyout " +
            d + "/" + name + ".key -out " + d + "/" + name + ".crt -days 2 -subj /CN=weir-test-" +
            name + " >/dev/null 2>&1",
        "openssl (CA)");
}

// Makes name.key/name.crt in `dir`, signed by the CA `ca` there, for the
// given subjectAltName ("DNS:localhost,IP:127.0.0.1").
inline void make_test_cert(const std::filesystem::path& dir, const std::string& name,
                           const std::string& alt_names, const std::string& ca = "ca") {
    const std::string d = dir.string();
    {
        std::ofstream ext(dir / (name + ".ext"));
        ext << "basicConstraints=CA:FALSE\nsubjectAltName=" << alt_names << "\n";
    }
    run_command("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + d +
                    "/" + name + ".key -out " + d + "/" + name + ".csr -subj /CN=weir-test-" +
                    name + " >/dev/null 2>&1",
                "openssl (CSR)");
    run_command("openssl x509 -req -in " + d + "/" + name + ".csr -CA " + d + "/" + ca +
                    ".crt -CAkey " + d + "/" + ca + ".key -CAcreateserial -out " + d + "/" + name +
                    ".crt -days 2 -extfile " + d + "/" + name + ".ext >/dev/null 2>&1",
                "openssl (sign)");
}

}  // namespace weir::testing
