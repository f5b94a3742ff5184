// Publishing: curated tables and marts as Parquet that other processes read while sluice runs.
//
//   <lake>/published/<layer>/<table>/v<N>/day=2026-01-03/tenant=t07/data_0.parquet
//   <lake>/published/<layer>/<table>/current -> v<N>      (a symlink, swapped atomically)
//
// A version directory is complete before `current` points at it, so a reader that resolves
// `current` once sees one whole version (G4). Only partitions changed since the last publish are
// written; unchanged ones are hard links to the previous version's files. The previous version
// stays until the next publish, so readers that resolved it can finish.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "catalog/catalog.h"

namespace sluice {

struct PublishTarget {
  std::string layer;  // "curated" | "marts"
  std::string table;
  // Partition directories: key and the SQL expression over the table that gives its value,
  // e.g. day_key "day", day_expr "CAST(created_at AS DATE)"; tenant_key "tenant_id",
  // tenant_expr "tenant_id". Empty keys: not partitioned that way.
  std::string day_key, day_expr, tenant_key, tenant_expr;
  bool partitioned() const { return !day_key.empty() || !tenant_key.empty(); }
};

// Publishes `target` if meta.tables says its version is newer than the published one.
// Partitions changed since the last publish come from meta.publish_pending (day, tenant).
// Returns true when a new version was published.
Result<bool> PublishTable(Catalog& catalog, const PublishTarget& target);

// Removes half-written version directories (v<N>.tmp) left by a crash.
Status RecoverPublished(Catalog& catalog);

}  // namespace sluice
