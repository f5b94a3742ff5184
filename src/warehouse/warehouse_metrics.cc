#include "warehouse/warehouse_metrics.h"

namespace sluice {

void WarehousePublishMetrics::Published(double seconds, int64_t rows) const {
  publish_lag->Observe(seconds);
  rows_published->Add(static_cast<double>(rows));
}

WarehousePublishMetrics RegisterWarehousePublishMetrics(MetricsRegistry& registry) {
  WarehousePublishMetrics m;
  m.publish_lag = &registry.GetHistogram(
      "sluice_warehouse_publish_lag_seconds",
      "From a commit in the lake to its rows being visible in PostgreSQL (per table version published).",
      LatencyBuckets());
  m.rows_published =
      &registry.GetCounter("sluice_warehouse_rows_published_total",
                           "Rows copied into PostgreSQL (the changed partitions of each version).");
  return m;
}

}  // namespace sluice
