// `serve.auth`: API tokens of `sluice serve` through the real binary (docs/SECURITY.md). A push
// needs a token with ingest:<source>; a tenant-bound token's rows of other tenants are
// dead-lettered (tenant_forbidden); secrets never appear in what the server writes; without
// tokens the server listens on loopback only.
#include <gtest/gtest.h>

#include <string>

#include "harness.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

constexpr const char* kLoaderSecret = "loader-secret-0123456789abcdef";
constexpr const char* kAcmeSecret = "acme-secret-0123456789abcdef01";
constexpr const char* kReaderSecret = "reader-secret-0123456789abcdef";

std::string Event(const std::string& id, const std::string& tenant) {
  return "{\"order_id\":\"" + id + "\",\"tenant_id\":\"" + tenant +
         "\",\"status\":\"created\",\"amount\":1.5,\"created_at\":\"2026-01-02T10:00:00Z\",\"seq\":1}\n";
}

const char* kAuth =
    "serve:\n"
    "  auth:\n"
    "    tokens:\n"
    "      - {name: loader, secret_env: LOADER_TOKEN, scopes: [\"ingest:orders\"]}\n"
    "      - {name: acme, secret_env: ACME_TOKEN, scopes: [\"ingest:*\", \"read:*\"], tenants: [t01, t03]}\n"
    "      - {name: reader, secret_env: READER_TOKEN, scopes: [\"read:marts.*\"]}\n";

std::vector<std::pair<std::string, std::string>> Secrets() {
  return {{"LOADER_TOKEN", kLoaderSecret}, {"ACME_TOKEN", kAcmeSecret}, {"READER_TOKEN", kReaderSecret}};
}

Project AuthProject(const TempDir& tmp) {
  OrderGeneratorOptions o;
  o.orders = 5;
  o.batches = 1;
  Project p = MakeExampleProject(tmp.path() + "/shop", o);
  MakeStreamSource(p, "    type: http\n", std::string("transform: {interval: 500ms}\n") + kAuth);
  return p;
}

TEST(ServeAuth, PushNeedsATokenWithTheIngestScope) {
  TempDir tmp;
  Project p = AuthProject(tmp);
  auto server = ServeProcess::Start(p, {}, Secrets());
  ASSERT_TRUE(server);
  HttpClient client(server->port());
  const std::string path = "/v1/sources/orders/events";

  HttpResponse none = client.Post(path, Event("o1", "t01"));
  EXPECT_EQ(none.status, 401) << Describe(none);
  EXPECT_EQ(Header(none, "WWW-Authenticate"), "Bearer");
  EXPECT_NE(none.json().value("error", "").find("Authorization"), std::string::npos) << Describe(none);

  HttpResponse wrong =
      client.Post(path, Event("o1", "t01"), {{"Authorization", "Bearer not-a-token-of-ours-at-all"}});
  EXPECT_EQ(wrong.status, 401) << Describe(wrong);
  // A prefix of a real secret is no secret.
  HttpResponse prefix =
      client.Post(path, Event("o1", "t01"),
                  {{"Authorization", std::string("Bearer ") + std::string(kLoaderSecret).substr(0, 20)}});
  EXPECT_EQ(prefix.status, 401) << Describe(prefix);
  HttpResponse basic = client.Post(path, Event("o1", "t01"), {{"Authorization", "Basic bG9hZGVyOng="}});
  EXPECT_EQ(basic.status, 401) << Describe(basic);

  HttpResponse reader =
      client.Post(path, Event("o1", "t01"), {{"Authorization", std::string("Bearer ") + kReaderSecret}});
  EXPECT_EQ(reader.status, 403) << Describe(reader);
  EXPECT_NE(reader.json().value("error", "").find("ingest:orders"), std::string::npos) << Describe(reader);

  HttpResponse ok = client.Post(path, Event("o1", "t01") + Event("o2", "t02"),
                                {{"Authorization", std::string("Bearer ") + kLoaderSecret}});
  ASSERT_EQ(ok.status, 200) << Describe(ok);
  EXPECT_EQ(ok.json().value("accepted", -1), 2);

  // Only the accepted push is in the lake.
  ProcessResult stop = server->Terminate();
  ASSERT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_EQ(p.Scalar("SELECT string_agg(order_id, ',' ORDER BY order_id) FROM staging.orders"), "o1,o2");
  // No secret in anything the server wrote.
  for (const char* secret : {kLoaderSecret, kAcmeSecret, kReaderSecret}) {
    EXPECT_EQ(stop.err.find(secret), std::string::npos) << "a secret is in the server's log";
  }
}

