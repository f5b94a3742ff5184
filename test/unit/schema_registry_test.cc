// The schema registry (meta.schemas): fingerprints, JSON round trip, versions; and schema
// evolution on Engine::Open: v1 registered, unchanged is a no-op, an additive change evolves
// curated (old rows read the default), an incompatible one is refused with nothing changed.
#include "catalog/schema_registry.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/engine.h"
#include "support/test_project.h"

namespace sluice {
namespace {

using testing::kOrdersColumns;
using testing::Order;
using testing::OrdersSpec;

Contract Parse(const std::string& text) {
  auto c = ParseContract(text, "c.yaml");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : Contract{};
}

TEST(SchemaFingerprintTest, IgnoresOrderLayoutAndModeButNotRules) {
  Contract a = Parse("name: t\ncolumns:\n  x: {type: int64}\n  y: {type: string, enum: [p, q]}\n");
  Contract b = Parse(
      "name: t\ncompatibility: none\n# comment\ncolumns:\n"
      "  y:   {type: string, enum: [q, p]}\n  x:   {type: int64}\n");
  EXPECT_EQ(SchemaFingerprint(a), SchemaFingerprint(b));
  EXPECT_EQ(SchemaFingerprint(a).size(), 32u);
  Contract c = Parse("name: t\ncolumns:\n  x: {type: int32}\n  y: {type: string, enum: [p, q]}\n");
  EXPECT_NE(SchemaFingerprint(a), SchemaFingerprint(c));
  Contract d =
      Parse("name: t\ncolumns:\n  x: {type: int64, default: 1}\n  y: {type: string, enum: [p, q]}\n");
  EXPECT_NE(SchemaFingerprint(a), SchemaFingerprint(d));
}

TEST(SchemaJsonTest, RoundTripsEveryRule) {
  Contract a = Parse(
      "name: t\ncompatibility: backward\ncolumns:\n"
      "  x: {type: \"decimal(12,2)\", required: true, min: 0, max: 10.5, default: \"1.5\"}\n"
      "  y: {type: string, enum: [b, a], pattern: \"[ab]\", max_length: 4, allow_empty: true}\n"
      "checks: [{name: pos, expr: \"x > 0\"}]\n");
  auto back = ContractFromJson("t", "backward", ColumnsToJson(a), ChecksToJson(a));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->columns.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    ColumnSpec expected = a.columns[i];
    expected.line = expected.default_line = expected.default_column = 0;  // positions are not stored
    EXPECT_EQ(back->columns[i], expected) << i;
  }
  ASSERT_EQ(back->checks.size(), 1u);
  EXPECT_EQ(back->checks[0].expr, "x > 0");
  EXPECT_EQ(SchemaFingerprint(*back), SchemaFingerprint(a));
  EXPECT_EQ(ContractFromJson("t", "full", "{not json", "[]").status().code(), StatusCode::kCorruption);
}

class SchemaEvolutionTest : public testing::ProjectTest {
 protected:
  SchemaEvolutionTest() : ProjectTest("sluice_schema_test") {}
  void SetUp() override {
    Write("sluice.yaml", OrdersSpec());
    Write("contracts/orders.yaml", std::string("name: orders\n") + kOrdersColumns);
    Write("landing/orders/b1.jsonl", Order("o1", "t1", "paid", "10.50", "2026-01-03", 1) +
                                         Order("o2", "t1", "created", "5", "2026-01-03", 1));
    OpenEngine();
  }
  int64_t Versions() { return Int("SELECT count(*) FROM meta.schemas WHERE source = 'orders'"); }
};

TEST_F(SchemaEvolutionTest, FirstOpenRegistersV1AndUnchangedIsANoOp) {
  EXPECT_EQ(Versions(), 1);
  auto latest = LatestSchema(cat(), "orders");
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->version, 1);
  EXPECT_EQ((*latest)->contract.columns.size(), 6u);
  EXPECT_EQ((*latest)->contract.compatibility, "full_transitive");
  EXPECT_EQ((*latest)->fingerprint, SchemaFingerprint(cat().spec().sources[0].contract));
  Run();
  OpenEngine();
  EXPECT_EQ(Versions(), 1);
}

TEST_F(SchemaEvolutionTest, AdditiveChangeEvolvesCuratedAndOldRowsReadTheDefault) {
  Run();
  Write("contracts/orders.yaml", std::string("name: orders\n") + kOrdersColumns +
                                     "  channel:    {type: string, default: web}\n"
                                     "  note:       {type: string}\n");
  OpenEngine();
  EXPECT_EQ(Versions(), 2);
  EXPECT_EQ(Q("SELECT order_id, channel, coalesce(note, 'NULL') FROM curated.orders ORDER BY 1"),
            "o1|web|NULL\no2|web|NULL\n");
  EXPECT_EQ(Q("SELECT order_id, channel FROM staging.orders ORDER BY 1"), "o1|web\no2|web\n");
  // The published copy is rebuilt: the table has a new version and everything is pending.
  EXPECT_EQ(Q("SELECT count(*) FROM meta.publish_pending WHERE table_name = 'orders' AND day IS NULL"),
            "1\n");
  Write("landing/orders/b2.jsonl",
        "{\"order_id\":\"o3\",\"tenant_id\":\"t1\",\"status\":\"paid\",\"amount\":1,"
        "\"created_at\":\"2026-01-04T10:00:00Z\",\"seq\":1,\"channel\":\"app\",\"note\":\"n\"}\n");
  Run();
  EXPECT_EQ(Q("SELECT order_id, channel, coalesce(note, 'NULL') FROM curated.orders ORDER BY 1"),
            "o1|web|NULL\no2|web|NULL\no3|app|n\n");
  EXPECT_EQ(Q("SELECT order_id, channel FROM staging.orders ORDER BY 1"), "o1|web\no2|web\no3|app\n");
  // A full refresh re-reads the old files: the same result.
  Run(/*full_refresh=*/true);
  EXPECT_EQ(Q("SELECT order_id, channel, coalesce(note, 'NULL') FROM curated.orders ORDER BY 1"),
            "o1|web|NULL\no2|web|NULL\no3|app|n\n");
}

