// The partitions of each table version, kept for the PostgreSQL warehouse (warehouse/):
//
//   meta.warehouse_changes   (table_name, version, day, tenant): the (day, tenant) partitions
//                            version `version` of a table changed; (NULL, NULL) = all of them
//   meta.warehouse_tables    (table_name, complete_from): every version after `complete_from`
//                            has its rows in warehouse_changes (older ones were pruned, or the
//                            table was not published to PostgreSQL then)
//
// Parquet publishing keeps its own set (meta.publish_pending, tables.h): the two are cleared
// at different times. Only the tables of `serve.postgres.publish` are tracked. Changes are
// written with version NULL by AddPublishPending and friends (tables.h) and stamped with the
// table's new version by RecordNewVersion / RecordRewritten in the same transaction, so the
// version a change belongs to never depends on the order of those calls.
//
// Every function runs on the connection it is given and opens no transaction of its own: the
// recording functions on the catalog's connection inside the data change's transaction, the
// reading ones on a reader's connection inside its read transaction. Not safe for concurrent
// use of one connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/tables.h"
#include "common/status.h"

namespace sluice {

inline constexpr const char* kWarehouseSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta.warehouse_changes (
  table_name VARCHAR NOT NULL, version BIGINT, day DATE, tenant VARCHAR);
CREATE TABLE IF NOT EXISTS meta.warehouse_tables (
  table_name VARCHAR PRIMARY KEY, complete_from BIGINT NOT NULL);
)sql";

// True when `table` (unqualified, as in meta.tables) is published to PostgreSQL by the spec.
bool WarehouseTracked(const ProjectSpec& spec, const std::string& table);

// Starts tracking the spec's published tables (complete_from = their current version, for a
// table not tracked yet) and forgets the tables no longer published. At catalog open.
Status SyncWarehouseTracking(Catalog& catalog);

// Adds `partitions` (or, with `all`, one (NULL, NULL) row) as changes of `table`'s next version.
// A no-op for a table that is not tracked.
Status AddWarehouseChanges(Catalog& catalog, const std::string& table,
                           const std::vector<Partition>& partitions, bool all = false);
// Stamps `table`'s unstamped changes with its current version (call after the version bump).
Status StampWarehouseChanges(Catalog& catalog, const std::string& table);

// What the warehouse needs to bring `table` from version `from` up to date, read in one
// snapshot of the lake (the caller's read transaction on `conn`).
struct WarehouseDelta {
  int64_t version = 0;                // the table's current version (0: never built)
  bool full = false;                  // every partition: rebuild the table
  std::vector<Partition> partitions;  // otherwise the changed ones (distinct)
};
Result<WarehouseDelta> ReadWarehouseDelta(duck::Connection& conn, const std::string& table, int64_t from);

// Forgets `table`'s changes up to `version` (published), advancing complete_from.
Status PruneWarehouseChanges(Catalog& catalog, const std::string& table, int64_t version);

}  // namespace sluice
