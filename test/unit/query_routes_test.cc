// The query API's handlers called in-process with hand-made principals (until tokens exist,
// `sluice serve` authenticates everyone as the anonymous admin): scopes, tenant isolation on the
// rows endpoint, cursors bound to their token, and the SQL endpoint's refusals. Results are
// compared with the engine's own tables read by SQL.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "serve/query_api.h"
#include "serve/server_impl.h"
#include "support/test_project.h"

namespace sluice {
namespace {

using Json = nlohmann::json;
using testing::Dump;
using testing::MartTable;
using testing::Order;

const char* kDailyRevenue =
    "SELECT CAST(created_at AS DATE) AS day, tenant_id, count(*) AS orders, sum(amount) AS revenue\n"
    "FROM curated.orders GROUP BY ALL\n";

class QueryRoutesTest : public testing::ProjectTest {
 protected:
  QueryRoutesTest() : ProjectTest("sluice_query_routes_test") {}
  void SetUp() override {
    Write("sluice.yaml",
          testing::OrdersSpec("[order_id]", "", MartTable("daily_revenue") + MartTable("totals", false)) +
              "serve:\n  query:\n    max_rows: 50\n    default_rows: 4\n");
    Write("contracts/orders.yaml", testing::kOrdersContract);
    Write("models/daily_revenue.sql", kDailyRevenue);
    Write("models/totals.sql", "SELECT count(*) AS orders FROM curated.orders\n");
    std::string lines;
    for (int i = 0; i < 30; ++i) {
      lines += Order("o" + std::to_string(100 + i), "t" + std::to_string(i % 3), "paid",
                     std::to_string(i) + ".50", "2026-01-0" + std::to_string(1 + i % 4), 1);
    }
    Write("landing/orders/01.jsonl", lines);
    OpenEngine();
    Run();
    impl_ = std::make_unique<Server::Impl>(ServeOptions{});
    impl_->engine = std::move(engine_);
    routes_ = QueryRoutes(*impl_);
  }
  void TearDown() override {
    routes_.clear();
    impl_.reset();
  }

  http::Response Call(const std::string& method, const std::string& pattern,
                      std::vector<std::string> captures,
                      std::vector<std::pair<std::string, std::string>> query, const http::Principal& who,
                      const std::string& body = "") {
    http::Request req;
    req.method = method;
    req.captures = std::move(captures);
    req.query = std::move(query);
    req.body = body;
    http::Response res;
    for (const auto& r : routes_) {
      if (r.method == method && r.pattern == pattern) r.handler(req, who, res);
    }
    return res;
  }
  http::Response Rows(const std::string& table, std::vector<std::pair<std::string, std::string>> query,
                      const http::Principal& who) {
    return Call("GET", "/v1/tables/([^/]+)/rows", {table}, std::move(query), who);
  }
  http::Response Sql(const std::string& sql, const http::Principal& who) {
    return Call("POST", "/v1/query", {}, {}, who, Json{{"sql", sql}}.dump());
  }
  // Every page of a rows request, following next_cursor: the order ids, '\n'-joined.
  std::string AllOrderIds(std::vector<std::pair<std::string, std::string>> query,
                          const http::Principal& who) {
    std::string out;
    for (int page = 0; page < 100; ++page) {
      http::Response r = Rows("curated.orders", query, who);
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) return out;
      Json j = Json::parse(r.body);
      for (const auto& row : j["rows"]) out += row["order_id"].get<std::string>() + "\n";
      if (j["next_cursor"].is_null()) return out;
      query = {{"cursor", j["next_cursor"].get<std::string>()}};
    }
    ADD_FAILURE() << "no last page";
    return out;
  }
  std::string Engine(const std::string& sql) { return Dump(impl_->engine->catalog().conn(), sql); }

