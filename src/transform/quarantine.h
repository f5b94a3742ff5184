// Quarantine: what happens to a batch that fails an `error` quality gate on a curated table.
//
// The batch's effect is rolled back (curate applies it alone to find it), its ledger status
// becomes `quarantined` and the catalog records the failing tests (catalog/quarantine_log.h) and sample
// failing keys. Later batches keep flowing: G3 makes the curated state independent of the order in which
// batches are applied, so a batch released later gives the same table as if it had passed in
// order. From `quarantined` a batch goes either to `released` (the next curate applies it,
// bypassing the gates; their failures are recorded as `bypassed`) or to `dropped` (never
// applied, excluded from staging.<source> too). Both transitions are idempotent and recorded
// with their time in meta.quarantine. Not safe for concurrent use (one Catalog connection).
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/quarantine_log.h"
#include "transform/quality.h"

namespace sluice {

// Marks batch `batch_id` of `source` quarantined by `table`'s blocking `failures`. Runs in the
// caller's transaction.
Status QuarantineBatch(Catalog& catalog, const std::string& table, const std::string& source,
                       const std::string& batch_id, int64_t run_started_us,
                       const std::vector<TestOutcome>& failures);

// The ledger batch named `id`: "BATCH_ID" or "SOURCE/BATCH_ID". NotFound when no batch has that
// id; InvalidArgument when several sources do (then SOURCE/ is required).
Result<BatchRef> ResolveBatch(Catalog& catalog, const std::string& id);

struct BatchAction {
  BatchRef batch;        // as it is after the action
  bool changed = false;  // false: it was in that state already (a no-op)
  std::string message;   // one line for the user
};

// quarantined -> released. A released batch again: a no-op. Any other status: InvalidArgument.
Result<BatchAction> ReleaseBatch(Catalog& catalog, const std::string& id);
// quarantined -> dropped, and staging.<source> rebuilt without it. A dropped batch again: a
// no-op. Any other status: InvalidArgument.
Result<BatchAction> DropBatch(Catalog& catalog, const std::string& id);

}  // namespace sluice
