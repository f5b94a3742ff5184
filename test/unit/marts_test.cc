// Marts: SQL models over curated tables kept equal to their SQL (G6), refreshed incrementally by
// touched (day, tenant) partitions, rebuilt whole on full refresh or when their SQL changes.
#include "transform/marts.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "engine/engine.h"
#include "spec/spec.h"
#include "support/test_project.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

using testing::kOrdersContract;
using testing::MartTable;
using testing::Order;
using testing::OrdersSpec;

const std::string kSpec = OrdersSpec("[order_id]", "",
                                     MartTable("daily_revenue") + MartTable("big_days") +
                                         MartTable("stamped") + MartTable("totals", /*partitioned=*/false));

const char* kDailyRevenue = R"(-- revenue per day and tenant
SELECT CAST(created_at AS DATE) AS day, tenant_id, count(*) AS orders, sum(amount) AS revenue
FROM curated.orders
WHERE status <> 'cancelled'
GROUP BY ALL
)";
// A mart over a mart.
const char* kBigDays = "SELECT day, tenant_id, revenue FROM marts.daily_revenue WHERE revenue > 10";
// Partition-local, but stamped with the time of the transaction that computed each partition:
// shows which partitions a refresh recomputed.
const char* kStamped =
    "SELECT CAST(created_at AS DATE) AS day, tenant_id, count(*) AS n,"
    " CAST(get_current_timestamp() AS VARCHAR) AS built_at FROM curated.orders GROUP BY ALL";
// Not partitioned: rebuilt whole whenever anything changed.
const char* kTotals = "SELECT tenant_id, count(*) AS orders FROM curated.orders GROUP BY ALL";

constexpr const char* kRevenue =
    "SELECT CAST(day AS VARCHAR), tenant_id, orders, CAST(revenue AS VARCHAR) FROM "
    "marts.daily_revenue ORDER BY ALL";
constexpr const char* kBig =
    "SELECT CAST(day AS VARCHAR), tenant_id, CAST(revenue AS VARCHAR) FROM marts.big_days ORDER BY ALL";
constexpr const char* kTotalsQ = "SELECT tenant_id, orders FROM marts.totals ORDER BY ALL";

class MartsTest : public testing::ProjectTest {
 protected:
  MartsTest() : ProjectTest("sluice_marts_test") {}
  void SetUp() override {
    Write("sluice.yaml", kSpec);
    Write("contracts/orders.yaml", kOrdersContract);
    Write("models/daily_revenue.sql", kDailyRevenue);
    Write("models/big_days.sql", kBigDays);
    Write("models/stamped.sql", kStamped);
    Write("models/totals.sql", kTotals);
    OpenEngine();
  }
  // G6: marts.<m> equals its model's SQL over the current tables (EXCEPT ALL both ways empty).
  void ExpectEqualsModel(const std::string& mart) {
    SCOPED_TRACE("mart " + mart);
    const TableSpec* t = engine_->spec().FindTable(mart);
    ASSERT_NE(t, nullptr);
    const std::string model = "(" + t->sql + "\n)";
    EXPECT_EQ(
        Int("SELECT count(*) FROM (SELECT * FROM marts." + mart + " EXCEPT ALL SELECT * FROM " + model + ")"),
        0);
    EXPECT_EQ(
        Int("SELECT count(*) FROM (SELECT * FROM " + model + " EXCEPT ALL SELECT * FROM marts." + mart + ")"),
        0);
  }
  void ExpectAllEqualModels() {
    for (const char* m : {"daily_revenue", "big_days", "totals"}) ExpectEqualsModel(m);
  }
  // built_at per (day, tenant) of the stamped mart.
  std::map<std::string, std::string> Stamps() {
    std::map<std::string, std::string> out;
    auto r = conn().Query("SELECT CAST(day AS VARCHAR) || '/' || tenant_id, built_at FROM marts.stamped");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) {
      for (size_t i = 0; i < r->rows.size(); ++i) out[r->At(i, 0)] = r->At(i, 1);
    }
    return out;
  }
  void Batch1() {
    Write("landing/orders/01.jsonl", Order("o1", "t1", "paid", "10.00", "2026-01-01", 1) +
                                         Order("o2", "t1", "paid", "5.00", "2026-01-01", 1) +
                                         Order("o3", "t2", "paid", "7.00", "2026-01-01", 1) +
                                         Order("o4", "t1", "created", "3.00", "2026-01-02", 1));
  }
  // o2 is cancelled: only (01-01, t1) changes.
  void Batch2() { Write("landing/orders/02.jsonl", Order("o2", "t1", "cancelled", "5.00", "2026-01-01", 2)); }
  // o4 moves from (01-02, t1) to (01-03, t2), leaving its old partition empty; o5 is new in
  // (01-01, t2).
  void Batch3() {
    Write("landing/orders/03.jsonl", Order("o4", "t2", "paid", "20.00", "2026-01-03", 2) +
                                         Order("o5", "t2", "paid", "4.00", "2026-01-01", 1));
  }
};

