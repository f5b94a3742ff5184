// `sluice query` runs one query over the lake's tables and nothing else (catalog/user_query.h):
// statements that write (COPY, ATTACH, EXPORT), change settings (SET, PRAGMA, INSTALL, LOAD) or
// read files (read_blob, read_text, read_csv, a path in FROM) are refused by DuckDB's parser
// before anything runs, with a one-line error, and leave no file behind. And the same parser
// reads model files: quoted names reach the tables they name.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "harness.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;

class QueryGate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir("sluice-query-gate");
    OrderGeneratorOptions o;
    o.orders = 200;
    o.batches = 2;
    o.seed = 7;
    project_ = new Project(MakeExampleProject(tmp_->path() + "/shop", o));
    ASSERT_FALSE(project_->RunJson().is_null());
  }
  static void TearDownTestSuite() {
    delete project_;
    delete tmp_;
  }

  // `sluice query SQL` fails cleanly (non-zero exit, one `error: ...` line naming the refusal)
  // and prints nothing on stdout.
  static void ExpectRefused(const std::string& sql, const std::string& reason) {
    ProcessResult r = project_->Sluice("query", {sql});
    ExpectCleanFailure(r, sql);
    EXPECT_NE(r.err.find("query refused: "), std::string::npos) << sql << ": " << r.err;
    EXPECT_NE(r.err.find(reason), std::string::npos) << sql << ": " << r.err;
    EXPECT_EQ(r.out, "") << sql;
  }

  static TempDir* tmp_;
  static Project* project_;
};

TempDir* QueryGate::tmp_ = nullptr;
Project* QueryGate::project_ = nullptr;

TEST_F(QueryGate, CopyAttachAndExportWriteNothing) {
  const std::string lake = fs::canonical(project_->Lake()).string();
  const std::vector<std::string> before = ListTree(lake);
  ExpectRefused("copy (select 42) to '" + lake + "/published/x.csv'", "is not a query");
  ExpectRefused("COPY curated.orders TO '" + lake + "/published/orders.csv' (HEADER)", "is not a query");
  ExpectRefused("attach '" + lake + "/x.duckdb' as x", "is not a query");
  ExpectRefused("export database '" + lake + "/exported'", "is not a query");
  // A harmless first statement does not carry a second one through.
  ExpectRefused("select 1; copy (select 42) to '" + lake + "/published/y.csv'", "2 statements");
  EXPECT_FALSE(fs::exists(lake + "/published/x.csv"));
  EXPECT_FALSE(fs::exists(lake + "/published/orders.csv"));
  EXPECT_FALSE(fs::exists(lake + "/published/y.csv"));
  EXPECT_FALSE(fs::exists(lake + "/x.duckdb"));
  EXPECT_FALSE(fs::exists(lake + "/exported"));
  EXPECT_EQ(ListTree(lake), before) << "the lake changed under read-only queries";
}

TEST_F(QueryGate, ExactlyOneStatement) {
  ExpectRefused("select 1; select 2", "2 statements");
  ExpectRefused("select count(*) from curated.orders;\nselect count(*) from marts.daily_revenue;",
                "2 statements");
  ExpectRefused("-- nothing\n", "no SQL statement");
}

TEST_F(QueryGate, FilesAreReadOnlyThroughTheViews) {
  const std::string lake = fs::canonical(project_->Lake()).string();
  ExpectRefused("select * from read_blob('" + lake + "/sluice.duckdb')", "table function read_blob");
  ExpectRefused("select content from read_text('" + lake + "/sluice.duckdb')", "table function read_text");
  ExpectRefused("select * from read_csv('/etc/passwd')", "table function read_csv");
  ExpectRefused("select count(*) from curated.orders where exists (select * from glob('" + lake + "/*'))",
                "table function glob");
  ExpectRefused("select * from query('select 1')", "table function query");
  // A path in FROM is a table to DuckDB's parser (a replacement scan would read the file).
  auto parquet = FindFiles(lake + "/staging", [](const std::string& rel) {
    return rel.size() > 8 && rel.compare(rel.size() - 8, 8, ".parquet") == 0;
  });
  ASSERT_FALSE(parquet.empty());
  ExpectRefused("select * from '" + lake + "/staging/" + parquet[0] + "'", "table ");
  ExpectRefused("select * from duckdb_settings()", "table function duckdb_settings");
}

TEST_F(QueryGate, SettingsAndExtensionsStayAsTheyAre) {
  ExpectRefused("pragma database_list", "is not a query");
  ExpectRefused("set enable_external_access = true", "is not a query");
  ExpectRefused("reset allowed_directories", "is not a query");
  ExpectRefused("install httpfs", "is not a query");
  ExpectRefused("load httpfs", "is not a query");
  ExpectRefused("call pragma_version()", "is not a query");
  ExpectRefused("explain analyze copy (select 1) to 'x.csv'", "is not a query");
}

