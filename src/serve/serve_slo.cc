// The SLOs of `sluice serve` (ops/slo_runner.h): evaluated on the engine thread every
// slo.interval from serve's own measurements and the catalog, shown at GET /v1/slo and in
// /metrics, and alerted on through the dispatcher's thread (ops/alerts.h).
#include <string>

#include "serve/server_impl.h"

namespace sluice {

namespace {

constexpr const char* kStateHelp = "SLO state: 0 ok, 1 warning, 2 breach (docs/SLO.md).";
constexpr const char* kValueHelp = "The SLO's measured value (error_rate: ratio over 1h; others: seconds).";
constexpr const char* kObjectiveHelp = "The SLO's objective (error_rate: ratio; others: seconds).";
constexpr const char* kBudgetHelp = "Share of the SLO window's error budget left (negative: overspent).";
constexpr const char* kBurnHelp =
    "Error budget burn rate of the SLO over the window (1: spent exactly in the SLO window).";

}  // namespace

void Server::Impl::InitSlo() {
  slo = std::make_unique<SloRunner>(engine->spec(), engine->catalog());
  alerts = std::make_unique<AlertDispatcher>(engine->spec().slo, env(),
                                             [this](const std::string& line) { Log(line); });
  for (const SloDefinition& d : slo->definitions()) {
    const MetricLabels l = {{"slo", d.name}};
    metrics.GetGauge("sluice_slo_state", kStateHelp, l);
    metrics.GetGauge("sluice_slo_value", kValueHelp, l);
    metrics.GetGauge("sluice_slo_objective", kObjectiveHelp, l).Set(d.objective);
    metrics.GetGauge("sluice_slo_budget_remaining_ratio", kBudgetHelp, l).Set(1);
    for (const char* w : kBurnWindowNames)
      metrics.GetGauge("sluice_slo_burn_rate", kBurnHelp, {{"slo", d.name}, {"window", w}});
  }
}

void Server::Impl::EvaluateSlos() {
  if (!slo || slo->definitions().empty()) return;
  LiveInputs live;
  live.transform_seconds = std::move(transforms_since_slo);
  transforms_since_slo.clear();
  RefreshGauges();  // the lag as of now
  for (auto& [name, s] : sources) {
    HistogramSnapshot h = s->ingest_latency->Snapshot();
    live.ingest_latency[name] = {h.bounds, h.cumulative};
    live.lag_seconds[name] = s->lag_seconds->Value();
  }
  Result<std::vector<SloTransition>> changes = slo->Evaluate(live);
  if (!changes.ok()) {
    Log("SLO evaluation failed (tried again in " + std::to_string(engine->spec().slo.interval_ms) +
        " ms): " + changes.status().ToString());
    return;
  }
  for (const SloStatus& st : slo->Statuses()) {
    const MetricLabels l = {{"slo", st.def.name}};
    metrics.GetGauge("sluice_slo_state", kStateHelp, l).Set(static_cast<double>(st.eval.state));
    metrics.GetGauge("sluice_slo_value", kValueHelp, l).Set(st.value);
    metrics.GetGauge("sluice_slo_budget_remaining_ratio", kBudgetHelp, l).Set(st.eval.budget_remaining);
    for (size_t i = 0; i < kBurnWindowNames.size(); ++i) {
      metrics
          .GetGauge("sluice_slo_burn_rate", kBurnHelp,
                    {{"slo", st.def.name}, {"window", kBurnWindowNames[i]}})
          .Set(st.eval.burn_rates[i]);
    }
  }
  for (const SloTransition& t : *changes) {
    Log("SLO " + t.status.def.name + ": " + SloStateName(t.from) + " -> " +
        SloStateName(t.status.eval.state) + " (docs/RUNBOOKS.md#" + t.status.def.RunbookSlug() + ")");
  }
  alerts->Enqueue(*changes);
}

nlohmann::json Server::Impl::SloJson() {
  if (!slo) return SloReportJson({}, 0);
  return SloReportJson(slo->Statuses(), slo->evaluated_at_us());
}

}  // namespace sluice
