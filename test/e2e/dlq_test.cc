// DLQ tooling end to end, through the real binary: rows failing an enum and a contract check
// land in the DLQ with ids; after the contract is fixed `dlq redrive` loads exactly the rows
// that now pass as one new batch with lineage to the original batch, `run` merges them and
// curated equals the ground truth; rows that still fail stay with their reason; a second
// redrive loads nothing; CSV sources redrive with their batch's header; `vacuum` deletes only
// rows older than dlq.retention.
#include <duckdb.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "harness.h"

namespace sluice::e2e {
namespace {

// The example contract, compatibility none (the test changes it freely), with a check;
// `extra` is added to the status enum.
std::string Contract(const std::string& extra = "") {
  return "name: orders\ncompatibility: none\ncolumns:\n"
         "  order_id:   {type: string, required: true}\n"
         "  tenant_id:  {type: string, required: true}\n"
         "  status:     {type: string, enum: [created, paid, shipped, delivered, cancelled" +
         (extra.empty() ? "" : ", " + extra) +
         "]}\n"
         "  amount:     {type: decimal(12,2), min: 0}\n"
         "  created_at: {type: timestamp, required: true}\n"
         "  seq:        {type: int64, required: true}\n"
         "checks:\n  - {name: not_huge, expr: \"amount <= 100000\"}\n";
}

const std::string kRefunded =
    "{\"order_id\":\"x1\",\"tenant_id\":\"t01\",\"status\":\"refunded\",\"amount\":12.5,"
    "\"created_at\":\"2026-01-02T10:00:00Z\",\"seq\":3}";
const std::string kHuge =
    "{\"order_id\":\"x2\",\"tenant_id\":\"t01\",\"status\":\"paid\",\"amount\":250000,"
    "\"created_at\":\"2026-01-02T10:00:00Z\",\"seq\":1}";
const std::string kFine =
    "{\"order_id\":\"x3\",\"tenant_id\":\"t02\",\"status\":\"paid\",\"amount\":1,"
    "\"created_at\":\"2026-01-03T10:00:00Z\",\"seq\":1}";

// The example project's source takes files that are mostly dead letters: these tests ingest
// small files of bad rows on purpose (max_dead_ratio, docs/PROJECT.md).
void AllowDeadLetters(const Project& p) {
  std::string yaml = ReadFileOrDie(p.Path("sluice.yaml"));
  const std::string contract = "    contract: contracts/orders.yaml";
  const size_t at = yaml.find(contract);
  ASSERT_NE(at, std::string::npos) << yaml;
  yaml.replace(at, 0, "    max_dead_ratio: 1\n");
  WriteFileOrDie(p.Path("sluice.yaml"), yaml);
}

// Runs statements on the lake's database directly (no sluice process may be running).
void ExecOnLake(const Project& p, const std::string& sql) {
  duckdb_database db;
  duckdb_connection con;
  const std::string path = p.Lake() + "/sluice.duckdb";
  ASSERT_EQ(duckdb_open(path.c_str(), &db), DuckDBSuccess);
  ASSERT_EQ(duckdb_connect(db, &con), DuckDBSuccess);
  duckdb_result res;
  const bool ok = duckdb_query(con, sql.c_str(), &res) == DuckDBSuccess;
  EXPECT_TRUE(ok) << duckdb_result_error(&res);
  duckdb_destroy_result(&res);
  duckdb_disconnect(&con);
  duckdb_close(&db);
}

// The fix a user makes: "refunded" becomes a valid status in the contract and in the curated
// table's accepted_values test (else the quality gate quarantines the redriven rows).
void AcceptRefunded(const Project& p) {
  WriteFileOrDie(p.Path("contracts/orders.yaml"), Contract("refunded"));
  std::string yaml = ReadFileOrDie(p.Path("sluice.yaml"));
  const size_t at = yaml.find("cancelled]");
  ASSERT_NE(at, std::string::npos) << yaml;
  yaml.replace(at, 10, "cancelled, refunded]");
  WriteFileOrDie(p.Path("sluice.yaml"), yaml);
}

Json RunJsonCommand(const Project& p, const std::string& command, std::vector<std::string> args) {
  args.push_back("--json");
  ProcessResult r = p.Sluice(command, args);
  EXPECT_TRUE(r.ok()) << command << " " << (args.empty() ? "" : args[0]) << ": " << r.Describe();
  return r.ok() ? Json::parse(r.out) : Json();
}

TEST(Dlq, RedriveAfterAContractFixLoadsExactlyThePassingRowsOnce) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 40;
  o.batches = 2;
  o.invalid_rate = 0;
  Project p = MakeExampleProject(tmp.path(), o);
  const Json expected = Json::parse(ReadFileOrDie(p.Landing() + "/expected.json"));
  WriteFileOrDie(p.Path("contracts/orders.yaml"), Contract());
  AllowDeadLetters(p);
  WriteFileOrDie(p.Landing() + "/batch-9999.jsonl", kRefunded + "\n" + kHuge + "\n" + kFine + "\n");
  p.RunJson();

