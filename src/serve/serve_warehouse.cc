// `sluice serve`'s side of the PostgreSQL warehouse (warehouse/pg_publisher.h): the publisher's
// thread, its metrics and its part of /v1/stats and serve.json.
#include "serve/server_impl.h"
#include "warehouse/warehouse_metrics.h"

namespace sluice {

Status Server::Impl::OpenWarehouse() {
  if (!engine->spec().serve.postgres) return Status::OK();
  PgPublisher::Hooks hooks;
  hooks.log = [this](const std::string& line) { Log(line); };
  const WarehousePublishMetrics counted = RegisterWarehousePublishMetrics(metrics);
  hooks.published = [this, counted](double seconds, int64_t n) {
    counted.Published(seconds, n);
    warehouse_lag_samples.Add(seconds, 1);
  };
  warehouse_lag_versions = &metrics.GetGauge(
      "sluice_warehouse_lag_versions", "Table versions committed in the lake and not yet in PostgreSQL.");
  warehouse_lag_seconds = &metrics.GetGauge(
      "sluice_warehouse_lag_seconds", "Age of the oldest commit not yet in PostgreSQL; 0 when caught up.");
  warehouse_failing = &metrics.GetGauge("sluice_warehouse_failing",
                                        "1 while publishing to PostgreSQL fails (retried with backoff).");
  ASSIGN_OR_RETURN(warehouse,
                   PgPublisher::Create(engine->spec(), engine->catalog().conn(), env(), std::move(hooks)));
  return Status::OK();
}

void Server::Impl::RefreshWarehouseGauges() {
  if (!warehouse) return;
  WarehouseStats s = warehouse->stats();
  warehouse_lag_versions->Set(static_cast<double>(s.versions_behind));
  warehouse_lag_seconds->Set(s.seconds_behind);
  warehouse_failing->Set(s.consecutive_failures > 0 ? 1 : 0);
}

nlohmann::json Server::Impl::WarehouseJson() {
  if (!warehouse) return nlohmann::json();
  WarehouseStats s = warehouse->stats();
  nlohmann::json j;
  j["schema"] = engine->spec().serve.postgres->schema;
  j["lag_versions"] = s.versions_behind;
  j["lag_seconds"] = s.seconds_behind;
  j["failures"] = s.failures;
  j["publish_lag_p50_s"] = warehouse_lag_samples.Quantile(0.5);  // the last 4,096 table versions
  j["publish_lag_p99_s"] = warehouse_lag_samples.Quantile(0.99);
  j["versions_published"] = warehouse_lag_samples.batches();
  j["error"] = s.last_error.empty() ? nlohmann::json() : nlohmann::json(s.last_error);
  nlohmann::json tables = nlohmann::json::object();
  for (const auto& t : s.tables) {
    tables[t.name] = {{"lake_version", t.lake_version},
                      {"published_version", t.published_version},
                      {"rows_published", t.rows_published}};
  }
  j["tables"] = tables;
  return j;
}

}  // namespace sluice
