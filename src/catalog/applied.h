// Which batches each curated table has merged (meta.applied), and what curate reads from the
// ledger to find the rest: the pending batches of a source and their staging files.
//
// G3 rests on this file: a batch is pending for a table until RecordApplied runs in the same
// transaction as its merge, so a crash or retry never applies it twice.
//
// Functions run on the catalog's connection inside the caller's transaction (none opens its
// own). Errors: DuckDB's. Not safe for concurrent use (like Catalog).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace sluice {

// A batch to apply: its ledger id and commit order; `released` batches bypass the gates.
struct PendingBatch {
  std::string batch_id;
  int64_t seq = 0;
  bool released = false;
};

// The batches of `source` (status committed or released) that `table` has not applied, in
// commit order; with `all`, every such batch whether applied or not (a full refresh).
// Quarantined and dropped batches are never pending.
Result<std::vector<PendingBatch>> PendingBatches(Catalog& catalog, const std::string& table,
                                                 const std::string& source, bool all);

// The staging files of `batches` of `source`, each once, in path order: lake-relative, or absolute
// for the cold tier outside the lake (cold_files.h, LakePath). A cold file holds other batches too.
Result<std::vector<std::string>> StagingFilesOf(Catalog& catalog, const std::string& source,
                                                const std::vector<PendingBatch>& batches);

// Records `batches` of `source` applied to `table` (now).
Status RecordApplied(Catalog& catalog, const std::string& table, const std::string& source,
                     const std::vector<PendingBatch>& batches);
// Forgets every batch `table` applied (before it is rebuilt from scratch).
Status ForgetApplied(Catalog& catalog, const std::string& table);

}  // namespace sluice
