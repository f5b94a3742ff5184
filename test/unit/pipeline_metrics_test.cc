// The pipeline metrics' computations (ops/pipeline_metrics.h): skew, top partitions, costs, a
// run summary's contribution, and PipelineMetrics over the catalog of a real lake.
#include "ops/pipeline_metrics.h"

#include <gtest/gtest.h>

#include "support/test_project.h"

namespace sluice {
namespace {

using testing::Order;
using testing::OrdersSpec;

// figures.rows of (stage, table, outcome); -1 when there is none.
double Rows(const PipelineFigures& f, const std::string& stage, const std::string& table,
            const std::string& outcome) {
  auto it = f.rows.find({stage, table, outcome});
  return it == f.rows.end() ? -1 : it->second;
}

TEST(PipelineMetricsTest, SkewRatioIsLargestOverMedian) {
  EXPECT_FALSE(SkewRatio({}).has_value());
  EXPECT_DOUBLE_EQ(*SkewRatio({{"a", 10}}), 1.0);
  // Odd count: the middle one.
  EXPECT_DOUBLE_EQ(*SkewRatio({{"a", 30}, {"b", 10}, {"c", 5}}), 3.0);
  // Even count: the mean of the two middle ones, (10 + 20) / 2.
  EXPECT_DOUBLE_EQ(*SkewRatio({{"a", 60}, {"b", 20}, {"c", 10}, {"d", 1}}), 4.0);
  // A median of 0 rows has no ratio.
  EXPECT_FALSE(SkewRatio({{"a", 0}, {"b", 0}, {"c", 7}}).has_value());
}

TEST(PipelineMetricsTest, TopPartitionsByRowsThenName) {
  std::vector<PartitionRows> top =
      TopPartitions({{"d", 1}, {"b", 5}, {"a", 5}, {"c", 9}, {"e", 2}, {"f", 3}, {"g", 0}}, 5);
  ASSERT_EQ(top.size(), 5u);
  EXPECT_EQ(top[0].partition, "c");
  EXPECT_EQ(top[1].partition, "a");  // ties: by name
  EXPECT_EQ(top[2].partition, "b");
  EXPECT_EQ(top[3].partition, "f");
  EXPECT_EQ(top[4].partition, "e");
  EXPECT_EQ(TopPartitions({{"x", 1}}, 5).size(), 1u);
}

TEST(PipelineMetricsTest, PerMillionRows) {
  EXPECT_DOUBLE_EQ(PerMillionRows(2.5, 500000), 5.0);
  EXPECT_DOUBLE_EQ(PerMillionRows(3.0, 0), 0.0);
}

TEST(PipelineMetricsTest, AddRunSumsStagesRowsErrorsAndMerges) {
  PipelineFigures f;
  const std::string ok = R"({"status":"ok","refused":[],
    "ingest":{"rows_read":1000,"cpu_seconds":0.5,"bytes_written":4000},
    "curate":{"cpu_seconds":0.25,"bytes_written":100,
              "tables":{"orders":{"rows_in":900,"rows_merged":800,"partitions":3,"seconds":0.125}}},
    "marts":{"cpu_seconds":0.1,"bytes_written":10,"tables":{"daily":{"partitions":2,"full":false,"rows":40}}},
    "publish":{"tables":2,"table_rows":{"curated.orders":800,"marts.daily":40},"cpu_seconds":0.2,
               "bytes_written":2000}})";
  std::vector<std::pair<std::string, double>> merges =
      AddRun({.started_us = 1, .status = "ok", .summary = ok}, &f);
  ASSERT_EQ(merges.size(), 1u);
  EXPECT_EQ(merges[0].first, "curated.orders");
  EXPECT_DOUBLE_EQ(merges[0].second, 0.125);
  // A failed run in marts, with a refused file: its CPU counts, its marts rows do not exist.
  const std::string failed = R"({"status":"failed","error":"x","failed_stage":"marts",
    "refused":[{"source":"orders","file":"f","error":"e"}],
    "ingest":{"rows_read":0,"cpu_seconds":0.5,"bytes_written":0},
    "curate":{"cpu_seconds":0.25,"bytes_written":0,"tables":{}},
    "marts":{"cpu_seconds":1.0,"bytes_written":0,"tables":{}},
    "publish":{"tables":0,"table_rows":{},"cpu_seconds":0,"bytes_written":0}})";
  EXPECT_TRUE(AddRun({.started_us = 2, .status = "failed", .summary = failed}, &f).empty());
  EXPECT_TRUE(AddRun({.started_us = 3, .status = "failed", .summary = "not json"}, &f).empty());

  EXPECT_DOUBLE_EQ(f.stages["ingest"].cpu_seconds, 1.0);
  EXPECT_DOUBLE_EQ(f.stages["ingest"].bytes_written, 4000);
  EXPECT_DOUBLE_EQ(f.stages["ingest"].rows, 1000);
  EXPECT_DOUBLE_EQ(f.stages["ingest"].errors, 1);  // the refused file
  EXPECT_DOUBLE_EQ(f.stages["curate"].rows, 900);  // rows in
  EXPECT_DOUBLE_EQ(f.stages["marts"].errors, 1);
  EXPECT_DOUBLE_EQ(f.stages["marts"].cpu_seconds, 1.1);
  EXPECT_DOUBLE_EQ(f.stages["marts"].rows, 40);
  EXPECT_DOUBLE_EQ(f.stages["publish"].rows, 840);
  EXPECT_DOUBLE_EQ(f.stages["publish"].bytes_written, 2000);
  EXPECT_DOUBLE_EQ(f.stages["publish"].errors, 0);
  EXPECT_DOUBLE_EQ(Rows(f, "curate", "curated.orders", "ok"), 800);
  EXPECT_DOUBLE_EQ(Rows(f, "marts", "marts.daily", "ok"), 40);
  EXPECT_DOUBLE_EQ(Rows(f, "publish", "marts.daily", "ok"), 40);
  EXPECT_DOUBLE_EQ(Rows(f, "publish", "curated.orders", "ok"), 800);
}

