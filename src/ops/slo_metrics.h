// The SLO gauges (docs/SLO.md, "Metrics"), one renderer for `sluice serve`'s /metrics and
// `sluice run --metrics-file`: per SLO sluice_slo_state, sluice_slo_value, sluice_slo_objective,
// sluice_slo_budget_remaining_ratio, and sluice_slo_burn_rate per burn window.
#pragma once

#include <vector>

#include "ops/slo_runner.h"
#include "serve/metrics.h"

namespace sluice {

// Registers the gauges of `defs` in `metrics` as they read before any evaluation: state 0 (ok),
// value 0, the objective, budget 1, burn rates 0.
void RegisterSloMetrics(MetricsRegistry& metrics, const std::vector<SloDefinition>& defs);

// Sets the gauges of each SLO of `statuses` (an evaluation, SloRunner::Statuses()) in `metrics`.
void SetSloMetrics(MetricsRegistry& metrics, const std::vector<SloStatus>& statuses);

}  // namespace sluice
