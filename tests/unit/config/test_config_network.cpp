// SPDX-License-Identifier: GPL-2.0-or-later
// btfd.conf's network keys: [Hub] for every mirror, [Mirror "PREFIX"] on top
// for the mirrors it matches, credentials as files (absolute, or a name in the
// unit's credentials directory).
#include <doctest/doctest.h>

#include "config/config.hpp"
#include "support/temp_dir.hpp"

using namespace btfd;
using namespace btfd::server;
namespace test = btfd::test;

namespace {
Config with(const std::string& text) {
  Config c = default_config();
  auto st = apply_config_text(c, text, "btfd.conf");
  REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
  return c;
}
}  // namespace

TEST_CASE("network keys: [Hub] applies to every mirror, the longest matching [Mirror] prefix overrides") {
  test::TempDir dir;
  test::write_text(dir / "ca.pem", "ca");
  test::write_text(dir / "site.pem", "cert");
  test::write_text(dir / "token", "t");
  Config c = with("[Hub]\nMirrors=https://btf.internal.example/hub https://public.example/archive\n"
                  "Proxy=http://proxy.example:3128\nNoProxy=.internal.example\n"
                  "[Mirror \"https://btf.internal.example\"]\nCAFile=" + dir / "ca.pem" + "\nNoProxy=*\n"
                  "[Mirror \"https://btf.internal.example/hub\"]\nClientCertificate=" + dir / "site.pem" +
                  "\nBearerTokenFile=" + dir / "token" + "\n");
  auto t = mirror_transports(c, nullptr);
  REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
  REQUIRE(t->size() == 2);
  const hub::Transport& internal = (*t)[0];
  CHECK(internal.proxy == std::optional<std::string>("http://proxy.example:3128"));
  CHECK(internal.no_proxy == std::optional<std::string>(".internal.example"));  // the longest section wins whole keys...
  CHECK(internal.ca_file.empty());                                               // ...not merged with shorter ones
  CHECK(internal.client_cert == dir / "site.pem");
  CHECK(internal.auth == "bearer");
  CHECK(internal.auth_file == dir / "token");
  const hub::Transport& pub = (*t)[1];
  CHECK(pub.proxy == std::optional<std::string>("http://proxy.example:3128"));
  CHECK(pub.auth.empty());
  CHECK(pub.ca_file.empty());
  // The sections are written back by --dump-config.
  std::string dump = dump_config(c);
  CHECK(dump.find("[Mirror \"https://btf.internal.example/hub\"]\nClientCertificate=" + dir / "site.pem") !=
        std::string::npos);
  // Unset, nothing is passed on: libcurl's defaults.
  auto plain = mirror_transports(default_config(), nullptr);
  REQUIRE(plain.ok());
  for (const auto& p : *plain) CHECK(p == hub::Transport{});
}

TEST_CASE("network keys: credentials by name come from the unit's credentials directory") {
  test::TempDir dir;
  test::write_text(dir / "hub-auth", "user:pass");
  Config c = with("[Hub]\nMirrors=https://m.example\nBasicAuthFile=hub-auth\n");
  auto t = mirror_transports(c, dir.path().c_str());
  REQUIRE(t.ok());
  CHECK((*t)[0].auth == "basic");
  CHECK((*t)[0].auth_file == dir / "hub-auth");
  auto no_dir = mirror_transports(c, nullptr);
  REQUIRE_FALSE(no_dir.ok());
  CHECK(no_dir.error().message.find("CREDENTIALS_DIRECTORY") != std::string::npos);
  CHECK(no_dir.error().message.find("LoadCredential=hub-auth:PATH") != std::string::npos);
}

