// Publishing: curated tables and marts as Parquet that other processes read while sluice runs.
//
//   <lake>/published/<layer>/<table>/v<N>/day=2026-01-03/data_0.parquet   (a table with a day key)
//   <lake>/published/<layer>/<table>/v<N>/data_0.parquet                  (no day key)
//   <lake>/published/<layer>/<table>/current -> v<N>      (a symlink, swapped atomically)
//
// One file per day, not per (day, tenant): with many tenants a directory per tiny partition would
// cost a file per (day, tenant) per version. Rows in a file are sorted by the tenant column and
// written in row groups of `row_group_rows`, so a reader's tenant filter skips row groups by their
// Parquet statistics. The day and tenant keys are columns inside the files too (a curated table's
// `day` and `tenant`, a mart's own columns); only the day is a hive directory. A table without a
// day key is one file sorted by tenant, rewritten whenever it changes.
//
// A version directory is complete before `current` points at it, so a reader that resolves
// `current` once sees one whole version (G4). Only days with a partition changed since the last
// publish are written; unchanged days are hard links to the previous version's files. A previous
// version in another layout (the day=/tenant= directories of earlier releases) is not linked from:
// the next publish writes every day. Versions stay as long as retention.snapshots keeps their
// snapshot (time travel); the previous version stays at least until the next publish, so readers
// that resolved it can finish.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "catalog/catalog.h"

namespace sluice {

// Rows per Parquet row group of a published file: small enough that a day of a few tenants spans
// several row groups (so tenant filters prune), large enough to keep per-group overhead low.
inline constexpr int64_t kPublishRowGroupRows = 16384;

struct PublishTarget {
  std::string layer;  // "curated" | "marts"
  std::string table;
  // Partition keys: the column name in the published files and the SQL expression over the table
  // that gives its value, e.g. day_key "day", day_expr "CAST(created_at AS DATE)"; tenant_key
  // "tenant", tenant_expr "tenant_id". The day key names the directories; the tenant key orders
  // the rows. Empty keys: not partitioned that way.
  std::string day_key, day_expr, tenant_key, tenant_expr;
  int64_t row_group_rows = kPublishRowGroupRows;
  // How many published versions stay readable for time travel (catalog/snapshots.h).
  SnapshotRetention retention;
  bool partitioned() const { return !day_key.empty() || !tenant_key.empty(); }
};

// The target of `table` of `spec`: a curated table gets `day` and `tenant` columns computed from
// its source's partition_by; a mart's keys are its own partition_by columns.
PublishTarget PublishTargetFor(const ProjectSpec& spec, const TableSpec& table);

// Publishes `target` if meta.tables says its version is newer than the published one, as
// snapshot `snapshot` committed at `committed_at_us` (NextSnapshot and one clock reading per
// publish round, so that a time travels to one consistent cut) in the same catalog transaction.
// Days changed since the last publish come from meta.publish_pending (day, tenant).
// Then expires snapshots past target.retention (unless pinned, version_pins.h) and removes the
// files of versions that are neither live snapshots, nor the previous one (readers that
// resolved `current` before the swap finish on it), nor pinned.
// Returns true when a new version was published. Not safe to call concurrently for one table.
Result<bool> PublishTable(Catalog& catalog, const PublishTarget& target, int64_t snapshot,
                          int64_t committed_at_us);

// Removes half-written version directories (v<N>.tmp) left by a crash.
Status RecoverPublished(Catalog& catalog);

}  // namespace sluice
