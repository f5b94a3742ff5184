// The batch pipeline against the generator's ground truth: exact keys, final state, revenue,
// mart, DLQ per reason, reconciliation per batch (G1, G3, G6, G8), the published copies, and
// partition pruning of staging.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "harness.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;

OrderGeneratorOptions SmallOrders(uint64_t seed) {
  OrderGeneratorOptions o;
  o.orders = 2000;
  o.batches = 4;
  o.seed = seed;
  return o;
}

// One generated project, run once, shared by the read-only checks below.
class PipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    project_ = new Project(MakeExampleProject(tmp_->path() + "/shop", SmallOrders(11)));
    expected_ = new Json(Json::parse(ReadFileOrDie(project_->Landing() + "/expected.json")));
    summary_ = new Json(project_->RunJson());
  }
  static void TearDownTestSuite() {
    delete summary_;
    delete expected_;
    delete project_;
    delete tmp_;
  }
  void SetUp() override { ASSERT_FALSE(summary_->is_null()) << "the first sluice run failed"; }

  static TempDir* tmp_;
  static Project* project_;
  static Json* expected_;
  static Json* summary_;
};
TempDir* PipelineTest::tmp_ = nullptr;
Project* PipelineTest::project_ = nullptr;
Json* PipelineTest::expected_ = nullptr;
Json* PipelineTest::summary_ = nullptr;

TEST_F(PipelineTest, RunSummaryReconciles) {
  const Json& s = *summary_;
  const Json& ex = *expected_;
  int64_t dead = ex["lines_total"].get<int64_t>() - ex["events_valid"].get<int64_t>();
  EXPECT_EQ(s.value("status", ""), "ok") << s.dump();
  EXPECT_EQ(s.value("nothing_to_do", true), false) << s.dump();
  EXPECT_EQ(s["ingest"]["batches"], 4) << s.dump();
  EXPECT_EQ(s["ingest"]["duplicates"], 0) << s.dump();
  EXPECT_EQ(s["ingest"]["rows_read"], ex["lines_total"]) << s.dump();
  EXPECT_EQ(s["ingest"]["rows_staged"], ex["events_valid"]) << s.dump();
  EXPECT_EQ(s["ingest"]["rows_dead"], dead) << s.dump();
  // Into an empty table, every key is merged once; what counts as "in" (staged rows or rows
  // after dedup per key) is the engine's choice, between the two.
  EXPECT_EQ(s["curate"]["tables"]["orders"]["rows_merged"], ex["orders"]) << s.dump();
  EXPECT_GE(s["curate"]["tables"]["orders"]["rows_in"].get<int64_t>(), ex["orders"].get<int64_t>());
  EXPECT_LE(s["curate"]["tables"]["orders"]["rows_in"].get<int64_t>(), ex["events_valid"].get<int64_t>());
  EXPECT_TRUE(s["marts"]["tables"].contains("daily_revenue")) << s.dump();
  EXPECT_GE(s["publish"]["tables"].get<int64_t>(), 2) << s.dump();
}

TEST_F(PipelineTest, CuratedMatchesGroundTruth) {
  const Project& p = *project_;
  const Json& ex = *expected_;
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM curated.orders"), Str(ex["orders"]));
  EXPECT_EQ(p.Scalar("SELECT count(DISTINCT order_id) FROM curated.orders"), Str(ex["orders"]));
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.orders"), Str(ex["events_valid"]));

  std::vector<std::vector<std::string>> want;
  for (auto& [status, n] : ex["final_status_counts"].items()) {
    if (n.get<int64_t>() > 0) want.push_back({status, Str(n)});
  }
  std::sort(want.begin(), want.end());
  EXPECT_EQ(p.Rows("SELECT status, count(*) FROM curated.orders GROUP BY status ORDER BY status"), want);

  want.clear();
  for (auto& [tenant, revenue] : ex["revenue_by_tenant"].items()) want.push_back({tenant, Str(revenue)});
  std::sort(want.begin(), want.end());
  EXPECT_EQ(p.Rows("SELECT tenant_id, CAST(sum(amount) AS VARCHAR) FROM curated.orders "
                   "WHERE status <> 'cancelled' GROUP BY tenant_id ORDER BY tenant_id"),
            want);

  // The final state of every key: status, version, amount, tenant, UTC created_at.
  ExpectCuratedOrdersEqualFinalState(p, ex, "pipeline");
}