  std::unique_ptr<Server::Impl> impl_;
  std::vector<http::Route> routes_;
};

http::Principal Bound(std::vector<std::string> tenants, std::vector<std::string> scopes = {"read:*"}) {
  return http::Principal{"acme", std::move(scopes), std::move(tenants)};
}

TEST_F(QueryRoutesTest, TenantBoundTokenSeesOnlyItsTenantsOnEveryPath) {
  const http::Principal acme = Bound({"t1"});
  EXPECT_EQ(AllOrderIds({}, acme),
            Engine("SELECT order_id FROM curated.orders WHERE tenant_id = 't1' ORDER BY 1"));
  EXPECT_EQ(AllOrderIds({}, http::Principal::Anonymous()),
            Engine("SELECT order_id FROM curated.orders ORDER BY 1"));
  // Another tenant's filter in the query string: refused, or empty when it is a column filter.
  EXPECT_EQ(Rows("curated.orders", {{"tenant", "t2"}}, acme).status, 403);
  EXPECT_EQ(AllOrderIds({{"tenant_id", "t2"}}, acme), "");
  EXPECT_EQ(AllOrderIds({{"tenant", "t1"}, {"status", "paid"}}, acme),
            Engine("SELECT order_id FROM curated.orders WHERE tenant_id = 't1' ORDER BY 1"));
  // Two tenants: both, nothing else.
  EXPECT_EQ(AllOrderIds({}, Bound({"t0", "t2"})),
            Engine("SELECT order_id FROM curated.orders WHERE tenant_id IN ('t0', 't2') ORDER BY 1"));
  // A mart by tenant: its rows; a mart without a tenant key: refused.
  http::Response mart = Rows("marts.daily_revenue", {{"limit", "50"}}, acme);
  ASSERT_EQ(mart.status, 200) << mart.body;
  int64_t orders = 0;
  const Json doc1 = Json::parse(mart.body);
  for (const auto& row : doc1["rows"]) {
    EXPECT_EQ(row["tenant_id"], "t1");
    orders += row["orders"].get<int64_t>();
  }
  EXPECT_EQ(orders, 10) << mart.body;
  EXPECT_EQ(Rows("marts.totals", {}, acme).status, 403);
  EXPECT_EQ(Rows("marts.totals", {}, http::Principal::Anonymous()).status, 200);
  EXPECT_EQ(Rows("curated.orders", {}, Bound({})).status, 403);
  // The listing does not tell a tenant-bound token every tenant's row count.
  http::Response list = Call("GET", "/v1/tables", {}, {}, acme);
  ASSERT_EQ(list.status, 200) << list.body;
  const Json doc2 = Json::parse(list.body);
  for (const auto& t : doc2["tables"]) EXPECT_TRUE(t["rows"].is_null()) << t.dump();
  // SQL runs over views of its tenants' rows; a catalog-qualified name past them is refused.
  http::Response sql = Sql("SELECT DISTINCT tenant_id FROM curated.orders", acme);
  ASSERT_EQ(sql.status, 200) << sql.body;
  EXPECT_EQ(Json::parse(sql.body)["rows"], Json::parse(R"([{"tenant_id":"t1"}])")) << sql.body;
  EXPECT_EQ(Sql("SELECT * FROM lake.curated.orders", acme).status, 400);
}

TEST_F(QueryRoutesTest, CursorsBelongToTheirTokenAndTable) {
  http::Response first = Rows("curated.orders", {{"limit", "5"}}, Bound({"t1"}));
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string cursor = Json::parse(first.body)["next_cursor"].get<std::string>();
  http::Principal other = Bound({"t1"});
  other.name = "other";
  EXPECT_EQ(Rows("curated.orders", {{"cursor", cursor}}, other).status, 403);
  EXPECT_EQ(Rows("curated.orders", {{"cursor", cursor}}, http::Principal::Anonymous()).status, 403);
  EXPECT_EQ(Rows("marts.daily_revenue", {{"cursor", cursor}}, Bound({"t1"})).status, 400);
  EXPECT_EQ(Rows("curated.orders", {{"cursor", cursor}, {"tenant", "t2"}}, Bound({"t1"})).status, 400);
  EXPECT_EQ(Rows("curated.orders", {{"cursor", cursor}}, Bound({"t1"})).status, 200);
  std::string altered = cursor;
  altered[5] = altered[5] == '0' ? '1' : '0';
  http::Response gone = Rows("curated.orders", {{"cursor", altered}}, Bound({"t1"}));
  EXPECT_EQ(gone.status, 410) << gone.body;
  EXPECT_NE(gone.body.find("start again"), std::string::npos) << gone.body;
  EXPECT_EQ(Rows("curated.orders", {{"cursor", "x"}}, Bound({"t1"})).status, 400);
}

TEST_F(QueryRoutesTest, ScopesDecideWhatIsListedAndRead) {
  const http::Principal marts{"bi", {"read:marts.*"}, std::nullopt};
  http::Response list = Call("GET", "/v1/tables", {}, {}, marts);
  ASSERT_EQ(list.status, 200) << list.body;
  std::vector<std::string> names;
  const Json doc3 = Json::parse(list.body);
  for (const auto& t : doc3["tables"]) names.push_back(t["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"marts.daily_revenue", "marts.totals"})) << list.body;
  EXPECT_EQ(Rows("curated.orders", {}, marts).status, 403);
  EXPECT_EQ(Call("GET", "/v1/tables/([^/]+)", {"curated.orders"}, {}, marts).status, 403);
  EXPECT_EQ(Sql("SELECT * FROM curated.orders", marts).status, 403);
  EXPECT_EQ(Sql("SELECT * FROM marts.totals m, curated.orders o", marts).status, 403);
  EXPECT_EQ(Sql("WITH x AS (SELECT * FROM curated.orders) SELECT * FROM x", marts).status, 403);
  http::Response ok = Sql("SELECT orders FROM marts.totals", marts);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Json::parse(ok.body)["rows"], Json::parse(R"([{"orders":30}])"));
  http::Response unknown = Call("GET", "/v1/tables/([^/]+)", {"curated.nope"}, {}, marts);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("marts.daily_revenue, marts.totals"), std::string::npos) << unknown.body;
}

TEST_F(QueryRoutesTest, SqlEndpointRefusesEverythingButOneQuery) {
  const http::Principal admin = http::Principal::Anonymous();
  const std::string lake = dir_ + "/lake";
  const std::string out = dir_ + "/stolen.csv";
  for (const std::string& sql : std::vector<std::string>{
           "COPY curated.orders TO '" + out + "'",
           "COPY (SELECT 1) TO '" + lake + "/published/x.csv'",
           "ATTACH '" + lake + "/sluice.duckdb' AS other",
           "ATTACH ':memory:' AS m",
           "SELECT * FROM read_parquet('" + lake + "/published/curated/orders/current/*/*.parquet')",
           "SELECT * FROM read_blob('" + lake + "/sluice.duckdb')",
           "SELECT * FROM glob('" + lake + "/**')",
           "SELECT * FROM read_text('/etc/passwd')",
           "SELECT * FROM '" + lake + "/../../etc/passwd'",
           "SET enable_external_access = true",
           "PRAGMA database_list",
           "INSTALL httpfs",
           "LOAD httpfs",
           "CREATE TABLE curated.x AS SELECT 1",
           "DELETE FROM curated.orders",
           "SELECT 1; DROP TABLE curated.orders",
           "SELECT * FROM query('SELECT 1')",
       }) {
    http::Response r = Sql(sql, admin);
    EXPECT_EQ(r.status, 400) << sql << ": " << r.body;
    EXPECT_NE(r.body.find("refused"), std::string::npos) << sql << ": " << r.body;
  }
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(lake + "/published/x.csv"));
  EXPECT_EQ(Engine("SELECT count(*) FROM curated.orders"), "30\n");
  EXPECT_EQ(Call("POST", "/v1/query", {}, {}, admin, "not json").status, 400);
  EXPECT_EQ(Call("POST", "/v1/query", {}, {}, admin, "{\"sql\": 3}").status, 400);
  // The row limit (max_rows 50): 30 rows pass, 60 are refused.
  EXPECT_EQ(Sql("SELECT * FROM curated.orders", admin).status, 200);
  http::Response big = Sql("SELECT * FROM curated.orders, range(2)", admin);
  EXPECT_EQ(big.status, 413) << big.body;
  // meta and dlq are readable with their scopes, like `sluice query`.
  EXPECT_EQ(Sql("SELECT count(*) FROM meta.batches", admin).status, 200);
}

