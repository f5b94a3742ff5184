// The dashboard's data without a server: the pipeline graph of a spec and its JSON from given
// catalog facts (ops/pipeline.h), and the bounded history of samples (ops/history.h).
#include <gtest/gtest.h>

#include <set>

#include "common/env.h"
#include "ops/history.h"
#include "ops/pipeline.h"

namespace sluice {
namespace {

ProjectSpec Spec() {
  ProjectSpec spec;
  spec.name = "shop";
  SourceSpec orders;
  orders.name = "orders";
  orders.type = SourceType::kHttp;
  SourceSpec clicks;
  clicks.name = "clicks";
  clicks.type = SourceType::kNats;
  spec.sources = {orders, clicks};
  TableSpec o;
  o.name = "orders";
  o.from = "orders";
  TableSpec c;
  c.name = "clicks";
  c.from = "clicks";
  TableSpec rev;
  rev.name = "daily_revenue";
  rev.kind = TableKind::kMart;
  rev.reads_curated = {"orders"};  // the spec names them without their layer
  TableSpec funnel;
  funnel.name = "funnel";
  funnel.kind = TableKind::kMart;
  funnel.depends_on = {"daily_revenue"};
  funnel.reads_curated = {"clicks"};
  funnel.reads_staging = {"orders"};
  spec.tables = {o, c, rev, funnel};
  PostgresServeSpec pg;
  pg.publish = {"marts.daily_revenue"};
  spec.serve.postgres = pg;
  ConsumerSpec ml;
  ml.name = "ml_features";
  ml.table = "orders";
  spec.consumers = {ml};
  return spec;
}

std::set<std::pair<std::string, std::string>> Edges(const PipelineShape& s) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& e : s.edges) out.insert({e.from, e.to});
  return out;
}

TEST(PipelineShape, NodesByStageAndEdgesFromTheSpec) {
  PipelineShape s = ShapeOf(Spec());
  std::vector<std::string> ids;
  for (const auto& n : s.nodes) ids.push_back(n.id + "@" + PipelineStageName(n.stage));
  EXPECT_EQ(ids, (std::vector<std::string>{
                     "sources.orders@sources", "sources.clicks@sources", "staging.orders@staging",
                     "staging.clicks@staging", "curated.orders@curated", "curated.clicks@curated",
                     "marts.daily_revenue@marts", "marts.funnel@marts", "published.curated.orders@consumers",
                     "published.curated.clicks@consumers", "published.marts.daily_revenue@consumers",
                     "published.marts.funnel@consumers", "postgres.analytics.daily_revenue@consumers",
                     "consumers.ml_features@consumers"}));
  EXPECT_EQ(Edges(s), (std::set<std::pair<std::string, std::string>>{
                          {"sources.orders", "staging.orders"},
                          {"sources.clicks", "staging.clicks"},
                          {"staging.orders", "curated.orders"},
                          {"staging.clicks", "curated.clicks"},
                          {"curated.orders", "marts.daily_revenue"},
                          {"marts.daily_revenue", "marts.funnel"},
                          {"curated.clicks", "marts.funnel"},
                          {"staging.orders", "marts.funnel"},
                          {"curated.orders", "published.curated.orders"},
                          {"curated.clicks", "published.curated.clicks"},
                          {"marts.daily_revenue", "published.marts.daily_revenue"},
                          {"marts.funnel", "published.marts.funnel"},
                          {"marts.daily_revenue", "postgres.analytics.daily_revenue"},
                          {"curated.orders", "consumers.ml_features"},
                      }));
  EXPECT_EQ(s.edges.size(), Edges(s).size()) << "an edge twice";
}