// The orders project with event time created_at: partitions (day, tenant) of known sizes.
class PipelineMetricsLakeTest : public testing::ProjectTest {
 protected:
  PipelineMetricsLakeTest() : ProjectTest("sluice_pipeline_metrics_test") {}
  void SetUp() override {
    std::string spec = OrdersSpec();
    const std::string part = "    partition_by: {day: created_at, tenant: tenant_id}\n";
    spec.replace(spec.find(part), part.size(), part + "    event_time: created_at\n    max_dead_ratio: 1\n");
    Write("sluice.yaml", spec);
    Write("contracts/orders.yaml", testing::kOrdersContract);
    OpenEngine();
  }
  // `n` orders of `tenant` on `day`, ids prefixed by `prefix`.
  static std::string Orders(const std::string& prefix, const std::string& tenant, const std::string& day,
                            int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += Order(prefix + std::to_string(i), tenant, "paid", "1.00", day, 1);
    return out;
  }
};

TEST_F(PipelineMetricsLakeTest, FiguresFromTheCatalog) {
  // Partitions: (01-01, t1) 6 rows, (01-01, t2) 2, (01-02, t1) 1; one dead letter (bad enum).
  Write("landing/orders/b1.jsonl", Orders("a", "t1", "2026-01-01", 6) + Orders("b", "t2", "2026-01-01", 2) +
                                       Orders("c", "t1", "2026-01-02", 1) +
                                       R"({"order_id":"x","tenant_id":"t1","status":"lost","amount":1,)"
                                       R"("created_at":"2026-01-02T10:00:00Z","seq":1})"
                                       "\n");
  Run();
  PipelineMetrics m;
  const int64_t now_us = 1767225600000000LL + 2 * 86400000000LL;  // 2026-01-03 00:00 UTC
  ASSERT_TRUE(m.Collect(cat(), now_us).ok());
  const PipelineFigures& f = m.figures();
  EXPECT_DOUBLE_EQ(Rows(f, "ingest", "staging.orders", "ok"), 9);
  EXPECT_DOUBLE_EQ(Rows(f, "ingest", "staging.orders", "dead_lettered"), 1);
  EXPECT_DOUBLE_EQ(Rows(f, "curate", "curated.orders", "ok"), 9);
  EXPECT_DOUBLE_EQ(Rows(f, "publish", "curated.orders", "ok"), 9);
  EXPECT_EQ(f.dlq_open.at({"orders", "not_in_enum"}), 1);
  EXPECT_EQ(f.quarantined_batches.at("orders"), 0);
  const TableFigures& t = f.tables.at("curated.orders");
  ASSERT_TRUE(t.max_event_us.has_value());
  EXPECT_EQ(*t.max_event_us, 1767225600000000LL + 86400000000LL + 10 * 3600000000LL);  // 01-02 10:00
  ASSERT_EQ(t.partitions.size(), 3u);
  EXPECT_DOUBLE_EQ(*SkewRatio(t.partitions), 3.0);  // 6 / median 2
  EXPECT_EQ(TopPartitions(t.partitions, 1)[0].partition, "day=2026-01-01/tenant=t1");

  std::string text = m.Render(now_us);
  EXPECT_NE(
      text.find("sluice_partition_rows{table=\"curated.orders\",partition=\"day=2026-01-01/tenant=t1\"} 6\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("sluice_partition_skew_ratio{table=\"curated.orders\"} 3\n"), std::string::npos)
      << text;
  // 2026-01-03 00:00 - 2026-01-02 10:00 = 14 h.
  EXPECT_NE(
      text.find("sluice_table_freshness_seconds{table=\"curated.orders\",basis=\"event_time\"} 50400\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("sluice_dlq_rows{source=\"orders\",reason=\"not_in_enum\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("sluice_rows_total{stage=\"ingest\",table=\"staging.orders\",outcome=\"ok\"} 9\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("sluice_batch_commit_seconds_count{source=\"orders\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_merge_seconds_count{table=\"curated.orders\"} 1\n"), std::string::npos) << text;
}

TEST_F(PipelineMetricsLakeTest, CollectIsIncrementalAndThrottlesPartitionScans) {
  Write("landing/orders/b1.jsonl", Orders("a", "t1", "2026-01-01", 4));
  Run();
  PipelineMetrics::Options options;
  options.partition_scan_interval_us = 60 * 1000000LL;
  PipelineMetrics m(options);
  int64_t now_us = 1767225600000000LL;
  ASSERT_TRUE(m.Collect(cat(), now_us).ok());
  m.Render(now_us);
  ASSERT_EQ(m.figures().tables.at("curated.orders").partitions.size(), 1u);

  Write("landing/orders/b2.jsonl", Orders("b", "t2", "2026-01-01", 2));
  Run();
  // A new version within the interval: rows and runs are read again, the partitions are not.
  ASSERT_TRUE(m.Collect(cat(), now_us + 1000000).ok());
  EXPECT_DOUBLE_EQ(Rows(m.figures(), "curate", "curated.orders", "ok"), 6);
  EXPECT_EQ(m.figures().tables.at("curated.orders").partitions.size(), 1u);
  std::string text = m.Render(now_us + 1000000);
  EXPECT_NE(text.find("sluice_merge_seconds_count{table=\"curated.orders\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_batch_commit_seconds_count{source=\"orders\"} 2\n"), std::string::npos) << text;
  // Past the interval: counted again.
  ASSERT_TRUE(m.Collect(cat(), now_us + 61 * 1000000LL).ok());
  EXPECT_EQ(m.figures().tables.at("curated.orders").partitions.size(), 2u);
  EXPECT_DOUBLE_EQ(m.Json(now_us)["stages"]["curate"]["rows"].get<double>(), 6);
}

// Errors only the process counted (serve's failed micro-batch commits) add to the catalog's, in
// the text and the JSON, and stay added after the next Collect; set again, they are replaced.
TEST_F(PipelineMetricsLakeTest, LiveStageErrorsAddToTheCatalogs) {
  Write("landing/orders/b1.jsonl", Orders("a", "t1", "2026-01-01", 2));
  Run();
  PipelineMetrics m;
  const int64_t now_us = 1767225600000000LL;
  ASSERT_TRUE(m.Collect(cat(), now_us).ok());
  const double from_catalog = m.figures().stages.at("ingest").errors;
  m.SetLiveStageErrors("ingest", 3);
  std::string text = m.Render(now_us);
  const std::string line = "sluice_stage_errors_total{stage=\"ingest\"} ";
  EXPECT_NE(text.find(line + std::to_string(static_cast<int>(from_catalog) + 3) + "\n"), std::string::npos)
      << text;
  ASSERT_TRUE(m.Collect(cat(), now_us + 1000000).ok());
  EXPECT_DOUBLE_EQ(m.figures().stages.at("ingest").errors, from_catalog + 3);
  m.SetLiveStageErrors("ingest", 5);
  EXPECT_DOUBLE_EQ(m.Json(now_us)["stages"]["ingest"]["errors"].get<double>(), from_catalog + 5);
  text = m.Render(now_us + 1000000);
  EXPECT_NE(text.find(line + std::to_string(static_cast<int>(from_catalog) + 5) + "\n"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace sluice
