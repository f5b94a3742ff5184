// Curate: merge the staged batches a curated table has not applied yet, by key (G3).
//
// The result is a deterministic function of the set of staged batches: per key, the valid row
// with the highest `version`; ties go to the later batch (higher batch_seq), then the later line.
// Each batch is applied once: meta.applied records (table, batch) in the same transaction as the
// merge, so a retry, replay or crash never applies a batch twice. The (day, tenant) partitions
// whose rows changed are recorded for marts (meta.pending_partitions) and for publishing.
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "spec/spec.h"
#include "transform/quality.h"

namespace sluice {

// A batch that failed an `error` test and was quarantined (see quarantine.h).
struct QuarantinedBatch {
  std::string batch_id;
  std::vector<TestOutcome> failures;  // the blocking failures it caused
};

struct CurateResult {
  int64_t batches = 0;                        // batches applied
  int64_t rows_in = 0;                        // staged rows read from those batches
  int64_t rows_merged = 0;                    // rows inserted or replaced in the curated table
  int64_t partitions = 0;                     // (day, tenant) partitions changed
  std::vector<QuarantinedBatch> quarantined;  // not applied
  std::vector<TestOutcome> warnings;          // failed `warn` tests of committed steps
  std::vector<TestOutcome> bypassed;          // failed `error` tests of released batches
};

// Merges pending batches (status committed or released, not yet applied) into curated.<table>
// and runs its tests, all in one transaction with their results (meta.test_results). When an
// `error` test fails, that transaction is rolled back and the batches are applied one at a
// time in commit order, each in its own transaction: a batch that fails is quarantined and the
// others are applied. `warn` failures never block; released batches bypass the gates.
// `full_refresh` rebuilds the table from every such staged batch instead. `run_started_us`
// identifies the run in meta.test_results (0: now). Errors: a test's SQL failed, I/O, DuckDB.
// Creates curated.<table> (with the columns it holds from its source's contract) and its row in
// the catalog when missing, in the caller's transaction.
Status EnsureCuratedTable(Catalog& catalog, const TableSpec& table);

Result<CurateResult> CurateTable(Catalog& catalog, const TableSpec& table, bool full_refresh,
                                 int64_t run_started_us = 0);

}  // namespace sluice
