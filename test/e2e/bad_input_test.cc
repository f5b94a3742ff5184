// G7/G8 bad input: a bad spec or contract is a clear one-line error naming the file and line;
// bad rows land in the DLQ with a reason while the good rows of their batch load; nothing
// crashes. And the quality gate: failing batches are quarantined and publish nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "harness.h"
#include "sample/example_project.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;

const char* kGood1 =
    "{\"order_id\":\"o1\",\"tenant_id\":\"t01\",\"status\":\"paid\",\"amount\":12.30,"
    "\"created_at\":\"2026-01-02T10:00:00Z\",\"seq\":2}\n";
const char* kGood2 =
    "{\"order_id\":\"o2\",\"tenant_id\":\"t02\",\"status\":\"created\",\"amount\":5,"
    "\"created_at\":\"2026-01-03T11:00:00Z\",\"seq\":1}\n";
const char* kGood3 =
    "{\"order_id\":\"o3\",\"tenant_id\":\"t01\",\"status\":\"shipped\",\"amount\":0.01,"
    "\"created_at\":\"2026-01-03T12:00:00Z\",\"seq\":3}\n";

// The example project with its landing folder emptied, for hand-written inputs.
Project EmptyProject(const std::string& dir, const std::string& format = "jsonl") {
  OrderGeneratorOptions o;
  o.orders = 50;
  o.batches = 1;
  o.format = format;
  Project p = MakeExampleProject(dir, o);
  fs::remove_all(p.Landing());
  fs::create_directories(p.Landing());
  return p;
}

bool IsParquet(const std::string& rel) {
  return rel.size() > 8 && rel.compare(rel.size() - 8, 8, ".parquet") == 0;
}

struct SpecCase {
  const char* name;
  const char* yaml;
  const char* must_mention;  // besides "sluice.yaml:<line>"
};

TEST(BadInput, MalformedSpecIsAClearErrorWithFileAndLine) {
  const std::vector<SpecCase> cases = {
      {"unclosed_flow_sequence",
       "name: shop\nlake: lake\nsources:\n  orders:\n    type: files\n"
       "    path: [landing/orders/*.jsonl\n    format: jsonl\n",
       ""},
      {"bad_indentation", "name: shop\nlake: lake\nsources:\n  orders:\n    type: files\n   format: jsonl\n",
       ""},
      {"unknown_source_type",
       "name: shop\nlake: lake\nsources:\n  orders:\n    type: ftp\n"
       "    path: landing/orders/*.jsonl\n    format: jsonl\n    contract: contracts/orders.yaml\n"
       "    partition_by: {day: created_at, tenant: tenant_id}\n",
       "ftp"},
      {"unknown_format",
       "name: shop\nlake: lake\nsources:\n  orders:\n    type: files\n"
       "    path: landing/orders/*.jsonl\n    format: xml\n    contract: contracts/orders.yaml\n"
       "    partition_by: {day: created_at, tenant: tenant_id}\n",
       "xml"},
      {"key_not_in_contract",
       "name: shop\nlake: lake\nsources:\n  orders:\n    type: files\n"
       "    path: landing/orders/*.jsonl\n    format: jsonl\n    contract: contracts/orders.yaml\n"
       "    partition_by: {day: created_at, tenant: tenant_id}\n"
       "tables:\n  orders:\n    from: orders\n    key: [no_such_column]\n    version: seq\n",
       "no_such_column"},
      {"hostile_table_name",
       "name: shop\nlake: lake\nsources:\n  orders:\n    type: files\n"
       "    path: landing/orders/*.jsonl\n    format: jsonl\n    contract: contracts/orders.yaml\n"
       "    partition_by: {day: created_at, tenant: tenant_id}\n"
       "tables:\n  \"x; DROP TABLE meta.batches; --\":\n    from: orders\n    key: [order_id]\n"
       "    version: seq\n",
       ""},
  };
  for (const SpecCase& c : cases) {
    TempDir tmp;
    Project p = EmptyProject(tmp.path() + "/shop");
    WriteFileOrDie(p.Landing() + "/batch-0001.jsonl", kGood1);
    WriteFileOrDie(p.Path("sluice.yaml"), c.yaml);
    ProcessResult r = p.Sluice("run");
    ExpectCleanFailure(r, c.name);
    EXPECT_TRUE(std::regex_search(r.err, std::regex(R"(sluice\.yaml:\d+)")))
        << c.name << ": the error should name sluice.yaml and a line: " << r.err;
    if (*c.must_mention) {
      EXPECT_NE(r.err.find(c.must_mention), std::string::npos) << c.name << ": " << r.err;
    }
    EXPECT_TRUE(FindFiles(p.Lake(), IsParquet).empty()) << c.name << ": data was written";
  }
  // No sluice.yaml at all.
  TempDir empty;
  ProcessResult none = Project(empty.path()).Sluice("run");
  ExpectCleanFailure(none, "no sluice.yaml");
  EXPECT_NE(none.err.find("sluice.yaml"), std::string::npos) << none.err;
}

