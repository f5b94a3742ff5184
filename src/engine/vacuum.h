// Vacuum: applies the project's retention settings (docs/LIFECYCLE.md):
//   - staging: batches committed longer ago than their source's `hot` move to the cold tier,
//     compacted (storage/cold_tier.h); older than `cold`, they are deleted (hot or cold). A batch
//     that is quarantined or dropped, not yet merged by a curated table of its source, or inside
//     the source's replay_window stays where it is; a delete also waits for every feed
//     consumer to have read the batch's changes.
//   - dlq: rows ingested longer ago than `dlq` are deleted from dlq.<source>, whatever their status.
//   - idempotency_keys: answers to HTTP Idempotency-Keys older than that are forgotten.
// The clock is the Env's; a batch's age is its commit time in the ledger (ingestion time).
// Every move, delete and expiry is recorded in meta.lifecycle in the transaction that makes it.
//
// A move, in this order (each step a failpoint; a crash after any of them leaves every row
// readable exactly once, and the next open finishes or undoes it: catalog/cold_files.h):
//   1. the cold file is written and fsynced under its final name, which nothing lists yet
//      (vacuum.after_cold_write); a crash leaves an unlisted file that RecoverColdTier removes;
//   2. one catalog transaction swaps the hot files' meta.files rows for the cold file's and
//      retires the hot paths (vacuum.after_move_commit);
//   3. the staging view is redefined: the cold file listed, the retired hot files left out;
//   4. the hot files are removed (vacuum.after_hot_remove, after the first), then forgotten.
// A delete is steps 2-4 without a cold file (vacuum.after_delete_commit, vacuum.after_file_remove).
// With VacuumOptions::defer_removal, step 4 waits for the next vacuum.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/engine.h"

namespace sluice {

struct VacuumOptions {
  bool dry_run = false;  // decide and report, change nothing
  // `sluice serve`: the files a move or delete retires stay on disk until the next vacuum, which
  // removes them first. Readers of the process that bound the staging view before it was
  // redefined may still be reading them; by the next vacuum (retention.vacuum_interval later)
  // they are done.
  bool defer_removal = false;
};

// One cold file a move wrote (or, in a dry run, would write).
struct StagingMove {
  std::string source;
  std::string cold_file;  // absolute
  std::vector<std::string> batches;
  int64_t hot_files = 0;
  int64_t hot_bytes = 0;
  int64_t cold_bytes = 0;  // 0 in a dry run
  int64_t rows = 0;
};

// Files a delete removed (or would remove): a cold file or a batch's hot files.
struct StagingDelete {
  std::string source;
  std::string tier;                // "hot" | "cold"
  std::vector<std::string> files;  // absolute
  std::vector<std::string> batches;
  int64_t bytes = 0;
  int64_t rows = 0;
};

// A batch old enough to move or be deleted that stays, and why.
struct HeldBatch {
  std::string source;
  std::string batch_id;
  std::string action;  // "move" | "delete"
  std::string reason;  // "quarantined", "not curated by orders", "replay window", "feed position"
};

struct VacuumOutcome {
  bool dry_run = false;
  std::optional<int64_t> dlq_retention_seconds;     // nullopt: keep forever
  std::map<std::string, int64_t> dlq_rows_deleted;  // per source (every source listed)
  std::vector<StagingMove> moved;
  std::vector<StagingDelete> deleted;
  std::vector<HeldBatch> held;
  std::optional<int64_t> idempotency_retention_seconds;
  int64_t idempotency_keys_expired = 0;
};

// Applies every retention (see above). Needs the lake open for writing (Engine::Open).
Result<VacuumOutcome> Vacuum(Engine& engine, const VacuumOptions& options = {});

}  // namespace sluice