TEST_F(QueryRoutesTest, RowsRefusals) {
  const http::Principal admin = http::Principal::Anonymous();
  http::Response r = Rows("curated.orders", {{"colour", "red"}}, admin);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("order_id, tenant_id, status, amount, created_at, seq"), std::string::npos) << r.body;
  EXPECT_EQ(Rows("curated.orders", {{"limit", "51"}}, admin).status, 400);
  EXPECT_EQ(Rows("curated.orders", {{"seq", "one"}}, admin).status, 400);
  EXPECT_EQ(Rows("staging.orders", {}, admin).status, 400);
  EXPECT_EQ(Rows("curated.nope", {}, admin).status, 404);
  // Defaults: 4 rows a page (default_rows), the partition count in a header.
  http::Response page = Rows("curated.orders", {{"day_from", "2026-01-02"}, {"day_to", "2026-01-03"}}, admin);
  ASSERT_EQ(page.status, 200) << page.body;
  Json j = Json::parse(page.body);
  EXPECT_EQ(j["rows"].size(), 4u);
  EXPECT_EQ(j["rows_total"], 15);
  bool header = false;
  for (const auto& [k, v] : page.headers) header |= k == "X-Sluice-Partitions" && v == "read=2 total=4";
  EXPECT_TRUE(header) << page.body;
}

}  // namespace
}  // namespace sluice