TEST_F(MartsTest, IncrementalRefreshRecomputesOnlyTouchedPartitions) {
  Batch1();
  RunSummary r1 = Run();
  // First build: every mart is created whole.
  EXPECT_EQ(r1.mart_partitions["daily_revenue"], -1);
  EXPECT_EQ(r1.mart_partitions["big_days"], -1);
  EXPECT_EQ(r1.mart_partitions["stamped"], -1);
  EXPECT_EQ(r1.mart_partitions["totals"], -1);
  EXPECT_EQ(Q(kRevenue),
            "2026-01-01|t1|2|15.00\n"
            "2026-01-01|t2|1|7.00\n"
            "2026-01-02|t1|1|3.00\n");
  EXPECT_EQ(Q(kBig), "2026-01-01|t1|15.00\n");
  EXPECT_EQ(Q(kTotalsQ), "t1|3\nt2|1\n");
  ExpectAllEqualModels();
  EXPECT_EQ(Int("SELECT count(*) FROM meta.pending_partitions"), 0);
  auto s1 = Stamps();
  ASSERT_EQ(s1.size(), 3u);

  Batch2();
  RunSummary r2 = Run();
  EXPECT_EQ(r2.curate_partitions["orders"], 1);
  EXPECT_EQ(r2.mart_partitions["daily_revenue"], 1);
  EXPECT_EQ(r2.mart_partitions["big_days"], 1);
  EXPECT_EQ(r2.mart_partitions["stamped"], 1);
  EXPECT_EQ(r2.mart_partitions["totals"], -1);
  EXPECT_EQ(Q(kRevenue),
            "2026-01-01|t1|1|10.00\n"
            "2026-01-01|t2|1|7.00\n"
            "2026-01-02|t1|1|3.00\n");
  EXPECT_EQ(Q(kBig), "");
  EXPECT_EQ(Q(kTotalsQ), "t1|3\nt2|1\n");
  ExpectAllEqualModels();
  auto s2 = Stamps();
  ASSERT_EQ(s2.size(), 3u);
  EXPECT_NE(s2["2026-01-01/t1"], s1["2026-01-01/t1"]);  // recomputed
  EXPECT_EQ(s2["2026-01-01/t2"], s1["2026-01-01/t2"]);  // untouched
  EXPECT_EQ(s2["2026-01-02/t1"], s1["2026-01-02/t1"]);

  Batch3();
  RunSummary r3 = Run();
  EXPECT_EQ(r3.curate_partitions["orders"], 3);
  EXPECT_EQ(r3.mart_partitions["daily_revenue"], 3);
  EXPECT_EQ(r3.mart_partitions["big_days"], 3);
  EXPECT_EQ(Q(kRevenue),
            "2026-01-01|t1|1|10.00\n"
            "2026-01-01|t2|2|11.00\n"
            "2026-01-03|t2|1|20.00\n");
  EXPECT_EQ(Q(kBig), "2026-01-01|t2|11.00\n2026-01-03|t2|20.00\n");
  EXPECT_EQ(Q(kTotalsQ), "t1|2\nt2|3\n");
  ExpectAllEqualModels();
  auto s3 = Stamps();
  ASSERT_EQ(s3.size(), 3u);
  EXPECT_EQ(s3.count("2026-01-02/t1"), 0u);             // emptied partition is gone
  EXPECT_EQ(s3["2026-01-01/t1"], s2["2026-01-01/t1"]);  // untouched this time
  EXPECT_NE(s3["2026-01-01/t2"], s2["2026-01-01/t2"]);
  EXPECT_EQ(s3.count("2026-01-03/t2"), 1u);

  // Nothing new: no mart is touched, versions stay.
  const std::string versions = Q("SELECT table_name, version FROM meta.tables ORDER BY 1");
  RunSummary r4 = Run();
  EXPECT_TRUE(r4.nothing_to_do);
  EXPECT_TRUE(r4.mart_partitions.empty());
  EXPECT_EQ(Q("SELECT table_name, version FROM meta.tables ORDER BY 1"), versions);
  EXPECT_EQ(Stamps(), s3);
  ExpectAllEqualModels();
}