TEST_F(PipelineTest, MartMatchesGroundTruth) {
  std::vector<std::vector<std::string>> want;
  for (const Json& row : (*expected_)["mart_daily_revenue"]) {
    want.push_back({Str(row["day"]), Str(row["tenant_id"]), Str(row["orders"]), Str(row["revenue"])});
  }
  auto got = project_->Rows(
      "SELECT CAST(day AS VARCHAR), tenant_id, CAST(orders AS VARCHAR), CAST(revenue AS VARCHAR) "
      "FROM marts.daily_revenue ORDER BY day, tenant_id");
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "marts.daily_revenue differs from expected.json";
}

TEST_F(PipelineTest, DeadLettersAndLedgerReconcilePerBatch) {
  const Project& p = *project_;
  const Json& ex = *expected_;
  std::vector<std::vector<std::string>> want;
  for (auto& [reason, n] : ex["dead_by_reason"].items()) {
    if (n.get<int64_t>() > 0) want.push_back({reason, Str(n)});
  }
  std::sort(want.begin(), want.end());
  EXPECT_EQ(p.Rows("SELECT reason, count(*) FROM dlq.orders GROUP BY reason ORDER BY reason"), want);

  // Per batch: the ledger's counts (G1) and the DLQ per reason, by file.
  auto ledger = p.Rows(
      "SELECT file, batch_id, CAST(rows_read AS VARCHAR), CAST(rows_staged AS VARCHAR), "
      "CAST(rows_dead AS VARCHAR), status FROM meta.batches ORDER BY file");
  ASSERT_EQ(ledger.size(), ex["batches"].size());
  std::map<std::string, std::string> batch_of_file;
  for (size_t i = 0; i < ledger.size(); ++i) {
    const auto& r = ledger[i];
    const Json& b = ex["batches"][i];
    EXPECT_EQ(Basename(r[0]), Str(b["file"]));
    batch_of_file[Basename(r[0])] = r[1];
    EXPECT_EQ(r[2], Str(b["rows_read"])) << r[0];
    EXPECT_EQ(r[3], Str(b["rows_valid"])) << r[0];
    EXPECT_EQ(r[4], Str(b["rows_dead"])) << r[0];
    EXPECT_EQ(std::stoll(r[2]), std::stoll(r[3]) + std::stoll(r[4])) << "G1 for " << r[0];
  }
  auto dlq = p.Rows(
      "SELECT b.file, d.reason, count(*) FROM dlq.orders d JOIN meta.batches b "
      "ON d.batch_id = b.batch_id GROUP BY ALL ORDER BY ALL");
  std::map<std::pair<std::string, std::string>, std::string> got;
  for (const auto& r : dlq) got[{Basename(r[0]), r[1]}] = r[2];
  for (const Json& b : ex["batches"]) {
    for (auto& [reason, n] : b["dead_by_reason"].items()) {
      std::string have = got.count({Str(b["file"]), reason}) ? got[{Str(b["file"]), reason}] : "0";
      EXPECT_EQ(have, Str(n)) << Str(b["file"]) << " " << reason;
    }
  }
  // Staged rows per batch, from the rows themselves (not the ledger).
  auto staged = p.Rows(
      "SELECT b.file, count(*) FROM staging.orders s JOIN meta.batches b "
      "ON s._batch_id = b.batch_id GROUP BY ALL ORDER BY ALL");
  ASSERT_EQ(staged.size(), ex["batches"].size());
  for (size_t i = 0; i < staged.size(); ++i) {
    EXPECT_EQ(Basename(staged[i][0]), Str(ex["batches"][i]["file"]));
    EXPECT_EQ(staged[i][1], Str(ex["batches"][i]["rows_valid"])) << staged[i][0];
  }

  // Each dead letter names its column for column-level reasons, carries the raw input and a line.
  auto columns = p.Rows(
      "SELECT reason, coalesce(column_name, ''), count(*) FROM dlq.orders "
      "GROUP BY ALL ORDER BY ALL");
  std::map<std::string, std::set<std::string>> allowed = {{"missing_required", {"order_id", "seq"}},
                                                          {"bad_type", {"seq", "amount"}},
                                                          {"not_in_enum", {"status"}},
                                                          {"out_of_range", {"amount"}},
                                                          {"malformed_record", {"", "NULL"}},
                                                          {"bad_encoding", {"", "NULL", "order_id"}}};
  for (const auto& r : columns) {
    ASSERT_TRUE(allowed.count(r[0])) << "unexpected reason " << r[0];
    EXPECT_TRUE(allowed[r[0]].count(r[1])) << r[0] << " dead letters name column '" << r[1] << "'";
  }
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM dlq.orders WHERE raw IS NULL OR raw = '' "
                     "OR line IS NULL OR line < 1 OR batch_id IS NULL"),
            "0");
  // Invalid UTF-8 is kept visible (escaped) in raw, not dropped.
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM dlq.orders WHERE reason = 'bad_encoding' AND "
                     "raw NOT LIKE '%\\x%'"),
            "0");
  // meta.batches: every batch committed, with a correlation id shared with its rows.
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.batches WHERE correlation_id IS NULL "
                     "OR content_hash IS NULL OR committed_at IS NULL"),
            "0");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.orders s JOIN meta.batches b "
                     "ON s._batch_id = b.batch_id WHERE s._correlation_id <> b.correlation_id"),
            "0");
}