TEST_CASE("network keys: mistakes are start-up errors naming the key, the mirror and the file") {
  test::TempDir dir;
  test::write_text(dir / "token", "t");
  test::write_text(dir / "key.pem", "k");
  struct Case {
    std::string text;
    const char* says;
  };
  for (const Case& k : {
           Case{"[Hub]\nMirrors=https://m.example\nCAFile=" + dir / "missing.pem\n", "missing.pem\" cannot be read"},
           Case{"[Hub]\nMirrors=https://m.example\nBearerTokenFile=" + dir / "token\nBasicAuthFile=" + dir / "token\n",
                "both set"},
           Case{"[Hub]\nMirrors=https://m.example\nClientKey=" + dir / "key.pem\n", "without ClientCertificate="},
           Case{"[Hub]\nMirrors=https://m.example\nProxy=ftp://proxy:21\n", "Proxy=ftp://proxy:21"},
           Case{"[Hub]\nMirrors=https://m.example\nBearerTokenFile=../token\n", "nor a credential name"},
           Case{"[Hub]\nMirrors=https://m.example\n[Mirror \"https://typo.example\"]\nCAFile=/x\n",
                "[Mirror \"https://typo.example\"] matches none of the mirrors"},
       }) {
    CAPTURE(k.text);
    Config c = with(k.text);
    auto t = mirror_transports(c, nullptr);
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().message.find(k.says) != std::string::npos);
  }
  Config c = default_config();
  auto unknown = apply_config_text(c, "[Mirror \"https://m.example\"]\nMirrors=x\n", "btfd.conf");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message.find("btfd.conf:2:") != std::string::npos);
  CHECK(unknown.error().message.find("a [Mirror] section takes Proxy") != std::string::npos);
  auto odd = apply_config_text(c, "[Mirror]\nProxy=x\n", "btfd.conf");
  CHECK_FALSE(odd.ok());
}

TEST_CASE("network keys: credentials in a mirror or proxy URL are refused, and the refusal does not repeat them") {
  struct Case {
    std::string text;
    const char* says;
  };
  for (const Case& k : {
           Case{"[Hub]\nMirrors=https://m.example\nProxy=http://alice:s3cret@proxy.example:3128\n",
                "Proxy=http://***@proxy.example:3128: credentials in the proxy URL"},
           Case{"[Hub]\nMirrors=https://m.example\nProxy=alice:s3cret@proxy.example:3128\n",
                "ProxyAuthFile="},
           Case{"[Hub]\nMirrors=https://m.example\n[Mirror \"https://m.example\"]\nProxy=socks5://alice:s3cret@p:1080\n",
                "Proxy=socks5://***@p:1080"},
           Case{"[Hub]\nMirrors=https://alice:s3cret@m.example\n[Mirror \"https://alice:s3cret@m.example\"]\nCAFile=/x\n",
                "[Mirror \"https://***@m.example\"]: credentials in the URL are refused: use BasicAuthFile="},
       }) {
    CAPTURE(k.text);
    Config c = with(k.text);
    auto t = mirror_transports(c, nullptr);
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().message.find(k.says) != std::string::npos);
    CHECK(t.error().message.find("s3cret") == std::string::npos);
  }
  // The mirror itself: refused at start-up (finish_config -> validate_mirror), pointing at BasicAuthFile=.
  Config c = with("[Hub]\nMirrors=https://alice:s3cret@m.example/hub\n");
  auto st = finish_config(c);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("mirror \"https://***@m.example/hub\"") != std::string::npos);
  CHECK(st.error().message.find("BasicAuthFile=") != std::string::npos);
  CHECK(st.error().message.find("s3cret") == std::string::npos);
  // An "@" in a path or query is not userinfo.
  Config ok = with("[Hub]\nMirrors=https://m.example/a@b\nProxy=http://proxy.example:3128/x@y\n");
  CHECK(mirror_transports(ok, nullptr).ok());
}

