// The typed catalog functions that replaced SQL in other layers: partitions survive the round
// trip through values (NULL parts included), table versions and publish state, and the DLQ
// marks of a redrive.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/dlq.h"
#include "catalog/lifecycle_log.h"
#include "catalog/tables.h"
#include "support/test_project.h"

namespace sluice {
namespace {

using testing::AllowDeadLetters;
using testing::kOrdersContract;
using testing::Order;
using testing::OrdersSpec;

class CatalogTablesTest : public testing::ProjectTest {
 protected:
  CatalogTablesTest() : ProjectTest("sluice_catalog_tables_test") {}
  void SetUp() override {
    // The redrive test stages a file of dead letters only.
    Write("sluice.yaml", AllowDeadLetters(OrdersSpec()));
    Write("contracts/orders.yaml", kOrdersContract);
    OpenEngine();
  }
};

// A reader over another connection of the open catalog's database (what `sluice serve` runs the
// read commands on): one snapshot for its whole life, and nothing done through it is kept.
TEST_F(CatalogTablesTest, AReaderSeesOneSnapshotAndKeepsNothing) {
  const Partition first{"2026-01-03", "t1"}, second{"2026-01-04", "t2"}, through_reader{"2026-01-05", "t3"};
  ASSERT_TRUE(AddPendingPartitions(cat(), {first}).ok());
  auto conn = cat().conn().Connect();
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  {
    auto reader = Catalog::OpenReader(cat().spec(), std::move(conn).value());
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    auto seen = PendingPartitions(**reader);
    ASSERT_TRUE(seen.ok()) << seen.status().ToString();
    EXPECT_EQ(*seen, std::vector<Partition>{first});
    // A commit on the catalog's own connection meanwhile is not in the reader's snapshot.
    ASSERT_TRUE(AddPendingPartitions(cat(), {second}).ok());
    EXPECT_EQ(*PendingPartitions(**reader), std::vector<Partition>{first});
    // A write through the reader is seen by the reader only, and rolled back with it.
    ASSERT_TRUE(AddPendingPartitions(**reader, {through_reader}).ok());
    EXPECT_EQ(PendingPartitions(**reader)->size(), 2u);
  }
  auto after = PendingPartitions(cat());
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  std::vector<Partition> sorted = *after;
  std::sort(sorted.begin(), sorted.end(),
            [](const Partition& a, const Partition& b) { return a.day < b.day; });
  EXPECT_EQ(sorted, (std::vector<Partition>{first, second}));
}

TEST_F(CatalogTablesTest, PartitionsRoundTripWithNullParts) {
  const std::vector<Partition> parts = {
      {"2026-01-03", "t'1"}, {"2026-01-04", std::nullopt}, {std::nullopt, "t2"}, {}};
  ASSERT_TRUE(AddPendingPartitions(cat(), parts).ok());
  ASSERT_TRUE(AddPendingPartitions(cat(), {parts[0]}).ok());  // a duplicate reads once
  auto pending = PendingPartitions(cat());
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_EQ(pending->size(), 4u);
  for (const auto& p : parts) {
    EXPECT_NE(std::find(pending->begin(), pending->end(), p), pending->end()) << p.day.value_or("NULL");
  }
  EXPECT_EQ(Q("SELECT typeof(day), typeof(tenant) FROM meta.pending_partitions LIMIT 1"), "DATE|VARCHAR\n");
  ASSERT_TRUE(ClearPendingPartitions(cat()).ok());
  EXPECT_TRUE(PendingPartitions(cat())->empty());

  // The relation data SQL joins on holds the same pairs, typed.
  EXPECT_EQ(Q("SELECT CAST(day AS VARCHAR), tenant FROM " + PartitionsRelation(parts) + " ORDER BY ALL"),
            "2026-01-03|t'1\n2026-01-04|NULL\nNULL|t2\nNULL|NULL\n");
  EXPECT_EQ(Q("SELECT count(*) FROM " + PartitionsRelation({})), "0\n");
}

TEST_F(CatalogTablesTest, VersionsAndPublishState) {
  auto none = FindTable(cat(), "t");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(EnsureTableRow(cat(), "t", "marts").ok());
  ASSERT_TRUE(EnsureTableRow(cat(), "t", "marts").ok());  // exists: nothing changes
  ASSERT_TRUE(RecordNewVersion(cat(), "t", 7, std::string("h1")).ok());
  ASSERT_TRUE(RecordNewVersion(cat(), "t", 9).ok());  // keeps the model hash
  auto t = FindTable(cat(), "t");
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ((*t)->layer, "marts");
  EXPECT_EQ((*t)->version, 2);
  EXPECT_EQ((*t)->published_version, 0);
  EXPECT_EQ((*t)->rows, 9);
  EXPECT_EQ((*t)->model_hash, "h1");
  EXPECT_TRUE((*t)->updated_at.has_value());

  ASSERT_TRUE(AddPublishPending(cat(), "t", {{"2026-01-03", "a"}, {"2026-01-03", "a"}}).ok());
  EXPECT_EQ(PublishPending(cat(), "t")->size(), 1u);
  ASSERT_TRUE(RecordRewritten(cat(), "t").ok());  // every partition changed: a (NULL, NULL) row
  auto pending = PublishPending(cat(), "t");
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->size(), 2u);
  EXPECT_EQ(
      std::count_if(pending->begin(), pending->end(), [](const Partition& p) { return p.everything(); }), 1);
  ASSERT_TRUE(ReplacePublishPendingWithAll(cat(), "t").ok());
  EXPECT_EQ(PublishPending(cat(), "t")->size(), 1u);
  ASSERT_TRUE(RecordPublished(cat(), "t", 3).ok());
  EXPECT_TRUE(PublishPending(cat(), "t")->empty());
  EXPECT_EQ((*FindTable(cat(), "t"))->published_version, 3);
  ASSERT_TRUE(ForgetModelHash(cat(), "t").ok());
  EXPECT_FALSE((*FindTable(cat(), "t"))->model_hash.has_value());
}

TEST_F(CatalogTablesTest, RedriveMarksRowsAndKeepsFailuresOpen) {
  Write("landing/orders/01.jsonl", Order("o1", "t1", "paid", "-1.00", "2026-01-01", 1) +
                                       Order("o2", "t1", "paid", "-2.00", "2026-01-01", 1) +
                                       Order("o3", "t1", "paid", "-3.00", "2026-01-01", 1));
  Run();
  auto rows = ListDeadLetters(cat(), {"orders"}, {});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 3u);
  const int64_t a = *(*rows)[0].dlq_id, b = *(*rows)[1].dlq_id, c = *(*rows)[2].dlq_id;
  EXPECT_EQ((*rows)[0].reason, "out_of_range");
  EXPECT_EQ((*rows)[0].status, "open");