TEST(BadInput, ContractWithUnknownTypeIsRefusedBeforeAnyData) {
  TempDir tmp;
  Project p = EmptyProject(tmp.path() + "/shop");
  WriteFileOrDie(p.Landing() + "/batch-0001.jsonl", kGood1);
  std::string contract = ExampleOrdersContract();
  contract.replace(contract.find("decimal(12,2)"), 13, "money");
  WriteFileOrDie(p.Path("contracts/orders.yaml"), contract);
  ProcessResult r = p.Sluice("run");
  ExpectCleanFailure(r, "contract with an unknown type");
  EXPECT_TRUE(std::regex_search(r.err, std::regex(R"(orders\.yaml:\d+)")))
      << "the error should name the contract file and line: " << r.err;
  EXPECT_NE(r.err.find("money"), std::string::npos) << r.err;
  EXPECT_TRUE(FindFiles(p.Lake(), IsParquet).empty()) << "data was written";
}

TEST(BadInput, InvalidUtf8GoesToTheDlqAndTheGoodRowsLoad) {
  TempDir tmp;
  Project p = EmptyProject(tmp.path() + "/shop");
  std::string bad =
      "{\"order_id\":\"o\xff\xfe"
      "9\",\"tenant_id\":\"t01\",\"status\":\"paid\",\"amount\":1,"
      "\"created_at\":\"2026-01-02T10:00:00Z\",\"seq\":1}\n";
  WriteFileOrDie(p.Landing() + "/batch-0001.jsonl", std::string(kGood1) + bad + kGood2 + kGood3);
  Json run = p.RunJson();
  ASSERT_FALSE(run.is_null());
  EXPECT_EQ(run["ingest"]["rows_read"], 4) << run.dump();
  EXPECT_EQ(run["ingest"]["rows_staged"], 3) << run.dump();
  EXPECT_EQ(run["ingest"]["rows_dead"], 1) << run.dump();
  EXPECT_EQ(p.Rows("SELECT reason, CAST(line AS VARCHAR) FROM dlq.orders"),
            (std::vector<std::vector<std::string>>{{"bad_encoding", "2"}}));
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM dlq.orders WHERE raw LIKE '%\\xff%' OR raw LIKE '%\\xFF%'"), "1")
      << "raw should keep the bad bytes visible, escaped";
  EXPECT_EQ(p.Rows("SELECT order_id FROM staging.orders ORDER BY 1"),
            (std::vector<std::vector<std::string>>{{"o1"}, {"o2"}, {"o3"}}));
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM curated.orders"), "3");
}