// A tenant-bound token pushes its own tenants' rows; the others go to the DLQ as tenant_forbidden
// with their raw line, and the answer counts them.
TEST(ServeAuth, TenantBoundPushDeadLettersOtherTenants) {
  TempDir tmp;
  Project p = AuthProject(tmp);
  auto server = ServeProcess::Start(p, {}, Secrets());
  ASSERT_TRUE(server);
  HttpClient client(server->port());
  const std::string body = Event("a1", "t01") + Event("a2", "t02") + Event("a3", "t03") + Event("a4", "t09") +
                           "{\"order_id\":\"a5\",\"status\":\"created\"}\n";  // no tenant: missing_required
  HttpResponse r = client.Post("/v1/sources/orders/events", body,
                               {{"Authorization", std::string("Bearer ") + kAcmeSecret}});
  ASSERT_EQ(r.status, 200) << Describe(r);
  EXPECT_EQ(r.json().value("accepted", -1), 2);
  EXPECT_EQ(r.json().value("dead_lettered", -1), 3);
  ProcessResult stop = server->Terminate();
  ASSERT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_EQ(p.Scalar("SELECT string_agg(order_id, ',' ORDER BY order_id) FROM staging.orders"), "a1,a3");
  EXPECT_EQ(p.Rows("SELECT line, reason, column_name, json_extract_string(raw, '$.order_id') FROM dlq.orders "
                   "ORDER BY line"),
            (std::vector<std::vector<std::string>>{{"2", "tenant_forbidden", "tenant_id", "a2"},
                                                   {"4", "tenant_forbidden", "tenant_id", "a4"},
                                                   {"5", "missing_required", "tenant_id", "a5"}}));
  // The ledger reconciles (G1).
  EXPECT_EQ(p.Scalar("SELECT rows_read || '/' || rows_staged || '/' || rows_dead FROM meta.batches"),
            "5/2/3");
}

TEST(ServeAuth, StartRefusals) {
  TempDir tmp;
  Project p = AuthProject(tmp);
  // A token whose secret variable is unset: named, and nothing started.
  ProcessResult unset = p.Sluice("serve", {"--listen", "127.0.0.1:0"}, {{"LOADER_TOKEN", kLoaderSecret}});
  EXPECT_NE(unset.exit_code, 0);
  EXPECT_NE(unset.err.find("ACME_TOKEN is not set"), std::string::npos) << unset.err;
  // A short secret.
  ProcessResult weak =
      p.Sluice("serve", {"--listen", "127.0.0.1:0"},
               {{"LOADER_TOKEN", "short"}, {"ACME_TOKEN", kAcmeSecret}, {"READER_TOKEN", kReaderSecret}});
  EXPECT_NE(weak.exit_code, 0);
  EXPECT_NE(weak.err.find("shorter than 16 bytes"), std::string::npos) << weak.err;
  EXPECT_EQ(weak.err.find("short\n"), std::string::npos);
  // Without tokens, only loopback.
  TempDir tmp2;
  OrderGeneratorOptions o;
  o.orders = 5;
  o.batches = 1;
  Project open = MakeExampleProject(tmp2.path() + "/shop", o);
  MakeStreamSource(open, "    type: http\n");
  ProcessResult wide = open.Sluice("serve", {"--listen", "0.0.0.0:0"});
  EXPECT_NE(wide.exit_code, 0);
  EXPECT_NE(wide.err.find("loopback"), std::string::npos) << wide.err;
  // A scope naming a source that does not exist is a load error with the file's line.
  std::string yaml = ReadFileOrDie(open.Path("sluice.yaml"));
  WriteFileOrDie(open.Path("sluice.yaml"), yaml +
                                               "serve:\n  auth:\n    tokens:\n      - {name: x, secret_env: "
                                               "X_TOKEN, scopes: [\"ingest:nope\"]}\n");
  ProcessResult bad = open.Sluice("serve", {"--listen", "127.0.0.1:0"});
  EXPECT_NE(bad.exit_code, 0) << bad.err;
  EXPECT_NE(bad.err.find("no source nope"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("sluice.yaml:"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace sluice::e2e
