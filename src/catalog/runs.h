// Runs of the pipeline (meta.runs): one row per `sluice run` that did something (or failed),
// and per transform pass of `sluice serve`, for `sluice status`.
//
// Functions run on the catalog's connection; RecordRun commits on its own (auto-commit) when no
// transaction is open. Errors: DuckDB's. Not safe for concurrent use (like Catalog).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace sluice {

struct RunRecord {
  int64_t started_us = 0;   // UTC micros: the run's id (meta.test_results.run_started_at)
  int64_t finished_us = 0;  // UTC micros; read back only (RecordRun records now)
  std::string status;       // ok | quarantined | refused | failed
  std::string summary;      // JSON (engine/summary.h)
};

// Records a run finished now.
Status RecordRun(Catalog& catalog, const RunRecord& run);

struct RunInfo {
  std::string started_at;   // "2026-01-03 10:15:00.123456" (UTC)
  std::string finished_at;  // "" when not recorded
  std::string status;
};

// Runs recorded with started_at after `after_us` (UTC micros; 0: all), oldest first.
Result<std::vector<RunRecord>> RunsAfter(Catalog& catalog, int64_t after_us);

// The run during which `at_us` happened (started_at <= at <= finished_at), if recorded.
Result<std::optional<RunRecord>> RunAt(Catalog& catalog, int64_t at_us);

// The latest run, or nullopt when none was recorded.
Result<std::optional<RunInfo>> LastRun(Catalog& catalog);

}  // namespace sluice
