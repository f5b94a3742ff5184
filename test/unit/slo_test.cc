// SLOs (ops/slo.h, ops/slo_runner.h, ops/alerts.h, spec/slo_loader.cc): burn rates and states
// from counts computed by hand from the workbook's formula, transitions with a fake clock over
// a real catalog, the Alertmanager payload, and the errors of `slo:` in sluice.yaml.
#include "ops/slo.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "catalog/slo_history.h"
#include "ops/alerts.h"
#include "ops/slo_runner.h"
#include "support/test_project.h"

namespace sluice {
namespace {

using testing::TempDir;
using testing::WriteFile;

constexpr int64_t kDay = 86400;
constexpr int64_t kThirtyDays = 30 * kDay;

SloDefinition ErrorRate(double objective = 0.01) {
  SloDefinition d;
  d.name = "error_rate:orders";
  d.kind = SloKind::kErrorRate;
  d.source = "orders";
  d.objective = objective;
  d.target = 1 - objective;
  d.ratio = true;
  return d;
}

// Counts with `bad` of `total` events in each window given, windows not given empty; a larger
// window includes a smaller one's events, as sums over time do.
SloCounts Counts(std::initializer_list<std::pair<double, double>> per_window) {
  SloCounts c{};
  size_t i = 0;
  for (const auto& [bad, total] : per_window) c[i++] = {total - bad, total};
  return c;
}

TEST(SloBurnRate, ThresholdsAreTheWorkbooksFor30Days) {
  // 2% of 30 days' budget in 1h: 0.02 * 720 h / 1 h; 5% in 6h: 0.05 * 720 / 6; 10% in 3d: 0.1 * 10.
  EXPECT_DOUBLE_EQ(BurnThreshold(kBurnRules[0], kThirtyDays), 14.4);
  EXPECT_DOUBLE_EQ(BurnThreshold(kBurnRules[1], kThirtyDays), 6.0);
  EXPECT_DOUBLE_EQ(BurnThreshold(kBurnRules[2], kThirtyDays), 1.0);
  // A 7-day window: the same shares of a smaller budget, so lower rates (0.02 * 168 = 3.36).
  EXPECT_DOUBLE_EQ(BurnThreshold(kBurnRules[0], 7 * kDay), 3.36);
  EXPECT_DOUBLE_EQ(BurnThreshold(kBurnRules[1], 7 * kDay), 1.4);
  EXPECT_NEAR(BurnThreshold(kBurnRules[2], 7 * kDay), 0.1 * 7.0 / 3.0, 1e-12);
}

TEST(SloBurnRate, IsTheBadShareOverTheAllowedShare) {
  // 15 bad of 1000 with 1% allowed: 0.015 / 0.01 = 1.5.
  EXPECT_NEAR(BurnRate({985, 1000}, 0.99), 1.5, 1e-12);
  EXPECT_DOUBLE_EQ(BurnRate({0, 0}, 0.99), 0);        // no events: nothing burns
  EXPECT_NEAR(BurnRate({0, 10}, 0.999), 1000, 1e-9);  // all bad against 0.1%
}

TEST(SloEvaluate, PagesWhenOneHourAndFiveMinutesBothBurnFast) {
  // 5m: 30 of 100 bad -> 0.3 / 0.01 = 30; 30m: 30 of 300 -> 10; 1h: 150 of 1000 -> 15 (>= 14.4);
  // 6h: 150 of 5000 -> 3; 3d: 150 of 20000 -> 0.75; window: 150 of 100000 -> 0.15.
  SloCounts c = Counts({{30, 100}, {30, 300}, {150, 1000}, {150, 5000}, {150, 20000}, {150, 100000}});
  SloEvaluation e = EvaluateSlo(ErrorRate(), c, kThirtyDays, 100);
  EXPECT_EQ(e.state, SloState::kBreach);
  EXPECT_NEAR(e.burn_rates[0], 30, 1e-9);
  EXPECT_NEAR(e.burn_rates[1], 10, 1e-9);
  EXPECT_NEAR(e.burn_rates[2], 15, 1e-9);
  EXPECT_NEAR(e.burn_rates[3], 3, 1e-9);
  EXPECT_NEAR(e.burn_rates[4], 0.75, 1e-9);
  EXPECT_NEAR(e.budget_remaining, 1 - 0.15, 1e-9);
  EXPECT_EQ(e.events, 100000);
}

TEST(SloEvaluate, TheShortWindowMustConfirm) {
  // 1h burns at 15 but the last 5 minutes at 10 (10 of 100): the fast rule does not fire;
  // 6h: 150 of 5000 = 3 < 6; 3d: 150 of 10000 -> 1.5 >= 1 confirmed by 6h (3): a ticket.
  SloCounts c = Counts({{10, 100}, {30, 300}, {150, 1000}, {150, 5000}, {150, 10000}, {150, 10000}});
  SloEvaluation e = EvaluateSlo(ErrorRate(), c, kThirtyDays, 100);
  EXPECT_EQ(e.state, SloState::kWarning);
  EXPECT_NEAR(e.burn_rates[0], 10, 1e-9);
  EXPECT_NEAR(e.burn_rates[4], 1.5, 1e-9);
  EXPECT_NEAR(e.budget_remaining, 1 - 1.5, 1e-9);  // overspent: negative
}

TEST(SloEvaluate, SixHoursAndThirtyMinutesAlsoPage) {
  // 1h: 100 of 1000 -> 10 < 14.4; 6h: 400 of 6000 -> 6.67 >= 6, 30m: 40 of 500 -> 8 >= 6.
  SloCounts c = Counts({{5, 100}, {40, 500}, {100, 1000}, {400, 6000}, {400, 6000}, {400, 6000}});
  SloEvaluation e = EvaluateSlo(ErrorRate(), c, kThirtyDays, 100);
  EXPECT_EQ(e.state, SloState::kBreach);
  EXPECT_NEAR(e.burn_rates[3], 400.0 / 6000 / 0.01, 1e-9);
}

TEST(SloEvaluate, TooFewEventsNeverAlert) {
  // One bad row of one, in every window: burn 100 everywhere, but 1 < min_events.
  SloCounts c = Counts({{1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}});
  SloEvaluation e = EvaluateSlo(ErrorRate(), c, kThirtyDays, 100);
  EXPECT_EQ(e.state, SloState::kOk);
  EXPECT_NEAR(e.burn_rates[2], 100, 1e-9);
  // With min_events 1 the same counts page.
  EXPECT_EQ(EvaluateSlo(ErrorRate(), c, kThirtyDays, 1).state, SloState::kBreach);
}

// ---- SloRunner over a real catalog, with a fake clock -----------------------------------------

class FakeClock : public Env {
 public:
  int64_t NowMicros() override { return now_us; }
  int64_t MonotonicMicros() override { return now_us; }
  int64_t now_us = int64_t{1764842400} * 1000000;  // 2025-12-04T10:00:00Z
  void Advance(int64_t seconds) { now_us += seconds * 1000000; }
};

// An http source `events` whose ingest latency SLO is 1s (p99) and consumer lag 1h; the
// lake's catalog opened with a fake clock.
class SloRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(tmp_.path(), "contracts/events.yaml", std::string("name: events\n") + testing::kOrdersColumns);
    WriteFile(tmp_.path(), "sluice.yaml",
              "name: slo\nsources:\n  events:\n    type: http\n    contract: contracts/events.yaml\n"
              "slo:\n  min_events: 10\n  min_intervals: 2\n  error_rate: off\n  ingest_latency_p99: 1s\n"
              "  transform_duration: 30s\n");
    Open();
  }
  void Open() {
    runner_.reset();
    catalog_.reset();
    Result<ProjectSpec> spec = LoadProject(tmp_.path());
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    spec_ = std::move(*spec);
    Result<std::unique_ptr<Catalog>> cat = Catalog::Open(spec_, {}, &clock_);
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    catalog_ = std::move(*cat);
    runner_ = std::make_unique<SloRunner>(spec_, *catalog_);
  }
  const SloStatus& Find(const std::string& name) {
    for (const auto& s : statuses_) {
      if (s.def.name == name) return s;
    }
    static SloStatus none;
    ADD_FAILURE() << "no SLO " << name;
    return none;
  }
  std::vector<SloTransition> Evaluate(const LiveInputs& live) {
    Result<std::vector<SloTransition>> r = runner_->Evaluate(live);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    statuses_ = runner_->Statuses();
    return r.ok() ? *r : std::vector<SloTransition>();
  }
  // A latency histogram with bounds 0.5, 1, 2 s: `fast` observations <= 0.5 s, `slow` at 2 s.
  static LiveInputs::Histogram Latency(uint64_t fast, uint64_t slow) {
    return {{0.5, 1, 2}, {fast, fast, fast + slow, fast + slow}};
  }

