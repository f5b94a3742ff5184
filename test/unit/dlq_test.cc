// The DLQ's identity and state (dlq_id, status, redriven_batch), redrive (re-validation against
// the fixed contract, one new batch with lineage, never loaded twice, G1 of the redrive batch)
// and vacuum (dlq.retention).
#include <gtest/gtest.h>

#include <string>

#include "engine/redrive.h"
#include "engine/vacuum.h"
#include "support/test_project.h"

namespace sluice {
namespace {

using testing::AllowDeadLetters;
using testing::Order;
using testing::OrdersSpec;

// The orders contract (compatibility none, so tests may change it freely) with one check;
// `extra_status` is added to the status enum (the "fix").
std::string Contract(const std::string& extra_status = "") {
  return "name: orders\ncompatibility: none\ncolumns:\n"
         "  order_id:   {type: string, required: true}\n"
         "  tenant_id:  {type: string, required: true}\n"
         "  status:     {type: string, enum: [created, paid, shipped, delivered, cancelled" +
         (extra_status.empty() ? "" : ", " + extra_status) +
         "]}\n"
         "  amount:     {type: decimal(12,2), min: 0}\n"
         "  created_at: {type: timestamp, required: true}\n"
         "  seq:        {type: int64, required: true}\n"
         "checks:\n  - {name: small, expr: \"amount <= 100\"}\n";
}

class DlqTest : public testing::ProjectTest {
 protected:
  DlqTest() : ProjectTest("sluice_dlq_test") {}
  void SetUp() override {
    Write("sluice.yaml", AllowDeadLetters(OrdersSpec()));
    Write("contracts/orders.yaml", Contract());
    OpenEngine();
  }
  IngestOutcome Ingest(const std::string& name, const std::string& text) {
    Write("landing/orders/" + name, text);
    auto r = engine_->IngestFile("orders", dir_ + "/landing/orders/" + name);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : IngestOutcome{};
  }
  RedriveOutcome Redrive(const std::string& reason = "") {
    auto r = sluice::Redrive(*engine_, "orders", reason);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RedriveOutcome{};
  }
  // Two batches: b1 with a not_in_enum row (o2), a check_failed row (o3) and a malformed one;
  // b2 with another not_in_enum row (o5).
  void IngestBadRows() {
    Ingest("b1.jsonl", Order("o1", "t1", "paid", "5", "2026-01-02", 1) +
                           Order("o2", "t1", "refunded", "5", "2026-01-02", 1) +
                           Order("o3", "t1", "paid", "500", "2026-01-02", 1) + "{oops\n");
    Ingest("b2.jsonl", Order("o5", "t2", "refunded", "7", "2026-01-03", 2) +
                           Order("o6", "t2", "paid", "7", "2026-01-03", 2));
  }
};

TEST_F(DlqTest, RowsGetIdsUniqueAcrossBatchesInLineOrderAndStatusOpen) {
  IngestBadRows();
  EXPECT_EQ(Q("SELECT dlq_id, line, status, redriven_batch FROM dlq.orders ORDER BY dlq_id"),
            "1|2|open|NULL\n2|3|open|NULL\n3|4|open|NULL\n4|1|open|NULL\n");
  EXPECT_EQ(Int("SELECT value FROM meta.counters WHERE name = 'dlq_id'"), 4);
}

TEST_F(DlqTest, LakesFromBeforeGetIdsOnOpen) {
  IngestBadRows();
  ASSERT_TRUE(conn()
                  .Execute("ALTER TABLE dlq.orders DROP COLUMN dlq_id;"
                           "ALTER TABLE dlq.orders DROP COLUMN status;"
                           "ALTER TABLE dlq.orders DROP COLUMN redriven_batch;"
                           "DROP TABLE meta.counters;"
                           "ALTER TABLE meta.batches DROP COLUMN parent_batches;"
                           "ALTER TABLE meta.batches DROP COLUMN csv_header")
                  .ok());
  OpenEngine();
  EXPECT_EQ(Int("SELECT count(DISTINCT dlq_id) FROM dlq.orders WHERE status = 'open'"), 4);
  EXPECT_EQ(Int("SELECT value FROM meta.counters WHERE name = 'dlq_id'"), 4);
  Ingest("b3.jsonl", "[]\n");
  EXPECT_EQ(Int("SELECT dlq_id FROM dlq.orders WHERE raw = '[]'"), 5);
}

TEST_F(DlqTest, RedriveLoadsRowsThatNowPassAsOneBatchWithLineage) {
  IngestBadRows();
  Write("contracts/orders.yaml", Contract("refunded"));
  OpenEngine();
  RedriveOutcome r = Redrive();
  // o2 and o5 now pass; o3 still fails its check; the malformed row still fails.
  EXPECT_EQ(r.rows_read, 4);
  EXPECT_EQ(r.rows_staged, 2);
  EXPECT_EQ(r.rows_dead, 2);
  EXPECT_EQ(r.redriven_ids, (std::vector<int64_t>{1, 4}));
  ASSERT_EQ(r.parent_batches.size(), 2u);
  EXPECT_EQ(r.batch_id.rfind("redrive-", 0), 0u);
  EXPECT_EQ(Q("SELECT rows_read, rows_staged, rows_dead, parent_batches = '" + r.parent_batches[0] + "," +
              r.parent_batches[1] + "' FROM meta.batches WHERE batch_id = '" + r.batch_id + "'"),
            "4|2|2|true\n");
  EXPECT_EQ(Q("SELECT dlq_id, status, redriven_batch IS NOT NULL FROM dlq.orders ORDER BY 1"),
            "1|redriven|true\n2|open|false\n3|open|false\n4|redriven|true\n");
  // Staged rows of the redrive batch carry their dlq_id as _source_line.
  EXPECT_EQ(Q("SELECT order_id, status, _source_line FROM staging.orders WHERE _batch_id = '" + r.batch_id +
              "' ORDER BY 1"),
            "o2|refunded|1\no5|refunded|4\n");
  Run();
  EXPECT_EQ(Q("SELECT order_id FROM curated.orders ORDER BY 1"), "o1\no2\no5\no6\n");

  // Twice: nothing passes any more, nothing is loaded, no batch is committed.
  RedriveOutcome again = Redrive();
  EXPECT_EQ(again.rows_read, 2);
  EXPECT_EQ(again.rows_staged, 0);
  EXPECT_TRUE(again.batch_id.empty());
  EXPECT_EQ(Int("SELECT count(*) FROM meta.batches"), 3);
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders"), 4);  // o1, o6, and o2, o5 redriven
}

TEST_F(DlqTest, RowsThatStillFailKeepTheirIdentityWithTheNewReason) {
  IngestBadRows();
  // A fix that makes the check pass for o3 and accepts "refunded", but adds a minimum.
  std::string contract = Contract("refunded");
  contract.replace(contract.find("amount <= 100"), 13, "amount <= 1000");
  contract.replace(contract.find("{type: decimal(12,2), min: 0}"), 29, "{type: decimal(12,2), min: 6}");
  Write("contracts/orders.yaml", contract);
  OpenEngine();
  RedriveOutcome r = Redrive("check_failed");
  EXPECT_EQ(r.rows_read, 1);
  EXPECT_EQ(r.rows_staged, 1);  // o3: 500 is within both now
  EXPECT_EQ(Q("SELECT dlq_id, reason, status FROM dlq.orders ORDER BY 1"),
            "1|not_in_enum|open\n2|check_failed|redriven\n3|malformed_record|open\n4|not_in_enum|open\n");
  RedriveOutcome all = Redrive();
  EXPECT_EQ(all.rows_read, 3);
  EXPECT_EQ(all.rows_staged, 1);  // o5 (amount 7)
  // o2's amount 5 is now below the minimum: same row, new reason, column and message.
  EXPECT_EQ(Q("SELECT dlq_id, reason, column_name, line FROM dlq.orders WHERE status = 'open' "
              "ORDER BY 1"),
            "1|out_of_range|amount|2\n3|malformed_record|NULL|4\n");
}

TEST_F(DlqTest, CsvRowsAreReparsedWithTheirBatchHeader) {
  Write("sluice.yaml", R"(name: shop
sources:
  orders:
    type: files
    path: landing/orders/*.csv
    format: csv
    max_dead_ratio: 1
    contract: contracts/orders.yaml
tables:
  orders: {from: orders, key: [order_id], version: seq}
)");
  OpenEngine();
  // The second batch orders its columns differently: each row needs its own batch's header.
  Ingest("a.csv",
         "order_id,tenant_id,status,amount,created_at,seq\n"
         "c1,t1,refunded,5,2026-01-02T10:00:00Z,1\n"
         "c2,t1,paid,5,2026-01-02T10:00:00Z,1\n");
  Ingest("b.csv",
         "seq,created_at,amount,status,tenant_id,order_id\n"
         "1,2026-01-02T10:00:00Z,9,refunded,t2,c3\n"
         "\"1,bad\n");
  Write("contracts/orders.yaml", Contract("refunded"));
  OpenEngine();
  RedriveOutcome r = Redrive();
  EXPECT_EQ(r.rows_read, 3);
  EXPECT_EQ(r.rows_staged, 2);
  EXPECT_EQ(r.rows_dead, 1);
  Run();
  EXPECT_EQ(Q("SELECT order_id, tenant_id, status, amount FROM curated.orders ORDER BY 1"),
            "c1|t1|refunded|5.00\nc2|t1|paid|5.00\nc3|t2|refunded|9.00\n");
}

TEST_F(DlqTest, VacuumDeletesOnlyRowsOlderThanTheRetention) {
  IngestBadRows();
  // Without a retention nothing is deleted.
  auto v = Vacuum(*engine_);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_FALSE(v->dlq_retention_seconds.has_value());
  EXPECT_EQ(Int("SELECT count(*) FROM dlq.orders"), 4);

  Write("sluice.yaml", AllowDeadLetters(OrdersSpec()) + "dlq: {retention: 30d}\n");
  OpenEngine();
  ASSERT_TRUE(conn()
                  .Execute("UPDATE dlq.orders SET ingested_at = ingested_at - INTERVAL 31 DAY"
                           " WHERE dlq_id IN (1, 4)")
                  .ok());
  v = Vacuum(*engine_);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v->dlq_retention_seconds, 30 * 86400);
  EXPECT_EQ(v->dlq_rows_deleted["orders"], 2);
  EXPECT_EQ(Q("SELECT dlq_id FROM dlq.orders ORDER BY 1"), "2\n3\n");
  // Ids are never reused after the newest rows were deleted.
  Ingest("b3.jsonl", "[]\n");
  EXPECT_EQ(Int("SELECT max(dlq_id) FROM dlq.orders"), 5);
}

TEST_F(DlqTest, RetentionMustBeADuration) {
  engine_.reset();
  Write("sluice.yaml", AllowDeadLetters(OrdersSpec()) + "dlq:\n  retention: forever\n");
  auto spec = LoadProject(dir_);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(spec.status().message().find("sluice.yaml:"), std::string::npos);
  EXPECT_NE(spec.status().message().find("dlq.retention"), std::string::npos);
  Write("sluice.yaml", AllowDeadLetters(OrdersSpec()) + "dlq: {retention: 12h}\n");
  spec = LoadProject(dir_);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->retention.dlq_seconds, 12 * 3600);
}

TEST_F(DlqTest, RedriveOfAnUnknownSourceIsNotFound) {
  auto r = sluice::Redrive(*engine_, "nope", "");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace sluice