TEST_F(SchemaEvolutionTest, IncompatibleChangeIsRefusedAndNothingChanges) {
  Run();
  const std::string before = Q("SELECT * FROM curated.orders ORDER BY ALL");
  engine_.reset();
  // full_transitive (the default): a required column without a default cannot be added.
  Write("contracts/orders.yaml",
        std::string("name: orders\n") + kOrdersColumns + "  region:     {type: string, required: true}\n");
  auto e = Engine::Open(dir_);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  const std::string& m = e.status().message();
  EXPECT_NE(m.find("contracts/orders.yaml"), std::string::npos) << m;
  EXPECT_NE(m.find("column region"), std::string::npos) << m;
  EXPECT_NE(m.find("column_added_without_default"), std::string::npos) << m;
  EXPECT_NE(m.find("full_transitive"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  // Back to v1: nothing was registered or altered.
  Write("contracts/orders.yaml", std::string("name: orders\n") + kOrdersColumns);
  OpenEngine();
  EXPECT_EQ(Versions(), 1);
  EXPECT_EQ(Q("SELECT * FROM curated.orders ORDER BY ALL"), before);
}

// Issue 9 defect 5: each batch records the contract version it was staged under.
TEST_F(SchemaEvolutionTest, BatchesRecordTheirContractVersion) {
  Run();
  auto retained = RetainedStagingVersions(cat(), "orders");
  ASSERT_TRUE(retained.ok()) << retained.status().ToString();
  EXPECT_EQ(*retained, (RetainedVersions{{1, 1}}));
  // A batch from before versions were recorded counts under version 0; a dropped one not at all.
  ASSERT_TRUE(cat().conn().Execute("UPDATE meta.batches SET schema_version = NULL").ok());
  retained = RetainedStagingVersions(cat(), "orders");
  ASSERT_TRUE(retained.ok());
  EXPECT_EQ(*retained, (RetainedVersions{{0, 1}}));
  ASSERT_TRUE(cat().conn().Execute("UPDATE meta.batches SET status = 'dropped'").ok());
  retained = RetainedStagingVersions(cat(), "orders");
  ASSERT_TRUE(retained.ok());
  EXPECT_TRUE(retained->empty());
}

// Issue 9 defect 7: an acceptance is pending for its fingerprint until that contract is
// registered, then it carries the version.
TEST_F(SchemaEvolutionTest, AcceptancesGetTheirVersionWhenRegistered) {
  Contract next = Parse(std::string("name: orders\n") + kOrdersColumns + "  note: {type: string}\n");
  const std::string fp = SchemaFingerprint(next);
  ASSERT_TRUE(RecordAcceptance(cat(), "orders", fp, "amount", "range_widened").ok());
  auto pending = FindAcceptances(cat(), "orders", fp);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].version, 0);
  auto other = FindAcceptances(cat(), "orders", "another fingerprint");
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());  // pending acceptances belong to their contract only
  auto v = RegisterSchema(cat(), "orders", next);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->version, 2);
  other = FindAcceptances(cat(), "orders", "another fingerprint");
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(other->size(), 1u);
  EXPECT_EQ((*other)[0].version, 2);
  EXPECT_EQ((*other)[0].rule, "range_widened");
}

TEST_F(SchemaEvolutionTest, WideningIsAllowedByABackwardMode) {
  Write("contracts/orders.yaml",
        "name: orders\ncompatibility: backward\ncolumns:\n"
        "  order_id:   {type: string, required: true}\n"
        "  tenant_id:  {type: string, required: true}\n"
        "  status:     {type: string}\n"
        "  amount:     {type: \"decimal(12,2)\"}\n"
        "  created_at: {type: timestamp, required: true}\n"
        "  seq:        {type: int64, required: true}\n"
        "  qty:        {type: int32}\n");
  OpenEngine();
  Write("landing/orders/b2.jsonl",
        "{\"order_id\":\"o3\",\"tenant_id\":\"t1\",\"amount\":1,\"qty\":7,"
        "\"created_at\":\"2026-01-04T10:00:00Z\",\"seq\":1}\n");
  Run();
  Write("contracts/orders.yaml",
        "name: orders\ncompatibility: backward\ncolumns:\n"
        "  order_id:   {type: string, required: true}\n"
        "  tenant_id:  {type: string, required: true}\n"
        "  status:     {type: string}\n"
        "  amount:     {type: \"decimal(14,2)\"}\n"
        "  created_at: {type: timestamp, required: true}\n"
        "  seq:        {type: int64, required: true}\n"
        "  qty:        {type: int64}\n");
  OpenEngine();
  EXPECT_EQ(Q("SELECT data_type FROM duckdb_columns() WHERE table_name = 'orders' AND "
              "schema_name = 'curated' AND column_name IN ('qty', 'amount') ORDER BY column_name"),
            "DECIMAL(14,2)\nBIGINT\n");
  EXPECT_EQ(Q("SELECT typeof(qty), typeof(amount) FROM staging.orders LIMIT 1"), "BIGINT|DECIMAL(14,2)\n");
  EXPECT_EQ(Q("SELECT sum(qty) FROM curated.orders"), "7\n");
  auto history = SchemaHistory(cat(), "orders");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[2].contract.columns[6].type.Name(), "int64");
}

}  // namespace
}  // namespace sluice
