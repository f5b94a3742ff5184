// `as_of` under `sluice serve` (docs/QUERY_API.md): POST /v1/query and the rows endpoint answer
// from an earlier snapshot exactly as `sluice query --as-of` did before serve started; a
// tenant-bound token still sees only its tenants' rows of that snapshot; values that are not a
// snapshot or a time, and snapshots that do not exist, are clear 4xx answers.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "harness.h"
#include "sample/example_project.h"
#include "serve_harness.h"
#include "support/csv.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;

constexpr const char* kOps = "ops-secret-0123456789abcdef0123";
constexpr const char* kAcme = "acme-secret-0123456789abcdef01";

std::map<std::string, std::string> Bearer(const char* secret) {
  return {{"Authorization", std::string("Bearer ") + secret}, {"Content-Type", "application/json"}};
}

std::string CsvOf(const Project& p, const std::string& sql, const std::string& as_of) {
  ProcessResult r = p.Sluice("query", {sql, "--format", "csv", "--as-of", as_of});
  EXPECT_TRUE(r.ok()) << r.Describe();
  return r.out;
}

TEST(ServeTimeTravel, AsOfAnswersTheSnapshotAndTenantTokensStayFiltered) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 500;
  o.batches = 2;
  o.tenants = 4;
  o.seed = 5;
  Project p = MakeExampleProject(tmp.path() + "/p", o);
  // Two runs: snapshot 1 holds batch 1, snapshot 2 both.
  const std::string held = tmp.path() + "/held";
  fs::create_directories(held);
  fs::rename(p.Landing() + "/batch-0002.jsonl", held + "/batch-0002.jsonl");
  ASSERT_FALSE(p.RunJson().is_null());
  fs::rename(held + "/batch-0002.jsonl", p.Landing() + "/batch-0002.jsonl");
  ASSERT_FALSE(p.RunJson().is_null());

  // Ground truth, before serve: sluice query --as-of.
  const std::string by_tenant =
      "SELECT tenant_id, count(*) AS n, CAST(sum(amount) AS VARCHAR) AS total FROM curated.orders GROUP BY "
      "ALL "
      "ORDER BY 1";
  const std::string acme_filter =
      "SELECT tenant_id, count(*) AS n, CAST(sum(amount) AS VARCHAR) AS total FROM curated.orders WHERE "
      "tenant_id "
      "IN ('t01', 't03') GROUP BY ALL ORDER BY 1";
  const std::string truth1 = CsvOf(p, by_tenant, "1"), truth2 = CsvOf(p, by_tenant, "2");
  const std::string acme1 = CsvOf(p, acme_filter, "1");
  ASSERT_NE(truth1, truth2);
  const std::string rows1 =
      p.Scalar("SELECT rows FROM meta.snapshots WHERE snapshot = 1 AND table_name = 'orders'");

  MakeStreamSource(
      p, "    type: http\n",
      "transform: {interval: 100ms, publish_interval: 200ms}\n"
      "serve:\n"
      "  auth:\n"
      "    tokens:\n"
      "      - {name: ops, secret_env: OPS_TOKEN, scopes: [admin]}\n"
      "      - {name: acme, secret_env: ACME_TOKEN, scopes: [\"read:*\"], tenants: [t01, t03]}\n");
  auto server = ServeProcess::Start(p, {}, {{"OPS_TOKEN", kOps}, {"ACME_TOKEN", kAcme}});
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  auto sql_csv = [&](const char* token, const std::string& sql, const std::string& as_of_json) {
    auto headers = Bearer(token);
    headers["Accept"] = "text/csv";
    return client.Post("/v1/query", "{\"sql\": " + Json(sql).dump() + ", \"as_of\": " + as_of_json + "}",
                       headers);
  };
  HttpResponse a1 = sql_csv(kOps, by_tenant, "1");
  ASSERT_EQ(a1.status, 200) << Describe(a1);
  EXPECT_EQ(a1.body, truth1);
  HttpResponse a2 = sql_csv(kOps, by_tenant, "\"2\"");
  ASSERT_EQ(a2.status, 200) << Describe(a2);
  EXPECT_EQ(a2.body, truth2);
  // By time: the commit time of snapshot 1 reads snapshot 1.
  const std::string at =
      p.Scalar("SELECT CAST(committed_at AS VARCHAR) FROM meta.snapshots WHERE snapshot = 1 LIMIT 1");
  HttpResponse by_time = sql_csv(kOps, by_tenant, Json(at).dump());
  ASSERT_EQ(by_time.status, 200) << Describe(by_time);
  EXPECT_EQ(by_time.body, truth1);

  // A tenant-bound token: the same snapshot, its tenants only, the query text unchanged.
  HttpResponse t1 = sql_csv(kAcme, by_tenant, "1");
  ASSERT_EQ(t1.status, 200) << Describe(t1);
  EXPECT_EQ(t1.body, acme1);

  // The rows endpoint pages the snapshot's version.
  HttpResponse rows = client.Get("/v1/tables/curated.orders/rows?as_of=1&limit=100000", Bearer(kOps));
  ASSERT_EQ(rows.status, 200) << Describe(rows);
  EXPECT_EQ(std::to_string(rows.json()["rows"].size()), rows1);
  HttpResponse tenant_rows = client.Get("/v1/tables/curated.orders/rows?as_of=1&limit=100000", Bearer(kAcme));
  ASSERT_EQ(tenant_rows.status, 200) << Describe(tenant_rows);
  const Json tenant_json = tenant_rows.json();
  for (const Json& r : tenant_json["rows"]) {
    const std::string t = r["tenant_id"].get<std::string>();
    EXPECT_TRUE(t == "t01" || t == "t03") << t;
  }

  // Hostile or wrong as_of: 4xx with one line, never 5xx.
  for (const std::string bad :
       {"\"abc\"", "\"1; DROP TABLE meta.batches\"", "[1]", "{}", "\"\"", "0", "1.5"}) {
    HttpResponse r = sql_csv(kOps, by_tenant, bad);
    EXPECT_EQ(r.status, 400) << bad << ": " << Describe(r);
  }
  for (const std::string missing : {"99", "\"1900-01-01 00:00:00\""}) {
    HttpResponse r = sql_csv(kOps, by_tenant, missing);
    EXPECT_EQ(r.status, 404) << missing << ": " << Describe(r);
  }
  for (const std::string bad : {"abc", "99", "%27%20OR%201%3D1"}) {
    HttpResponse r = client.Get("/v1/tables/curated.orders/rows?as_of=" + bad, Bearer(kOps));
    EXPECT_TRUE(r.status == 400 || r.status == 404) << bad << ": " << Describe(r);
  }
  HttpResponse still = sql_csv(kOps, "SELECT count(*) AS n FROM meta.batches", "2");
  EXPECT_EQ(still.status, 200) << Describe(still);
  EXPECT_NE(still.body.find("2"), std::string::npos) << still.body;
  EXPECT_TRUE(server->Terminate().ok());
}

}  // namespace
}  // namespace sluice::e2e
