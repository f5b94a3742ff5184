#include "ops/slo.h"

#include <algorithm>

namespace sluice {

const char* SloStateName(SloState state) {
  switch (state) {
    case SloState::kOk:
      return "ok";
    case SloState::kWarning:
      return "warning";
    case SloState::kBreach:
      return "breach";
  }
  return "ok";
}

SloState SloStateFromName(const std::string& name) {
  if (name == "warning") return SloState::kWarning;
  if (name == "breach") return SloState::kBreach;
  return SloState::kOk;
}

const char* SloDefinition::KindName() const {
  switch (kind) {
    case SloKind::kErrorRate:
      return "error_rate";
    case SloKind::kIngestLatency:
      return "ingest_latency_p99";
    case SloKind::kConsumerLag:
      return "consumer_lag";
    case SloKind::kTransformDuration:
      return "transform_duration";
    case SloKind::kFreshness:
      return "freshness";
  }
  return "?";
}

const char* SloDefinition::Unit() const { return kind == SloKind::kErrorRate ? "ratio" : "seconds"; }

const char* SloDefinition::RunbookSlug() const {
  switch (kind) {
    case SloKind::kErrorRate:
      return "error-rate";
    case SloKind::kIngestLatency:
      return "ingest-latency";
    case SloKind::kConsumerLag:
      return "consumer-lag";
    case SloKind::kTransformDuration:
      return "transform-duration";
    case SloKind::kFreshness:
      return "freshness";
  }
  return "";
}

std::vector<SloDefinition> SloDefinitions(const ProjectSpec& spec) {
  const SloSpec& slo = spec.slo;
  std::vector<SloDefinition> out;
  auto add = [&](SloKind kind, const std::string& source, const std::string& table, double objective,
                 bool ratio) {
    SloDefinition d;
    d.kind = kind;
    d.source = source;
    d.table = table;
    d.objective = objective;
    d.ratio = ratio;
    d.target = kind == SloKind::kErrorRate       ? 1 - objective
               : kind == SloKind::kIngestLatency ? 0.99
                                                 : slo.target;
    d.name =
        std::string(d.KindName()) + (source.empty() ? "" : ":" + source) + (table.empty() ? "" : ":" + table);
    out.push_back(std::move(d));
  };
  if (slo.error_rate) {
    for (const auto& s : spec.sources) add(SloKind::kErrorRate, s.name, "", *slo.error_rate, true);
  }
  for (const auto& s : spec.sources) {
    if (!s.streaming()) continue;
    double latency = slo.ingest_latency_p99_seconds.value_or(-1);
    if (auto it = slo.ingest_latency_p99_sources.find(s.name); it != slo.ingest_latency_p99_sources.end()) {
      latency = it->second;
    }
    if (latency > 0) add(SloKind::kIngestLatency, s.name, "", latency, true);
  }
  if (slo.consumer_lag_seconds) {
    for (const auto& s : spec.sources) {
      if (s.streaming()) add(SloKind::kConsumerLag, s.name, "", *slo.consumer_lag_seconds, false);
    }
  }
  if (slo.transform_duration_seconds) {
    add(SloKind::kTransformDuration, "", "", *slo.transform_duration_seconds, false);
  }
  for (const auto& t : spec.tables) {
    const std::string name = (t.kind == TableKind::kCurated ? "curated." : "marts.") + t.name;
    double freshness = slo.freshness_seconds.value_or(-1);
    if (auto it = slo.freshness_tables.find(name); it != slo.freshness_tables.end()) freshness = it->second;
    if (freshness > 0) add(SloKind::kFreshness, "", name, freshness, false);
  }
  return out;
}

std::array<int64_t, 6> SloSpans(int64_t window_seconds) {
  std::array<int64_t, 6> spans{};
  for (size_t i = 0; i < kBurnWindowSeconds.size(); ++i)
    spans[i] = std::min(kBurnWindowSeconds[i], window_seconds);
  spans[kFull] = window_seconds;
  return spans;
}

double BurnThreshold(const BurnRule& rule, int64_t window_seconds) {
  return rule.budget_share * static_cast<double>(window_seconds) /
         static_cast<double>(kBurnWindowSeconds[rule.long_window]);
}

double BurnRate(const WindowCounts& counts, double target) {
  if (counts.total <= 0) return 0;
  return (counts.bad() / counts.total) / (1 - target);
}

SloEvaluation EvaluateSlo(const SloDefinition& def, const SloCounts& counts, int64_t window_seconds,
                          int64_t min_events) {
  SloEvaluation e;
  for (size_t i = 0; i < e.burn_rates.size(); ++i) e.burn_rates[i] = BurnRate(counts[i], def.target);
  e.events = counts[kFull].total;
  e.budget_remaining = 1 - BurnRate(counts[kFull], def.target);
  for (const BurnRule& rule : kBurnRules) {
    const double threshold = BurnThreshold(rule, window_seconds);
    const bool fires = counts[rule.long_window].total >= static_cast<double>(min_events) &&
                       e.burn_rates[rule.long_window] >= threshold &&
                       e.burn_rates[rule.short_window] >= threshold;
    if (fires && static_cast<int>(rule.state) > static_cast<int>(e.state)) e.state = rule.state;
  }
  return e;
}

}  // namespace sluice
