// Marts: SQL models over curated tables (and other marts), kept equal to their SQL (G6).
//
// A mart with `partition_by: {day: c1, tenant: c2}` is refreshed incrementally: the rows of the
// (day, tenant) partitions that curate changed (meta.pending_partitions) are deleted and
// recomputed from the model; all other partitions are untouched. This is exact when the model
// is partition-local (each output row depends only on curated rows of its own partition), which
// is what declaring partition_by asserts. A mart without partition_by, one whose SQL changed,
// or `full_refresh` is rebuilt whole. All marts refresh in one transaction with their tests.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "spec/spec.h"
#include "transform/quality.h"

namespace sluice {

struct MartsResult {
  int64_t pending_partitions = 0;
  std::map<std::string, int64_t> partitions;  // per mart: partitions recomputed (-1: full)
  std::map<std::string, int64_t> rows;        // per mart: rows after refresh
  // Per mart refreshed, in order: its test outcomes (recorded in meta.test_results).
  std::vector<std::pair<std::string, std::vector<TestOutcome>>> tests;
};

// Refreshes every mart of the spec. From the first call on, the process's DuckDB reads and
// writes files only under the project directory and the lake (models are sandboxed). Aborted, naming the
// tests, when a mart's `error` test fails: the whole marts step is rolled back (the test results are still
// recorded, and the pending partitions stay pending for the next run); `warn` failures are only recorded.
// `run_started_us` identifies the run in meta.test_results (0: now). When the step fails and
// `failed` is given, *failed receives what it did before failing (the marts tested, with their
// outcomes), for the run's summary.
Result<MartsResult> RefreshMarts(Catalog& catalog, bool full_refresh, int64_t run_started_us = 0,
                                 MartsResult* failed = nullptr);

}  // namespace sluice