TEST_F(PipelineTest, PublishedParquetEqualsTables) {
  DuckReader duck;
  ExpectPublishedEqualsTables(duck, *project_, "after the first run");
  EXPECT_TRUE(TempLeftovers(project_->Lake()).empty())
      << ::testing::PrintToString(TempLeftovers(project_->Lake()));
}

TEST_F(PipelineTest, StagingQueriesReadOnlyTheirPartition) {
  const Project& p = *project_;
  auto is_staged = [](const std::string& rel) {
    return rel.find("staging") != std::string::npos && rel.find("orders") != std::string::npos &&
           rel.size() > 8 && rel.compare(rel.size() - 8, 8, ".parquet") == 0;
  };
  auto staged_files = FindFiles(p.Lake(), is_staged);
  ASSERT_GT(staged_files.size(), 1u);
  size_t in_partition = 0;
  for (const auto& f : staged_files) {
    in_partition += f.find("/day=2026-01-02/") != std::string::npos ? 1 : 0;
  }
  // One file per (batch, day): a day's files hold every tenant (sorted, in row groups).
  ASSERT_EQ(in_partition, 4u) << "not one staging file per batch under day=2026-01-02/: "
                              << ::testing::PrintToString(staged_files);

  ProcessResult r = p.Sluice("query", {"EXPLAIN ANALYZE SELECT count(*) FROM staging.orders "
                                       "WHERE day = DATE '2026-01-02' AND tenant = 't03'",
                                       "--format", "csv"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  // DuckDB 1.4 reports "Scanning Files: <read>/<total>" and "Total Files Read: <n>" for a
  // Parquet scan whose hive partition filters pruned files.
  std::smatch m;
  std::regex scanning(R"(Scanning Files: (\d+)/(\d+))");
  std::regex total_read(R"(Total Files Read: (\d+))");
  ASSERT_TRUE(std::regex_search(r.out, m, total_read)) << r.out;
  size_t read = std::stoul(m[1]);
  EXPECT_EQ(read, in_partition) << r.out;
  EXPECT_LT(read, staged_files.size()) << r.out;
  if (std::regex_search(r.out, m, scanning)) {
    EXPECT_EQ(std::stoul(m[1]), in_partition) << r.out;
    EXPECT_EQ(std::stoul(m[2]), staged_files.size()) << r.out;
  }
  // And the pruned query still counts right.
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.orders WHERE day = DATE '2026-01-02' "
                     "AND tenant = 't03'"),
            p.Scalar("SELECT count(*) FROM staging.orders WHERE "
                     "CAST(created_at AS DATE) = DATE '2026-01-02' AND tenant_id = 't03'"));
}

