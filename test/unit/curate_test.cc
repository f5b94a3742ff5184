// Curate: merge by key with highest-version-wins semantics (G3), touched partitions, and the
// quality gates that quarantine a failing batch.
#include "transform/curate.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "engine/engine.h"
#include "spec/spec.h"
#include "support/test_project.h"
#include "transform/quarantine.h"

namespace sluice {
namespace {

using testing::AllowDeadLetters;
using testing::Dump;
using testing::kOrdersContract;
using testing::Order;
using testing::OrdersSpec;

// The business content of curated.orders, with the batch each row came from.
constexpr const char* kContent =
    "SELECT order_id, tenant_id, coalesce(status, 'NULL'), CAST(amount AS VARCHAR),"
    " CAST(CAST(created_at AS DATE) AS VARCHAR), seq, _batch_id FROM curated.orders ORDER BY ALL";

// One project directory with its own lake.
class Project {
 public:
  explicit Project(const std::string& yaml, const std::string& contract = kOrdersContract)
      : tmp_("sluice_curate_test"), dir_(tmp_.path()) {
    Write("sluice.yaml", yaml);
    Write("contracts/orders.yaml", contract);
    engine_ = testing::OpenEngine(dir_);
  }

  void Write(const std::string& rel, const std::string& text) { testing::WriteFile(dir_, rel, text); }
  // Ingests `text` as batch `id` (from a file outside the source's glob).
  void Ingest(const std::string& id, const std::string& text, int64_t dead = 0) {
    Write("in/" + id + ".jsonl", text);
    auto r = engine_->IngestFile("orders", dir_ + "/in/" + id + ".jsonl", id);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_FALSE(r->duplicate);
    ASSERT_EQ(r->rows_dead, dead);
  }
  Result<CurateResult> Curate(bool full_refresh = false) {
    return CurateTable(cat(), *engine_->spec().FindTable("orders"), full_refresh);
  }
  CurateResult CurateOk(bool full_refresh = false) {
    auto r = Curate(full_refresh);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : CurateResult{};
  }
  Catalog& cat() { return engine_->catalog(); }
  std::string Q(const std::string& sql) { return Dump(cat().conn(), sql); }
  int64_t Int(const std::string& sql) { return testing::QueryInt(cat().conn(), sql); }
  bool ok() const { return engine_ != nullptr; }

