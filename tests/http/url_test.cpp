// Url::parse and Url::resolve: the client's view of absolute URLs and of redirect targets.
#include "weir/http/url.hpp"

#include <string>

#include <gtest/gtest.h>

#include "weir/http/client_errors.hpp"

using weir::http::InvalidUrl;
using weir::http::Url;

TEST(Url, ParsesTheParts) {
    Url u = Url::parse("HTTPS://Alice:pw@Example.ORG:8443/a/b?x=1#frag");
    EXPECT_EQ(u.scheme, "https");
    EXPECT_EQ(u.userinfo, "Alice:pw");
    EXPECT_EQ(u.host, "example.org");
    EXPECT_EQ(u.port, 8443);
    EXPECT_EQ(u.target, "/a/b?x=1");
    EXPECT_TRUE(u.is_tls());
    EXPECT_EQ(u.origin(), "https://example.org:8443");
    EXPECT_EQ(u.to_string(), "https://example.org:8443/a/b?x=1");
}

TEST(Url, DefaultsPortAndTarget) {
    Url u = Url::parse("http://example.org");
    EXPECT_EQ(u.port, 80);
    EXPECT_EQ(u.target, "/");
    EXPECT_TRUE(u.default_port());
    EXPECT_EQ(u.host_header(), "example.org");
    EXPECT_EQ(Url::parse("https://h?q=1").target, "/?q=1");
    EXPECT_EQ(Url::parse("https://h").port, 443);
}

TEST(Url, Ipv6Literals) {
    Url u = Url::parse("http://[::1]:8080/x");
    EXPECT_EQ(u.host, "::1");
    EXPECT_EQ(u.port, 8080);
    EXPECT_EQ(u.host_header(), "[::1]:8080");
    EXPECT_EQ(Url::parse(u.to_string()).host, "::1");
    EXPECT_EQ(Url::parse("http://[FE80::A]/").host, "fe80::a");
    EXPECT_THROW(Url::parse("http://[a.1]/"), InvalidUrl);       // no colon: not IPv6
    EXPECT_THROW(Url::parse("http://[::1%eth0]/"), InvalidUrl);  // zone ids are not supported
}

TEST(Url, RejectsWhatCannotBeRequested) {
    for (const char* bad : {"example.org/x", "ftp://h/", "http://", "http:///x", "http://h:0/",
                            "http://h:65536/", "http://h:8x/", "http://h:123456/", "http://[::1/",
                            "http://[::1]x/", "http://h/a b", "http://h/a\tb", "http://h/a\x7f",
                            "http://h\x01/", "http://h h/", "http://a:b:80/", "http://a]:80/"}) {
        EXPECT_THROW(Url::parse(bad), InvalidUrl) << bad;
    }
}

TEST(Url, ResolvesRedirectTargets) {
    const Url base = Url::parse("http://example.org:8080/a/b?x=1");
    EXPECT_EQ(base.resolve("https://other.example/p").to_string(), "https://other.example/p");
    EXPECT_EQ(base.resolve("//other.example/p").to_string(), "http://other.example/p");
    EXPECT_EQ(base.resolve("/c?d=2#f").target, "/c?d=2");
    EXPECT_EQ(base.resolve("?y=2").target, "/a/b?y=2");
    EXPECT_EQ(base.resolve("c").target, "/a/c");
    EXPECT_EQ(base.resolve("c").origin(), "http://example.org:8080");
    EXPECT_EQ(base.resolve("").target, "/a/b?x=1");
    EXPECT_EQ(base.resolve("#only-a-fragment").target, "/a/b?x=1");
    // A query holding a URL is not a scheme.
    EXPECT_EQ(base.resolve("/login?next=http://x/y").target, "/login?next=http://x/y");
    EXPECT_EQ(base.resolve("HTTP://Other.Example").to_string(), "http://other.example/");
}

TEST(Url, ResolveRemovesDotSegments) {
    const Url base = Url::parse("http://example.org/a/b/c?q");
    EXPECT_EQ(base.resolve("../d").target, "/a/d");
    EXPECT_EQ(base.resolve("./d/./e").target, "/a/b/d/e");
    EXPECT_EQ(base.resolve("../../../../d").target, "/d");
    EXPECT_EQ(base.resolve("..").target, "/a/");
    EXPECT_EQ(base.resolve(".").target, "/a/b/");
    EXPECT_EQ(base.resolve("/x/../y/./z/").target, "/y/z/");
    EXPECT_EQ(base.resolve("/..").target, "/");
    EXPECT_EQ(base.resolve("d/..?k=v").target, "/a/b/?k=v");
    EXPECT_EQ(base.resolve("//h/x/../y").target, "/x/../y");  // parsed as given
}

// Found by fuzz/url_fuzzer.cpp: a relative Location went into the request line unchecked.
TEST(Url, ResolveRejectsSpacesAndControlBytes) {
    const Url base = Url::parse("http://example.org/a/b");
    for (const char* bad : {"/x y", "x\ty", "?q=\x01", "/\x7f", "//h/a b"}) {
        EXPECT_THROW(base.resolve(bad), InvalidUrl) << bad;
    }
}
