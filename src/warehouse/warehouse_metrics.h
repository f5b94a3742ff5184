// The metric families of the PostgreSQL publish that `sluice run` (its metrics file) and `sluice
// serve` (/metrics) both expose (docs/METRICS.md), registered in one place so that their names,
// help texts and buckets cannot drift apart. Serve's lag gauges stay in serve/serve_warehouse.cc:
// only serve has them.
#pragma once

#include <cstdint>

#include "serve/metrics.h"

namespace sluice {

struct WarehousePublishMetrics {
  Histogram* publish_lag = nullptr;   // sluice_warehouse_publish_lag_seconds
  Counter* rows_published = nullptr;  // sluice_warehouse_rows_published_total

  // Counts one table version committed in PostgreSQL: its commit-to-visible seconds and the
  // rows it copied (what PgPublisher::Hooks::published reports). Thread-safe, like the registry.
  void Published(double seconds, int64_t rows) const;
};

// Registers (or finds) the families in `registry`, which must outlive the returned pointers.
WarehousePublishMetrics RegisterWarehousePublishMetrics(MetricsRegistry& registry);

}  // namespace sluice