  ASSERT_TRUE(MarkRedriven(cat(), "orders", "redrive-x", {a, b}, {{c, "not_in_enum", "", "still bad"}}).ok());
  DeadLetterFilter open;
  open.status = "open";
  auto still = ListDeadLetters(cat(), {"orders"}, open);
  ASSERT_TRUE(still.ok());
  ASSERT_EQ(still->size(), 1u);
  EXPECT_EQ((*still)[0].dlq_id, c);
  EXPECT_EQ((*still)[0].reason, "not_in_enum");
  EXPECT_FALSE((*still)[0].column_name.has_value());
  EXPECT_EQ((*still)[0].message, "still bad");
  DeadLetterFilter one;
  one.dlq_id = a;
  auto marked = ListDeadLetters(cat(), {"orders"}, one);
  ASSERT_TRUE(marked.ok());
  ASSERT_EQ(marked->size(), 1u);
  EXPECT_EQ((*marked)[0].status, "redriven");
  EXPECT_EQ((*marked)[0].redriven_batch, "redrive-x");
  auto counts = CountDeadLetters(cat(), "orders");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->rows, 3);
  EXPECT_EQ(counts->open, 1);
  auto origins = DeadLetterOrigins(cat(), "orders", {b, a});
  ASSERT_TRUE(origins.ok());
  ASSERT_EQ(origins->size(), 2u);
  EXPECT_EQ((*origins)[0].dlq_id, a);
  EXPECT_EQ((*origins)[0].batch_id, (*rows)[0].batch_id);
}

// meta.lifecycle keeps what it is given and lists the newest first; an action rolled back with
// its transaction leaves no row.
TEST_F(CatalogTablesTest, LifecycleLogListsNewestFirst) {
  LifecycleEntry moved{LifecycleAction::kMoved, "staging.orders", 2, 4096, 30, "batches b1, b2", 1'000'000};
  LifecycleEntry expired{LifecycleAction::kExpired, "meta.idempotency", 0, 0, 5, "", 2'000'000};
  ASSERT_TRUE(RecordLifecycle(cat(), moved).ok());
  ASSERT_TRUE(RecordLifecycle(cat(), expired).ok());
  ASSERT_TRUE(cat().Begin().ok());
  ASSERT_TRUE(
      RecordLifecycle(cat(), {LifecycleAction::kDeleted, "staging.orders", 1, 1, 1, "", 3'000'000}).ok());
  ASSERT_TRUE(cat().Rollback().ok());
  auto log = RecentLifecycle(cat(), 10);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0].action, LifecycleAction::kExpired);
  EXPECT_EQ((*log)[0].target, "meta.idempotency");
  EXPECT_EQ((*log)[0].rows, 5);
  EXPECT_EQ((*log)[1].action, LifecycleAction::kMoved);
  EXPECT_EQ((*log)[1].files, 2);
  EXPECT_EQ((*log)[1].bytes, 4096);
  EXPECT_EQ((*log)[1].detail, "batches b1, b2");
  EXPECT_EQ((*log)[1].at_us, 1'000'000);
  EXPECT_STREQ(LifecycleActionName(LifecycleAction::kRestored), "restored");
}

}  // namespace
}  // namespace sluice