  TempDir tmp_{"sluice_slo_test"};
  FakeClock clock_;
  ProjectSpec spec_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<SloRunner> runner_;
  std::vector<SloStatus> statuses_;
};

TEST_F(SloRunnerTest, DefinesTheConfiguredAndDefaultObjectives) {
  std::vector<std::string> names;
  for (const auto& d : runner_->definitions()) names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{"ingest_latency_p99:events", "consumer_lag:events",
                                             "transform_duration"}));
}

TEST_F(SloRunnerTest, RatioSloBreachesThenRecoversAsWindowsMoveOn) {
  LiveInputs live;
  live.lag_seconds["events"] = 5;
  // t0: 100 requests, all fast: ok.
  live.ingest_latency["events"] = Latency(100, 0);
  EXPECT_TRUE(Evaluate(live).empty());
  EXPECT_EQ(Find("ingest_latency_p99:events").eval.state, SloState::kOk);
  // +1 min: 50 more, 20 of them slow. Every window holds 20 bad of 150: 0.1333 / 0.01 = 13.33,
  // under 14.4 (1h rule) but over 6 (6h rule, 30m confirms): breach.
  clock_.Advance(60);
  live.ingest_latency["events"] = Latency(130, 20);
  std::vector<SloTransition> changes = Evaluate(live);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].status.def.name, "ingest_latency_p99:events");
  EXPECT_EQ(changes[0].from, SloState::kOk);
  EXPECT_EQ(changes[0].status.eval.state, SloState::kBreach);
  EXPECT_EQ(changes[0].status.since_us, clock_.now_us);
  const SloStatus& s = Find("ingest_latency_p99:events");
  EXPECT_NEAR(s.eval.burn_rates[0], 20.0 / 150 / 0.01, 1e-9);
  EXPECT_NEAR(s.eval.burn_rates[4], 20.0 / 150 / 0.01, 1e-9);
  EXPECT_NEAR(s.eval.budget_remaining, 1 - 20.0 / 150 / 0.01, 1e-9);
  EXPECT_EQ(s.eval.events, 150);
  EXPECT_DOUBLE_EQ(s.value, 2);  // the p99 of the 50 new requests: the 2 s bucket
  // Same state on the next evaluation: no change reported.
  clock_.Advance(5);
  EXPECT_TRUE(Evaluate(live).empty());
  // +40 min: 1000 fast requests. 5m: 0 of 1000 -> 0; 30m: 0 of 1000; the fast rules stop; 6h and
  // 3d: 20 of 1150 -> 1.739 >= 1: a ticket.
  clock_.Advance(40 * 60);
  live.ingest_latency["events"] = Latency(1130, 20);
  changes = Evaluate(live);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].from, SloState::kBreach);
  EXPECT_EQ(changes[0].status.eval.state, SloState::kWarning);
  EXPECT_NEAR(Find("ingest_latency_p99:events").eval.burn_rates[3], 20.0 / 1150 / 0.01, 1e-9);
  EXPECT_DOUBLE_EQ(Find("ingest_latency_p99:events").eval.burn_rates[0], 0);
  // A new process (a restart) continues from the catalog: the same state, no change; its
  // histograms start from zero.
  Open();
  live.ingest_latency["events"] = Latency(0, 0);
  clock_.Advance(60);
  EXPECT_TRUE(Evaluate(live).empty());
  EXPECT_EQ(Find("ingest_latency_p99:events").eval.state, SloState::kWarning);
  // +7h, 100 fast requests: the 6h window holds nothing bad, 3d still does (20 of 1250 -> 1.6)
  // but 6h does not confirm: ok.
  clock_.Advance(7 * 3600);
  live.ingest_latency["events"] = Latency(100, 0);
  changes = Evaluate(live);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].from, SloState::kWarning);
  EXPECT_EQ(changes[0].status.eval.state, SloState::kOk);
  EXPECT_NEAR(Find("ingest_latency_p99:events").eval.burn_rates[4], 20.0 / 1250 / 0.01, 1e-9);
}