TEST(PipelineJson, StatesRowsFreshnessAndVisibility) {
  const ProjectSpec spec = Spec();
  PipelineFacts facts;
  facts.sources["orders"] = SourceTotals{3, 1000, 990, 10, 0, "2026-01-03 10:15:00"};
  facts.sources["clicks"] = SourceTotals{};
  TableState orders;
  orders.name = "orders";
  orders.layer = "curated";
  orders.version = 4;
  orders.published_version = 3;  // publishing is behind
  orders.rows = 700;
  orders.updated_at = "2026-01-03 10:15:30.500000";
  facts.tables["orders"] = orders;
  TableState rev = orders;
  rev.name = "daily_revenue";
  rev.layer = "marts";
  rev.version = 2;
  rev.published_version = 2;
  rev.rows = 35;
  facts.tables["daily_revenue"] = rev;
  facts.dlq["orders"] = {{"bad_type", 7, 7}, {"malformed_record", 3, 1}};
  BatchRecord b;
  b.source = "orders";
  b.batch_id = "b1";
  b.rows_read = 1000;
  b.started_at = 1'000'000;
  b.committed_at = 3'500'000;
  facts.recent_batches = {b};
  const nlohmann::json status = {
      {"sources",
       {{"clicks",
         {{"error", "not connected"}, {"lag_seconds", 3.5}, {"stream", "CLICKS"}, {"committed_seq", 42}}},
        {"orders", {{"lag_seconds", 0}}}}},
      {"feeds",
       {{"ml_features", {{"started", true}, {"lag_changes", 12}, {"lag_seconds", 4}, {"stale", true}}}}},
      {"warehouse",
       {{"lag_seconds", 0},
        {"error", nullptr},
        {"tables", {{"marts.daily_revenue", {{"lake_version", 2}, {"published_version", 2}}}}}}},
      {"transform_error", nullptr}};
  const int64_t now = *ParseCatalogTimestamp("2026-01-03 10:16:00");
  auto all = [](const std::string&) { return true; };
  nlohmann::ordered_json j = PipelineJson(spec, facts, status, now, all);
  std::map<std::string, nlohmann::ordered_json> by_id;
  for (const auto& n : j["nodes"]) by_id[n["id"].get<std::string>()] = n;

  EXPECT_EQ(by_id["sources.orders"]["rows"], 1000);
  EXPECT_EQ(by_id["sources.orders"]["state"], "ok");
  EXPECT_EQ(by_id["sources.orders"]["freshness_seconds"], 60.0);
  EXPECT_EQ(by_id["sources.clicks"]["state"], "error");
  EXPECT_EQ(by_id["sources.clicks"]["error"], "not connected");
  // A NATS source: the stream position its consumer committed; an HTTP source has none.
  EXPECT_EQ(by_id["sources.clicks"]["detail"]["committed_seq"], 42);
  EXPECT_EQ(by_id["sources.clicks"]["detail"]["stream"], "CLICKS");
  EXPECT_FALSE(by_id["sources.orders"]["detail"].contains("committed_seq"));
  EXPECT_EQ(by_id["staging.clicks"]["state"], "idle");
  EXPECT_EQ(by_id["staging.orders"]["rows"], 990);
  EXPECT_EQ(by_id["curated.orders"]["rows"], 700);
  EXPECT_EQ(by_id["curated.orders"]["freshness_seconds"], 29.5);
  EXPECT_EQ(by_id["curated.orders"]["updated_at"], "2026-01-03T10:15:30.500000Z");
  EXPECT_EQ(by_id["curated.clicks"]["state"], "idle");
  EXPECT_EQ(by_id["curated.clicks"]["rows"], nullptr);
  EXPECT_EQ(by_id["published.curated.orders"]["state"], "warning");
  EXPECT_EQ(by_id["published.curated.orders"]["rows"], nullptr);
  EXPECT_EQ(by_id["published.marts.daily_revenue"]["rows"], 35);
  EXPECT_EQ(by_id["postgres.analytics.daily_revenue"]["rows"], 35);
  EXPECT_EQ(by_id["postgres.analytics.daily_revenue"]["state"], "ok");
  EXPECT_EQ(by_id["consumers.ml_features"]["state"], "warning");
  EXPECT_EQ(by_id["consumers.ml_features"]["detail"]["lag_changes"], 12.0);
  EXPECT_EQ(j["batches"].size(), 1u);
  EXPECT_EQ(j["batches"][0]["seconds"], 2.5);
  EXPECT_EQ(j["dlq"].size(), 2u);
  EXPECT_EQ(j["dlq"][0]["reason"], "bad_type");

  // A transform error marks every curated table and mart.
  nlohmann::json failing = status;
  failing["transform_error"] = "marts.daily_revenue: division by zero";
  j = PipelineJson(spec, facts, failing, now, all);
  for (const auto& n : j["nodes"]) {
    if (n["kind"] == "curated" || n["kind"] == "mart") {
      EXPECT_EQ(n["state"], "error") << n.dump();
    }
  }

  // A token that reads marts only sees no source's numbers, batches or DLQ rows.
  auto marts = [](const std::string& d) { return d.rfind("marts.", 0) == 0; };
  j = PipelineJson(spec, facts, status, now, marts);
  for (const auto& n : j["nodes"]) {
    if (n["id"] == "marts.daily_revenue") {
      EXPECT_EQ(n["rows"], 35);
    } else if (n["id"] == "sources.orders" || n["id"] == "curated.orders") {
      EXPECT_EQ(n["rows"], nullptr) << n.dump();
      EXPECT_TRUE(n["detail"].empty()) << n.dump();
    }
  }
  EXPECT_TRUE(j["batches"].empty());
  EXPECT_TRUE(j["dlq"].empty());
}