TEST_F(PipelineTest, StatusShowsTheLedger) {
  ProcessResult r = project_->Sluice("status", {"--json"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  Json s = Json::parse(r.out);
  const Json& src = s["sources"]["orders"];
  EXPECT_EQ(src["batches"], 4) << r.out;
  EXPECT_EQ(src["rows_read"], (*expected_)["lines_total"]) << r.out;
  EXPECT_EQ(src["rows_staged"], (*expected_)["events_valid"]) << r.out;
  EXPECT_EQ(src["dlq_rows"].get<int64_t>(),
            (*expected_)["lines_total"].get<int64_t>() - (*expected_)["events_valid"].get<int64_t>())
      << r.out;
  ProcessResult text = project_->Sluice("status");
  EXPECT_TRUE(text.ok()) << text.Describe();
  EXPECT_NE(text.out.find("orders"), std::string::npos) << text.out;
}

// `sluice init` and `sluice generate` write what the library does, byte for byte.
TEST(Commands, InitAndGenerate) {
  TempDir tmp;
  ProcessOptions in_tmp;
  in_tmp.cwd = tmp.path();
  ProcessResult init = RunProcess(SluiceBinary(), {"init", "shop"}, in_tmp);
  ASSERT_TRUE(init.ok()) << init.Describe();
  Project p(tmp.path() + "/shop");
  for (const char* f : {"sluice.yaml", "contracts/orders.yaml", "models/daily_revenue.sql",
                        "landing/orders/batch-0001.jsonl", "landing/orders/expected.json"}) {
    EXPECT_TRUE(fs::exists(p.Path(f))) << f;
  }
  ProcessResult again = RunProcess(SluiceBinary(), {"init", "shop"}, in_tmp);
  ExpectCleanFailure(again, "init over an existing project");

  Json ex = Json::parse(ReadFileOrDie(p.Landing() + "/expected.json"));
  Json run = p.RunJson();
  ASSERT_FALSE(run.is_null());
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM curated.orders"), Str(ex["orders"]));
  EXPECT_EQ(run["ingest"]["rows_staged"], ex["events_valid"]);

  ProcessResult gen = RunProcess(
      SluiceBinary(),
      {"generate", "gen", "--orders", "500", "--batches", "3", "--seed", "5", "--format", "csv"}, in_tmp);
  ASSERT_TRUE(gen.ok()) << gen.Describe();
  OrderGeneratorOptions o;
  o.orders = 500;
  o.batches = 3;
  o.seed = 5;
  o.format = "csv";
  std::string lib = tmp.path() + "/lib";
  ASSERT_TRUE(GenerateOrders(o, lib, lib + "/expected.json").ok());
  for (const char* f : {"batch-0001.csv", "batch-0002.csv", "batch-0003.csv", "expected.json"}) {
    EXPECT_EQ(ReadFileOrDie(tmp.path() + "/gen/" + f), ReadFileOrDie(lib + "/" + f)) << f;
  }
}

// `sluice generate --tenants 20 --days 30` through the binary: the files are the library's with
// those options, expected.json spans 20 tenants × 30 days, and a `sluice run` over them stages
// 600 distinct (day, tenant) partitions and agrees with expected.json (counts, DLQ, curated
// final state, mart). The run summary times every stage in wall and CPU seconds.
TEST(Commands, GenerateTenantsAndDaysMatchesGroundTruth) {
  TempDir tmp;
  ProcessOptions in_tmp;
  in_tmp.cwd = tmp.path();
  ASSERT_TRUE(RunProcess(SluiceBinary(), {"init", "shop"}, in_tmp).ok());
  Project p(tmp.path() + "/shop");
  ProcessResult gen = RunProcess(SluiceBinary(),
                                 {"generate", "shop/landing/orders", "--force", "--orders", "6000",
                                  "--batches", "2", "--seed", "23", "--tenants", "20", "--days", "30"},
                                 in_tmp);
  ASSERT_TRUE(gen.ok()) << gen.Describe();
  OrderGeneratorOptions o;
  o.orders = 6000;
  o.batches = 2;
  o.seed = 23;
  o.tenants = 20;
  o.days = 30;
  const std::string lib = tmp.path() + "/lib";
  ASSERT_TRUE(GenerateOrders(o, lib, lib + "/expected.json").ok());
  for (const char* f : {"batch-0001.jsonl", "batch-0002.jsonl", "expected.json"}) {
    EXPECT_EQ(ReadFileOrDie(p.Landing() + "/" + f), ReadFileOrDie(lib + "/" + f)) << f;
  }

  const Json ex = Json::parse(ReadFileOrDie(p.Landing() + "/expected.json"));
  EXPECT_EQ(ex["revenue_by_tenant"].size(), 20u) << "tenants in expected.json";
  std::set<std::pair<std::string, std::string>> expected_partitions;
  std::set<std::string> expected_days;
  for (const Json& row : ex["mart_daily_revenue"]) {
    expected_partitions.insert({Str(row["day"]), Str(row["tenant_id"])});
    expected_days.insert(Str(row["day"]));
  }
  EXPECT_EQ(expected_partitions.size(), 600u) << "(day, tenant) partitions in expected.json's mart";
  ASSERT_FALSE(expected_days.empty());
  EXPECT_EQ(*expected_days.begin(), "2026-01-01");
  EXPECT_EQ(*expected_days.rbegin(), "2026-01-30");

  Json run = p.RunJson();
  ASSERT_FALSE(run.is_null());
  EXPECT_EQ(run["ingest"]["batches"], 2) << run.dump();
  EXPECT_EQ(run["ingest"]["rows_read"], ex["lines_total"]) << run.dump();
  EXPECT_EQ(run["ingest"]["rows_staged"], ex["events_valid"]) << run.dump();
  EXPECT_EQ(run["ingest"]["rows_dead"], ex["lines_total"].get<int64_t>() - ex["events_valid"].get<int64_t>())
      << run.dump();
  for (const char* stage : {"ingest", "curate", "marts", "publish"}) {
    ASSERT_TRUE(run[stage].contains("cpu_seconds")) << stage << ": " << run.dump();
    EXPECT_TRUE(run[stage]["cpu_seconds"].is_number()) << stage;
    EXPECT_GE(run[stage]["cpu_seconds"].get<double>(), 0.0) << stage;
  }
  EXPECT_GT(run["ingest"]["cpu_seconds"].get<double>(), 0.0) << "ingesting ~15,000 events takes CPU";

  EXPECT_EQ(p.Scalar("SELECT count(*) FROM (SELECT DISTINCT CAST(created_at AS DATE), tenant_id "
                     "FROM staging.orders)"),
            "600");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.orders"), Str(ex["events_valid"]));
  EXPECT_EQ(p.Scalar("SELECT count(DISTINCT tenant_id) FROM curated.orders"), "20");
  ExpectCuratedOrdersEqualFinalState(p, ex, "20 tenants x 30 days");
  std::vector<std::vector<std::string>> want;
  for (const Json& row : ex["mart_daily_revenue"]) {
    want.push_back({Str(row["day"]), Str(row["tenant_id"]), Str(row["orders"]), Str(row["revenue"])});
  }
  EXPECT_TRUE(p.Rows("SELECT CAST(day AS VARCHAR), tenant_id, CAST(orders AS VARCHAR), "
                     "CAST(revenue AS VARCHAR) FROM marts.daily_revenue ORDER BY day, tenant_id") == want)
      << "marts.daily_revenue differs from expected.json";
}

// The same pipeline on CSV input gives the same curated state and mart as expected.json.
TEST(Pipeline, CsvSourceMatchesGroundTruth) {
  TempDir tmp;
  OrderGeneratorOptions o = SmallOrders(12);
  o.orders = 1000;
  o.batches = 3;
  o.format = "csv";
  Project p = MakeExampleProject(tmp.path() + "/shop", o);
  Json ex = Json::parse(ReadFileOrDie(p.Landing() + "/expected.json"));
  Json run = p.RunJson();
  ASSERT_FALSE(run.is_null());
  EXPECT_EQ(run["ingest"]["rows_read"], ex["lines_total"]) << run.dump();
  EXPECT_EQ(run["ingest"]["rows_staged"], ex["events_valid"]) << run.dump();
  std::vector<std::vector<std::string>> want;
  for (auto& [reason, n] : ex["dead_by_reason"].items()) {
    if (n.get<int64_t>() > 0) want.push_back({reason, Str(n)});
  }
  std::sort(want.begin(), want.end());
  EXPECT_EQ(p.Rows("SELECT reason, count(*) FROM dlq.orders GROUP BY reason ORDER BY reason"), want);
  want.clear();
  for (const Json& row : ex["mart_daily_revenue"]) {
    want.push_back({Str(row["day"]), Str(row["tenant_id"]), Str(row["orders"]), Str(row["revenue"])});
  }
  EXPECT_TRUE(p.Rows("SELECT CAST(day AS VARCHAR), tenant_id, CAST(orders AS VARCHAR), "
                     "CAST(revenue AS VARCHAR) FROM marts.daily_revenue ORDER BY day, tenant_id") == want)
      << "marts.daily_revenue (CSV source) differs from expected.json";
  auto rows = p.Rows(
      "SELECT order_id, status, CAST(seq AS VARCHAR), CAST(amount AS VARCHAR) "
      "FROM curated.orders ORDER BY order_id");
  ASSERT_EQ(rows.size(), ex["final_state"].size());
  int mismatches = 0;
  for (const auto& r : rows) {
    const Json& f = ex["final_state"][r[0]];
    if (r != std::vector<std::string>{r[0], Str(f["status"]), Str(f["seq"]), Str(f["amount"])}) {
      ++mismatches;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace sluice::e2e