TEST_F(SloRunnerTest, ThresholdSloCountsEvaluationsAndNeedsMinIntervals) {
  LiveInputs live;
  live.lag_seconds["events"] = 7200;  // over the 1h objective
  // One bad evaluation: burn (1/1)/0.01 = 100, but 1 < min_intervals (2).
  EXPECT_TRUE(Evaluate(live).empty());
  EXPECT_EQ(Find("consumer_lag:events").eval.state, SloState::kOk);
  EXPECT_DOUBLE_EQ(Find("consumer_lag:events").value, 7200);
  clock_.Advance(5);
  std::vector<SloTransition> changes = Evaluate(live);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].status.def.name, "consumer_lag:events");
  EXPECT_EQ(changes[0].status.eval.state, SloState::kBreach);
  EXPECT_EQ(Find("consumer_lag:events").eval.events, 2);
  // Transform durations: one event per transform, bad over 30 s.
  live.transform_seconds = {10, 45};
  clock_.Advance(5);
  Evaluate(live);
  EXPECT_EQ(Find("transform_duration").eval.events, 2);
  EXPECT_NEAR(Find("transform_duration").eval.burn_rates[0], 0.5 / 0.01, 1e-9);
  EXPECT_DOUBLE_EQ(Find("transform_duration").value, 45);
}