TEST_F(MartsTest, FullRefreshEqualsIncremental) {
  Batch1();
  Run();
  Batch2();
  Run();
  Batch3();
  Run();
  ASSERT_TRUE(conn()
                  .Execute("CREATE TEMP TABLE rev AS SELECT * FROM marts.daily_revenue;"
                           "CREATE TEMP TABLE big AS SELECT * FROM marts.big_days;"
                           "CREATE TEMP TABLE tot AS SELECT * FROM marts.totals")
                  .ok());
  RunSummary full = Run(/*full_refresh=*/true);
  for (const char* m : {"daily_revenue", "big_days", "stamped", "totals"}) {
    EXPECT_EQ(full.mart_partitions[m], -1) << m;
  }
  for (const auto& [mart, copy] : std::vector<std::pair<std::string, std::string>>{
           {"daily_revenue", "rev"}, {"big_days", "big"}, {"totals", "tot"}}) {
    EXPECT_EQ(
        Int("SELECT count(*) FROM (SELECT * FROM marts." + mart + " EXCEPT ALL SELECT * FROM " + copy + ")"),
        0)
        << mart;
    EXPECT_EQ(
        Int("SELECT count(*) FROM (SELECT * FROM " + copy + " EXCEPT ALL SELECT * FROM marts." + mart + ")"),
        0)
        << mart;
  }
  ExpectAllEqualModels();
}

TEST_F(MartsTest, RefreshMartsDirectlyWithNothingPending) {
  Batch1();
  Run();
  auto r = RefreshMarts(engine_->catalog(), /*full_refresh=*/false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->pending_partitions, 0);
  EXPECT_TRUE(r->partitions.empty());
  auto full = RefreshMarts(engine_->catalog(), /*full_refresh=*/true);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(full->partitions.size(), 4u);
  EXPECT_EQ(full->rows["daily_revenue"], 3);
  EXPECT_EQ(full->rows["totals"], 2);
  ExpectAllEqualModels();
}

TEST_F(MartsTest, ChangedModelIsRebuiltWhole) {
  Batch1();
  Run();
  Batch2();
  Run();
  // Cancelled orders now count too.
  Write("models/daily_revenue.sql",
        "SELECT CAST(created_at AS DATE) AS day, tenant_id, count(*) AS orders, sum(amount) AS revenue\n"
        "FROM curated.orders GROUP BY ALL\n");
  Write("models/totals.sql",
        "SELECT tenant_id, count(*) AS orders, max(seq) AS top_seq FROM curated.orders GROUP BY ALL");
  OpenEngine();
  RunSummary r = Run();  // no new batch
  EXPECT_EQ(r.mart_partitions["daily_revenue"], -1);
  EXPECT_EQ(r.mart_partitions["totals"], -1);
  EXPECT_EQ(r.mart_partitions.count("stamped"), 0u);  // unchanged model, nothing pending
  EXPECT_EQ(Q(kRevenue),
            "2026-01-01|t1|2|15.00\n"
            "2026-01-01|t2|1|7.00\n"
            "2026-01-02|t1|1|3.00\n");
  EXPECT_EQ(Q("SELECT tenant_id, orders, top_seq FROM marts.totals ORDER BY ALL"), "t1|3|2\nt2|1|1\n");
  ExpectEqualsModel("daily_revenue");
  ExpectEqualsModel("totals");
  // The model hash recorded is the new one: the next run is incremental again.
  Batch3();
  RunSummary r2 = Run();
  EXPECT_EQ(r2.mart_partitions["daily_revenue"], 3);
  ExpectEqualsModel("daily_revenue");
}

// A mart over a mart whose SQL changed: its input was rebuilt whole, so it must be too (G6).
TEST_F(MartsTest, MartOverRebuiltMartFollowsIt) {
  Batch1();
  Run();
  Batch2();
  Run();
  EXPECT_EQ(Q(kBig), "");
  // Cancelled orders now count: (01-01, t1) has revenue 15.00 again.
  Write("models/daily_revenue.sql",
        "SELECT CAST(created_at AS DATE) AS day, tenant_id, count(*) AS orders, sum(amount) AS revenue\n"
        "FROM curated.orders GROUP BY ALL\n");
  OpenEngine();
  Run();
  ExpectEqualsModel("daily_revenue");
  EXPECT_EQ(Q(kBig), "2026-01-01|t1|15.00\n");
  ExpectEqualsModel("big_days");
}

}  // namespace
}  // namespace sluice
