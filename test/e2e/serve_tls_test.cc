// `serve.tls`: `sluice serve` over HTTPS with a self-signed certificate the test makes (openssl
// CLI), a client that verifies it, plain HTTP to the TLS port refused cleanly, and unreadable
// certificate files as a clear start-up error (docs/HTTP.md).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "harness.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

Project MakeTlsProject(const std::string& dir, const std::string& cert, const std::string& key) {
  OrderGeneratorOptions o;
  o.orders = 10;
  o.batches = 1;
  Project p = MakeExampleProject(dir, o);
  MakeStreamSource(p, "    type: http\n",
                   "transform: {interval: 500ms}\nserve:\n  tls:\n    cert: " + cert + "\n    key: " + key);
  return p;
}

const std::string kOrder =
    "{\"order_id\":\"tls-1\",\"tenant_id\":\"t01\",\"status\":\"paid\",\"amount\":1.5,"
    "\"created_at\":\"2026-01-02T10:00:00Z\",\"seq\":1}\n";

TEST(ServeTls, ServesHttpsWithAVerifiedCertificate) {
  TempDir tmp;
  Project p = MakeTlsProject(tmp.path() + "/shop", "tls/server.pem", "tls/server.key");
  std::filesystem::create_directories(p.Path("tls"));
  ASSERT_NO_FATAL_FAILURE(MakeCertificate(p.Path("tls"), "server"));
  ASSERT_NO_FATAL_FAILURE(MakeCertificate(p.Path("tls"), "other"));  // a CA the server is not signed by
  const std::string ca = p.Path("tls/server.pem");
  auto server = ServeProcess::Start(p, {}, {}, 60, ca);
  ASSERT_TRUE(server);
  const int port = server->port();

  HttpClient client(port, 30, ca);
  HttpResponse health = client.Get("/v1/health");
  EXPECT_EQ(health.status, 200) << Describe(health);
  EXPECT_EQ(health.json().value("listen", ""), "https://127.0.0.1:" + std::to_string(port)) << health.body;
  HttpResponse posted = client.Post("/v1/sources/orders/events", kOrder, {{"Idempotency-Key", "tls-1"}});
  ASSERT_EQ(posted.status, 200) << Describe(posted) << "\n" << server->Stderr();
  EXPECT_EQ(posted.json().value("accepted", -1), 1) << posted.body;

  // A client that does not trust the certificate gets no answer.
  HttpClient untrusting(port, 10, p.Path("tls/other.pem"));
  EXPECT_EQ(untrusting.Get("/v1/health").status, 0) << "a certificate not signed by the client's CA";

  // Plain HTTP to the TLS port: no HTTP answer, the connection closed.
  RawConnection plain(port);
  ASSERT_TRUE(plain.Send("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  HttpResponse r = plain.Read(3);
  EXPECT_EQ(r.status, 0) << Describe(r);
  EXPECT_TRUE(plain.ClosedWithin(10)) << "plain HTTP to the TLS port should be closed";
  // And the server goes on serving over TLS.
  EXPECT_EQ(HttpClient(port, 10, ca).Get("/v1/health").status, 200);

  ProcessResult stop = server->Terminate();
  ASSERT_TRUE(stop.ok()) << stop.Describe();
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.orders"), "1");
}

// A certificate or key that cannot be read stops `sluice serve` at start, naming the key of
// sluice.yaml and the file.
TEST(ServeTls, UnreadableCertificateIsAStartupError) {
  TempDir tmp;
  Project p = MakeTlsProject(tmp.path() + "/shop", "server.pem", "missing.key");
  ASSERT_NO_FATAL_FAILURE(MakeCertificate(p.dir(), "server"));
  ProcessResult r = p.Sluice("serve", {"--listen", "127.0.0.1:0"});
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.err.find("serve.tls.key"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(p.Path("missing.key")), std::string::npos) << r.err;

  // A file that is not a PEM certificate: refused at start too.
  WriteFileOrDie(p.Path("bad.pem"), "not a certificate\n");
  std::string yaml = ReadFileOrDie(p.Path("sluice.yaml"));
  const std::string from = "missing.key";
  yaml.replace(yaml.find(from), from.size(), "server.key");
  yaml.replace(yaml.find("cert: server.pem"), std::string("cert: server.pem").size(), "cert: bad.pem");
  WriteFileOrDie(p.Path("sluice.yaml"), yaml);
  ProcessResult bad = p.Sluice("serve", {"--listen", "127.0.0.1:0"});
  EXPECT_FALSE(bad.ok());
  EXPECT_FALSE(bad.timed_out);
  EXPECT_NE(bad.err.find("serve.tls"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace sluice::e2e
