// Restore: makes an earlier snapshot of a curated table or mart current again, as a new commit
// (docs/LIFECYCLE.md, "Restore"). History is kept: the snapshots in between stay (as retention
// allows) and the restore is itself a snapshot, undone by restoring the one before it.
//
// The protocol: one catalog transaction replaces the table's rows with the snapshot's published
// files, records a new version (every partition changed, so the next publish and the PostgreSQL
// warehouse rewrite it all) and which snapshot it came from, and makes the marts downstream
// rebuild in full on their next refresh; then the new version is published as a snapshot whose
// restored_from names the source. A crash before the commit leaves the table as it was; after
// it, the table is restored and the next run (or restoring again) publishes it. Failpoints
// restore.before_commit and restore.after_commit sit at those two points.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/engine.h"

namespace sluice {

struct RestoreOutcome {
  std::string table;              // "curated.orders"
  int64_t restored_snapshot = 0;  // the table's snapshot whose rows are current again
  int64_t restored_version = 0;
  int64_t rows = 0;
  int64_t previous_snapshot = 0;              // the table's snapshot before the restore: `--to` it undoes it
  int64_t snapshot = 0;                       // the restore's own snapshot (0 when publishing failed)
  std::vector<std::string> marts_to_refresh;  // downstream, rebuilt in full by the next run
  std::vector<std::string> warehouse_tables;  // serve.postgres tables republished by serve
};

// Restores `table` ("orders" or "curated.orders") to its snapshot at `to` (a snapshot number or
// a time, as time travel reads them). InvalidArgument: unknown table or unreadable `to`;
// NotFound: no such snapshot, or it expired.
Result<RestoreOutcome> Restore(Engine& engine, const std::string& table, const std::string& to);

}  // namespace sluice