TEST_F(SloRunnerTest, SamplesOlderThanTheWindowArePruned) {
  LiveInputs live;
  live.lag_seconds["events"] = 1;
  Evaluate(live);
  clock_.Advance(31 * kDay);
  Evaluate(live);
  // Only the new evaluation is within 30 days.
  EXPECT_EQ(Find("consumer_lag:events").eval.events, 1);
  Result<std::vector<SloSums>> sums =
      SloWindowSums(*catalog_, "consumer_lag:events", clock_.now_us, {100 * kDay});
  ASSERT_TRUE(sums.ok());
  EXPECT_EQ((*sums)[0].total, 1);  // the old sample is gone, not only out of the window
}

// ---- Alerts ----------------------------------------------------------------------------------

TEST(SloAlerts, AlertmanagerWebhookPayload) {
  SloTransition t;
  t.status.def = ErrorRate();
  t.status.eval.state = SloState::kOk;
  t.status.since_us = int64_t{1764842400} * 1000000;
  t.from = SloState::kBreach;
  t.from_since_us = t.status.since_us - 3600 * int64_t{1000000};
  std::vector<nlohmann::json> alerts = TransitionAlerts(t, t.status.since_us, "https://example.org/sluice/");
  ASSERT_EQ(alerts.size(), 1u);  // breach -> ok: the breach alert resolved, nothing fires
  nlohmann::json p = AlertmanagerPayload(alerts[0]);
  EXPECT_EQ(p["version"], "4");
  EXPECT_EQ(p["status"], "resolved");
  ASSERT_EQ(p["alerts"].size(), 1u);
  const nlohmann::json& a = p["alerts"][0];
  EXPECT_EQ(
      a["labels"],
      (nlohmann::json{{"alertname", "SluiceSLOBreach"}, {"slo", "error_rate:orders"}, {"severity", "page"}}));
  EXPECT_EQ(a["annotations"]["runbook_url"], "https://example.org/sluice/docs/RUNBOOKS.md#error-rate");
  EXPECT_EQ(a["startsAt"], "2025-12-04T09:00:00Z");
  EXPECT_EQ(a["endsAt"], "2025-12-04T10:00:00Z");
  // FNV-1a 64 over "alertname" 0xff "SluiceSLOBreach" 0xff "severity" 0xff "page" 0xff "slo" 0xff ...
  uint64_t h = 14695981039346656037ULL;
  for (std::string s : {"alertname", "SluiceSLOBreach", "severity", "page", "slo", "error_rate:orders"}) {
    s += '\xff';
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  EXPECT_EQ(a["fingerprint"], hex);
  // warning -> breach: the warning resolved, the breach firing (endsAt zero while firing).
  t.from = SloState::kWarning;
  t.status.eval.state = SloState::kBreach;
  alerts = TransitionAlerts(t, t.status.since_us, "");
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0]["status"], "resolved");
  EXPECT_EQ(alerts[0]["labels"]["severity"], "ticket");
  EXPECT_EQ(alerts[1]["status"], "firing");
  EXPECT_EQ(alerts[1]["endsAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(alerts[1]["annotations"]["runbook_url"], "docs/RUNBOOKS.md#error-rate");
}

// ---- slo: in sluice.yaml ---------------------------------------------------------------------

class SloSpecTest : public ::testing::Test {
 protected:
  Result<ProjectSpec> Load(const std::string& slo) {
    WriteFile(tmp_.path(), "contracts/orders.yaml", testing::kOrdersContract);
    WriteFile(tmp_.path(), "sluice.yaml", testing::OrdersSpec() + slo);
    return LoadProject(tmp_.path());
  }
  TempDir tmp_{"sluice_slo_spec_test"};
};

TEST_F(SloSpecTest, DefaultsWithoutConfiguration) {
  Result<ProjectSpec> spec = Load("");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->slo.window_seconds, kThirtyDays);
  EXPECT_EQ(spec->slo.error_rate, 0.01);
  EXPECT_EQ(spec->slo.consumer_lag_seconds, 3600);
  std::vector<SloDefinition> defs = SloDefinitions(*spec);
  ASSERT_EQ(defs.size(), 1u);  // a files source: error_rate only (no lag without a stream)
  EXPECT_EQ(defs[0].name, "error_rate:orders");
  EXPECT_NEAR(defs[0].target, 0.99, 1e-12);
}