TEST_CASE("network keys: a [Mirror] prefix matches whole path segments, not a longer host name") {
  test::TempDir dir;
  test::write_text(dir / "token", "t");
  Config c = with("[Hub]\nMirrors=https://mirror.corp.evil.org/hub https://mirror.corp https://mirror.corp/hub/ "
                  "https://mirror.corp/hubble\n"
                  "[Mirror \"https://mirror.corp\"]\nBearerTokenFile=" + dir / "token\n"
                  "[Mirror \"https://mirror.corp/hub/\"]\nCAFile=" + dir / "token\n");
  auto t = mirror_transports(c, nullptr);
  REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
  REQUIRE(t->size() == 4);
  CHECK((*t)[0].auth.empty());  // mirror.corp.evil.org gets nothing
  CHECK((*t)[1].auth == "bearer");
  CHECK((*t)[2].ca_file == dir / "token");  // "https://mirror.corp/hub/" matches with or without the slash
  CHECK((*t)[2].auth.empty());
  CHECK((*t)[3].auth == "bearer");  // /hubble is under mirror.corp but not under /hub/
  CHECK((*t)[3].ca_file.empty());
  // A section for a longer host name alone matches nothing.
  Config evil = with("[Hub]\nMirrors=https://mirror.corp.evil.org/hub\n[Mirror \"https://mirror.corp\"]\nCAFile=/x\n");
  auto none = mirror_transports(evil, nullptr);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message.find("matches none of the mirrors") != std::string::npos);
}

TEST_CASE("network keys: ProxyAuthFile= names a file (passed on as a path), and needs Proxy=") {
  test::TempDir dir;
  test::write_text(dir / "proxy-auth", "fleet:pw");
  Config c = with("[Hub]\nMirrors=https://a.example https://b.example\nProxy=http://proxy.example:3128\n"
                  "ProxyAuthFile=" + dir / "proxy-auth\n[Mirror \"https://b.example\"]\nProxy=\n");
  auto t = mirror_transports(c, nullptr);
  REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
  CHECK((*t)[0].proxy_auth_file == dir / "proxy-auth");
  auto creds = hub::read_proxy_credentials((*t)[0]);
  REQUIRE(creds.ok());
  CHECK(*creds == "fleet:pw");
  Config no_proxy = with("[Hub]\nMirrors=https://a.example\nProxyAuthFile=" + dir / "proxy-auth\n");
  auto bad = mirror_transports(no_proxy, nullptr);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("ProxyAuthFile= is set without Proxy=") != std::string::npos);
  test::write_text(dir / "no-colon", "just-a-token");
  hub::Transport odd;
  odd.proxy_auth_file = dir / "no-colon";
  auto r = hub::read_proxy_credentials(odd);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("user:password") != std::string::npos);
  CHECK(r.error().message.find("just-a-token") == std::string::npos);
}

TEST_CASE("debuginfod servers: http(s) only, no credentials in the URL, reached as mirrors are ([Mirror] sections)") {
  test::TempDir dir;
  test::write_text(dir / "token", "t");
  Config c = with("[Hub]\nMirrors=https://mirror.example\nProxy=http://proxy.example:3128\n"
                  "[Debuginfod]\nURLs=https://debuginfod.corp https://debuginfod.other/\n"
                  "[Mirror \"https://debuginfod.corp\"]\nBearerTokenFile=" + dir / "token\n");
  // A [Mirror] section naming only a debuginfod server is not a typo.
  REQUIRE(mirror_transports(c, nullptr).ok());
  auto t = debuginfod_transports(c, nullptr);
  REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
  REQUIRE(t->size() == 2);
  CHECK((*t)[0].auth == "bearer");
  CHECK((*t)[0].proxy == "http://proxy.example:3128");
  CHECK((*t)[1].auth.empty());
  for (const char* bad : {"file:///srv/debuginfod", "ftp://x", "/srv/debuginfod", "https://user:pw@debuginfod.corp"}) {
    Config b = with(std::string("[Debuginfod]\nURLs=") + bad + "\n");
    auto r = debuginfod_transports(b, nullptr);
    CHECK_FALSE(r.ok());
  }
  Config off = default_config();
  CHECK(off.debuginfod_urls.empty());  // off by default
  auto none = debuginfod_transports(off, nullptr);
  REQUIRE(none.ok());
  CHECK(none->empty());
}
