#include "ops/slo_metrics.h"

namespace sluice {

namespace {

constexpr const char* kStateHelp = "SLO state: 0 ok, 1 warning, 2 breach (docs/SLO.md).";
constexpr const char* kValueHelp = "The SLO's measured value (error_rate: ratio over 1h; others: seconds).";
constexpr const char* kObjectiveHelp = "The SLO's objective (error_rate: ratio; others: seconds).";
constexpr const char* kBudgetHelp = "Share of the SLO window's error budget left (negative: overspent).";
constexpr const char* kBurnHelp =
    "Error budget burn rate of the SLO over the window (1: spent exactly in the SLO window).";

Gauge& BurnRate(MetricsRegistry& metrics, const std::string& slo, const char* window) {
  return metrics.GetGauge("sluice_slo_burn_rate", kBurnHelp, {{"slo", slo}, {"window", window}});
}

}  // namespace

void RegisterSloMetrics(MetricsRegistry& metrics, const std::vector<SloDefinition>& defs) {
  for (const SloDefinition& d : defs) {
    const MetricLabels l = {{"slo", d.name}};
    metrics.GetGauge("sluice_slo_state", kStateHelp, l);
    metrics.GetGauge("sluice_slo_value", kValueHelp, l);
    metrics.GetGauge("sluice_slo_objective", kObjectiveHelp, l).Set(d.objective);
    metrics.GetGauge("sluice_slo_budget_remaining_ratio", kBudgetHelp, l).Set(1);
    for (const char* w : kBurnWindowNames) BurnRate(metrics, d.name, w);
  }
}

void SetSloMetrics(MetricsRegistry& metrics, const std::vector<SloStatus>& statuses) {
  for (const SloStatus& st : statuses) {
    const MetricLabels l = {{"slo", st.def.name}};
    metrics.GetGauge("sluice_slo_state", kStateHelp, l).Set(static_cast<double>(st.eval.state));
    metrics.GetGauge("sluice_slo_value", kValueHelp, l).Set(st.value);
    metrics.GetGauge("sluice_slo_objective", kObjectiveHelp, l).Set(st.def.objective);
    metrics.GetGauge("sluice_slo_budget_remaining_ratio", kBudgetHelp, l).Set(st.eval.budget_remaining);
    for (size_t i = 0; i < kBurnWindowNames.size(); ++i) {
      BurnRate(metrics, st.def.name, kBurnWindowNames[i]).Set(st.eval.burn_rates[i]);
    }
  }
}

}  // namespace sluice