  Json dlq = RunJsonCommand(p, "dlq", {"list", "orders"});
  ASSERT_EQ(dlq.size(), 2u) << dlq.dump();
  const std::string original = Str(dlq[0]["batch_id"]);
  EXPECT_EQ(dlq[0]["reason"], "not_in_enum");
  EXPECT_EQ(dlq[0]["raw"], kRefunded);
  EXPECT_EQ(dlq[1]["reason"], "check_failed");
  EXPECT_EQ(dlq[1]["column_name"], "not_huge");
  EXPECT_EQ(dlq[1]["message"], "amount <= 100000");
  EXPECT_EQ(dlq[1]["status"], "open");
  EXPECT_EQ(p.Scalar("SELECT rows_read || '=' || rows_staged || '+' || rows_dead FROM meta.batches"
                     " WHERE batch_id = " +
                     Quote(original)),
            "3=1+2");
  Json shown = RunJsonCommand(p, "dlq", {"show", Str(dlq[1]["dlq_id"])});
  EXPECT_EQ(shown["raw"], kHuge);
  EXPECT_EQ(RunJsonCommand(p, "dlq", {"list", "--reason", "check_failed"}).size(), 1u);
  EXPECT_EQ(RunJsonCommand(p, "dlq", {"list", "--batch", "nope"}).size(), 0u);
  EXPECT_TRUE(p.Sluice("dlq", {"list"}).ok());

  AcceptRefunded(p);
  Json r = RunJsonCommand(p, "dlq", {"redrive", "orders"});
  EXPECT_EQ(r["rows_read"], 2);
  EXPECT_EQ(r["rows_staged"], 1);
  EXPECT_EQ(r["rows_dead"], 1);
  EXPECT_EQ(r["parent_batches"], Json::array({original}));
  const std::string redrive = Str(r["batch_id"]);
  EXPECT_EQ(redrive.rfind("redrive-", 0), 0u);
  EXPECT_EQ(p.Scalar("SELECT parent_batches FROM meta.batches WHERE batch_id = " + Quote(redrive)), original);
  p.RunJson();

  // Curated equals the ground truth plus x1 (redriven) and x3; x2 is still dead-lettered.
  std::vector<std::vector<std::string>> want;
  for (auto& [id, f] : expected["final_state"].items()) {
    want.push_back({id, Str(f["status"]), Str(f["seq"]), Str(f["amount"])});
  }
  want.push_back({"x1", "refunded", "3", "12.50"});
  want.push_back({"x3", "paid", "1", "1.00"});
  std::sort(want.begin(), want.end());
  EXPECT_EQ(p.Rows("SELECT order_id, status, CAST(seq AS VARCHAR), CAST(amount AS VARCHAR) "
                   "FROM curated.orders ORDER BY order_id"),
            want);
  dlq = RunJsonCommand(p, "dlq", {"list"});
  ASSERT_EQ(dlq.size(), 2u);
  EXPECT_EQ(dlq[0]["status"], "redriven");
  EXPECT_EQ(dlq[0]["redriven_batch"], redrive);
  EXPECT_EQ(dlq[1]["status"], "open");
  EXPECT_EQ(dlq[1]["reason"], "check_failed");

  // Twice: nothing is loaded twice.
  r = RunJsonCommand(p, "dlq", {"redrive", "orders"});
  EXPECT_EQ(r["rows_staged"], 0);
  EXPECT_TRUE(r["batch_id"].is_null());
  p.RunJson();
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.orders WHERE order_id = 'x1'"), "1");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.batches WHERE batch_id LIKE 'redrive-%'"), "1");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM curated.orders"), std::to_string(want.size()));

  // Vacuum: with a 30-day retention only the row made 40 days old goes.
  ExecOnLake(p,
             "UPDATE dlq.orders SET ingested_at = ingested_at - INTERVAL 40 DAY "
             "WHERE status = 'redriven'");
  Json v = RunJsonCommand(p, "vacuum", {});
  EXPECT_TRUE(v["dlq_retention_seconds"].is_null());
  EXPECT_EQ(v["dlq_rows_deleted"]["orders"], 0);
  WriteFileOrDie(p.Path("sluice.yaml"), ReadFileOrDie(p.Path("sluice.yaml")) + "dlq:\n  retention: 30d\n");
  v = RunJsonCommand(p, "vacuum", {});
  EXPECT_EQ(v["dlq_rows_deleted"]["orders"], 1);
  dlq = RunJsonCommand(p, "dlq", {"list"});
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0]["raw"], kHuge);
  ExpectCleanFailure(p.Sluice("dlq", {"show", "999"}), "dlq show of an unknown id");
}

TEST(Dlq, CsvSourceRedrivesWithItsHeader) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 20;
  o.batches = 1;
  o.invalid_rate = 0;
  o.format = "csv";
  Project p = MakeExampleProject(tmp.path(), o);
  WriteFileOrDie(p.Path("contracts/orders.yaml"), Contract());
  AllowDeadLetters(p);
  WriteFileOrDie(p.Landing() + "/batch-9999.csv",
                 "seq,order_id,tenant_id,status,amount,created_at\n"
                 "2,y1,t03,refunded,4.25,2026-01-04T08:00:00Z\n"
                 "1,y2,t03,paid,999999,2026-01-04T08:00:00Z\n");
  p.RunJson();
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM dlq.orders"), "2");
  AcceptRefunded(p);
  Json r = RunJsonCommand(p, "dlq", {"redrive", "orders", "--reason", "not_in_enum"});
  EXPECT_EQ(r["rows_read"], 1);
  EXPECT_EQ(r["rows_staged"], 1);
  p.RunJson();
  EXPECT_EQ(p.Rows("SELECT status, CAST(amount AS VARCHAR), tenant_id FROM curated.orders "
                   "WHERE order_id = 'y1'"),
            (std::vector<std::vector<std::string>>{{"refunded", "4.25", "t03"}}));
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM dlq.orders WHERE status = 'open'"), "1");
}

}  // namespace
}  // namespace sluice::e2e
