// The record of data lifecycle actions (docs/LIFECYCLE.md), meta.lifecycle: one row per action
// that moved, compacted, deleted, expired or restored data, with what it touched, how many files
// and bytes, and when. `sluice status` shows the latest; lineage events are derived from them.
//
// The row of an action is written in the same transaction as the catalog change it describes
// (a move's or a delete's meta.files rows, a restore's commit): it exists exactly when the
// action happened. Functions run on the catalog's connection inside the caller's transaction
// (or in auto-commit). Errors: DuckDB's. Not safe for concurrent use (like Catalog).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace sluice {

// What happened: the values of meta.lifecycle.action.
enum class LifecycleAction { kMoved, kDeleted, kCompacted, kExpired, kRestored };
const char* LifecycleActionName(LifecycleAction action);  // "moved", "deleted", ...

struct LifecycleEntry {
  LifecycleAction action = LifecycleAction::kMoved;
  // What it acted on, in the user's words: "staging.orders", "meta.idempotency",
  // "curated.orders".
  std::string target;
  int64_t files = 0;   // files written (moved, compacted, restored) or removed (deleted)
  int64_t bytes = 0;   // their bytes
  int64_t rows = 0;    // rows moved, deleted or expired
  std::string detail;  // one line: which batches, days, paths, snapshot ("" when nothing to add)
  int64_t at_us = 0;   // UTC micros; 0: the catalog Env's now
};

// Creates meta.lifecycle when missing (an additive migration; Catalog::Open calls it).
Status CreateLifecycleTables(duck::Connection& conn);

// Appends `entry` (its time in meta.lifecycle.acted_at).
Status RecordLifecycle(Catalog& catalog, const LifecycleEntry& entry);

// The latest `limit` entries, newest first. A lake written before meta.lifecycle (opened
// read-only) has none.
Result<std::vector<LifecycleEntry>> RecentLifecycle(Catalog& catalog, int64_t limit);

}  // namespace sluice
