// The metrics file of a batch run (`sluice run --metrics-file PATH`, docs/METRICS.md): the
// pipeline metrics read from the catalog and two gauges of the run itself, in Prometheus text
// 0.0.4, replaced atomically at the end of every run so a node_exporter textfile collector
// (which reads *.prom) never sees half a file. `sluice run` puts the run's SLO gauges
// (ops/slo_metrics.h) and PostgreSQL publish before that text: the run's gauges end the file.
#pragma once

#include <cstdint>
#include <string>

#include "catalog/catalog.h"
#include "common/env.h"
#include "common/status.h"

namespace sluice {

// The file's text: PipelineMetrics over `catalog` (nullptr when the lake could not be opened:
// then only the run's gauges), sluice_last_run_timestamp_seconds = `now_us` and
// sluice_last_run_success = `success`. Errors: reading the catalog.
Result<std::string> BatchRunMetricsText(Catalog* catalog, bool success, int64_t now_us);

// InvalidArgument naming the flag when `path`'s directory does not exist or `path` is one.
Status CheckMetricsFilePath(Env* env, const std::string& path);

// Replaces `path` with `text` atomically (Env::WriteFileAtomic: a temporary file next to it,
// named `path` + ".tmp-<pid>" -- not *.prom --, synced, renamed over `path`).
Status WriteMetricsFile(Env* env, const std::string& path, const std::string& text);

}  // namespace sluice