TEST(BadInput, TenMegabyteLineDoesNotCrashOrLoseGoodRows) {
  TempDir tmp;
  Project p = EmptyProject(tmp.path() + "/shop");
  std::string huge = "{\"order_id\":\"" + std::string(10 << 20, 'x') +
                     "\",\"tenant_id\":\"t01\",\"status\":\"paid\",\"amount\":1,"
                     "\"created_at\":\"2026-01-02T10:00:00Z\",\"seq\":1}\n";
  WriteFileOrDie(p.Landing() + "/batch-0001.jsonl", std::string(kGood1) + huge + kGood2);
  // And a 10 MB line that is not even JSON, without a final newline.
  WriteFileOrDie(p.Landing() + "/batch-0002.jsonl", std::string(kGood3) + std::string(10 << 20, '{'));
  ProcessResult r = p.Sluice("run", {"--json"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  Json run = Json::parse(r.out);
  EXPECT_EQ(run["ingest"]["rows_read"], 5) << run.dump();
  EXPECT_EQ(run["ingest"]["rows_read"].get<int64_t>(),
            run["ingest"]["rows_staged"].get<int64_t>() + run["ingest"]["rows_dead"].get<int64_t>());
  // The good rows are there whatever happened to the huge ones.
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging.orders WHERE order_id IN ('o1', 'o2', 'o3')"), "3");
  auto dead = p.Rows("SELECT reason, CAST(line AS VARCHAR) FROM dlq.orders ORDER BY ALL");
  for (const auto& d : dead) {
    EXPECT_TRUE(d[0] == "field_too_large" || d[0] == "malformed_record") << d[0];
  }
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.batches WHERE rows_read <> rows_staged + rows_dead"), "0");
}

TEST(BadInput, EmptyFileIsAnEmptyBatch) {
  TempDir tmp;
  Project p = EmptyProject(tmp.path() + "/shop");
  WriteFileOrDie(p.Landing() + "/batch-0001.jsonl", "");
  WriteFileOrDie(p.Landing() + "/batch-0002.jsonl", "\n  \n");  // blank lines are not records
  WriteFileOrDie(p.Landing() + "/batch-0003.jsonl", std::string(kGood1) + kGood2);
  ProcessResult r = p.Sluice("run", {"--json"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  Json run = Json::parse(r.out);
  EXPECT_EQ(run["ingest"]["rows_read"], 2) << run.dump();
  EXPECT_EQ(run["ingest"]["rows_staged"], 2) << run.dump();
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM curated.orders"), "2");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.batches WHERE rows_read <> 0 AND "
                     "file NOT LIKE '%batch-0003.jsonl'"),
            "0");
  Json again = p.RunJson();
  ASSERT_FALSE(again.is_null());
  EXPECT_EQ(again["nothing_to_do"], true) << again.dump();
}

TEST(BadInput, CsvMissingARequiredColumn) {
  TempDir tmp;
  Project p = EmptyProject(tmp.path() + "/shop", "csv");
  WriteFileOrDie(p.Landing() + "/batch-0001.csv",
                 "order_id,tenant_id,status,amount,created_at\n"
                 "o1,t01,paid,12.30,2026-01-02T10:00:00Z\n"
                 "o2,t02,created,5,2026-01-03T11:00:00Z\n");
  ProcessResult r = p.Sluice("run", {"--json"});
  if (!r.ok()) {
    ExpectCleanFailure(r, "CSV without the seq column");
    EXPECT_NE(r.err.find("seq"), std::string::npos) << r.err;
    return;
  }
  Json run = Json::parse(r.out);
  EXPECT_EQ(run["ingest"]["rows_read"], 2) << run.dump();
  EXPECT_EQ(run["ingest"]["rows_dead"], 2) << run.dump();
  EXPECT_EQ(p.Rows("SELECT reason, column_name, count(*) FROM dlq.orders GROUP BY ALL"),
            (std::vector<std::vector<std::string>>{{"missing_required", "seq", "2"}}));
}

TEST(BadInput, HostileQueryIsRefusedWithoutDamage) {
  TempDir tmp;
  Project p = EmptyProject(tmp.path() + "/shop");
  WriteFileOrDie(p.Landing() + "/batch-0001.jsonl", std::string(kGood1) + kGood2);
  ASSERT_FALSE(p.RunJson().is_null());
  Snapshot before = TakeSnapshot(p);
  for (const char* sql :
       {"DELETE FROM curated.orders", "DROP TABLE meta.batches", "SELECT * FROM no_such_table", "SELEC 1",
        "COPY curated.orders TO '/tmp/sluice-e2e-exfil.csv'"}) {
    ProcessResult r = p.Sluice("query", {sql});
    ExpectCleanFailure(r, sql);
  }
  ExpectSameSnapshot(before, TakeSnapshot(p), "after hostile queries");
  EXPECT_FALSE(fs::exists("/tmp/sluice-e2e-exfil.csv"));
}

// The quality gate: batches failing a table test are quarantined (exit 3, naming the test), the
// published snapshot stays as it was until they are released.
TEST(QualityGate, FailingTestStopsPublishing) {
  TempDir tmp;
  OrderGeneratorOptions o;
  o.orders = 1000;
  o.batches = 4;
  o.seed = 61;
  Project p = MakeExampleProject(tmp.path() + "/shop", o);
  fs::create_directories(tmp.path() + "/held");
  for (const char* f : {"batch-0003.jsonl", "batch-0004.jsonl"}) {
    fs::rename(p.Landing() + "/" + f, tmp.path() + "/held/" + f);
  }
  ASSERT_FALSE(p.RunJson().is_null());
  DuckReader duck;
  const std::string cols = "order_id, status, CAST(amount AS VARCHAR), CAST(seq AS VARCHAR)";
  auto published = ReadPublished(duck, p, "curated", "orders", cols);
  ASSERT_FALSE(published.empty());
  std::string current = fs::read_symlink(p.Lake() + "/published/curated/orders/current");
  auto published_mart = ReadPublished(duck, p, "marts", "daily_revenue",
                                      "CAST(day AS VARCHAR), CAST(orders AS VARCHAR), "
                                      "CAST(revenue AS VARCHAR)");

  // Now 'cancelled' is not an accepted status, and new batches arrive with cancelled orders.
  std::string yaml = ReadFileOrDie(p.Path("sluice.yaml"));
  yaml.replace(yaml.find(", cancelled]"), 12, "]");
  WriteFileOrDie(p.Path("sluice.yaml"), yaml);
  for (const char* f : {"batch-0003.jsonl", "batch-0004.jsonl"}) {
    fs::rename(tmp.path() + "/held/" + f, p.Landing() + "/" + f);
  }
  // Both batches fail the test: they are quarantined (exit 3), nothing of them is visible.
  ProcessResult r = p.Sluice("run");
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_NE(r.out.find("QUARANTINED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("accepted_values(status)"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("quarantined"), std::string::npos) << r.err;
  EXPECT_EQ(fs::read_symlink(p.Lake() + "/published/curated/orders/current").string(), current);
  EXPECT_EQ(ReadPublished(duck, p, "curated", "orders", cols), published);
  EXPECT_EQ(ReadPublished(duck, p, "marts", "daily_revenue",
                          "CAST(day AS VARCHAR), CAST(orders AS VARCHAR), CAST(revenue AS VARCHAR)"),
            published_mart);
  EXPECT_TRUE(TempLeftovers(p.Lake()).empty()) << ::testing::PrintToString(TempLeftovers(p.Lake()));

  // With the test fixed and the quarantined batches released, the next run goes through and
  // publishes the whole state.
  WriteFileOrDie(p.Path("sluice.yaml"), ExampleSluiceYaml("jsonl"));
  Json listed = Json::parse(p.Sluice("batches", {"list", "--status", "quarantined", "--json"}).out);
  ASSERT_EQ(listed.size(), 2u) << listed.dump();
  for (const auto& b : listed) {
    ProcessResult rel = p.Sluice("batches", {"release", b["batch_id"].get<std::string>()});
    ASSERT_TRUE(rel.ok()) << rel.Describe();
  }
  ProcessResult fixed = p.Sluice("run", {"--json"});
  ASSERT_TRUE(fixed.ok()) << fixed.Describe();
  Json ex = Json::parse(ReadFileOrDie(p.Landing() + "/expected.json"));
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM curated.orders"), std::to_string(ex["orders"].get<int64_t>()));
  ExpectPublishedEqualsTables(duck, p, "after fixing the test");
}

}  // namespace
}  // namespace sluice::e2e
