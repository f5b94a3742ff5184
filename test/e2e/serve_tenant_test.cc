// Tenant isolation of `sluice serve` tried as an attacker would, through the real binary: a
// token bound to tenants t01 and t03 reads curated.orders and marts.daily_revenue through SQL
// (joins, unions, subqueries, CTEs, EXPLAIN), the rows endpoint and the change feeds, and tries
// every way out it can think of. Ground truth: the same questions asked by an admin token with
// the tenant filter written out, on the same quiescent lake, and the tenants of every answer.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "harness.h"
#include "serve_harness.h"

namespace sluice::e2e {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kOpsSecret = "ops-secret-0123456789abcdef0123";
constexpr const char* kAcmeSecret = "acme-secret-0123456789abcdef01";
constexpr const char* kMartsSecret = "marts-secret-0123456789abcdef0";

const char* kServe =
    "transform: {interval: 100ms, publish_interval: 200ms}\n"
    "consumers:\n"
    "  acme_cache: {table: curated.orders, tenants: [t01]}\n"
    "  everyone: {table: curated.orders}\n"
    "  other_cache: {table: curated.orders, tenants: [t02]}\n"
    "serve:\n"
    "  auth:\n"
    "    tokens:\n"
    "      - {name: ops, secret_env: OPS_TOKEN, scopes: [admin]}\n"
    "      - {name: acme, secret_env: ACME_TOKEN, scopes: [\"read:*\"], tenants: [t01, t03]}\n"
    "      - {name: marts_t01, secret_env: MARTS_TOKEN, scopes: [\"read:marts.*\"], tenants: [t01]}\n";

std::map<std::string, std::string> Bearer(const char* secret) {
  return {{"Authorization", std::string("Bearer ") + secret}};
}

class ServeTenantTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OrderGeneratorOptions o;
    o.orders = 400;
    o.batches = 2;
    o.tenants = 4;
    o.days = 3;
    project_ = std::make_unique<Project>(MakeExampleProject(tmp_.path() + "/p", o));
    // A mart without a tenant column: every tenant's rows in one number.
    WriteFileOrDie(project_->dir() + "/models/status_totals.sql",
                   "SELECT status, count(*) AS orders FROM curated.orders GROUP BY ALL\n");
    const std::string yaml = project_->Path("sluice.yaml");
    WriteFileOrDie(yaml, ReadFileOrDie(yaml) + "  status_totals:\n    sql: models/status_totals.sql\n");
    MakeStreamSource(*project_, "    type: http\n", kServe);
    server_ = ServeProcess::Start(
        *project_, {},
        {{"OPS_TOKEN", kOpsSecret}, {"ACME_TOKEN", kAcmeSecret}, {"MARTS_TOKEN", kMartsSecret}});
    ASSERT_NE(server_, nullptr);
    client_ = std::make_unique<HttpClient>(server_->port());
    const std::vector<std::string> bodies = LandingBodies(*project_, 100000);
    ASSERT_EQ(bodies.size(), 1u);
    const std::string& body = bodies[0];
    HttpResponse pushed = client_->Post("/v1/sources/orders/events", body,
                                        {{"Authorization", std::string("Bearer ") + kOpsSecret}});
    ASSERT_EQ(pushed.status, 200) << Describe(pushed);
    WaitPublished();
  }

  void WaitPublished() {
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    while (Clock::now() < deadline) {
      HttpResponse r = client_->Get("/v1/tables", Bearer(kOpsSecret));
      bool done = r.status == 200;
      int64_t rows = 0;
      for (const auto& t : r.json().value("tables", Json::array())) {
        if (t["layer"] == "staging") continue;
        done = done && t["version"].is_number() && t["version"] == t["published_version"];
        if (t["name"] == "curated.orders" && t["rows"].is_number()) rows = t["rows"].get<int64_t>();
      }
      if (done && rows > 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "not published within 120 s: " << client_->Get("/v1/tables", Bearer(kOpsSecret)).body;
  }

  HttpResponse Sql(const char* secret, const std::string& sql) {
    return client_->Post("/v1/query", Json{{"sql", sql}}.dump(), Bearer(secret), "application/json");
  }
  // The rows of a 200 answer to `sql`, each row as its JSON text.
  std::vector<std::string> SqlRows(const char* secret, const std::string& sql) {
    HttpResponse r = Sql(secret, sql);
    EXPECT_EQ(r.status, 200) << sql << ": " << Describe(r);
    std::vector<std::string> out;
    for (const auto& row : r.json().value("rows", Json::array())) out.push_back(row.dump());
    return out;
  }

  TempDir tmp_{"sluice-tenant"};
  std::unique_ptr<Project> project_;
  std::unique_ptr<ServeProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

// Every shape of query over the views answers exactly what the admin's explicitly filtered
// query answers, and never names another tenant.
TEST_F(ServeTenantTest, SqlSeesOnlyItsTenantsThroughEveryShape) {
  // The lake holds other tenants, so the comparisons below can fail.
  EXPECT_EQ(SqlRows(kOpsSecret, "SELECT DISTINCT tenant_id FROM curated.orders ORDER BY 1"),
            (std::vector<std::string>{R"({"tenant_id":"t00"})", R"({"tenant_id":"t01"})",
                                      R"({"tenant_id":"t02"})", R"({"tenant_id":"t03"})"}));
  const std::string in = "tenant_id IN ('t01', 't03')";
  struct Case {
    std::string tenant_sql, admin_sql;
  };
  const std::vector<Case> cases = {
      {"SELECT DISTINCT tenant_id FROM curated.orders ORDER BY 1",
       "SELECT DISTINCT tenant_id FROM curated.orders WHERE " + in + " ORDER BY 1"},
      {"SELECT order_id, amount FROM curated.orders ORDER BY order_id",
       "SELECT order_id, amount FROM curated.orders WHERE " + in + " ORDER BY order_id"},
      // A filter naming another tenant matches nothing.
      {"SELECT count(*) AS n FROM curated.orders WHERE tenant_id = 't02'", "SELECT 0::BIGINT AS n"},
      {"SELECT count(*) AS n FROM curated.orders WHERE tenant_id = 't02' OR true",
       "SELECT count(*) AS n FROM curated.orders WHERE " + in},
      // Joins, unions, subqueries (scalar, IN, EXISTS, LATERAL) and CTEs.
      {"SELECT o.tenant_id, m.day, count(*) AS n FROM curated.orders o JOIN marts.daily_revenue m "
       "ON m.tenant_id = o.tenant_id AND m.day = CAST(o.created_at AS DATE) GROUP BY ALL ORDER BY ALL",
       "SELECT o.tenant_id, m.day, count(*) AS n FROM curated.orders o JOIN marts.daily_revenue m "
       "ON m.tenant_id = o.tenant_id AND m.day = CAST(o.created_at AS DATE) WHERE o." +
           in + " GROUP BY ALL ORDER BY ALL"},
      {"SELECT tenant_id FROM curated.orders UNION SELECT tenant_id FROM marts.daily_revenue ORDER BY 1",
       "SELECT tenant_id FROM curated.orders WHERE " + in +
           " UNION SELECT tenant_id FROM marts.daily_revenue WHERE " + in + " ORDER BY 1"},
      {"SELECT (SELECT count(*) FROM curated.orders) AS n, (SELECT sum(revenue) FROM marts.daily_revenue) AS "
       "r",
       "SELECT (SELECT count(*) FROM curated.orders WHERE " + in +
           ") AS n, (SELECT sum(revenue) FROM marts.daily_revenue WHERE " + in + ") AS r"},
      {"SELECT count(*) AS n FROM range(10) WHERE EXISTS (SELECT 1 FROM curated.orders WHERE tenant_id = "
       "'t00')",
       "SELECT 0::BIGINT AS n"},
      {"SELECT t.x, count(*) AS n FROM (VALUES ('t00'), ('t01'), ('t02')) t(x), LATERAL (SELECT * FROM "
       "curated.orders o WHERE o.tenant_id = t.x) GROUP BY ALL ORDER BY ALL",
       "SELECT t.x, count(*) AS n FROM (VALUES ('t00'), ('t01'), ('t02')) t(x), LATERAL (SELECT * FROM "
       "curated.orders o WHERE o.tenant_id = t.x AND o." +
           in + ") GROUP BY ALL ORDER BY ALL"},
      {"WITH a AS (SELECT * FROM curated.orders), b AS (SELECT tenant_id, count(*) AS n FROM a GROUP BY ALL) "
       "SELECT * FROM b ORDER BY 1",
       "SELECT tenant_id, count(*) AS n FROM curated.orders WHERE " + in + " GROUP BY ALL ORDER BY 1"},
      {"SELECT tenant_id, count(*) AS n FROM curated.orders WHERE order_id IN (SELECT order_id FROM "
       "curated.orders) GROUP BY ALL ORDER BY 1",
       "SELECT tenant_id, count(*) AS n FROM curated.orders WHERE " + in + " GROUP BY ALL ORDER BY 1"},
      // Case and quoting do not find another table.
      {"SELECT count(*) AS n FROM \"CURATED\".\"Orders\"",
       "SELECT count(*) AS n FROM curated.orders WHERE " + in},
  };
  for (const Case& c : cases) {
    const std::vector<std::string> got = SqlRows(kAcmeSecret, c.tenant_sql);
    EXPECT_EQ(got, SqlRows(kOpsSecret, c.admin_sql)) << c.tenant_sql;
    for (const std::string& row : got) {
      for (const char* other : {"\"t00\"", "\"t02\""}) {
        EXPECT_EQ(row.find(other), std::string::npos) << c.tenant_sql << " returned " << row;
      }
    }
  }
  // The answer has rows of both its tenants (the comparisons above were not all empty).
  EXPECT_EQ(SqlRows(kAcmeSecret, "SELECT DISTINCT tenant_id FROM curated.orders ORDER BY 1"),
            (std::vector<std::string>{R"({"tenant_id":"t01"})", R"({"tenant_id":"t03"})"}));
  // EXPLAIN runs over the views too.
  HttpResponse explain = Sql(kAcmeSecret, "EXPLAIN SELECT * FROM curated.orders");
  EXPECT_EQ(explain.status, 200) << Describe(explain);
  // A token with marts only, one tenant.
  EXPECT_EQ(SqlRows(kMartsSecret, "SELECT DISTINCT tenant_id FROM marts.daily_revenue"),
            (std::vector<std::string>{R"({"tenant_id":"t01"})"}));
  HttpResponse curated = Sql(kMartsSecret, "SELECT count(*) FROM curated.orders");
  EXPECT_EQ(curated.status, 403) << Describe(curated);
  // A mart without a tenant column holds every tenant's rows: refused.
  HttpResponse totals = Sql(kAcmeSecret, "SELECT * FROM marts.status_totals");
  EXPECT_EQ(totals.status, 403) << Describe(totals);
  EXPECT_NE(totals.json().value("error", "").find("no tenant column"), std::string::npos) << Describe(totals);
  EXPECT_EQ(Sql(kOpsSecret, "SELECT * FROM marts.status_totals").status, 200);
}

// Ways out of the views: other catalogs, other schemas, files, settings, extensions, writes.
// Each is a 4xx with a one-line reason; nothing is written; nothing of another tenant returned.
TEST_F(ServeTenantTest, AttackerSqlIsRefusedAndWritesNothing) {
  const std::string lake = project_->dir() + "/lake";
  const std::string out = tmp_.path() + "/stolen";
  const std::vector<std::string> attacks = {
      "SELECT * FROM lake.curated.orders",
      "SELECT * FROM lake.marts.daily_revenue",
      "SELECT * FROM tenant_views_0.curated.orders",
      "SELECT * FROM memory.main.x",
      "SELECT * FROM system.main.duckdb_tables",
      "SELECT * FROM staging.orders",
      "SELECT * FROM staging.main.orders",
      "SELECT * FROM meta.batches",
      "SELECT * FROM dlq.orders",
      "SELECT * FROM information_schema.tables",
      "SELECT * FROM pg_catalog.pg_tables",
      "SELECT * FROM orders",
      "SELECT * FROM read_parquet('" + lake + "/published/curated/orders/current/*/*.parquet')",
      "SELECT * FROM read_parquet('lake/published/curated/orders/current/*/*.parquet')",
      "SELECT * FROM '" + lake + "/published/curated/orders/current/day=2026-01-01/part-0.parquet'",
      "SELECT * FROM '../p/lake/sluice.duckdb'",
      "SELECT * FROM read_blob('" + lake + "/sluice.duckdb')",
      "SELECT * FROM read_text('/etc/passwd')",
      "SELECT * FROM read_csv('/etc/passwd')",
      "SELECT * FROM glob('" + lake + "/**')",
      "SELECT * FROM query_table('lake.curated.orders')",
      "SELECT * FROM query('SELECT * FROM lake.curated.orders')",
      "SELECT * FROM duckdb_views()",
      "SELECT * FROM duckdb_databases()",
      "SELECT * FROM curated.orders UNION ALL SELECT * FROM lake.curated.orders",
      "SELECT * FROM curated.orders WHERE order_id IN (SELECT order_id FROM lake.curated.orders)",
      "WITH x AS (SELECT * FROM lake.curated.orders) SELECT * FROM x",
      "SELECT (SELECT count(*) FROM lake.curated.orders)",
      "SUMMARIZE lake.curated.orders",
      "DESCRIBE lake.curated.orders",
      "ATTACH '" + lake + "/sluice.duckdb' AS mine",
      "USE lake",
      "COPY (SELECT * FROM curated.orders) TO '" + out + ".csv'",
      "COPY curated.orders TO '" + out + ".parquet'",
      "EXPORT DATABASE '" + out + "'",
      "SET enable_external_access = true",
      "PRAGMA database_list",
      "INSTALL httpfs",
      "LOAD httpfs",
      "CREATE TABLE curated.x AS SELECT 1",
      "SELECT 1; SELECT * FROM lake.curated.orders",
      "SELECT * FROM curated.orders; DETACH lake",
  };
  for (const std::string& sql : attacks) {
    HttpResponse r = Sql(kAcmeSecret, sql);
    EXPECT_TRUE(r.status == 400 || r.status == 403) << sql << ": " << Describe(r);
    const std::string error = r.json().value("error", "");
    EXPECT_FALSE(error.empty()) << sql << ": " << Describe(r);
    EXPECT_EQ(error.find('\n'), std::string::npos) << sql << ": " << error;
    for (const char* other : {"\"t00\"", "\"t02\""}) EXPECT_EQ(r.body.find(other), std::string::npos) << sql;
  }
  for (const char* ext : {".csv", ".parquet", ""})
    EXPECT_FALSE(std::filesystem::exists(out + ext)) << out << ext;
  // The server is unharmed: its own tenants still answer, and the admin sees all four.
  EXPECT_EQ(SqlRows(kAcmeSecret, "SELECT count(DISTINCT tenant_id) AS n FROM curated.orders"),
            std::vector<std::string>{R"({"n":2})"});
  EXPECT_EQ(SqlRows(kOpsSecret, "SELECT count(DISTINCT tenant_id) AS n FROM curated.orders"),
            std::vector<std::string>{R"({"n":4})"});
  // No tenant-views database is left attached.
  EXPECT_EQ(SqlRows(kOpsSecret, "SELECT count(*) AS n FROM (SELECT 1)"),
            std::vector<std::string>{R"({"n":1})"});
  ProcessResult stop = server_->Terminate();
  ASSERT_EQ(stop.exit_code, 0) << stop.err;
}

// The rows endpoint and the change feeds keep a tenant-bound token inside its tenants.
TEST_F(ServeTenantTest, RowsAndFeedsStayWithinTenants) {
  const std::string rows = "/v1/tables/curated.orders/rows";
  // No tenant named: its own tenants only, exactly the admin's rows of them.
  auto tenants_of = [&](const char* secret, const std::string& path) {
    std::set<std::string> seen;
    HttpResponse r = client_->Get(path, Bearer(secret));
    EXPECT_EQ(r.status, 200) << path << ": " << Describe(r);
    for (const auto& row : r.json().value("rows", Json::array())) seen.insert(row.value("tenant_id", "?"));
    return seen;
  };
  EXPECT_EQ(tenants_of(kAcmeSecret, rows + "?limit=100000"), (std::set<std::string>{"t01", "t03"}));
  EXPECT_EQ(tenants_of(kOpsSecret, rows + "?limit=100000"),
            (std::set<std::string>{"t00", "t01", "t02", "t03"}));
  // Another tenant asked by name: 403. A column filter naming one matches nothing.
  EXPECT_EQ(client_->Get(rows + "?tenant=t02", Bearer(kAcmeSecret)).status, 403);
  EXPECT_EQ(tenants_of(kAcmeSecret, rows + "?tenant_id=t02"), std::set<std::string>{});
  // Parameters trying to smuggle SQL or another tenant.
  for (const char* q : {"?tenant=t01%27%20OR%20%271%27=%271", "?tenant_id=t02%27%20OR%20%271%27=%271",
                        "?order=tenant_id;DROP", "?tenant=t01&tenant=t02", "?day_from=2026-01-01%27--"}) {
    HttpResponse r = client_->Get(rows + q, Bearer(kAcmeSecret));
    EXPECT_TRUE(r.status == 200 || r.status == 400 || r.status == 403) << q << ": " << Describe(r);
    for (const char* other : {"\"t00\"", "\"t02\""}) EXPECT_EQ(r.body.find(other), std::string::npos) << q;
  }
  // A cursor handed out to the admin is the admin's: the tenant-bound token cannot follow it.
  HttpResponse first = client_->Get(rows + "?limit=5", Bearer(kOpsSecret));
  ASSERT_EQ(first.status, 200) << Describe(first);
  const std::string cursor = first.json().value("next_cursor", "");
  ASSERT_FALSE(cursor.empty());
  HttpResponse stolen = client_->Get(rows + "?cursor=" + cursor, Bearer(kAcmeSecret));
  EXPECT_GE(stolen.status, 400) << Describe(stolen);
  for (const char* other : {"\"t00\"", "\"t02\""}) EXPECT_EQ(stolen.body.find(other), std::string::npos);
  // A table without a tenant column, and staging.
  EXPECT_EQ(client_->Get("/v1/tables/marts.status_totals/rows", Bearer(kAcmeSecret)).status, 403);
  // Feeds: its own consumer yes; a consumer of every tenant or of another tenant, no.
  HttpResponse own = client_->Get("/v1/feeds/acme_cache?limit=1000", Bearer(kAcmeSecret));
  ASSERT_EQ(own.status, 200) << Describe(own);
  std::set<std::string> feed_tenants;
  for (const auto& c : own.json().value("changes", Json::array())) {
    feed_tenants.insert(c["row"].value("tenant_id", "?"));
  }
  EXPECT_EQ(feed_tenants, std::set<std::string>{"t01"});
  for (const char* consumer : {"everyone", "other_cache"}) {
    HttpResponse r = client_->Get(std::string("/v1/feeds/") + consumer, Bearer(kAcmeSecret));
    EXPECT_EQ(r.status, 403) << consumer << ": " << Describe(r);
    EXPECT_EQ(r.body.find("\"t02\""), std::string::npos);
    HttpResponse commit = client_->Post(std::string("/v1/feeds/") + consumer + "/commit",
                                        R"({"position": 999999})", Bearer(kAcmeSecret), "application/json");
    EXPECT_EQ(commit.status, 403) << consumer << ": " << Describe(commit);
  }
  for (const std::string& path :
       {std::string("/v1/feeds/../tables"), std::string("/v1/feeds/acme_cache/../everyone"),
        std::string("/v1/feeds/everyone%2F..%2Facme_cache")}) {
    HttpResponse r = client_->Get(path, Bearer(kAcmeSecret));
    EXPECT_NE(r.status, 200) << path << ": " << Describe(r);
    EXPECT_EQ(r.body.find("\"t02\""), std::string::npos) << path;
  }
}

}  // namespace
}  // namespace sluice::e2e