TEST_F(SloSpecTest, EverySetting) {
  Result<ProjectSpec> spec = Load(
      "slo:\n  window: 7d\n  interval: 500ms\n  min_events: 50\n  target: 99.5%\n  error_rate: 0.5%\n"
      "  transform_duration: 5m\n  freshness: {default: 2h, tables: {curated.orders: 30m}}\n"
      "  runbook_base: https://x/\n  alerts: {webhook: [http://127.0.0.1:1/a, http://127.0.0.1:2/b], "
      "command: cat}\n");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->slo.window_seconds, 7 * kDay);
  EXPECT_EQ(spec->slo.interval_ms, 500);
  EXPECT_EQ(spec->slo.min_events, 50);
  EXPECT_DOUBLE_EQ(spec->slo.target, 0.995);
  EXPECT_DOUBLE_EQ(*spec->slo.error_rate, 0.005);
  EXPECT_EQ(spec->slo.webhooks.size(), 2u);
  EXPECT_EQ(spec->slo.command, "cat");
  std::vector<SloDefinition> defs = SloDefinitions(*spec);
  ASSERT_EQ(defs.size(), 3u);
  EXPECT_EQ(defs[2].name, "freshness:curated.orders");
  EXPECT_DOUBLE_EQ(defs[2].objective, 1800);
  EXPECT_DOUBLE_EQ(defs[2].target, 0.995);
}

TEST_F(SloSpecTest, BadValuesNameFileLineAndKey) {
  struct Case {
    std::string slo, expect;
  };
  for (const Case& c : std::vector<Case>{
           {"slo:\n  window: 30\n", "sluice.yaml:16:11: slo.window: '30' is not a duration"},
           {"slo:\n  window: 10m\n", "slo.window: must be at least 1h"},
           {"slo:\n  error_rate: lots\n", "slo.error_rate: 'lots' is not a percentage"},
           {"slo:\n  error_rate: 120%\n", "slo.error_rate: must be between 0% and 100%"},
           {"slo:\n  freshness: {tables: {curated.nope: 1h}}\n",
            "slo.freshness.tables.curated.nope: no table 'curated.nope'"},
           {"slo:\n  ingest_latency_p99: {sources: {orders: 1s}}\n", "no streaming source 'orders'"},
           {"slo:\n  alerts: {webhook: ftp://x}\n",
            "slo.alerts.webhook: 'ftp://x' is not an http:// or https:// URL"},
           {"slo:\n  min_events: -3\n", "slo.min_events: expected a positive whole number"},
           {"slo:\n  burn: 3\n", "slo.burn: unknown key 'burn'"},
       }) {
    Result<ProjectSpec> spec = Load(c.slo);
    ASSERT_FALSE(spec.ok()) << c.slo;
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(spec.status().message().find(c.expect), std::string::npos) << spec.status().message();
  }
}

}  // namespace
}  // namespace sluice
