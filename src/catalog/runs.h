// Runs of the pipeline (meta.runs): one row per `sluice run` that did something (or failed),
// and per transform pass of `sluice serve`, for `sluice status`.
//
// Functions run on the catalog's connection; RecordRun commits on its own (auto-commit) when no
// transaction is open. Errors: DuckDB's. Not safe for concurrent use (like Catalog).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "catalog/catalog.h"
#include "common/status.h"

namespace sluice {

struct RunRecord {
  int64_t started_us = 0;  // UTC micros: the run's id (meta.test_results.run_started_at)
  std::string status;      // ok | quarantined | failed
  std::string summary;     // JSON (engine/summary.h), or {"status":"failed","error":...}
};

// Records a run finished now.
Status RecordRun(Catalog& catalog, const RunRecord& run);

struct RunInfo {
  std::string started_at;   // "2026-01-03 10:15:00.123456" (UTC)
  std::string finished_at;  // "" when not recorded
  std::string status;
};

// The latest run, or nullopt when none was recorded.
Result<std::optional<RunInfo>> LastRun(Catalog& catalog);

}  // namespace sluice
