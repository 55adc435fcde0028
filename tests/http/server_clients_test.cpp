// The HTTP server against real clients, run as subprocesses from a worker
// thread while the server runs on the test's shard: curl, and Python's
// requests and httpx (Debian packages, so /usr/bin/python3).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <weir/core.hpp>
#include <weir/http/server.hpp>
#include <weir/testing/async_test.hpp>

#include "server_test_util.hpp"

using namespace std::chrono_literals;
using weir::Task;
using namespace weir::http;
using namespace weir::http::testing;

namespace {

struct CommandResult {
    int exit_code = -1;
    std::string out;
};

CommandResult run_command(const std::string& command) {
    CommandResult r;
    FILE* p = ::popen(command.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    const int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

// Runs a shell command on a worker thread (the shard keeps serving).
Task<CommandResult> run(std::string command) {
    auto fn = [command] { return run_command(command + " 2>&1"); };
    co_return co_await weir::to_thread(std::move(fn));
}

Task<bool> have(const char* program) {
    auto r = co_await run(std::string("command -v ") + program + " >/dev/null");
    co_return r.exit_code == 0;
}

Task<bool> python_has(const char* module) {
    auto r = co_await run(std::string("/usr/bin/python3 -c 'import ") + module + "'");
    co_return r.exit_code == 0;
}

// A temporary file with `content`, removed on destruction.
class TempFile {
public:
    explicit TempFile(const std::string& content, const char* suffix = "") {
        char tmpl[] = "/tmp/weir-http-test-XXXXXX";
        const int fd = ::mkstemp(tmpl);
        if (fd >= 0) ::close(fd);
        path_ = std::string(tmpl) + suffix;
        if (*suffix) std::rename(tmpl, path_.c_str());
        std::ofstream(path_, std::ios::binary) << content;
    }
    ~TempFile() { std::remove(path_.c_str()); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

Task<Response> app(Request& req, Context&) {
    const std::string_view path = req.path();
    if (path == "/plaintext") co_return Response::text("Hello, World!");
    if (path == "/json") co_return Response::json(R"({"message":"Hello, World!"})");
    if (path == "/echo")
        co_return Response::text(std::string(req.method_name()) + ":" + req.body());
    if (path == "/size") co_return Response::text(std::to_string(req.body().size()));
    if (path == "/query") co_return Response::text(req.query("name").value_or("?"));
    if (path == "/stream") {
        auto stream = [](BodyWriter& w) -> Task<void> {
            for (const char* piece : {"alpha,", "beta,", "gamma"}) co_await w.write(piece);
        };
        co_return Response::streamed(stream, "text/plain");
    }
    co_return Response::text("Not Found", 404);
}

std::string url(ServerHandle& h, std::string_view path) {
    return "http://127.0.0.1:" + std::to_string(h.port()) + std::string(path);
}

}  // namespace

WEIR_TEST(ServerClientsToThread, Curl) {
    const bool curl_installed = co_await have("curl");
    if (!curl_installed) {
        ADD_FAILURE() << "curl is not installed (apt-get install curl)";
        co_return;
    }
    ServerOptions opt;
    opt.max_body_bytes = 64 * 1024;
    auto body = [](ServerHandle& h) -> Task<void> {
        const std::string curl = "curl -sS --max-time 20 ";
        auto get = co_await run(curl + "-i " + url(h, "/plaintext"));
        EXPECT_EQ(get.exit_code, 0) << get.out;
        EXPECT_NE(get.out.find("HTTP/1.1 200 OK"), std::string::npos) << get.out;
        EXPECT_NE(get.out.find("Content-Length: 13"), std::string::npos) << get.out;
        EXPECT_EQ(get.out.substr(get.out.size() - 13), "Hello, World!");

        // Three URLs on one keep-alive connection: one connect in total.
        auto reuse =
            co_await run(curl +
                         "-o /dev/null -o /dev/null -o /dev/null "
                         "-w '%{num_connects}' " +
                         url(h, "/plaintext") + " " + url(h, "/json") + " " + url(h, "/plaintext"));
        EXPECT_EQ(reuse.out, "100") << reuse.out;

        auto post = co_await run(curl + "--data-binary 'hello world' " + url(h, "/echo"));
        EXPECT_EQ(post.out, "POST:hello world");

        auto query = co_await run(curl + "'" + url(h, "/query?name=J%C3%BCrgen+K") + "'");
        EXPECT_EQ(query.out, "J\xC3\xBCrgen K");

        auto chunked =
            co_await run("printf 'abcdef' | " + curl +
                         "-H 'Transfer-Encoding: chunked' --data-binary @- " + url(h, "/echo"));
        EXPECT_EQ(chunked.out, "POST:abcdef");

        // A 40 KB upload with Expect: 100-continue.
        TempFile upload(std::string(40000, 'x'));
        auto expect = co_await run(curl + "-H 'Expect: 100-continue' --data-binary @" +
                                   upload.path() + " " + url(h, "/size"));
        EXPECT_EQ(expect.out, "40000");

        auto head = co_await run(curl + "-I " + url(h, "/plaintext"));
        EXPECT_NE(head.out.find("Content-Length: 13"), std::string::npos) << head.out;

        auto http10 = co_await run(curl + "--http1.0 -i " + url(h, "/json"));
        EXPECT_NE(http10.out.find("Connection: close"), std::string::npos) << http10.out;
        EXPECT_NE(http10.out.find(R"({"message":"Hello, World!"})"), std::string::npos);

        auto stream = co_await run(curl + "-i " + url(h, "/stream"));
        EXPECT_NE(stream.out.find("Transfer-Encoding: chunked"), std::string::npos) << stream.out;
        EXPECT_EQ(stream.out.substr(stream.out.size() - 16), "alpha,beta,gamma");

        TempFile big(std::string(200000, 'y'));
        auto too_big = co_await run(curl + "-o /dev/null -w '%{http_code}' --data-binary @" +
                                    big.path() + " " + url(h, "/size"));
        EXPECT_EQ(too_big.out, "413");

        auto missing = co_await run(curl + "-o /dev/null -w '%{http_code}' " + url(h, "/nope"));
        EXPECT_EQ(missing.out, "404");
        auto health = co_await run(curl + "-w ' %{http_code}' " + url(h, "/healthz"));
        EXPECT_EQ(health.out, R"({"status":"ok"} 200)");
    };
    co_await with_server(app, opt, body);
}

namespace {

// Each client script prints one line per check; the test compares them all.
constexpr const char* kExpectedLines =
    "get 200 text/plain Hello, World!\n"
    "json {'message': 'Hello, World!'}\n"
    "session 200 200 200\n"
    "post POST:payload\n"
    "chunked POST:abcdef\n"
    "stream alpha,beta,gamma\n"
    "head 200 13 0\n"
    "query J\xC3\xBCrgen K\n"
    "missing 404\n";

constexpr const char* kRequestsScript = R"PY(
import sys, requests
base = "http://127.0.0.1:%s" % sys.argv[1]
r = requests.get(base + "/plaintext", timeout=20)
print("get", r.status_code, r.headers["content-type"], r.text)
print("json", requests.get(base + "/json", timeout=20).json())
with requests.Session() as s:
    codes = [s.get(base + "/plaintext", timeout=20).status_code for _ in range(3)]
    print("session", *codes)
print("post", requests.post(base + "/echo", data=b"payload", timeout=20).text)
def gen():
    yield b"abc"
    yield b"def"
print("chunked", requests.post(base + "/echo", data=gen(), timeout=20).text)
with requests.get(base + "/stream", stream=True, timeout=20) as r:
    print("stream", b"".join(r.iter_content(chunk_size=None)).decode())
r = requests.head(base + "/plaintext", timeout=20)
print("head", r.status_code, r.headers["content-length"], len(r.content))
r = requests.get(base + "/query", params={"name": "Jürgen K"}, timeout=20)
print("query", r.content.decode())
print("missing", requests.get(base + "/nope", timeout=20).status_code)
)PY";

constexpr const char* kHttpxScript = R"PY(
import sys, httpx
base = "http://127.0.0.1:%s" % sys.argv[1]
with httpx.Client(timeout=20) as c:
    r = c.get(base + "/plaintext")
    print("get", r.status_code, r.headers["content-type"], r.text)
    print("json", c.get(base + "/json").json())
    print("session", *[c.get(base + "/plaintext").status_code for _ in range(3)])
    print("post", c.post(base + "/echo", content=b"payload").text)
    def gen():
        yield b"abc"
        yield b"def"
    print("chunked", c.post(base + "/echo", content=gen()).text)
    with c.stream("GET", base + "/stream") as r:
        print("stream", b"".join(r.iter_bytes()).decode())
    r = c.head(base + "/plaintext")
    print("head", r.status_code, r.headers["content-length"], len(r.content))
    print("query", c.get(base + "/query", params={"name": "Jürgen K"}).content.decode())
    print("missing", c.get(base + "/nope").status_code)
)PY";

Task<void> run_python_client(const char* module, const char* script) {
    const bool installed = co_await python_has(module);
    if (!installed) {
        ADD_FAILURE() << "/usr/bin/python3 cannot import " << module << " (install python3-"
                      << module << ")";
        co_return;
    }
    TempFile file(script, ".py");
    auto body = [&](ServerHandle& h) -> Task<void> {
        auto r = co_await run("/usr/bin/python3 " + file.path() + " " + std::to_string(h.port()));
        EXPECT_EQ(r.exit_code, 0) << r.out;
        EXPECT_EQ(r.out, kExpectedLines);
    };
    co_await with_server(app, kDefaultOptions, body);
}

}  // namespace

WEIR_TEST(ServerClientsToThread, PythonRequests) {
    co_await run_python_client("requests", kRequestsScript);
}

WEIR_TEST(ServerClientsToThread, PythonHttpx) { co_await run_python_client("httpx", kHttpxScript); }
