// Defects of contracts and runs a new user hit (issue 10, items 4, 5 and 9), through the real
// binary:
//  - a contract check that cannot evaluate on the data fails the run naming the contract file
//    and the check, and removing it afterwards is not refused as check_removed (no data was
//    ever validated under the version that had it);
//  - a file whose rows would mostly be dead-lettered (CSV into a JSONL source) is refused whole,
//    naming the file and the ratio: nothing committed, not in the ledger, ingested once fixed;
//    a corrupt Parquet file is refused without blocking the other landing files of the run,
//    which exits 4; max_dead_ratio is per source and validated;
//  - a column with a `default` takes it wherever a record has no value for it, required or not.
#include <duckdb.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "harness.h"

namespace sluice::e2e {
namespace {

constexpr const char* kSpec = R"(name: shop
lake: lake
sources:
  orders:
    type: files
    path: landing/orders/*.jsonl
    format: jsonl
    contract: contracts/orders.yaml
tables:
  orders: {from: orders, key: [order_id], version: seq}
)";

constexpr const char* kContract = R"(name: orders
columns:
  order_id: {type: string, required: true}
  status:   {type: string, required: true}
  seq:      {type: int64, required: true}
)";

Project NewProject(const std::string& dir, const std::string& spec, const std::string& contract) {
  Project p(dir);
  WriteFileOrDie(p.Path("sluice.yaml"), spec);
  WriteFileOrDie(p.Path("contracts/orders.yaml"), contract);
  std::filesystem::create_directories(p.Landing());
  return p;
}

std::string JsonRows(int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i) {
    out += "{\"order_id\":\"o" + std::to_string(i) + "\",\"status\":\"paid\",\"seq\":1}\n";
  }
  return out;
}

std::string LedgerCount(const Project& p) { return p.Scalar("SELECT count(*) FROM meta.batches"); }

// ---- Item 4: a check that cannot evaluate ---------------------------------------------------

TEST(RunDefects, CheckThatCannotEvaluateFailsNamingItAndCanBeRemoved) {
  TempDir tmp;
  const std::string good_check = "checks:\n  - {name: seq_positive, expr: \"seq > 0\"}\n";
  Project p = NewProject(tmp.path() + "/shop", kSpec,
                         std::string(kContract) + good_check +
                             "  - {name: numeric_status, expr: \"CAST(status AS INTEGER) > 0\"}\n");
  WriteFileOrDie(p.Landing() + "/b1.jsonl", JsonRows(1, 5));

  ProcessResult bad = p.Sluice("run");
  EXPECT_NE(bad.exit_code, 0) << bad.Describe();
  EXPECT_FALSE(bad.signaled || bad.timed_out) << bad.Describe();
  // The contract file with the check's line, the check's name and the landing file.
  EXPECT_NE(bad.err.find("error: "), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("contracts/orders.yaml:8: checks.numeric_status"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("b1.jsonl"), std::string::npos) << bad.err;
  EXPECT_EQ(LedgerCount(p), "0");

  // The user removes the check: the next run takes the file (no check_removed refusal: no data
  // was ever validated under the version that had it).
  WriteFileOrDie(p.Path("contracts/orders.yaml"), std::string(kContract) + good_check);
  Json summary = p.RunJson();
  ASSERT_FALSE(summary.is_null());
  EXPECT_EQ(summary["ingest"]["rows_staged"], 5) << summary.dump();
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM curated.orders"), "5");
  EXPECT_EQ(p.Scalar("SELECT max(schema_version) FROM meta.batches"),
            p.Scalar("SELECT max(version) FROM meta.schemas WHERE source = 'orders'"));

  // Once data was validated under a version, removing its check is refused as before.
  WriteFileOrDie(p.Path("contracts/orders.yaml"), kContract);
  ProcessResult removed = p.Sluice("run");
  ExpectCleanFailure(removed, "removing a check data was validated under");
  EXPECT_NE(removed.err.find("check_removed"), std::string::npos) << removed.err;
}

// ---- Item 5: dead-letter budget and format mismatches ---------------------------------------

TEST(RunDefects, CsvIntoJsonlSourceIsRefusedAndNotInTheLedger) {
  TempDir tmp;
  Project p = NewProject(tmp.path() + "/shop", kSpec, kContract);
  const std::string csv = p.Path("x.csv");
  std::string text = "order_id,status,seq\n";
  for (int i = 1; i <= 20; ++i) text += "o" + std::to_string(i) + ",paid,1\n";
  WriteFileOrDie(csv, text);

  ProcessResult r = p.Sluice("ingest", {"orders", csv});
  ExpectCleanFailure(r, "CSV ingested into a JSONL source");
  EXPECT_NE(r.err.find("x.csv"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("max_dead_ratio 0.5"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("100%"), std::string::npos) << r.err;
  // Nothing committed: no ledger row, no dead letters.
  EXPECT_EQ(LedgerCount(p), "0");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM dlq.orders"), "0");

  // The same path with the right content is taken: the refused hash never reached the ledger.
  WriteFileOrDie(csv, JsonRows(1, 20));
  ProcessResult fixed = p.Sluice("ingest", {"orders", csv});
  EXPECT_TRUE(fixed.ok()) << fixed.Describe();
  EXPECT_EQ(p.Scalar("SELECT sum(rows_staged) FROM meta.batches"), "20");
}

TEST(RunDefects, DeadRatioIsPerSourceAndABatchUnderItCommits) {
  TempDir tmp;
  std::string spec = kSpec;
  spec.replace(spec.find("    contract:"), 0, "    max_dead_ratio: 0.9\n");
  Project p = NewProject(tmp.path() + "/shop", spec, kContract);
  // 6 of 10 rows bad: above the default 0.5, under this source's 0.9.
  std::string text = JsonRows(1, 4);
  for (int i = 0; i < 6; ++i) text += "{\"order_id\":\"x" + std::to_string(i) + "\",\"seq\":\"NaN\"}\n";
  WriteFileOrDie(p.Landing() + "/b1.jsonl", text);
  Json summary = p.RunJson();
  ASSERT_FALSE(summary.is_null());
  EXPECT_EQ(summary["ingest"]["rows_dead"], 6) << summary.dump();
  EXPECT_EQ(summary["ingest"]["rows_staged"], 4) << summary.dump();

  // Out of range is a spec error with file:line:col.
  std::string bad_spec = kSpec;
  bad_spec.replace(bad_spec.find("    contract:"), 0, "    max_dead_ratio: 1.5\n");
  WriteFileOrDie(p.Path("sluice.yaml"), bad_spec);
  ProcessResult r = p.Sluice("run");
  ExpectCleanFailure(r, "max_dead_ratio 1.5");
  EXPECT_NE(r.err.find("sluice.yaml:8:21: sources.orders.max_dead_ratio"), std::string::npos) << r.err;
}

TEST(RunDefects, CorruptParquetDoesNotBlockTheOtherFiles) {
  TempDir tmp;
  Project p = NewProject(tmp.path() + "/shop", kParquetAndJsonlSpec, kContract);
  std::string events = kContract;
  events.replace(0, std::string("name: orders").size(), "name: events");
  WriteFileOrDie(p.Path("contracts/events.yaml"), events);
  WriteParquet("SELECT 'o' || i AS order_id, 'paid' AS status, 1::BIGINT AS seq FROM range(3) t(i)",
               p.Landing() + "/a.parquet");
  // Not Parquet at all: sorts between the two good files.
  WriteFileOrDie(p.Landing() + "/b.parquet", "PAR1 this is not a parquet file");
  WriteParquet("SELECT 'q' || i AS order_id, 'paid' AS status, 1::BIGINT AS seq FROM range(4) t(i)",
               p.Landing() + "/c.parquet");
  WriteFileOrDie(p.Path("landing/events/e.jsonl"), JsonRows(1, 2));

  ProcessResult r = p.Sluice("run", {"--json"});
  EXPECT_EQ(r.exit_code, 4) << r.Describe();
  EXPECT_FALSE(r.signaled || r.timed_out) << r.Describe();
  EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("b.parquet"), std::string::npos) << r.err;
  Json summary = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(summary.is_discarded()) << r.out;
  EXPECT_EQ(summary["status"], "refused") << r.out;
  ASSERT_EQ(summary["refused"].size(), 1u) << r.out;
  EXPECT_EQ(Basename(Str(summary["refused"][0]["file"])), "b.parquet") << r.out;
  // The good files of both sources were committed, curated and published.
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM curated.orders"), "7");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM curated.events"), "2");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.batches WHERE file LIKE '%b.parquet'"), "0");

  // Replaced by a good file, it is taken on the next run.
  std::filesystem::remove(p.Landing() + "/b.parquet");
  WriteParquet("SELECT 'r1' AS order_id, 'paid' AS status, 1::BIGINT AS seq", p.Landing() + "/b.parquet");
  Json next = p.RunJson();
  ASSERT_FALSE(next.is_null());
  EXPECT_EQ(next["status"], "ok");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM curated.orders"), "8");
}

// ---- Item 9: defaults fill missing values ---------------------------------------------------

TEST(RunDefects, RequiredColumnWithDefaultTakesItWhenMissing) {
  TempDir tmp;
  Project p = NewProject(tmp.path() + "/shop", kSpec,
                         std::string(kContract) +
                             "  channel:  {type: string, required: true, default: web}\n"
                             "  qty:      {type: int64, default: 1}\n");
  WriteFileOrDie(
      p.Landing() + "/b1.jsonl",
      "{\"order_id\":\"o1\",\"status\":\"paid\",\"seq\":1}\n"                                // absent
      "{\"order_id\":\"o2\",\"status\":\"paid\",\"seq\":1,\"channel\":null,\"qty\":null}\n"  // null
      "{\"order_id\":\"o3\",\"status\":\"paid\",\"seq\":1,\"channel\":\"  \"}\n"             // blank
      "{\"order_id\":\"o4\",\"status\":\"paid\",\"seq\":1,\"channel\":\"app\",\"qty\":3}\n");
  Json summary = p.RunJson();
  ASSERT_FALSE(summary.is_null());
  EXPECT_EQ(summary["ingest"]["rows_dead"], 0) << summary.dump();
  EXPECT_EQ(p.Rows("SELECT order_id, channel, qty FROM curated.orders ORDER BY order_id"),
            (std::vector<std::vector<std::string>>{
                {"o1", "web", "1"}, {"o2", "web", "1"}, {"o3", "web", "1"}, {"o4", "app", "3"}}));
  // The staged rows hold the default too, as every reader of staging sees them.
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.orders WHERE channel = 'web' AND qty = 1"), "3");
}

}  // namespace
}  // namespace sluice::e2e
