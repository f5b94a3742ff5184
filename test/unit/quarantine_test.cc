// Quarantine: a batch failing an `error` test is held back while later batches flow; release
// applies it exactly once (the same state as applying everything in order, G3), drop discards
// it (also from staging); both idempotent, both refuse batches that are not quarantined.
#include "transform/quarantine.h"

#include <gtest/gtest.h>

#include <string>

#include "support/test_project.h"

namespace sluice {
namespace {

using testing::Order;
using testing::OrdersSpec;

constexpr const char* kTests = "[{accepted_values: {column: status, values: [created, paid, shipped]}}]";
constexpr const char* kContent =
    "SELECT order_id, tenant_id, status, CAST(amount AS VARCHAR), seq FROM curated.orders ORDER BY ALL";

class QuarantineTest : public testing::ProjectTest {
 protected:
  QuarantineTest() : ProjectTest("sluice_quarantine_test") {}
  void SetUp() override { Setup(kTests); }
  void Setup(const std::string& tests) {
    Write("sluice.yaml", OrdersSpec("[order_id]", tests));
    Write("contracts/orders.yaml", testing::kOrdersContract);
    OpenEngine();
  }
  // b1 clean, b2 bad (o2 'cancelled'), b3 clean and later; b4 fixes o2 to 'paid' at a higher seq.
  void LandScenario() {
    Write("landing/orders/b1.jsonl", Order("o1", "t1", "created", "1.00", "2026-01-01", 1) +
                                         Order("o2", "t1", "created", "2.00", "2026-01-01", 1));
    Write("landing/orders/b2.jsonl", Order("o2", "t1", "cancelled", "2.00", "2026-01-01", 2) +
                                         Order("o3", "t1", "paid", "3.00", "2026-01-02", 1));
    Write("landing/orders/b3.jsonl", Order("o1", "t1", "paid", "1.00", "2026-01-01", 2) +
                                         Order("o4", "t2", "shipped", "4.00", "2026-01-02", 1));
  }
  std::string Id(const std::string& name) {
    return Q("SELECT batch_id FROM meta.batches WHERE file LIKE '%/" + name + ".jsonl'").substr(0, 32);
  }
  std::string Status(const std::string& name) {
    return Q("SELECT status FROM meta.batches WHERE file LIKE '%/" + name + ".jsonl'");
  }
};

TEST_F(QuarantineTest, BadBatchIsQuarantinedLaterBatchesFlow) {
  LandScenario();
  RunSummary s = Run();
  ASSERT_EQ(s.quarantined.size(), 1u);
  EXPECT_EQ(s.quarantined[0].batch_id, Id("b2"));
  EXPECT_EQ(s.quarantined[0].table, "orders");
  EXPECT_EQ(Status("b1") + Status("b2") + Status("b3"), "committed\nquarantined\ncommitted\n");
  EXPECT_EQ(Q(kContent), "o1|t1|paid|1.00|2\no2|t1|created|2.00|1\no4|t2|shipped|4.00|1\n");
  EXPECT_EQ(Q("SELECT table_name, tests, sample FROM meta.quarantine"),
            "orders|accepted_values(status)|accepted_values(status): cancelled\n");
  // Not applied, so never published: the published copy has no o2 'cancelled' nor o3.
  EXPECT_EQ(Int("SELECT count(*) FROM meta.applied WHERE batch_id = '" + Id("b2") + "'"), 0);
  // A second run leaves it quarantined and does nothing.
  RunSummary again = Run();
  EXPECT_TRUE(again.quarantined.empty());
  EXPECT_TRUE(again.nothing_to_do);
}

TEST_F(QuarantineTest, ReleaseAfterFixAppliesOnceLikeInOrder) {
  LandScenario();
  Run();
  // The fix: o2 becomes 'paid' at a higher version, so the released batch's o2 loses.
  Write("landing/orders/b4.jsonl", Order("o2", "t1", "paid", "2.50", "2026-01-01", 3));
  Run();
  auto rel = ReleaseBatch(cat(), Id("b2"));
  ASSERT_TRUE(rel.ok()) << rel.status().ToString();
  EXPECT_TRUE(rel->changed);
  EXPECT_EQ(Status("b2"), "released\n");
  auto rel2 = ReleaseBatch(cat(), Id("b2"));  // idempotent
  ASSERT_TRUE(rel2.ok());
  EXPECT_FALSE(rel2->changed);
  EXPECT_NE(rel2->message.find("already released"), std::string::npos);
  RunSummary s = Run();
  EXPECT_TRUE(s.quarantined.empty());
  EXPECT_TRUE(s.test_bypassed.empty());  // the data passes now
  EXPECT_EQ(Int("SELECT count(*) FROM meta.applied WHERE batch_id = '" + Id("b2") + "'"), 1);
  const std::string released = Q(kContent);
  EXPECT_EQ(released, "o1|t1|paid|1.00|2\no2|t1|paid|2.50|3\no3|t1|paid|3.00|1\no4|t2|shipped|4.00|1\n");
  EXPECT_EQ(Q("SELECT released_at IS NOT NULL, dropped_at IS NULL FROM meta.quarantine"), "true|true\n");
  // Applied once: another run changes nothing.
  EXPECT_TRUE(Run().nothing_to_do);
  EXPECT_EQ(Q(kContent), released);

  // Ground truth: the same batches in order without gates give the same table (G3).
  Setup("");
  Run(/*full_refresh=*/true);
  EXPECT_EQ(Q(kContent), released);
}

TEST_F(QuarantineTest, ReleasedBatchBypassesTheGate) {
  LandScenario();
  Run();
  ASSERT_TRUE(ReleaseBatch(cat(), "orders/" + Id("b2")).ok());  // SOURCE/ID works too
  RunSummary s = Run();
  ASSERT_EQ(s.test_bypassed.size(), 1u);
  EXPECT_EQ(s.test_bypassed[0].outcome.test, "accepted_values(status)");
  EXPECT_EQ(Q("SELECT status FROM curated.orders WHERE order_id = 'o2'"), "cancelled\n");
  EXPECT_EQ(Q("SELECT status, batch_ids FROM meta.test_results WHERE status = 'bypassed'"),
            "bypassed|" + Id("b2") + "\n");
}

TEST_F(QuarantineTest, DropDiscardsTheBatchEverywhere) {
  LandScenario();
  Run();
  const int64_t staged = Int("SELECT count(*) FROM staging.orders");
  auto d = DropBatch(cat(), Id("b2"));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->changed);
  EXPECT_EQ(Status("b2"), "dropped\n");
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders"), staged - 2);
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders WHERE _batch_id = '" + Id("b2") + "'"), 0);
  auto d2 = DropBatch(cat(), Id("b2"));
  ASSERT_TRUE(d2.ok());
  EXPECT_FALSE(d2->changed);
  EXPECT_NE(d2->message.find("already dropped"), std::string::npos);
  const std::string content = Q(kContent);
  EXPECT_TRUE(Run().nothing_to_do);
  // Never applied, not even by a full refresh; the view stays without it after a reopen.
  Run(/*full_refresh=*/true);
  EXPECT_EQ(Q(kContent), content);
  OpenEngine();
  EXPECT_EQ(Int("SELECT count(*) FROM staging.orders"), staged - 2);
  // A dropped batch cannot be released.
  auto rel = ReleaseBatch(cat(), Id("b2"));
  ASSERT_FALSE(rel.ok());
  EXPECT_EQ(rel.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(rel.status().message().find("is dropped, not quarantined"), std::string::npos);
}

TEST_F(QuarantineTest, RefusesBatchesThatAreNotQuarantined) {
  LandScenario();
  Run();
  for (auto* action : {&ReleaseBatch, &DropBatch}) {
    auto r = (*action)(cat(), Id("b1"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("is committed, not quarantined"), std::string::npos)
        << r.status().message();
    auto missing = (*action)(cat(), "no-such-batch");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  }
  EXPECT_EQ(Status("b1"), "committed\n");
}

TEST_F(QuarantineTest, FullRefreshQuarantinesFailingBatchesOfTheRebuild) {
  Setup("");
  LandScenario();
  Run();
  EXPECT_EQ(Int("SELECT count(*) FROM curated.orders"), 4);
  // The test arrives later: a full refresh rebuilds from the batches that pass it.
  Setup(kTests);
  RunSummary s = Run(/*full_refresh=*/true);
  ASSERT_EQ(s.quarantined.size(), 1u);
  EXPECT_EQ(s.quarantined[0].batch_id, Id("b2"));
  EXPECT_EQ(Q(kContent), "o1|t1|paid|1.00|2\no2|t1|created|2.00|1\no4|t2|shipped|4.00|1\n");
}

}  // namespace
}  // namespace sluice
