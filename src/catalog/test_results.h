// The results of quality tests (meta.test_results): one row per test per checked step.
//
// RecordTestResults runs on the catalog's connection inside the caller's transaction, so a
// step's results commit with the step (or alone, right after a rollback). Reads are for
// `sluice status`. Errors: DuckDB's. Not safe for concurrent use (like Catalog).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace sluice {

// One test's outcome as recorded.
struct TestResultRow {
  std::string test;      // "unique(order_id)"
  std::string severity;  // error | warn
  std::string status;    // pass | warn | fail | bypassed
  int64_t failing_rows = 0;
  std::string sample;  // "" when none
};

// Where a set of results came from.
struct TestResultOrigin {
  int64_t run_started_us = 0;  // the run's id (meta.runs.started_at); 0: now
  std::string layer;           // curated | marts
  std::string table;
  std::vector<std::string> batch_ids;  // the batches the checked step applied (may be empty)
};

// Inserts one row per result (none: nothing), checked now.
Status RecordTestResultRows(Catalog& catalog, const TestResultOrigin& origin,
                            const std::vector<TestResultRow>& results);

// A test's result in the latest run that checked it: the worst of that run (fail > bypassed >
// warn > pass), its most failing rows, and the samples and batches of its failures.
struct LatestTestResult {
  std::string layer;
  std::string table;
  std::string test;
  std::string severity;
  std::string status;
  int64_t failing_rows = 0;
  std::optional<std::string> sample;     // "; "-joined; nullopt when it passed
  std::optional<std::string> batch_ids;  // ", "-joined; nullopt when none
  std::string checked_at;                // "2026-01-03 10:15:00.123456" (UTC)
};

// Per (layer, table, test), ordered so. Empty for a lake written before quality gates were
// recorded (a read-only catalog does not create their tables).
Result<std::vector<LatestTestResult>> LatestTestResults(Catalog& catalog);

}  // namespace sluice
