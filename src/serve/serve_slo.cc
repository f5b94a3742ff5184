// The SLOs of `sluice serve` (ops/slo_runner.h): evaluated on the engine thread every
// slo.interval from serve's own measurements and the catalog, shown at GET /v1/slo and in
// /metrics, and alerted on through the dispatcher's thread (ops/alerts.h).
#include <string>

#include "ops/slo_metrics.h"
#include "serve/server_impl.h"

namespace sluice {

void Server::Impl::InitSlo() {
  slo = std::make_unique<SloRunner>(engine->spec(), engine->catalog());
  alerts = std::make_unique<AlertDispatcher>(engine->spec().slo, env(),
                                             [this](const std::string& line) { Log(line); });
  RegisterSloMetrics(metrics, slo->definitions());
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
  SetSloMetrics(metrics, slo->Statuses());
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
