// SloRunner: one evaluation of every SLO of a project, the same for `sluice serve` (every
// slo.interval, on its engine thread) and `sluice run` (once, at its end): it measures each
// SLI since the previous evaluation (of any process: the samples are kept in the catalog,
// catalog/slo_history.h), evaluates the burn rates (ops/slo.h), keeps each SLO's state and
// reports the changes of state, which become alerts (ops/alerts.h).
//
// Inputs only `sluice serve` has (latency histograms, consumer lag, its transform durations)
// come in LiveInputs; the rest is read from the catalog. The clock is the catalog's Env
// (NowMicros), so tests fake time. Not safe for concurrent use: call it on the thread that owns
// the catalog. Status() may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "ops/slo.h"

namespace sluice {

// What `sluice serve` measures itself, as of this evaluation.
struct LiveInputs {
  // Per source: cumulative histogram buckets of ingest latency (bounds in seconds; cumulative[i]
  // counts observations <= bounds[i], the last entry is +Inf).
  struct Histogram {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;
  };
  std::map<std::string, Histogram> ingest_latency;
  std::map<std::string, double> lag_seconds;  // per streaming source
  // Transform durations (seconds) finished since the previous evaluation.
  std::vector<double> transform_seconds;
};

// One SLO as evaluated last.
struct SloStatus {
  SloDefinition def;
  SloEvaluation eval;
  double value = 0;      // the measured value (error_rate: bad share over 1h; others: the latest)
  int64_t since_us = 0;  // when the current state began
};

// A change of an SLO's state (from `from` to `status.state`).
struct SloTransition {
  SloStatus status;
  SloState from = SloState::kOk;
  int64_t from_since_us = 0;  // when the state left began
};

class SloRunner {
 public:
  SloRunner(const ProjectSpec& spec, Catalog& catalog);

  // Measures, stores, evaluates. Returns the changes of state since the previous evaluation
  // (of this or an earlier process). Errors: the catalog's.
  Result<std::vector<SloTransition>> Evaluate(const LiveInputs& live);

  // The last evaluation's statuses; empty before the first. Thread-safe.
  std::vector<SloStatus> Statuses() const;
  int64_t evaluated_at_us() const;

  const std::vector<SloDefinition>& definitions() const { return defs_; }

 private:
  Status LoadState();

  const ProjectSpec& spec_;
  Catalog& catalog_;
  std::vector<SloDefinition> defs_;
  bool loaded_ = false;
  std::map<std::string, int64_t> last_sample_us_;
  std::map<std::string, std::pair<SloState, int64_t>> states_;  // slo -> state, since
  std::map<std::string, double> last_value_;                    // threshold SLOs: latest value
  std::map<std::string, LiveInputs::Histogram> last_latency_;   // per source, as of the last sample
  int64_t last_prune_us_ = 0;

  mutable std::mutex mu_;  // guards the two below
  std::vector<SloStatus> statuses_;
  int64_t evaluated_at_us_ = 0;
};

// The SLO as GET /v1/slo shows it (docs/SLO.md).
nlohmann::json SloStatusJson(const SloStatus& s);
// {"evaluated_at": ..., "slos": [...]}.
nlohmann::json SloReportJson(const std::vector<SloStatus>& statuses, int64_t evaluated_at_us);

// "2026-12-04T10:00:00Z" (seconds precision, UTC).
std::string IsoSeconds(int64_t micros);

}  // namespace sluice
