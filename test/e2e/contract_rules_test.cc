// Contract rules and their evolution end to end, through the real binary (issue 9, defects 1, 5,
// 6 and 7):
//  - an empty or blank key is dead-lettered in JSONL, CSV and Parquet batches alike, the good
//    rows of the same batches are staged and curated, and every batch reconciles (G1);
//    allow_empty lets a required non-key column keep "", and is refused on a key column;
//  - a default may be added to a required column when no retained data reads it, and removing
//    a default that older retained files read is refused naming their versions;
//  - removing a column a curated table holds is refused naming the table, and accepted once the
//    table declares a column list without it;
//  - the "fix the contract, then redrive" workflow of docs/CONTRACTS.md, step by step.
#include <duckdb.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "harness.h"

namespace sluice::e2e {
namespace {

// ---- Empty values ---------------------------------------------------------------------------

// max_dead_ratio: 1 -- the small batches of these tests are mostly dead letters on purpose.
constexpr const char* kEmptySpec = R"(name: shop
lake: lake
sources:
  j:
    type: files
    path: landing/j/*.jsonl
    format: jsonl
    max_dead_ratio: 1
    contract: contracts/j.yaml
  c:
    type: files
    path: landing/c/*.csv
    format: csv
    max_dead_ratio: 1
    contract: contracts/c.yaml
  p:
    type: files
    path: landing/p/*.parquet
    format: parquet
    max_dead_ratio: 1
    contract: contracts/p.yaml
tables:
  j_orders: {from: j, key: [order_id], version: seq}
  c_orders: {from: c, key: [order_id], version: seq}
  p_orders: {from: p, key: [order_id], version: seq}
)";

// Each source's contract (named after it): `body`, its columns.
void WriteContracts(const Project& p, const std::string& body) {
  for (const std::string source : {"j", "c", "p"}) {
    WriteFileOrDie(p.Path("contracts/" + source + ".yaml"), "name: " + source + "\n" + body);
  }
}

std::string EmptyContract(const std::string& note_rule) {
  return "columns:\n"
         "  order_id: {type: string, required: true}\n"
         "  note:     {type: string, required: true" +
         note_rule +
         "}\n"
         "  seq:      {type: int64, required: true}\n";
}

TEST(ContractRules, EmptyAndBlankKeysAreDeadLetteredInEveryFormat) {
  TempDir tmp;
  Project p(tmp.path() + "/shop");
  WriteFileOrDie(p.Path("sluice.yaml"), kEmptySpec);
  WriteContracts(p, EmptyContract(", allow_empty: true"));
  // Per format: two good rows (one with an empty allow_empty note), an empty key, a blank key.
  WriteFileOrDie(p.Path("landing/j/b1.jsonl"),
                 "{\"order_id\":\"o1\",\"note\":\"a\",\"seq\":1}\n"
                 "{\"order_id\":\"\",\"note\":\"b\",\"seq\":1}\n"
                 "{\"order_id\":\"  \",\"note\":\"c\",\"seq\":1}\n"
                 "{\"order_id\":\"o2\",\"note\":\"\",\"seq\":1}\n"
                 "{\"order_id\":\"\",\"note\":\"d\",\"seq\":2}\n");
  WriteFileOrDie(p.Path("landing/c/b1.csv"),
                 "order_id,note,seq\n"
                 "o1,a,1\n"
                 "\"\",b,1\n"
                 "  ,c,1\n"
                 "o2,\"\",1\n"
                 "\"\",d,2\n");
  WriteParquet(
      "SELECT * FROM (VALUES ('o1', 'a', 1::BIGINT), ('', 'b', 1), ('  ', 'c', 1), "
      "('o2', '', 1), ('', 'd', 2)) t(order_id, note, seq)",
      p.Path("landing/p/b1.parquet"));
  ASSERT_FALSE(p.RunJson().is_null());

  for (const std::string s : {"j", "c", "p"}) {
    // The empty and blank keys are dead-lettered with the reason, naming the column.
    EXPECT_EQ(p.Rows("SELECT reason, column_name, count(*) FROM dlq." + s + " GROUP BY ALL"),
              (std::vector<std::vector<std::string>>{{"missing_required", "order_id", "3"}}))
        << s;
    // The good rows of the same batch are staged and curated: no curated row keyed "".
    EXPECT_EQ(
        p.Rows("SELECT order_id, note IS NULL, length(note) FROM curated." + s + "_orders ORDER BY order_id"),
        (std::vector<std::vector<std::string>>{{"o1", "false", "1"}, {"o2", "false", "0"}}))
        << s;
    EXPECT_EQ(p.Scalar("SELECT count(*) FROM staging." + s), "2") << s;
    // G1: every row read is staged or dead-lettered, and the ledger agrees with the DLQ.
    EXPECT_EQ(p.Rows("SELECT rows_read, rows_staged, rows_dead FROM meta.batches WHERE source = " + Quote(s)),
              (std::vector<std::vector<std::string>>{{"5", "2", "3"}}))
        << s;
  }

  // Dropping allow_empty narrows the contract (data written before may hold ""): under the
  // default full_transitive that is empty_refused, with a way to proceed.
  WriteContracts(p, EmptyContract(""));
  ProcessResult refused = p.Sluice("run");
  ExpectCleanFailure(refused, "allow_empty removed under full_transitive");
  EXPECT_NE(refused.err.find("empty_refused"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("to proceed: "), std::string::npos) << refused.err;

  // allow_empty on a key column is an error located in sluice.yaml, naming the contract line.
  WriteContracts(p,
                 "columns:\n"
                 "  order_id: {type: string, required: true, allow_empty: true}\n"
                 "  note:     {type: string, required: true}\n"
                 "  seq:      {type: int64, required: true}\n");
  ProcessResult bad = p.Sluice("run");
  ExpectCleanFailure(bad, "allow_empty on a key");
  EXPECT_NE(bad.err.find("sluice.yaml:"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("tables.j_orders.key"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("contracts/j.yaml:3"), std::string::npos) << bad.err;
}

// ---- Defaults and retained data -------------------------------------------------------------

// max_dead_ratio: 1 -- the small batches of these tests are mostly dead letters on purpose.
constexpr const char* kSpec = R"(name: shop
lake: lake
sources:
  orders:
    type: files
    path: landing/orders/*.jsonl
    format: jsonl
    max_dead_ratio: 1
    contract: contracts/orders.yaml
tables:
  orders: {from: orders, key: [order_id], version: seq}
)";

std::string Line(const std::string& id, const std::string& extra = "") {
  return "{\"order_id\":\"" + id + "\",\"seq\":1,\"amount\":100" + extra + "}\n";
}

TEST(ContractRules, DefaultsChangeUnlessRetainedDataReadsThem) {
  TempDir tmp;
  Project p(tmp.path() + "/shop");
  WriteFileOrDie(p.Path("sluice.yaml"), kSpec);
  const std::string head =
      "name: orders\ncolumns:\n"
      "  order_id: {type: string, required: true}\n"
      "  seq:      {type: int64, required: true}\n"
      "  amount:   {type: int64}\n";
  // v1: `region` is a required column without a default.
  WriteFileOrDie(p.Path("contracts/orders.yaml"), head + "  region: {type: string, required: true}\n");
  WriteFileOrDie(p.Landing() + "/b1.jsonl", Line("o1", ",\"region\":\"eu\""));
  ASSERT_FALSE(p.RunJson().is_null());
  EXPECT_EQ(p.Scalar("SELECT schema_version FROM meta.batches"), "1");

  // v2: a default added to the required column: every retained file has the column.
  WriteFileOrDie(p.Path("contracts/orders.yaml"),
                 head + "  region: {type: string, required: true, default: eu}\n");
  ProcessResult check = p.Sluice("schema", {"check"});
  EXPECT_TRUE(check.ok()) << check.Describe();
  ASSERT_FALSE(p.RunJson().is_null());
  EXPECT_EQ(p.Scalar("SELECT max(version) FROM meta.schemas"), "2");

  // v3: an added column with a default. b2 is written under v3 with it; b1 (written under v1)
  // lacks it, so its rows read the default.
  WriteFileOrDie(p.Path("contracts/orders.yaml"),
                 head +
                     "  region: {type: string, required: true, default: eu}\n"
                     "  channel: {type: string, required: true, default: web}\n");
  WriteFileOrDie(p.Landing() + "/b2.jsonl", Line("o2", ",\"region\":\"us\",\"channel\":\"app\""));
  ASSERT_FALSE(p.RunJson().is_null());
  EXPECT_EQ(p.Rows("SELECT order_id, channel FROM staging.orders ORDER BY order_id"),
            (std::vector<std::vector<std::string>>{{"o1", "web"}, {"o2", "app"}}));
  EXPECT_EQ(p.Rows("SELECT schema_version FROM meta.batches ORDER BY batch_seq"),
            (std::vector<std::vector<std::string>>{{"1"}, {"3"}}));

  // Removing channel's default: b1, written under v1, reads it. Refused, naming v1. (Under
  // `backward` no rule of the mode refuses it: only the lake's data does.)
  const auto curated_before = p.Rows("SELECT * FROM curated.orders ORDER BY ALL");
  WriteFileOrDie(p.Path("contracts/orders.yaml"),
                 "compatibility: backward\n" + head +
                     "  region: {type: string, required: true, default: eu}\n"
                     "  channel: {type: string, required: true}\n");
  check = p.Sluice("schema", {"check"});
  ExpectCleanFailure(check, "check: default removed");
  EXPECT_NE(check.out.find("default_changed"), std::string::npos) << check.out;
  ProcessResult run = p.Sluice("run");
  ExpectCleanFailure(run, "run: default removed");
  for (const char* part :
       {"column channel", "default_changed", "written under v1 (1 batch)", "lacks column channel"}) {
    EXPECT_NE(run.err.find(part), std::string::npos) << part << " missing in: " << run.err;
  }
  EXPECT_EQ(run.err.find("column region"), std::string::npos) << run.err;
  EXPECT_EQ(p.Rows("SELECT * FROM curated.orders ORDER BY ALL"), curated_before);
  EXPECT_EQ(p.Scalar("SELECT max(version) FROM meta.schemas"), "3");

  // Removing region's default is fine: every retained file (v1, v3) has region.
  WriteFileOrDie(p.Path("contracts/orders.yaml"),
                 "compatibility: backward\n" + head +
                     "  region: {type: string, required: true}\n"
                     "  channel: {type: string, required: true, default: web}\n");
  ASSERT_FALSE(p.RunJson().is_null());
  EXPECT_EQ(p.Scalar("SELECT max(version) FROM meta.schemas"), "4");
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM curated.orders"), "2");
}

// ---- Lineage: columns a curated table holds -------------------------------------------------

TEST(ContractRules, RemovingAColumnACuratedTableHoldsIsRefused) {
  TempDir tmp;
  Project p(tmp.path() + "/shop");
  WriteFileOrDie(p.Path("sluice.yaml"), kSpec);
  const std::string head =
      "name: orders\ncompatibility: backward\ncolumns:\n"
      "  order_id: {type: string, required: true}\n"
      "  seq:      {type: int64, required: true}\n";
  WriteFileOrDie(p.Path("contracts/orders.yaml"), head + "  amount: {type: int64}\n");
  WriteFileOrDie(p.Landing() + "/b1.jsonl", Line("o1"));
  ASSERT_FALSE(p.RunJson().is_null());
  // `amount` is no key, version, partition or test column and no mart reads it; the curated
  // table holds and publishes it all the same.
  WriteFileOrDie(p.Path("contracts/orders.yaml"), head);
  ProcessResult check = p.Sluice("schema", {"check"});
  ExpectCleanFailure(check, "check: held column removed");
  EXPECT_NE(check.out.find("used_downstream"), std::string::npos) << check.out;
  ProcessResult run = p.Sluice("run");
  ExpectCleanFailure(run, "run: held column removed");
  for (const char* part : {"column amount", "used_downstream", "curated.orders (holds and publishes it)",
                           "sluice schema accept orders --column amount --rule used_downstream"}) {
    EXPECT_NE(run.err.find(part), std::string::npos) << part << " missing in: " << run.err;
  }
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.schemas"), "1");

  // The table declares a column list without amount: the removal is accepted. The old rows keep
  // their value; new rows read NULL.
  std::string spec = kSpec;
  const std::string table = "orders: {from: orders, key: [order_id], version: seq}";
  spec.replace(spec.find(table), table.size(),
               "orders: {from: orders, key: [order_id], version: seq, columns: [order_id]}");
  WriteFileOrDie(p.Path("sluice.yaml"), spec);
  check = p.Sluice("schema", {"check"});
  EXPECT_TRUE(check.ok()) << check.Describe();
  WriteFileOrDie(p.Landing() + "/b2.jsonl", Line("o2"));
  ASSERT_FALSE(p.RunJson().is_null());
  EXPECT_EQ(p.Scalar("SELECT count(*) FROM meta.schemas"), "2");
  EXPECT_EQ(p.Rows("SELECT order_id, amount FROM curated.orders ORDER BY order_id"),
            (std::vector<std::vector<std::string>>{{"o1", "100"}, {"o2", "NULL"}}));
}

// ---- Fix the contract, then redrive (docs/CONTRACTS.md) --------------------------------------

TEST(ContractRules, FixTheContractThenRedrive) {
  TempDir tmp;
  Project p(tmp.path() + "/shop");
  WriteFileOrDie(p.Path("sluice.yaml"), kSpec);
  const std::string head =
      "name: orders\ncolumns:\n"
      "  order_id: {type: string, required: true}\n"
      "  seq:      {type: int64, required: true}\n";
  // 1. Rows above max: 300 are dead-lettered as out_of_range.
  WriteFileOrDie(p.Path("contracts/orders.yaml"), head + "  amount: {type: int64, max: 300}\n");
  WriteFileOrDie(p.Landing() + "/b1.jsonl", Line("o1") + "{\"order_id\":\"o2\",\"seq\":1,\"amount\":450}\n" +
                                                "{\"order_id\":\"o3\",\"seq\":1,\"amount\":5000}\n");
  ASSERT_FALSE(p.RunJson().is_null());
  EXPECT_EQ(p.Rows("SELECT reason, count(*) FROM dlq.orders GROUP BY ALL"),
            (std::vector<std::vector<std::string>>{{"out_of_range", "2"}}));

  // 2. Loosen the rule. Under the default full_transitive that is range_widened (forward); the
  //    refusal says how to proceed.
  WriteFileOrDie(p.Path("contracts/orders.yaml"), head + "  amount: {type: int64, max: 1000}\n");
  ProcessResult run = p.Sluice("run");
  ExpectCleanFailure(run, "run: max raised under full_transitive");
  for (const char* part : {"range_widened (forward, full_transitive, against v1)",
                           "to proceed: compatibility backward, backward_transitive, none or "
                           "none_transitive allows it",
                           "sluice schema accept orders --column amount --rule range_widened"}) {
    EXPECT_NE(run.err.find(part), std::string::npos) << part << " missing in: " << run.err;
  }

  // 3. Accept the change once. A refusal the contract does not have cannot be accepted.
  ExpectCleanFailure(p.Sluice("schema", {"accept", "orders", "--column", "amount", "--rule", "type_changed"}),
                     "accepting a refusal that is not there");
  ProcessResult accept =
      p.Sluice("schema", {"accept", "orders", "--column", "amount", "--rule", "range_widened"});
  ASSERT_TRUE(accept.ok()) << accept.Describe();
  EXPECT_NE(accept.out.find("registers it as v2"), std::string::npos) << accept.out;
  ProcessResult check = p.Sluice("schema", {"check"});
  EXPECT_TRUE(check.ok()) << check.Describe();
  ASSERT_FALSE(p.RunJson().is_null());
  EXPECT_EQ(p.Rows("SELECT source, column_name, rule, version FROM meta.schema_acceptances"),
            (std::vector<std::vector<std::string>>{{"orders", "amount", "range_widened", "2"}}));
  EXPECT_EQ(p.Scalar("SELECT max(version) FROM meta.schemas"), "2");

  // 4. Redrive: the rows the looser rule admits land; the one still above it stays.
  ProcessResult redrive = p.Sluice("dlq", {"redrive", "orders"});
  ASSERT_TRUE(redrive.ok()) << redrive.Describe();
  ASSERT_FALSE(p.RunJson().is_null());
  EXPECT_EQ(p.Rows("SELECT order_id, amount FROM curated.orders ORDER BY order_id"),
            (std::vector<std::vector<std::string>>{{"o1", "100"}, {"o2", "450"}}));
  EXPECT_EQ(p.Rows("SELECT status, reason, count(*) FROM dlq.orders GROUP BY ALL ORDER BY ALL"),
            (std::vector<std::vector<std::string>>{{"open", "out_of_range", "1"},
                                                   {"redriven", "out_of_range", "1"}}));

  // The acceptance was one-off: widening again is refused again (against v2).
  WriteFileOrDie(p.Path("contracts/orders.yaml"), head + "  amount: {type: int64, max: 10000}\n");
  run = p.Sluice("run");
  ExpectCleanFailure(run, "run: max raised again");
  EXPECT_NE(run.err.find("range_widened (forward, full_transitive, against v2)"), std::string::npos)
      << run.err;
}

}  // namespace
}  // namespace sluice::e2e
