// Curate: merge the staged batches a curated table has not applied yet, by key (G3).
//
// The result is a deterministic function of the set of staged batches: per key, the valid row
// with the highest `version`; ties go to the later batch (higher batch_seq), then the later line.
// Each batch is applied once: meta.applied records (table, batch) in the same transaction as the
// merge, so a retry, replay or crash never applies a batch twice. The (day, tenant) partitions
// whose rows changed are recorded for marts (meta.pending_partitions) and for publishing.
#pragma once

#include <string>

#include "catalog/catalog.h"
#include "spec/spec.h"

namespace sluice {

struct CurateResult {
  int64_t batches = 0;       // batches applied
  int64_t rows_in = 0;       // staged rows read from those batches
  int64_t rows_merged = 0;   // rows inserted or replaced in the curated table
  int64_t partitions = 0;    // (day, tenant) partitions changed
};

// Merges pending batches into curated.<table> and runs its tests, all in one transaction.
// A failing test rolls everything back and returns Aborted naming the tests (quality gate).
// `full_refresh` rebuilds the table from every staged batch instead.
Result<CurateResult> CurateTable(Catalog& catalog, const TableSpec& table, bool full_refresh);

}  // namespace sluice