TEST(PipelineJson, CatalogTimestamps) {
  EXPECT_EQ(ParseCatalogTimestamp("1970-01-01 00:00:00"), 0);
  EXPECT_EQ(ParseCatalogTimestamp("2026-01-03 10:15:00.123456"), 1767435300123456);
  EXPECT_EQ(FormatTimestampMicros(*ParseCatalogTimestamp("2024-02-29 23:59:59.5")),
            "2024-02-29T23:59:59.500000Z");
  EXPECT_EQ(ParseCatalogTimestamp(""), std::nullopt);
  EXPECT_EQ(ParseCatalogTimestamp("yesterday"), std::nullopt);
}

TEST(MetricsHistory, SamplesAreDueEveryIntervalAndBounded) {
  MetricsHistory h(/*interval_us=*/10'000'000, /*capacity=*/3);
  EXPECT_TRUE(h.Due(0));
  for (int i = 0; i < 5; ++i) {
    const int64_t at = int64_t{i} * 10'000'000;
    ASSERT_TRUE(h.Due(at)) << i;
    MetricsHistory::Sample s;
    s.at_us = at;
    s.sources["orders"].rows_staged = 100.0 * i;
    s.sources["secret"].rows_staged = 1;
    s.consumers["ml_features"] = {3, 1.5};
    s.warehouse_lag_seconds = 2.5;
    h.Add(s);
    EXPECT_FALSE(h.Due(at + 9'999'999)) << i;
  }
  EXPECT_EQ(h.size(), 3u);
  nlohmann::ordered_json j = h.Json([](const std::string& key) { return key != "sources.secret"; });
  EXPECT_EQ(j["interval_seconds"], 10.0);
  ASSERT_EQ(j["samples"].size(), 3u);
  EXPECT_EQ(j["samples"][0]["at_us"], 20'000'000);  // the oldest two were dropped
  EXPECT_EQ(j["samples"][2]["sources"]["orders"]["rows_staged"], 400.0);
  EXPECT_FALSE(j["samples"][2]["sources"].contains("secret"));
  EXPECT_EQ(j["samples"][2]["consumers"]["ml_features"]["lag_changes"], 3.0);
  EXPECT_EQ(j["samples"][2]["warehouse"]["lag_seconds"], 2.5);
  j = h.Json([](const std::string& key) { return key.rfind("sources.", 0) == 0; });
  EXPECT_TRUE(j["samples"][0]["consumers"].empty());
  EXPECT_FALSE(j["samples"][0].contains("warehouse"));
  EXPECT_TRUE(h.Due(0)) << "a clock set back starts afresh";
}

}  // namespace
}  // namespace sluice