TEST_F(QueryGate, CommentsAndStringsDoNotFoolIt) {
  // The parser, not the text, decides: "copy" and ";" inside a string or a comment are data.
  auto rows = project_->Rows(
      "/* ; copy (select 1) to 'x.csv'; */ select 'copy; attach ''x''' AS s, "
      "count(*) AS n from curated.orders -- ; select 2");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "copy; attach 'x'");
  EXPECT_EQ(rows[0][1], project_->Scalar("SELECT count(*) FROM curated.orders"));
  // And a string that looks like a query cannot hide a second statement.
  ExpectRefused("select 'a'';'; select 2", "2 statements");
}

TEST_F(QueryGate, QueriesExplainAndCtesOverTheLakeWork) {
  const std::string n = project_->Scalar("SELECT count(*) FROM curated.orders");
  ASSERT_NE(n, "0");
  EXPECT_EQ(
      project_->Scalar("WITH orders AS (SELECT * FROM \"curated\".\"orders\") "
                       "SELECT count(*) FROM orders WHERE order_id IN (SELECT order_id FROM CURATED.Orders)"),
      n);
  EXPECT_EQ(project_->Scalar("SELECT count(*) FROM range(3) r, (SELECT 1) t(x)"), "3");
  ProcessResult e =
      project_->Sluice("query", {"EXPLAIN SELECT count(*) FROM curated.orders", "--format", "csv"});
  ASSERT_TRUE(e.ok()) << e.Describe();
  EXPECT_NE(e.out.find("physical_plan"), std::string::npos) << e.out;
  EXPECT_TRUE(project_->Sluice("query", {"SELECT * FROM meta.batches", "--format", "csv"}).ok());
  EXPECT_TRUE(project_->Sluice("query", {"SELECT * FROM dlq.orders", "--format", "csv"}).ok());
  EXPECT_TRUE(project_->Sluice("query", {"DESCRIBE curated.orders", "--format", "csv"}).ok());
}

// A model reading `"curated"."orders"` is checked and ordered by what it reads: the mart listed
// first reads `"marts"."daily_revenue"`, so daily_revenue must be built before it.
TEST(ModelRefs, QuotedNamesAreCheckedAndOrdered) {
  TempDir tmp("sluice-model-refs");
  OrderGeneratorOptions o;
  o.orders = 200;
  o.batches = 2;
  o.seed = 11;
  Project p = MakeExampleProject(tmp.path() + "/shop", o);
  std::string yaml = ReadFileOrDie(p.Path("sluice.yaml"));
  const std::string mart = "  daily_revenue:\n";
  ASSERT_NE(yaml.find(mart), std::string::npos);
  yaml.insert(yaml.find(mart), "  tenant_revenue:\n    sql: models/tenant_revenue.sql\n");
  WriteFileOrDie(p.Path("sluice.yaml"), yaml);
  WriteFileOrDie(p.Path("models/tenant_revenue.sql"),
                 "-- reads marts.daily_revenue, quoted\n"
                 "SELECT tenant_id, sum(revenue) AS revenue FROM \"marts\".\"daily_revenue\" GROUP BY ALL\n");
  WriteFileOrDie(p.Path("models/daily_revenue.sql"),
                 "WITH orders AS (SELECT * FROM \"curated\".\"orders\" WHERE status <> 'cancelled')\n"
                 "SELECT CAST(created_at AS DATE) AS day, tenant_id, count(*) AS orders, "
                 "sum(amount) AS revenue FROM orders GROUP BY ALL\n");
  Json summary = p.RunJson();
  ASSERT_FALSE(summary.is_null());
  EXPECT_EQ(p.Rows("SELECT tenant_id, CAST(revenue AS VARCHAR) FROM marts.tenant_revenue ORDER BY 1"),
            p.Rows("SELECT tenant_id, CAST(sum(amount) AS VARCHAR) FROM curated.orders "
                   "WHERE status <> 'cancelled' GROUP BY ALL ORDER BY 1"));

  // An unknown quoted table is refused, located in the model file.
  WriteFileOrDie(p.Path("models/tenant_revenue.sql"), "SELECT *\nFROM \"marts\".\"daily_revenu\"\n");
  ProcessResult r = p.Sluice("run");
  ExpectCleanFailure(r, "unknown quoted mart");
  EXPECT_NE(r.err.find("models/tenant_revenue.sql:2:6"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("marts.daily_revenu"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sluice::e2e