 private:
  testing::TempDir tmp_;
  const std::string dir_;
  std::unique_ptr<Engine> engine_;  // after tmp_: closed before the directory is removed
};

TEST(CurateTest, HighestVersionWinsLateOlderLosesEqualLaterWins) {
  Project p(OrdersSpec("[order_id]"));
  ASSERT_TRUE(p.ok());
  p.Ingest("b1", Order("o1", "t1", "created", "10.00", "2026-01-01", 1) +
                     Order("o1", "t1", "paid", "11.00", "2026-01-01", 3) +
                     Order("o2", "t1", "created", "5.00", "2026-01-01", 1));
  CurateResult r1 = p.CurateOk();
  EXPECT_EQ(r1.batches, 1);
  EXPECT_EQ(r1.rows_in, 2);  // the winner per key among the batch's rows
  EXPECT_EQ(r1.rows_merged, 2);
  EXPECT_EQ(p.Q(kContent),
            "o1|t1|paid|11.00|2026-01-01|3|b1\n"
            "o2|t1|created|5.00|2026-01-01|1|b1\n");

  // A late, older version of o1 changes nothing; a newer o2 replaces the old one.
  p.Ingest("b2", Order("o1", "t1", "shipped", "12.00", "2026-01-01", 2) +
                     Order("o2", "t1", "paid", "6.00", "2026-01-01", 2));
  CurateResult r2 = p.CurateOk();
  EXPECT_EQ(r2.batches, 1);
  EXPECT_EQ(r2.rows_in, 2);
  EXPECT_EQ(r2.rows_merged, 1);
  EXPECT_EQ(p.Q(kContent),
            "o1|t1|paid|11.00|2026-01-01|3|b1\n"
            "o2|t1|paid|6.00|2026-01-01|2|b2\n");

  // Equal versions in a later batch win.
  p.Ingest("b3", Order("o1", "t1", "delivered", "13.00", "2026-01-01", 3) +
                     Order("o2", "t1", "cancelled", "0.00", "2026-01-01", 2));
  CurateResult r3 = p.CurateOk();
  EXPECT_EQ(r3.rows_merged, 2);
  EXPECT_EQ(p.Q(kContent),
            "o1|t1|delivered|13.00|2026-01-01|3|b3\n"
            "o2|t1|cancelled|0.00|2026-01-01|2|b3\n");
  // _batch_seq is the ledger's commit order of the winning batch.
  EXPECT_EQ(p.Q("SELECT c.order_id, c._batch_seq, b.batch_seq FROM curated.orders c JOIN "
                "meta.batches b ON b.batch_id = c._batch_id ORDER BY 1"),
            "o1|3|3\no2|3|3\n");
  EXPECT_EQ(p.Q("SELECT batch_id, batch_seq FROM meta.applied WHERE table_name = 'orders' ORDER BY 2"),
            "b1|1\nb2|2\nb3|3\n");
}

TEST(CurateTest, DuplicatesAndTiesWithinOneBatch) {
  Project p(OrdersSpec("[order_id]"));
  ASSERT_TRUE(p.ok());
  std::string dup = Order("o2", "t1", "paid", "2.00", "2026-01-01", 4);
  p.Ingest("b1", Order("o1", "t1", "created", "1.00", "2026-01-01", 5) + dup + dup +
                     Order("o1", "t1", "paid", "1.50", "2026-01-01", 5) + dup);
  CurateResult r = p.CurateOk();
  EXPECT_EQ(r.rows_in, 2);
  EXPECT_EQ(r.rows_merged, 2);
  // Tie on the version inside a batch: the later line wins.
  EXPECT_EQ(p.Q(kContent),
            "o1|t1|paid|1.50|2026-01-01|5|b1\n"
            "o2|t1|paid|2.00|2026-01-01|4|b1\n");
  EXPECT_EQ(p.Q("SELECT order_id, _source_line FROM curated.orders ORDER BY 1"), "o1|4\no2|5\n");
  EXPECT_EQ(p.Int("SELECT count(*) FROM curated.orders"), 2);
}

TEST(CurateTest, CompositeKey) {
  Project p(OrdersSpec("[tenant_id, order_id]"));
  ASSERT_TRUE(p.ok());
  p.Ingest("b1", Order("o1", "t1", "created", "1.00", "2026-01-01", 1) +
                     Order("o1", "t2", "paid", "2.00", "2026-01-01", 1) +
                     Order("o2", "t1", "created", "3.00", "2026-01-02", 1));
  CurateResult r1 = p.CurateOk();
  EXPECT_EQ(r1.rows_merged, 3);
  p.Ingest("b2", Order("o1", "t1", "shipped", "1.00", "2026-01-01", 2) +
                     Order("o1", "t2", "cancelled", "2.00", "2026-01-01", 0) +
                     Order("o2", "t2", "paid", "4.00", "2026-01-02", 1));
  CurateResult r2 = p.CurateOk();
  EXPECT_EQ(r2.rows_in, 3);
  EXPECT_EQ(r2.rows_merged, 2);  // (t1,o1) replaced, (t2,o2) new; (t2,o1) late
  EXPECT_EQ(p.Q(kContent),
            "o1|t1|shipped|1.00|2026-01-01|2|b2\n"
            "o1|t2|paid|2.00|2026-01-01|1|b1\n"
            "o2|t1|created|3.00|2026-01-02|1|b1\n"
            "o2|t2|paid|4.00|2026-01-02|1|b2\n");
}

TEST(CurateTest, BatchWithoutValidRowsIsAppliedAndChangesNothing) {
  Project p(AllowDeadLetters(OrdersSpec("[order_id]")));
  ASSERT_TRUE(p.ok());
  p.Ingest("b1", Order("o1", "t1", "paid", "1.00", "2026-01-01", 1));
  p.CurateOk();
  p.Ingest("dead", "not json\n{\"order_id\": \"o1\"}\n", /*dead=*/2);
  CurateResult r = p.CurateOk();
  EXPECT_EQ(r.batches, 1);
  EXPECT_EQ(r.rows_in, 0);
  EXPECT_EQ(r.rows_merged, 0);
  EXPECT_EQ(r.partitions, 0);
  EXPECT_EQ(p.Q(kContent), "o1|t1|paid|1.00|2026-01-01|1|b1\n");
  EXPECT_EQ(p.Q("SELECT batch_id FROM meta.applied ORDER BY batch_seq"), "b1\ndead\n");
  // Mixed with a batch that has rows, in one curate.
  p.Ingest("dead2", "[]\n", /*dead=*/1);
  p.Ingest("b2", Order("o1", "t1", "shipped", "1.00", "2026-01-01", 2));
  CurateResult r2 = p.CurateOk();
  EXPECT_EQ(r2.batches, 2);
  EXPECT_EQ(r2.rows_merged, 1);
  EXPECT_EQ(p.Q(kContent), "o1|t1|shipped|1.00|2026-01-01|2|b2\n");
}

// Three batches with distinct versions per key.
const std::vector<std::pair<std::string, std::string>>& OrderBatches() {
  static const std::vector<std::pair<std::string, std::string>> kBatches = {
      {"x", Order("o1", "t1", "created", "1.00", "2026-01-01", 1) +
                Order("o2", "t1", "paid", "2.00", "2026-01-01", 3) +
                Order("o3", "t2", "created", "3.00", "2026-01-02", 1)},
      {"y", Order("o1", "t1", "paid", "1.10", "2026-01-01", 2) +
                Order("o2", "t1", "created", "2.10", "2026-01-01", 1) +
                Order("o4", "t1", "created", "4.00", "2026-01-03", 1)},
      {"z", Order("o1", "t1", "shipped", "1.20", "2026-01-02", 3) +
                Order("o3", "t2", "cancelled", "3.20", "2026-01-02", 2) +
                Order("o4", "t2", "paid", "4.20", "2026-01-04", 0)},
  };
  return kBatches;
}

constexpr const char* kOrderExpected =
    "o1|t1|shipped|1.20|2026-01-02|3|z\n"
    "o2|t1|paid|2.00|2026-01-01|3|x\n"
    "o3|t2|cancelled|3.20|2026-01-02|2|z\n"
    "o4|t1|created|4.00|2026-01-03|1|y\n";

TEST(CurateTest, ResultDoesNotDependOnBatchOrder) {
  struct Case {
    std::vector<int> order;
    bool curate_each;
  };
  const std::vector<Case> cases = {
      {{0, 1, 2}, true}, {{2, 1, 0}, true}, {{1, 2, 0}, false}, {{0, 2, 1}, true}, {{2, 0, 1}, false}};
  for (const auto& c : cases) {
    SCOPED_TRACE(std::to_string(c.order[0]) + std::to_string(c.order[1]) + std::to_string(c.order[2]) +
                 (c.curate_each ? " curate each" : " curate once"));
    Project p(OrdersSpec("[order_id]"));
    ASSERT_TRUE(p.ok());
    for (int i : c.order) {
      p.Ingest(OrderBatches()[i].first, OrderBatches()[i].second);
      if (c.curate_each) p.CurateOk();
    }
    if (!c.curate_each) p.CurateOk();
    EXPECT_EQ(p.Q(kContent), kOrderExpected);
    EXPECT_EQ(p.Int("SELECT count(*) FROM meta.applied"), 3);
  }
}

TEST(CurateTest, NothingPendingChangesNothing) {
  Project p(OrdersSpec("[order_id]"));
  ASSERT_TRUE(p.ok());
  for (const auto& [id, text] : OrderBatches()) p.Ingest(id, text);
  p.CurateOk();
  const std::string before = p.Q("SELECT * EXCLUDE (_ingested_at) FROM curated.orders ORDER BY ALL");
  const std::string meta =
      p.Q("SELECT version, rows, updated_at FROM meta.tables WHERE table_name = 'orders'");
  EXPECT_EQ(p.Int("SELECT version FROM meta.tables WHERE table_name = 'orders'"), 1);
  const int64_t pending = p.Int("SELECT count(*) FROM meta.pending_partitions");
  const int64_t publish = p.Int("SELECT count(*) FROM meta.publish_pending");

  for (int i = 0; i < 2; ++i) {
    CurateResult r = p.CurateOk();
    EXPECT_EQ(r.batches, 0);
    EXPECT_EQ(r.rows_in, 0);
    EXPECT_EQ(r.rows_merged, 0);
    EXPECT_EQ(r.partitions, 0);
  }
  EXPECT_EQ(p.Q("SELECT * EXCLUDE (_ingested_at) FROM curated.orders ORDER BY ALL"), before);
  EXPECT_EQ(p.Q("SELECT version, rows, updated_at FROM meta.tables WHERE table_name = 'orders'"), meta);
  EXPECT_EQ(p.Int("SELECT count(*) FROM meta.applied"), 3);
  EXPECT_EQ(p.Int("SELECT count(*) FROM meta.pending_partitions"), pending);
  EXPECT_EQ(p.Int("SELECT count(*) FROM meta.publish_pending"), publish);
}

TEST(CurateTest, FullRefreshEqualsIncremental) {
  Project p(OrdersSpec("[order_id]"));
  ASSERT_TRUE(p.ok());
  // Incremental, batch by batch, in an order where late data arrives after newer data.
  for (int i : {2, 0, 1}) {
    p.Ingest(OrderBatches()[i].first, OrderBatches()[i].second);
    p.CurateOk();
  }
  ASSERT_EQ(p.Q(kContent), kOrderExpected);
  ASSERT_TRUE(p.cat().conn().Execute("CREATE TEMP TABLE before AS SELECT * FROM curated.orders").ok());
  const int64_t version = p.Int("SELECT version FROM meta.tables WHERE table_name = 'orders'");

  CurateResult r = p.CurateOk(/*full_refresh=*/true);
  EXPECT_EQ(r.batches, 3);
  EXPECT_EQ(r.rows_merged, 4);
  EXPECT_EQ(p.Q(kContent), kOrderExpected);
  EXPECT_EQ(p.Int("SELECT count(*) FROM (SELECT * FROM curated.orders EXCEPT ALL SELECT * FROM before)"), 0);
  EXPECT_EQ(p.Int("SELECT count(*) FROM (SELECT * FROM before EXCEPT ALL SELECT * FROM curated.orders)"), 0);
  EXPECT_EQ(p.Int("SELECT count(*) FROM meta.applied"), 3);
  EXPECT_EQ(p.Int("SELECT version FROM meta.tables WHERE table_name = 'orders'"), version + 1);
  // And a normal run afterwards has nothing to do.
  EXPECT_EQ(p.CurateOk().batches, 0);
}

TEST(CurateTest, TouchedPartitionsCountOldAndNewPartitionOfMovedKeys) {
  Project p(OrdersSpec("[order_id]"));
  ASSERT_TRUE(p.ok());
  auto pending = [&] {
    return p.Q("SELECT DISTINCT CAST(day AS VARCHAR), tenant FROM meta.pending_partitions ORDER BY ALL");
  };
  p.Ingest("b1", Order("o1", "t1", "created", "1.00", "2026-01-01", 1) +
                     Order("o2", "t1", "created", "2.00", "2026-01-01", 1) +
                     Order("o3", "t2", "created", "3.00", "2026-01-03", 1));
  EXPECT_EQ(p.CurateOk().partitions, 2);  // (01-01, t1), (01-03, t2)
  ASSERT_TRUE(p.cat().conn().Execute("DELETE FROM meta.pending_partitions").ok());

  // o1 moves from 01-01 to 01-02: both partitions changed.
  p.Ingest("b2", Order("o1", "t1", "paid", "1.00", "2026-01-02", 2));
  CurateResult r2 = p.CurateOk();
  EXPECT_EQ(r2.rows_merged, 1);
  EXPECT_EQ(r2.partitions, 2);
  EXPECT_EQ(pending(), "2026-01-01|t1\n2026-01-02|t1\n");
  ASSERT_TRUE(p.cat().conn().Execute("DELETE FROM meta.pending_partitions").ok());

  // o3 moves tenant (same day), o4 is new in a fresh partition: 3 partitions.
  p.Ingest("b3", Order("o3", "t1", "paid", "3.00", "2026-01-03", 2) +
                     Order("o4", "t3", "created", "4.00", "2026-01-05", 1));
  CurateResult r3 = p.CurateOk();
  EXPECT_EQ(r3.partitions, 3);
  EXPECT_EQ(pending(), "2026-01-03|t1\n2026-01-03|t2\n2026-01-05|t3\n");
  ASSERT_TRUE(p.cat().conn().Execute("DELETE FROM meta.pending_partitions").ok());

  // A late version changes no partition; an in-place update changes one.
  p.Ingest("b4", Order("o2", "t9", "paid", "2.00", "2026-01-09", 0));
  CurateResult r4 = p.CurateOk();
  EXPECT_EQ(r4.rows_merged, 0);
  EXPECT_EQ(r4.partitions, 0);
  EXPECT_EQ(pending(), "");
  p.Ingest("b5", Order("o2", "t1", "paid", "2.50", "2026-01-01", 2));
  EXPECT_EQ(p.CurateOk().partitions, 1);
  EXPECT_EQ(pending(), "2026-01-01|t1\n");

  EXPECT_EQ(p.Q("SELECT order_id, tenant_id, seq, _batch_id FROM curated.orders ORDER BY 1"),
            "o1|t1|2|b2\no2|t1|2|b5\no3|t1|2|b3\no4|t3|1|b3\n");
}

// ---- quality gates ----------------------------------------------------------------------------

struct GateCase {
  const char* test_name;  // TableTest::Describe()
  std::string bad_batch;  // makes that test fail
  int64_t failing_rows;
  std::string fix_batch;  // a later batch that makes the table pass again ("": none can)
};

TEST(CurateTest, FailingQualityGateQuarantinesTheBatch) {
  const std::string tests =
      "[{unique: order_id}, {not_null: status}, "
      "{accepted_values: {column: status, values: [created, paid, shipped]}}]";
  const std::vector<GateCase> cases = {
      {"unique(order_id)",
       Order("o1", "t2", "paid", "9.00", "2026-01-01", 1) +
           Order("o3", "t1", "paid", "3.00", "2026-01-02", 1),
       1, ""},  // rows are never deleted by curate: no later batch can fix this one
      {"not_null(status)",
       "{\"order_id\":\"o3\",\"tenant_id\":\"t1\",\"created_at\":\"2026-01-02T00:00:00Z\",\"seq\":1}\n" +
           Order("o1", "t1", "paid", "1.00", "2026-01-01", 2),
       1, Order("o3", "t1", "paid", "3.00", "2026-01-02", 2)},
      {"accepted_values(status)",
       Order("o1", "t1", "delivered", "1.00", "2026-01-01", 2) +
           Order("o2", "t1", "cancelled", "2.00", "2026-01-01", 2),
       2,
       Order("o1", "t1", "shipped", "1.00", "2026-01-01", 3) +
           Order("o2", "t1", "paid", "2.00", "2026-01-01", 3)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.test_name);
    Project p(OrdersSpec("[order_id, tenant_id]", tests));
    ASSERT_TRUE(p.ok());
    p.Ingest("b1", Order("o1", "t1", "created", "1.00", "2026-01-01", 1) +
                       Order("o2", "t1", "paid", "2.00", "2026-01-01", 1));
    p.CurateOk();

    auto state = [&] {
      return p.Q("SELECT * EXCLUDE (_ingested_at) FROM curated.orders ORDER BY ALL") + "--\n" +
             p.Q("SELECT table_name, batch_id, batch_seq FROM meta.applied ORDER BY ALL") + "--\n" +
             p.Q("SELECT table_name, version, rows, updated_at FROM meta.tables ORDER BY ALL") + "--\n" +
             p.Q("SELECT * FROM meta.pending_partitions ORDER BY ALL") + "--\n" +
             p.Q("SELECT * FROM meta.publish_pending ORDER BY ALL");
    };
    const std::string before = state();

    p.Ingest("bad", c.bad_batch);
    auto r = p.Curate();
    // The failing batch is quarantined, not applied; curate itself succeeds.
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->batches, 0);
    ASSERT_EQ(r->quarantined.size(), 1u);
    EXPECT_EQ(r->quarantined[0].batch_id, "bad");
    // Only the failing test is named.
    ASSERT_EQ(r->quarantined[0].failures.size(), 1u);
    EXPECT_EQ(r->quarantined[0].failures[0].test, c.test_name);
    EXPECT_EQ(r->quarantined[0].failures[0].failing_rows, c.failing_rows);
    EXPECT_NE(p.Q("SELECT failures FROM meta.quarantine").find("curated.orders"), std::string::npos);
    EXPECT_EQ(p.Q("SELECT status FROM meta.batches WHERE batch_id = 'bad'"), "quarantined\n");
    EXPECT_EQ(state(), before);

    // The gate holds on retry (the batch is no longer pending), and the connection is usable.
    auto again = p.Curate();
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(again->batches, 0);
    EXPECT_TRUE(again->quarantined.empty());
    EXPECT_EQ(state(), before);

    // A later batch that fixes the data flows; after release the quarantined one is applied.
    if (c.fix_batch.empty()) continue;
    p.Ingest("fix", c.fix_batch);
    CurateResult fixed = p.CurateOk();
    EXPECT_EQ(fixed.batches, 1);
    EXPECT_TRUE(fixed.quarantined.empty());
    ASSERT_TRUE(ReleaseBatch(p.cat(), "bad").ok());
    CurateResult released = p.CurateOk();
    EXPECT_EQ(released.batches, 1);
    EXPECT_TRUE(released.bypassed.empty());
    EXPECT_EQ(p.Int("SELECT count(*) FROM meta.applied"), 3);
  }
}

TEST(CurateTest, FailedGateNamesOffendingValues) {
  Project p(OrdersSpec("[order_id]", "[{accepted_values: {column: status, values: [paid]}}]"));
  ASSERT_TRUE(p.ok());
  p.Ingest("b1", Order("o1", "t1", "paid", "1.00", "2026-01-01", 1));
  p.CurateOk();
  p.Ingest("b2", Order("o2", "t1", "shipped", "1.00", "2026-01-01", 1));
  auto r = p.Curate();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->quarantined.size(), 1u);
  EXPECT_EQ(r->quarantined[0].failures.at(0).test, "accepted_values(status)");
  EXPECT_EQ(r->quarantined[0].failures.at(0).sample, "shipped");
  EXPECT_NE(p.Q("SELECT sample FROM meta.quarantine").find("shipped"), std::string::npos);
  EXPECT_EQ(p.Q(kContent), "o1|t1|paid|1.00|2026-01-01|1|b1\n");
}

// G3 needs a value to compare: a nullable key or version column would make "the highest version
// per key" depend on how NULLs happen to be ordered, so the spec refuses both, naming them.
TEST(CurateTest, NullableKeyOrVersionColumnIsRefusedBySpec) {
  testing::TempDir tmp("sluice_curate_test");
  const std::string& dir = tmp.path();
  testing::WriteFile(dir, "contracts/orders.yaml", kOrdersContract);
  std::string by_amount = OrdersSpec("[order_id]");
  by_amount.replace(by_amount.find("version: seq"), 12, "version: amount");  // amount is nullable
  testing::WriteFile(dir, "sluice.yaml", by_amount);
  auto r = LoadProject(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("sluice.yaml:"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("version column 'amount' must be required"), std::string::npos)
      << r.status().message();

  testing::WriteFile(dir, "sluice.yaml", OrdersSpec("[status]"));  // nullable key
  r = LoadProject(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("key column 'status' must be required"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace sluice
