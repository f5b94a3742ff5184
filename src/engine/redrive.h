// Redrive: dead-lettered rows re-validated against the current contract (after the user fixed
// it) and the rows that now pass loaded as one new batch through the normal commit protocol.
//
// The batch id is "redrive-<hash of the re-validated dlq ids>"; its ledger row names the
// batches the loaded rows came from (meta.batches.parent_batches). In the same transaction the
// loaded DLQ rows become status 'redriven' with redriven_batch = the new batch, so no row is
// ever loaded twice; rows that still fail stay 'open', the same rows (same dlq_id, batch_id,
// line, raw) with their new reason, column_name and message.
//
// Counts (G1 for a redrive batch): rows_read = rows re-validated = rows_staged + rows_dead, where
// rows_dead are those still failing -- they are not new DLQ rows, so a DLQ row is counted as dead
// once by its original batch and again by each redrive that re-validated it without success.
// When no row passes, no batch is committed (nothing to stage); only the reasons are updated.
// In a redrive batch, staging's _source_line is the row's dlq_id (its origin: dlq.<source>).
//
// Not re-validated (counted as skipped): bad_encoding rows (their raw text is escaped, not the
// bytes read) and rows of CSV batches committed before their header was recorded.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/engine.h"

namespace sluice {

struct RedriveOutcome {
  std::string source;
  std::string batch_id;    // the redrive batch; "" when no row passed (no batch committed)
  bool duplicate = false;  // this exact set of rows was redriven before: nothing was done
  int64_t rows_read = 0;   // re-validated
  int64_t rows_staged = 0;
  int64_t rows_dead = 0;  // still failing, left open with their new reason
  int64_t rows_skipped = 0;
  std::vector<std::string> parent_batches;
  std::map<std::string, int64_t> dead_by_reason;
  std::vector<int64_t> redriven_ids;  // dlq_ids now loaded
};

// Redrives the open DLQ rows of `source` (only those with `reason` when it is not empty).
// NotFound for an unknown source. Nothing to redrive is not an error (rows_read = 0).
Result<RedriveOutcome> Redrive(Engine& engine, const std::string& source, const std::string& reason);

}  // namespace sluice
