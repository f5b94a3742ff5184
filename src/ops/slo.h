// SLOs as sluice evaluates them (docs/SLO.md): the objectives a project's `slo:` defines, and the
// multi-window multi-burn-rate evaluation of the Google SRE workbook (chapter 5, "Alerting on
// SLOs") over good/total event counts.
//
// Two kinds of SLI, both as good/total events:
//  - ratio SLOs (error_rate, ingest_latency_p99): the events are rows (or ingest requests); an
//    event is bad when its row was dead-lettered (or its latency over the threshold);
//  - threshold SLOs (freshness, consumer_lag, transform_duration): every evaluation is one
//    event, bad when the measured value is over the objective.
// A burn rate is the share of bad events in a window divided by the share the budget allows
// (1 - target). The alert rules are the workbook's for a 30-day window, stated as budget spent:
// page (breach) when 2% of the budget burns in 1h (confirmed over 5m) or 5% in 6h (confirmed over
// 30m); ticket (warning) when 10% burns in 3d (confirmed over 6h). For a 30d window the burn rate
// thresholds are the workbook's 14.4, 6 and 1. A rule fires only with at least min_events
// (min_intervals) events in its long window.
//
// Everything here is pure: time is passed in. Thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "spec/spec.h"

namespace sluice {

enum class SloKind { kErrorRate, kIngestLatency, kConsumerLag, kTransformDuration, kFreshness };
enum class SloState { kOk = 0, kWarning = 1, kBreach = 2 };

// "ok" | "warning" | "breach".
const char* SloStateName(SloState state);
// The inverse of SloStateName; kOk for anything else.
SloState SloStateFromName(const std::string& name);

// One objective of the project.
struct SloDefinition {
  std::string name;  // "error_rate:orders", "freshness:curated.orders", "transform_duration"
  SloKind kind = SloKind::kErrorRate;
  std::string source;    // error_rate, ingest_latency_p99, consumer_lag; else ""
  std::string table;     // freshness: "curated.orders"; else ""
  double objective = 0;  // error_rate: the share of bad rows allowed; others: seconds
  double target = 0.99;  // the share of good events the SLO promises
  bool ratio = false;    // ratio SLO (events are rows/requests) or threshold SLO (evaluations)

  const char* KindName() const;     // "error_rate", "ingest_latency_p99", ...
  const char* Unit() const;         // "ratio" or "seconds"
  const char* RunbookSlug() const;  // docs/RUNBOOKS.md#<slug>
};

// The objectives `spec.slo` defines, in a stable order: error_rate per source, ingest latency
// and consumer lag per streaming source, transform duration, freshness per table.
std::vector<SloDefinition> SloDefinitions(const ProjectSpec& spec);

// Good and total events within one window.
struct WindowCounts {
  double good = 0;
  double total = 0;
  double bad() const { return total - good; }
};

// The windows evaluated, shortest first, then the SLO's whole window (kFull).
inline constexpr std::array<const char*, 5> kBurnWindowNames = {"5m", "30m", "1h", "6h", "3d"};
inline constexpr std::array<int64_t, 5> kBurnWindowSeconds = {300, 1800, 3600, 6 * 3600, 3 * 86400};
inline constexpr size_t kFull = 5;
using SloCounts = std::array<WindowCounts, 6>;  // kBurnWindowSeconds..., then the whole window

// The spans of SloCounts in seconds for an SLO window of `window_seconds`.
std::array<int64_t, 6> SloSpans(int64_t window_seconds);

// One multi-window alert rule: fires when the burn rate over both windows is at least
// `budget_share * window / long window` and the long window holds enough events.
struct BurnRule {
  size_t long_window;  // index into kBurnWindowSeconds
  size_t short_window;
  double budget_share;  // of the whole window's budget, spent within the long window
  SloState state;       // what firing means
};
inline constexpr std::array<BurnRule, 3> kBurnRules = {{
    {2, 0, 0.02, SloState::kBreach},   // 1h & 5m: 14.4 for 30d
    {3, 1, 0.05, SloState::kBreach},   // 6h & 30m: 6
    {4, 3, 0.10, SloState::kWarning},  // 3d & 6h: 1
}};

// The burn rate threshold of `rule` for an SLO window of `window_seconds`.
double BurnThreshold(const BurnRule& rule, int64_t window_seconds);

// The burn rate of `counts` against `target`: (bad / total) / (1 - target); 0 without events.
double BurnRate(const WindowCounts& counts, double target);

// What one evaluation found.
struct SloEvaluation {
  SloState state = SloState::kOk;
  std::array<double, 5> burn_rates{};  // per kBurnWindowNames
  double budget_remaining = 1;         // 1 - (bad share over the window) / (1 - target); may be < 0
  double events = 0;                   // over the whole window
};

// Evaluates `def` from its counts; `min_events` as the rules require (min_events for ratio
// SLOs, min_intervals for threshold SLOs).
SloEvaluation EvaluateSlo(const SloDefinition& def, const SloCounts& counts, int64_t window_seconds,
                          int64_t min_events);

}  // namespace sluice
