// Marts through the real binary, as a new user met them (issue 10, items 6-8):
//  - a `partition_by` or test column the model does not output is refused before anything
//    runs, naming sluice.yaml:line:col, with nothing committed;
//  - a failing mart test still prints the run's summary (text and --json), with the failure;
//  - a model reads the lake's tables and files under the project directory, nothing else.
#include <gtest/gtest.h>

#include <filesystem>

#include "harness.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;

constexpr const char* kContract = R"(name: orders
columns:
  id:      {type: string, required: true}
  seq:     {type: int64, required: true}
  ordered: {type: date, required: true}
  region:  {type: string}
  amount:  {type: double}
)";

// sluice.yaml with one mart `m` (models/m.sql) whose yaml tail is `mart_extra`.
std::string Yaml(const std::string& mart_extra) {
  return std::string(R"(name: shop
lake: lake
sources:
  orders:
    type: files
    path: landing/orders/*.jsonl
    format: jsonl
    contract: contracts/orders.yaml
tables:
  orders:
    from: orders
    key: [id]
    version: seq
  m:
    sql: models/m.sql
)") + mart_extra;
}

std::string Order(const std::string& id, const std::string& day, const std::string& region, double amount) {
  return "{\"id\":\"" + id + "\",\"seq\":1,\"ordered\":\"" + day + "\",\"region\":\"" + region +
         "\",\"amount\":" + std::to_string(amount) + "}\n";
}

constexpr const char* kDailyModel =
    "SELECT ordered AS day, region, sum(amount) AS revenue FROM curated.orders GROUP BY ALL\n";

Project MakeProject(const std::string& dir, const std::string& mart_extra, const std::string& model) {
  Project p(dir);
  fs::create_directories(p.Path("landing/orders"));
  fs::create_directories(p.Path("contracts"));
  fs::create_directories(p.Path("models"));
  WriteFileOrDie(p.Path("sluice.yaml"), Yaml(mart_extra));
  WriteFileOrDie(p.Path("contracts/orders.yaml"), kContract);
  WriteFileOrDie(p.Path("models/m.sql"), model);
  WriteFileOrDie(p.Path("landing/orders/o1.jsonl"),
                 Order("a", "2024-01-01", "eu", 10) + Order("b", "2024-01-02", "us", 5));
  return p;
}

// "line:col" (1-based) of the first occurrence of `needle` in `text` at or after `after`.
std::string LineCol(const std::string& text, const std::string& needle, const std::string& after = "") {
  size_t from = after.empty() ? 0 : text.find(after);
  EXPECT_NE(from, std::string::npos) << after;
  size_t at = text.find(needle, from);
  EXPECT_NE(at, std::string::npos) << needle;
  if (at == std::string::npos) return "?";
  size_t line_start = text.rfind('\n', at);
  line_start = line_start == std::string::npos ? 0 : line_start + 1;
  int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
  return std::to_string(line) + ":" + std::to_string(at - line_start + 1);
}

std::string Count(const Project& p, const std::string& sql) { return p.Scalar(sql); }

// Whether `sluice query` can read marts.<name>.
bool MartExists(const Project& p, const std::string& name) {
  return p.Sluice("query", {"SELECT 1 FROM marts." + name + " LIMIT 0"}).ok();
}

// ---- Item 6: columns the yaml names must be in the model's output ---------------------------

TEST(MartDefects, PartitionByColumnNotInModelOutputIsRefusedBeforeAnythingRuns) {
  TempDir tmp;
  const std::string extra = "    partition_by: {day: order_day}\n";
  Project p = MakeProject(tmp.path() + "/shop", extra, kDailyModel);
  ProcessResult r = p.Sluice("run");
  ExpectCleanFailure(r, "partition_by of a missing column");
  const std::string yaml = Yaml(extra);
  EXPECT_NE(r.err.find("sluice.yaml:" + LineCol(yaml, "order_day")), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tables.m.partition_by.day"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("order_day"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("models/m.sql"), std::string::npos) << r.err;
  // Nothing ran: no batch ingested, nothing curated, no mart.
  if (fs::exists(p.Path("lake/sluice.duckdb"))) {
    EXPECT_EQ(Count(p, "SELECT count(*) FROM meta.batches"), "0");
    EXPECT_FALSE(MartExists(p, "m"));
  }
  EXPECT_FALSE(fs::exists(p.Path("lake/published/marts/m")));
}

TEST(MartDefects, PartitionByChangedToMissingColumnLeavesTheBuiltMartAlone) {
  TempDir tmp;
  Project p = MakeProject(tmp.path() + "/shop", "    partition_by: {day: day}\n", kDailyModel);
  Json first = p.RunJson();
  ASSERT_FALSE(first.is_null());
  const std::string version =
      Count(p, "SELECT version || '/' || published_version FROM meta.tables WHERE table_name = 'm'");
  // A new batch lands, and the partition column is renamed in the yaml only (the issue's case).
  WriteFileOrDie(p.Path("landing/orders/o2.jsonl"), Order("c", "2024-01-03", "eu", 7));
  const std::string extra = "    partition_by: {day: day, tenant: tenant_id}\n";
  WriteFileOrDie(p.Path("sluice.yaml"), Yaml(extra));
  ProcessResult r = p.Sluice("run", {"--json"});
  ExpectCleanFailure(r, "partition_by.tenant of a missing column");
  EXPECT_NE(r.err.find("sluice.yaml:" + LineCol(Yaml(extra), "tenant_id")), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tables.m.partition_by.tenant"), std::string::npos) << r.err;
  // Nothing was committed: the new batch is not in the ledger, the mart kept its version.
  EXPECT_EQ(Count(p, "SELECT count(*) FROM meta.batches"), "1");
  EXPECT_EQ(Count(p, "SELECT version || '/' || published_version FROM meta.tables WHERE table_name = 'm'"),
            version);
}

TEST(MartDefects, TestColumnNotInModelOutputIsRefusedWithItsPosition) {
  TempDir tmp;
  const std::string extra = "    tests:\n      - {not_null: revenue}\n      - {unique: [day, regoin]}\n";
  Project p = MakeProject(tmp.path() + "/shop", extra, kDailyModel);
  ProcessResult r = p.Sluice("run");
  ExpectCleanFailure(r, "test of a missing column");
  EXPECT_NE(r.err.find("sluice.yaml:" + LineCol(Yaml(extra), "regoin")), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("regoin"), std::string::npos) << r.err;
  if (fs::exists(p.Path("lake/sluice.duckdb"))) {
    EXPECT_EQ(Count(p, "SELECT count(*) FROM meta.batches"), "0");
  }
}

TEST(MartDefects, RelationshipToAMartColumnItDoesNotOutputIsRefused) {
  TempDir tmp;
  const std::string extra =
      "  n:\n    sql: models/n.sql\n    tests:\n"
      "      - {relationships: {column: region, to: marts.m, field: area}}\n";
  Project p = MakeProject(tmp.path() + "/shop", extra, kDailyModel);
  WriteFileOrDie(p.Path("models/n.sql"), "SELECT DISTINCT region FROM curated.orders\n");
  ProcessResult r = p.Sluice("run");
  ExpectCleanFailure(r, "relationship to a missing mart column");
  EXPECT_NE(r.err.find("sluice.yaml:" + LineCol(Yaml(extra), "area")), std::string::npos) << r.err;
}

// A mart reading another mart that does not exist yet (first run) is still checked exactly.
TEST(MartDefects, MartOverAMartIsCheckedOnTheFirstRun) {
  TempDir tmp;
  const std::string extra = "  n:\n    sql: models/n.sql\n    partition_by: {day: day}\n";
  Project p = MakeProject(tmp.path() + "/shop", extra, kDailyModel);
  WriteFileOrDie(p.Path("models/n.sql"), "SELECT day, sum(revenue) AS revenue FROM marts.m GROUP BY ALL\n");
  Json summary = p.RunJson();
  ASSERT_FALSE(summary.is_null());
  EXPECT_EQ(p.Scalar("SELECT sum(revenue) FROM marts.n"), "15.0");
}

// ---- Item 7: a failing mart test still prints the summary -----------------------------------

TEST(MartDefects, FailingMartTestPrintsTheSummaryWithTheFailure) {
  TempDir tmp;
  const std::string extra = "    tests: [{range: {column: revenue, max: 6}}]\n";
  Project p = MakeProject(tmp.path() + "/shop", extra, kDailyModel);
  ProcessResult r = p.Sluice("run");
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_FALSE(r.signaled);
  EXPECT_NE(r.out.find("ingest   1 batches"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("curate   orders: 2 rows merged"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("range(revenue)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("marts.m"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("range(revenue)"), std::string::npos) << r.err;

  // --json on a fresh project: one JSON document, status failed, the failure and what ran.
  TempDir tmp2;
  Project q = MakeProject(tmp2.path() + "/shop", extra, kDailyModel);
  ProcessResult j = q.Sluice("run", {"--json"});
  EXPECT_NE(j.exit_code, 0) << j.Describe();
  Json s = Json::parse(j.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(s.is_discarded()) << "stdout is not JSON: " << j.out << "\nstderr: " << j.err;
  EXPECT_EQ(s["status"], "failed") << j.out;
  EXPECT_NE(Str(s["error"]).find("range(revenue)"), std::string::npos) << j.out;
  EXPECT_EQ(s["ingest"]["batches"], 1) << j.out;
  EXPECT_EQ(s["ingest"]["rows_staged"], 2) << j.out;
  EXPECT_EQ(s["curate"]["tables"]["orders"]["rows_merged"], 2) << j.out;
  ASSERT_EQ(s["test_failures"].size(), 1u) << j.out;
  EXPECT_EQ(s["test_failures"][0]["table"], "m");
  EXPECT_EQ(s["test_failures"][0]["layer"], "marts");
  EXPECT_EQ(s["test_failures"][0]["test"], "range(revenue)");
  EXPECT_EQ(s["test_failures"][0]["failing_rows"], 1);
  // The mart step was rolled back.
  EXPECT_FALSE(MartExists(q, "m"));
}

// ---- Item 8: a model reads the lake and files under the project directory only --------------

class ModelSandbox : public ::testing::Test {
 protected:
  void SetUp() override {
    outside_ = tmp_.path() + "/outside";
    fs::create_directories(outside_);
    WriteFileOrDie(outside_ + "/secret.csv", "secret\nhunter2\n");
    p_ = std::make_unique<Project>(MakeProject(tmp_.path() + "/shop", "", kDailyModel));
    fs::create_directories(p_->Path("seeds"));
    WriteFileOrDie(p_->Path("seeds/regions.csv"), "region,name\neu,Europe\nus,United States\n");
  }

  // Runs the project with models/m.sql = `model`; expects a clean refusal naming the model and
  // `at` (line:col in it), and no mart m afterwards (nor anything `sluice query` can read).
  void ExpectRefused(const std::string& model, const std::string& at, const std::string& what) {
    WriteFileOrDie(p_->Path("models/m.sql"), model);
    ProcessResult r = p_->Sluice("run");
    ExpectCleanFailure(r, what);
    EXPECT_NE(r.err.find("models/m.sql:" + at), std::string::npos) << what << ": " << r.err;
    EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << what << ": " << r.err;
    if (fs::exists(p_->Path("lake/sluice.duckdb"))) {
      EXPECT_FALSE(MartExists(*p_, "m")) << what;
    }
    ProcessResult q = p_->Sluice("query", {"SELECT * FROM marts.m"});
    EXPECT_EQ(q.out.find("hunter2"), std::string::npos) << what << ": " << q.out;
  }

  TempDir tmp_;
  std::string outside_;
  std::unique_ptr<Project> p_;
};

TEST_F(ModelSandbox, ProjectFilesAreReadable) {
  WriteFileOrDie(p_->Path("models/m.sql"),
                 "SELECT o.region, r.name, sum(o.amount) AS revenue FROM curated.orders o\n"
                 "JOIN read_csv('seeds/regions.csv') r USING (region) GROUP BY ALL\n");
  ProcessResult r = p_->Sluice("run");
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(p_->Scalar("SELECT name FROM marts.m WHERE region = 'us'"), "United States");
  // A glob and an absolute path inside the project too.
  WriteFileOrDie(p_->Path("models/m.sql"),
                 "SELECT * FROM read_csv(['seeds/*.csv', " + Quote(p_->Path("seeds/regions.csv")) + "])\n");
  ProcessResult r2 = p_->Sluice("run");
  ASSERT_TRUE(r2.ok()) << r2.Describe();
  EXPECT_EQ(p_->Scalar("SELECT count(*) FROM marts.m"), "4");
}

TEST_F(ModelSandbox, AbsolutePathOutsideIsRefused) {
  ExpectRefused("SELECT * FROM read_csv('/etc/passwd')\n", "1:15", "absolute /etc/passwd");
  ExpectRefused("SELECT *\nFROM read_csv(" + Quote(outside_ + "/secret.csv") + ")\n", "2:6",
                "absolute outside");
}

TEST_F(ModelSandbox, DotDotEscapeIsRefused) {
  ExpectRefused("SELECT * FROM read_csv('../outside/secret.csv')\n", "1:15", "../ escape");
  ExpectRefused("SELECT * FROM read_csv('seeds/../../outside/secret.csv')\n", "1:15", "seeds/../../ escape");
}

TEST_F(ModelSandbox, SymlinkEscapingTheProjectIsRefused) {
  fs::create_symlink(outside_ + "/secret.csv", p_->Path("seeds/link.csv"));
  ExpectRefused("SELECT * FROM read_csv('seeds/link.csv')\n", "1:15", "symlink to a file outside");
  fs::create_directory_symlink(outside_, p_->Path("seeds/out"));
  ExpectRefused("SELECT * FROM read_csv('seeds/out/secret.csv')\n", "1:15", "symlinked dir outside");
  // A glob inside the project matching the escaping link.
  ExpectRefused("SELECT * FROM read_csv('seeds/*.csv', union_by_name = true)\n", "1:15",
                "glob matching a link outside");
}

TEST_F(ModelSandbox, GlobOutsideIsRefused) {
  ExpectRefused("SELECT * FROM read_csv(" + Quote(outside_ + "/*.csv") + ")\n", "1:15", "glob outside");
  ExpectRefused("SELECT * FROM read_csv('/etc/*')\n", "1:15", "glob /etc/*");
  ExpectRefused("SELECT * FROM read_csv(['seeds/regions.csv', '../outside/*.csv'])\n", "1:15",
                "list with an outside glob");
}

TEST_F(ModelSandbox, ReadTextAndReadBlobAreRefusedOutside) {
  ExpectRefused("SELECT content FROM read_text('/etc/passwd')\n", "1:21", "read_text");
  ExpectRefused("SELECT (SELECT content FROM read_blob('/etc/passwd')) AS c\n", "1:29",
                "read_blob in subquery");
}

TEST_F(ModelSandbox, ComputedPathsAndReplacementScansAreRefused) {
  ExpectRefused("SELECT * FROM read_csv('/etc/' || 'passwd')\n", "1:15", "computed path");
  ExpectRefused("SELECT * FROM " + Quote(outside_ + "/secret.csv") + "\n", "1:15", "replacement scan");
  ExpectRefused("WITH x AS (SELECT 1)\nSELECT * FROM x, read_csv_auto('/etc/passwd')\n", "2:18",
                "read_csv_auto in a join");
}

TEST_F(ModelSandbox, UrlsAreRefused) {
  ExpectRefused("SELECT * FROM read_csv('https://example.com/x.csv')\n", "1:15", "https");
  ExpectRefused("SELECT * FROM read_parquet('http://127.0.0.1:1/x.parquet')\n", "1:15", "http");
}

TEST_F(ModelSandbox, AttachAndCopyAreRefused) {
  const std::string db = outside_ + "/x.duckdb";
  ExpectRefused("ATTACH " + Quote(db) + " AS x\n", "1:1", "attach");
  EXPECT_FALSE(fs::exists(db));
  const std::string out = outside_ + "/copy.csv";
  ExpectRefused("COPY (SELECT 1) TO " + Quote(out) + "\n", "1:1", "copy");
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace sluice::e2e
